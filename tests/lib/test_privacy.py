"""Spreadsheet-safe CSV cells, owner-only files, and the erasure register on staged tables."""

import stat

import pandas as pd
import pytest

from pipeline.lib.delivery.publish import write_table
from pipeline.lib.delivery.erasure import (
    ErasureError,
    add_to_register,
    exclude_erased,
    load_register,
)
from pipeline.lib.read.ingest import empty_quarantine, ingest_table
from pipeline.lib.privacy import restrict_tree, spreadsheet_cell, spreadsheet_safe
from pipeline.lib.read.schema import TABLES


@pytest.mark.parametrize(
    "value, written",
    [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),  # a formula
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),  # DDE through a leading plus
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),  # minus, but not a number
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),  # tab and carriage return are also read as a formula start
        ("\r=1", "'\r=1"),
        ("+8613812345678", "'+8613812345678"),  # a phone stays text, with its plus
        ("-60.00", "-60.00"),  # a negative amount written as text stays a number
        ("王伟", "王伟"),
        ("a=b", "a=b"),  # only the first character matters
        (-60.0, -60.0),  # numbers are never touched
        (None, None),
    ],
)
def test_spreadsheet_cell(value, written):
    assert spreadsheet_cell(value) == written


def test_write_table_escapes_formulas_in_csv_only(tmp_path):
    frame = pd.DataFrame({
        "member_id": ["M1", "M2"],
        "name": ["=1+1", "Plain"],
        "note": pd.Series(["@evil", None], dtype="string"),
        "amount": [-60.5, 12.0],
    })
    write_table(frame, tmp_path, "t")
    lines = (tmp_path / "t.csv").read_text("utf-8-sig").splitlines()
    assert lines == ["member_id,name,note,amount", "M1,'=1+1,'@evil,-60.5", "M2,Plain,,12.0"]
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert back["name"].tolist() == ["=1+1", "Plain"] and back["note"].iloc[0] == "@evil"
    assert back["amount"].tolist() == [-60.5, 12.0]


def test_restrict_tree_makes_everything_owner_only(tmp_path):
    root = tmp_path / "edition"
    (root / "tables").mkdir(parents=True)
    (root / "tables" / "a.csv").write_text("x")
    (root / "run.json").write_text("{}")
    restrict_tree(root)
    for path in [root, root / "tables"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for path in [root / "run.json", root / "tables" / "a.csv"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_register_is_keyed_owner_only_and_matches_ids_as_staging_reads_them(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    register, new = add_to_register(warehouse, "M0001", pd.Timestamp("2026-11-21").date())
    assert new and not add_to_register(warehouse, "M0001", pd.Timestamp("2026-11-22").date())[1]
    for name in ("erasure-register.csv", "erasure-register.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert "M0001" not in (tmp_path / "erasure-register.csv").read_text("utf-8")
    # Full-width digits and spaces are read as staging reads them.
    found = register.holds(pd.Series([" M0001", "Ｍ０００１", "M0002", None], dtype="string"))
    assert found.tolist() == [True, True, False, False]


def test_a_register_without_its_key_stops_the_run(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    add_to_register(warehouse, "M0001", pd.Timestamp("2026-11-21").date())
    (tmp_path / "erasure-register.key").unlink()
    with pytest.raises(ErasureError, match="key erasure-register.key is missing"):
        load_register(warehouse)


def test_exclude_erased_keeps_the_reconciliation_and_no_values(exports, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    register, _ = add_to_register(warehouse, "M0006", pd.Timestamp("2026-11-21").date())
    staged = ingest_table(exports, TABLES["members"])
    assert (staged.quarantine["line"] == 8).sum() == 4  # M0006's four dropped values
    erased = exclude_erased(staged, TABLES["members"], register)
    assert "M0006" not in set(erased.frame["member_id"])
    counts = erased.reconciliation()
    assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
    assert counts["rows_quarantined"] == staged.rows_quarantined + 1
    at_line = erased.quarantine[erased.quarantine["line"] == 8]
    assert at_line[["reason", "action"]].values.tolist() == [["erased", "row_quarantined"]]
    assert at_line["value"].isna().all()  # not the phone 12345 nor the birth date
    # Their transaction is left out as erased, not as an unknown member with the id shown.
    known = pd.Index(erased.frame["member_id"])
    transactions = exclude_erased(ingest_table(exports, TABLES["transactions"], known),
                                  TABLES["transactions"], register)
    row = transactions.quarantine[transactions.quarantine["line"] == 10]
    assert row[["reason", "value"]].astype(object).values.tolist() == [["erased", pd.NA]]
    assert load_register(tmp_path / "other" / "warehouse.duckdb") is None  # registers go with warehouses
    assert exclude_erased(staged, TABLES["members"], None) is staged
    assert empty_quarantine().columns.tolist() == erased.quarantine.columns.tolist()


def test_forget_without_a_member_id_is_a_usage_error(tmp_path, capsys):
    from pipeline.cli import main

    code = main(["forget", "--member", " ", "--warehouse", str(tmp_path / "w.duckdb"),
                 "--out", str(tmp_path / "out")])
    assert code == 2 and "--member" in capsys.readouterr().err
    assert not (tmp_path / "erasure-register.csv").exists()


@pytest.mark.parametrize("phone, written", [
    ("+8613812345678", "+8613812345678"),  # E.164: the gateway needs it exactly
    ("+86 138 1234 5678", "'+86 138 1234 5678"),  # not E.164: treated as any text
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),  # a formula behind a plus stays quoted
])
def test_phone_columns_keep_e164_numbers_as_they_are(phone, written):
    frame = pd.DataFrame({"phone": [phone], "name": ["+8613812345678"]})
    safe = spreadsheet_safe(frame, phones=("phone",))
    assert safe["phone"].iloc[0] == written
    assert safe["name"].iloc[0] == "'+8613812345678"  # only the named columns
