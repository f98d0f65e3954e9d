"""The monthly job end to end on the tiny fixtures, materialised through Dagster."""

import json
from datetime import date

import duckdb
import pandas as pd
import pytest

from pipeline.definitions import defs
from pipeline.run import RunFailed, run_edition

AS_OF = date(2026, 11, 20)


def run(exports, tmp_path, month="2026-12"):
    return run_edition(
        exports=exports,
        out=tmp_path / "out",
        month=month,
        as_of=AS_OF,
        config_file=None,
        warehouse=tmp_path / "warehouse.duckdb",
    )


def test_definitions_load_with_job_assets_and_checks():
    job = defs.resolve_job_def("monthly_edition")
    assert job.partitions_def.get_partition_keys()[0] == "2015-01-01"
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"stg_members", "stg_transactions", "warehouse", "edition"} <= keys
    checks = {c.to_user_string() for c in defs.resolve_asset_graph().asset_check_keys}
    assert {"stg_members:rows_reconcile", "segments:one_row_per_member",
            "complaint_stats:received_matches_export"} <= checks


@pytest.fixture(scope="module")
def edition_root(tmp_path_factory):
    """One run of the job on the fixture exports, shared by the read-only tests."""
    import shutil

    from tests.conftest import DATA

    root = tmp_path_factory.mktemp("edition")
    shutil.copytree(DATA / "exports", root / "exports")
    run(root / "exports", root)
    return root


@pytest.fixture
def edition(edition_root):
    return edition_root / "out" / "2026-12"


def test_edition_folder_has_run_json_with_reconciliation(edition):
    record = json.loads((edition / "run.json").read_text("utf-8"))
    assert record["edition"] == "2026-12" and record["as_of"] == "2026-11-20"
    assert record["reconciliation"]["members"] == {
        "rows_read": 10, "rows_loaded": 8, "rows_quarantined": 2
    }
    contact = record["reconciliation"].pop("contact_plan")
    assert contact["eligible"] == contact["planned"] + contact["suppressed"] > 0
    for counts in record["reconciliation"].values():
        assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
    hashed = {i["table"]: i["sha256"] for i in record["inputs"]}
    assert set(hashed) == {"members", "transactions", "complaints", "contacts", "events"}
    assert all(len(h) == 64 for h in hashed.values())


def test_run_json_holds_no_personal_data(edition):
    text = (edition / "run.json").read_text("utf-8")
    assert "王伟" not in text and "13812345678" not in text


def test_quarantine_table_lists_every_problem_with_file_line_column(edition):
    quarantine = pd.read_csv(edition / "tables" / "quarantine.csv", encoding="utf-8-sig")
    assert list(quarantine.columns) == ["table", "file", "line", "column", "value", "reason", "action"]
    rows = quarantine[quarantine["action"] == "row_quarantined"]
    assert rows.groupby("table").size().to_dict() == {
        "complaints": 1, "contacts": 2, "members": 2, "transactions": 3
    }
    dup = rows[(rows["table"] == "members")].iloc[0]
    assert (dup["file"], dup["line"], dup["column"]) == ("members.csv", 9, "会员编号")
    parquet = pd.read_parquet(edition / "tables" / "quarantine.parquet")
    assert len(parquet) == len(quarantine)


def test_warehouse_holds_staged_tables(edition_root):
    with duckdb.connect(str(edition_root / "warehouse.duckdb"), read_only=True) as con:
        members = con.execute("select count(*) from staging.stg_members").fetchone()[0]
        amount = con.execute(
            "select sum(amount_cny) from staging.stg_transactions where txn_id = 'T0001'"
        ).fetchone()[0]
        quarantined = con.execute(
            "select count(*) from audit.quarantine where action = 'row_quarantined'"
        ).fetchone()[0]
    assert (members, float(amount), quarantined) == (8, 1400.5, 8)


def test_review_site_shows_counts_and_escapes_text(edition):
    html = (edition / "index.html").read_text("utf-8")
    assert "江畔花园业主俱乐部" in html
    assert "tables/quarantine.csv" in html
    assert "member_id: duplicate of line N (the first is kept)" in html


def test_unusable_members_file_fails_and_keeps_previous_edition(exports, tmp_path):
    previous = run(exports, tmp_path)
    before = (previous / "run.json").read_bytes()
    (exports / "members.csv").write_text("编号,姓名\n1,x\n", "utf-8")
    with pytest.raises(RunFailed, match=r"members.csv: line 1: missing required column member_id"):
        run(exports, tmp_path)
    assert (previous / "run.json").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "2026-12"
    ]


def test_failed_first_run_leaves_no_edition(exports, tmp_path):
    (exports / "members.csv").unlink()
    with pytest.raises(RunFailed, match="no members export"):
        run(exports, tmp_path)
    out = tmp_path / "out"
    assert not (out / "2026-12").exists()


def table(edition, name):
    return pd.read_csv(edition / "tables" / f"{name}.csv", encoding="utf-8-sig", dtype={"member_id": str})


