"""The corpus of broken and hostile exports: every case in tests/corpus/<case>/.

Each folder holds export files and `expected.yaml` (see tests/corpus/README.md). For
every case: `clubpress check` completes (exit 0) with exactly the expected quarantine or
stops (exit 1) with a message naming the file and line; no traceback; every valid row
put in is loaded; rows_read = rows_loaded + rows_quarantined per table; nothing is
written anywhere. Cases marked `full_run` also go through `clubpress run`, which must
write only into --out and the warehouse file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main
from pipeline.lib.read.ingest import COLUMN_IGNORED, ingest_table
from pipeline.lib.read.readers import ExportError
from pipeline.lib.read.schema import TABLES

CORPUS = Path(__file__).parent
CASES = sorted(p.parent.name for p in CORPUS.glob("*/expected.yaml"))
ROW_KEYS = {"members": "member_id", "transactions": "txn_id", "complaints": "complaint_id",
            "contacts": "contact_id", "events": "event_id", "returns": "returned_on"}
HUGE = 10 * 1024 * 1024  # a 10 MB field, written at test time only


def generate_huge_field(exports: Path) -> None:
    """A 10 MB address (optional: dropped), a 10 MB name quoted with commas (required:
    the row is quarantined) and a 10 MB multi-line description as the last record."""
    header = "member_id,name,address\n"
    with (exports / "members.csv").open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        out.write("M1,王伟," + "路" * (HUGE // 3) + "\n")
        out.write('M2,"' + "李娜, " * (HUGE // 8) + '",建国路1号\n')
        out.write("M3,张三,衡山路10号\n")
    with (exports / "complaints.csv").open("w", encoding="utf-8", newline="") as out:
        out.write("complaint_id,member_id,received_at,description\n")
        out.write("C1,M3,2026-10-05 09:00,电梯故障\n")
        out.write('C2,M3,2026-10-06 10:00,"' + ("x" * 99 + "\n") * (HUGE // 100) + '"\n')


GENERATORS = {"huge_field": generate_huge_field}


def load_case(name: str) -> dict:
    return yaml.safe_load((CORPUS / name / "expected.yaml").read_text("utf-8"))


def copy_exports(name: str, target: Path) -> Path:
    exports = target / "exports"
    exports.mkdir(parents=True)
    for path in (CORPUS / name).iterdir():
        if path.is_file() and path.name != "expected.yaml":
            shutil.copyfile(path, exports / path.name)
    spec = load_case(name)
    if "generate" in spec:
        GENERATORS[spec["generate"]](exports)
    return exports


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` with a hash of its content."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*") if p.is_file()
    }


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """main() in-process; an exception escaping it is the traceback a user would see."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    except Exception as error:  # noqa: BLE001 - reported as the failure itself
        pytest.fail(f"clubpress {argv[0]} raised instead of reporting: {error!r}")
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err + printed.out
    return code, printed.out, printed.err


def ingest_all(exports: Path, as_of: date) -> tuple[dict, ExportError | None]:
    """Stage every table as `clubpress check` does; the first ExportError, if any."""
    staged, known = {}, None
    for table in TABLES.values():
        try:
            result = ingest_table(exports, table, known, as_of)
        except ExportError as error:
            return staged, error
        if table.name == "members":
            known = pd.Index(result.frame["member_id"])
        if result.source is not None:
            staged[table.name] = result
    return staged, None


def quarantine_rows(staged: dict) -> tuple[set, dict]:
    rows, ignored = set(), {}
    for name, result in staged.items():
        for row in result.quarantine.itertuples(index=False):
            if row.action == COLUMN_IGNORED:
                ignored.setdefault(name, []).append(row.column)
                continue
            column = None if pd.isna(row.column) else row.column
            rows.add((row.table, int(row.line), column, row.reason, row.action))
    return rows, ignored


def expected_rows(spec: dict) -> set:
    return {
        (q["table"], q["line"], q.get("column"), q["reason"], q["action"])
        for q in spec.get("quarantine", [])
    }


def assert_values(staged: dict, spec: dict) -> None:
    for table, rows in spec.get("values", {}).items():
        frame = staged[table].frame.set_index(ROW_KEYS[table])
        for key, columns in rows.items():
            for column, value in columns.items():
                got = frame.loc[key, column]
                if column == "extra":
                    got = len(json.loads(got))  # the number of kept extra columns
                elif pd.isna(got):
                    got = None
                elif isinstance(got, pd.Timestamp):
                    got = got.isoformat()
                elif isinstance(value, float):
                    got = float(got)
                assert got == value, f"{table} {key} {column}"


@pytest.mark.parametrize("case", CASES)
def test_case_ingest_and_check(case, tmp_path, capsys):
    spec = load_case(case)
    as_of = date.fromisoformat(str(spec.get("as_of", "2026-11-20")))
    exports = copy_exports(case, tmp_path)
    before = snapshot(tmp_path)

    code, out, _ = run_cli(["check", "--exports", str(exports), "--as-of", as_of.isoformat()], capsys)
    staged, error = ingest_all(exports, as_of)

    if spec["outcome"] == "stops":
        assert code == 1, out
        assert error is not None, "the export should have stopped the run"
        for text in spec["message"]:
            assert text in str(error), str(error)
            assert text in out  # `clubpress check` prints the same message
    else:
        assert spec["outcome"] == "completes"
        assert error is None, str(error)
        assert code == 0, out
        for name, result in staged.items():
            counts = result.reconciliation()
            assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"], name
        counts = {n: {"read": s.rows_read, "loaded": s.rows_loaded} for n, s in staged.items()}
        assert counts == spec["tables"]
        for table, keys in spec.get("loaded", {}).items():
            loaded = set(staged[table].frame[ROW_KEYS[table]])
            assert set(keys) <= loaded, f"valid {table} rows lost: {set(keys) - loaded}"
        rows, ignored = quarantine_rows(staged)
        assert rows == expected_rows(spec)
        wanted = spec.get("ignored_columns", {})
        assert set(ignored) == set(wanted)
        for table, columns in wanted.items():  # the headers, or how many of them
            assert (len(ignored[table]) if isinstance(columns, int) else ignored[table]) == columns
        assert_values(staged, spec)
    assert snapshot(tmp_path) == before, "check wrote or changed files"


FULL_RUN_CASES = [c for c in CASES if load_case(c).get("full_run")]


@pytest.mark.parametrize("case", FULL_RUN_CASES)
def test_case_full_run_writes_only_into_out(case, tmp_path, capsys, monkeypatch):
    spec = load_case(case)
    exports = copy_exports(case, tmp_path)
    out, warehouse = tmp_path / "out", tmp_path / "warehouse.duckdb"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # a relative path escaping would land here
    before = snapshot(tmp_path)

    code, printed, err = run_cli(
        ["run", "--exports", str(exports), "--out", str(out), "--month", "2026-12",
         "--as-of", "2026-11-20", "--warehouse", str(warehouse), "--processes", "1"], capsys)

    assert code == 0, err
    after = snapshot(tmp_path)
    changed = {p for p in set(after) | set(before) if after.get(p) != before.get(p)}
    outside = {p for p in changed if not p.startswith("out/") and not p.startswith("warehouse.duckdb")}
    assert outside == set(), f"files written outside --out: {outside}"
    edition = out / "2026-12"
    record = json.loads((edition / "run.json").read_text("utf-8"))
    for table, counts in spec["tables"].items():
        assert record["reconciliation"][table] == {
            "rows_read": counts["read"], "rows_loaded": counts["loaded"],
            "rows_quarantined": counts["read"] - counts["loaded"],
        }
    check_documents(edition, spec["documents"])


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def check_documents(edition: Path, documents: dict) -> None:
    """Names and addresses reach the documents as text: escaped in HTML, never run as
    markup or as a template, and member ids never become paths."""
    html_dir = edition / "newsletters" / "html"
    pages = sorted(html_dir.iterdir())
    assert all(p.is_file() and p.suffix == ".html" for p in pages), pages
    assert len(pages) == documents["newsletter_pages"]
    html = "\n".join(p.read_text("utf-8") for p in pages)
    for text in documents["html_contains"]:
        assert text in html, text
    for text in documents["html_lacks"]:
        assert text not in html, text
    letters = "\n".join(pdf_text(p) for p in sorted((edition / "letters").rglob("*.pdf")))
    for text in documents["letters_contain"]:
        assert text in letters, text
    manifest = pd.read_csv(edition / "letters" / "manifest.csv", dtype=str, encoding="utf-8-sig")
    assert set(manifest["member_id"]) == set(documents["letter_members"])
    site = (edition / "index.html").read_text("utf-8")
    for text in documents["html_lacks"]:
        assert text not in site, text