def test_segments_cover_every_member_with_contract_rfm(edition):
    segments = table(edition, "segments").set_index("member_id")
    assert len(segments) == 8  # every loaded member, buyers or not
    for column in ["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                   "rfm_segment", "score", "tier", "lifecycle_stage"]:
        assert column in segments.columns
    # Snapshot: latest purchase 2026-11-01 00:00 plus one day; recency in whole days, floored.
    assert segments.loc["M0001", ["recency_days", "frequency", "monetary"]].tolist() == [31, 1, 1400.5]
    assert segments.loc["M0002", ["recency_days", "frequency", "monetary"]].tolist() == [47, 2, 500.0]
    assert segments.loc["M0004", "recency_days"] == 427  # Excel serial date 2025-08-31 12:00
    assert segments.loc["M0006", "r_score"] == 5  # the most recent buyer
    assert pd.isna(segments.loc["M0003", "rfm_segment"])  # never purchased
    assert segments.loc["M0003", "lifecycle_stage"] == "prospect"
    assert segments["score"].between(0, 100).all()


def test_upcoming_birthdays_for_the_edition_month(edition):
    birthdays = table(edition, "upcoming_birthdays")
    # Only 王伟 (born 1975-12-08) has a birthday in December 2026.
    assert birthdays[["member_id", "birthday", "calendar", "age"]].values.tolist() == [
        ["M0001", "2026-12-08", "solar", 51]
    ]


def test_holidays_and_complaint_tables(edition):
    holidays = table(edition, "holidays")
    assert ("2026-12-22", "冬至", "festival") in set(
        zip(holidays["date"], holidays["name"], holidays["kind"])
    )
    stats = table(edition, "complaint_stats")
    all_rows = stats[stats["category"] == "all"].set_index("month")
    assert all_rows["received"].to_dict() == {"2026-09": 1, "2026-10": 2}  # blank member counted
    backlog = table(edition, "complaint_backlog")
    assert backlog["complaint_id"].tolist() == ["C0002"]  # the open noise complaint


def test_marts_are_in_the_warehouse(edition_root):
    with duckdb.connect(str(edition_root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select count(*) from marts.segments").fetchone()[0]
        months = con.execute("select count(*) from marts.agg_monthly_activity").fetchone()[0]
        # an empty mart still has typed columns (this edition has no complaint anomalies)
        untyped = con.execute(
            "select table_schema || '.' || table_name || '.' || column_name "
            "from information_schema.columns where data_type = '\"NULL\"'").fetchall()
    assert (rows, months) == (8, 5)  # 2025-08, 2025-12, 2026-09, 2026-10, 2026-11
    assert untyped == [], untyped


def test_documents_reach_the_edition(edition):
    from pypdf import PdfReader

    plan = table(edition, "contact_plan")
    emailed = plan[(plan["kind"] == "newsletter") & (plan["channel"] == "email")]
    written = sorted(p.stem for p in (edition / "newsletters" / "html").glob("*.html"))
    assert written == sorted(emailed["member_id"])  # fixture ids are already file-name safe
    report_text = "".join(p.extract_text() for p in PdfReader(edition / "report" / "monthly-report.pdf").pages)
    assert "江畔花园业主俱乐部" in report_text and "2026年10月" in report_text
    index = (edition / "index.html").read_text("utf-8")
    assert 'href="report/monthly-report.pdf"' in index
    assert 'href="tables/suppressed.csv"' in index


def test_suppressed_members_get_no_newsletter(edition):
    suppressed = table(edition, "suppressed")
    blocked = set(suppressed.loc[suppressed["reason"].isin(["deceased", "do_not_contact"]), "member_id"])
    assert "M0009" in blocked  # do_not_contact and deceased in the fixture
    written = {p.stem for p in (edition / "newsletters" / "html").glob("*.html")}
    assert not blocked & written


def test_every_asset_check_runs_and_passes(exports, tmp_path):
    from pipeline.defs.resources import run_config

    job = defs.resolve_job_def("monthly_edition")
    result = job.execute_in_process(
        run_config=run_config(exports, tmp_path / "out", AS_OF, None, tmp_path / "w.duckdb"),
        partition_key="2026-12-01",
    )
    evaluations = result.get_asset_check_evaluations()
    names = {e.asset_check_key.to_user_string(): e.passed for e in evaluations}
    expected = {k.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys}
    assert set(names) == expected
    assert all(names.values()), [k for k, ok in names.items() if not ok]


def test_letters_reconcile_with_the_contact_plan(edition):
    from pypdf import PdfReader

    plan = table(edition, "contact_plan")
    posted = plan[(plan["channel"] == "post") & (plan["kind"] != "newsletter")]
    manifest = pd.read_csv(edition / "letters" / "manifest.csv", dtype=str, encoding="utf-8-sig")
    assert len(posted) > 0
    assert sorted(manifest["piece_id"]) == sorted(posted["piece_id"])
    suppressed = table(edition, "suppressed")
    blocked = set(suppressed.loc[suppressed["reason"].isin(["deceased", "do_not_contact"]), "member_id"])
    assert not blocked & set(manifest["member_id"])
    for batch, rows in manifest.groupby("batch"):
        pdf = PdfReader(edition / "letters" / batch)
        assert len(pdf.pages) == rows["page_count"].astype(int).sum()
        text = "".join(page.extract_text() for page in pdf.pages)
        assert all(name in text for name in rows["name"])
    readme = (edition / "letters" / "README.txt").read_text("utf-8-sig")
    assert f"{len(manifest)}" in readme
