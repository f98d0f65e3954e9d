"""Privacy end to end: a member erased on request, owner-only files, hostile member text.

One story on the fixture exports, run through the command line as an operator would:
1. run the month with hostile markup in members' names and addresses (recording every
   URL WeasyPrint asks for);
2. `clubpress forget --member M0001`;
3. rerun with the unchanged exports, which still carry M0001.
Each stage's edition is copied aside, so the tests below read what a user would see.
"""

import csv
import io
import json
import re
import shutil
import stat
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pypdf import PdfReader

from pipeline.cli import main
from pipeline.lib.documents import pdf
from pipeline.run import run_edition
from pipeline.settings import PATHS
from tests.conftest import DATA


HOSTILE = '<img src="file:///etc/passwd"><link href="http://example.com/x.css">'
# What identifies M0001 (王伟) anywhere: id, name, phone as written and as stored, e-mail.
AS_OF = date(2026, 11, 20)
ERASED = ["M0001", "王伟", "13812345678", "138****5678", "wang.wei@example.com"]


def _edit_members(path: Path) -> None:
    """M0001's address, M0002's name (and no gender, so the e-mail greets the full name)
    and M0004's address carry markup that must stay text."""
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"))))
    header = rows[0]
    column = {name: header.index(name) for name in ("会员编号", "姓名", "性别", "详细地址")}
    for row in rows[1:]:
        if row[column["会员编号"]] == "M0001" and "（重复）" not in row[column["姓名"]]:
            row[column["详细地址"]] = "滨江大道88号" + HOSTILE
        elif row[column["会员编号"]] == "M0002":
            row[column["姓名"]] = "李娜" + HOSTILE
            row[column["性别"]] = ""
        elif row[column["会员编号"]] == "M0004":
            row[column["详细地址"]] = "衡山路10号" + HOSTILE
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), "utf-8")


def _cli(argv: list[str]) -> tuple[int, str]:
    """Exit status and everything printed (stdout and the progress on stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy")
    shutil.copytree(DATA / "exports", root / "exports")
    _edit_members(root / "exports" / "members.csv")
    out, warehouse = root / "out", root / "data" / "warehouse.duckdb"

    def run() -> str:
        """The monthly job in this process (so the fetcher below sees every render);
        returns what it printed."""
        err = io.StringIO()
        with redirect_stderr(err), redirect_stdout(err):
            run_edition(exports=root / "exports", out=out, month="2026-12", as_of=AS_OF,
                        config_file=None, warehouse=warehouse)
        return err.getvalue()

    fetched: list[str] = []
    fetch = pdf.AssetFetcher.fetch

    def recording(self, url, *args, **kwargs):
        fetched.append(url)
        return fetch(self, url, *args, **kwargs)

    logs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf.AssetFetcher, "fetch", recording)
        patch.setattr(pdf, "_IMAGE_CACHE", {})  # images other tests cached are fetched anew
        logs["run"] = run()
    shutil.copytree(out / "2026-12", root / "first")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = con.execute("select count(*) from staging.stg_members").fetchone()[0]
    code, logs["forget"] = _cli(["forget", "--member", "M0001", "--warehouse", str(warehouse),
                                 "--out", str(out)])
    assert code == 0, logs["forget"]
    shutil.copytree(out / "2026-12", root / "forgotten")
    shutil.copy(warehouse, root / "forgotten.duckdb")
    logs["rerun"] = run()
    return {"root": root, "out": out, "warehouse": warehouse, "fetched": fetched,
            "logs": logs, "members_before": before}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def texts(folder: Path) -> dict[str, str]:
    """Every file below `folder` as the text a person could read from it: PDFs by their
    extracted text, Parquet as rows, archives by their members."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".pdf":
            found[name] = _pdf_text(path.read_bytes())
        elif path.suffix == ".parquet":
            found[name] = pd.read_parquet(path).to_csv(index=False)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    data = archive.read(member)
                    found[f"{name}!{member}"] = (_pdf_text(data) if member.endswith(".pdf")
                                                 else data.decode("utf-8", "ignore"))
        else:
            found[name] = path.read_bytes().decode("utf-8", "ignore")
    return found


def holding(folder: Path, needles: list[str]) -> dict[str, list[str]]:
    """Files below `folder` whose text holds any of `needles` (whitespace ignored)."""
    hits = {}
    for name, text in texts(folder).items():
        compact = _compact(text)
        found = [n for n in needles if _compact(n) in compact]
        if found:
            hits[name] = found
    return hits


def warehouse_holding(path: Path, needles: list[str]) -> dict[str, list[str]]:
    hits = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_catalog = current_database()").fetchall()
        for schema, table in tables:
            text = _compact(con.execute(f'select * from "{schema}"."{table}"').df().to_csv())
            found = [n for n in needles if _compact(n) in text]
            if found:
                hits[f"{schema}.{table}"] = found
    return hits


# --------------------------------------------------------------------------- before


def test_first_edition_holds_the_member_everywhere_the_test_looks(story):
    # The search below is only meaningful if it finds the member before the erasure.
    hits = holding(story["root"] / "first", ERASED)
    assert any(name.startswith("letters/") and name.endswith(".pdf") for name in hits)
    assert "tables/segments.csv" in hits and "tables/quarantine.csv" in hits


def test_hostile_markup_is_text_in_every_document_and_nothing_is_fetched(story):
    first = story["root"] / "first"
    html = (first / "newsletters" / "html" / "M0002.html").read_text("utf-8")
    assert "<img" not in html and "<link" not in html
    assert "李娜&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    letter = _pdf_text(next((first / "letters").rglob("batch-*.pdf")).read_bytes())
    assert _compact("滨江大道88号" + HOSTILE) in _compact(letter)
    printed = _pdf_text((first / "newsletters" / "print" / "batch-001.pdf").read_bytes())
    assert _compact("衡山路10号" + HOSTILE) in _compact(printed)
    for page in [first / "index.html", *sorted((first / "newsletters").glob("index-*.html"))]:
        assert "<img" not in page.read_text("utf-8") and "<link" not in page.read_text("utf-8")
    # WeasyPrint asked for nothing but the project's own templates and assets (the
    # letters' signature is one: the recorder did see the renders).
    assert any(url.endswith("assets/signature.svg") for url in story["fetched"])
    allowed = (PATHS.templates.resolve().as_uri(), PATHS.assets.resolve().as_uri())
    assert not [url for url in story["fetched"] if not url.startswith(allowed)]
    assert not [url for url in story["fetched"] if "passwd" in url or "example.com" in url]


def test_report_and_site_mask_phones_and_emails(story):
    first = story["root"] / "first"
    phones = ["13812345678", "13900001111", "13600002222", "13700003333", "13500004444",
              "13800006666", "13800007777"]
    emails = ["wang.wei@example.com", "li.na@example.com", "john@example.com",
              "zhang3@example.com"]
    report = _compact(_pdf_text((first / "report" / "monthly-report.pdf").read_bytes()))
    site = _compact((first / "index.html").read_text("utf-8"))
    for text in (report, site):
        assert not [p for p in phones if p in text]
        assert not [e for e in emails if e in text]


def test_run_json_and_logs_hold_no_personal_data(story):
    personal = ["王伟", "李娜", "陈美玲", "John Smith", "13812345678", "139 0000 1111",
                "13900001111", "wang.wei@example.com", "LI.NA@Example.COM", "滨江大道",
                "建国路", "passwd"]
    for stage in ("first", "forgotten"):
        record = (story["root"] / stage / "run.json").read_text("utf-8")
        assert not [p for p in personal if p.casefold() in record.casefold()]
    for log in story["logs"].values():
        assert not [p for p in personal if p.casefold() in log.casefold()]
        assert "M0001" not in log  # forget does not echo the id either


def test_outputs_and_warehouse_are_owner_only(story):
    edition = story["out"] / "2026-12"
    for path in [edition, *edition.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    data = story["warehouse"].parent
    for path in [story["warehouse"], data / "erasure-register.csv",
                 data / "erasure-register.key", story["out"] / ".work"]:
        assert stat.S_IMODE(path.stat().st_mode) in (0o600, 0o700), path


# --------------------------------------------------------------------------- forget


def test_forget_removes_the_member_from_the_warehouse(story):
    assert warehouse_holding(story["root"] / "forgotten.duckdb", ERASED) == {}
    with duckdb.connect(str(story["root"] / "forgotten.duckdb"), read_only=True) as con:
        members = con.execute("select count(*) from staging.stg_members").fetchone()[0]
        others = con.execute("select count(*) from marts.segments").fetchone()[0]
    assert members == story["members_before"] - 1 and others == members


def test_forget_removes_the_member_from_the_edition_and_withdraws_their_documents(story):
    forgotten = story["root"] / "forgotten"
    assert holding(forgotten, ERASED) == {}
    record = json.loads((forgotten / "run.json").read_text("utf-8"))
    assert record["erasure"]["needs_rerun"] is True
    withdrawn = record["erasure"]["withdrawn"]
    assert withdrawn and all(not (forgotten / path).exists() for path in withdrawn)
    assert "letters/birthday/batch-001.pdf" in withdrawn  # M0001's birthday letter
    site = (forgotten / "index.html").read_text("utf-8")
    assert "Rerun this month" in site and "birthday/batch-001.pdf" not in site
    # Everyone else is still there.
    segments = pd.read_csv(forgotten / "tables" / "segments.csv", encoding="utf-8-sig")
    assert "M0002" in set(segments["member_id"]) and "M0001" not in set(segments["member_id"])
    assert (forgotten / "newsletters" / "html" / "M0002.html").exists()


def test_register_holds_a_keyed_hash_and_never_the_id(story):
    import hashlib

    data = story["warehouse"].parent
    register = pd.read_csv(data / "erasure-register.csv", dtype=str)
    assert list(register.columns) == ["member_hash", "erased_on"] and len(register) == 1
    text = (data / "erasure-register.csv").read_text("utf-8")
    assert "M0001" not in text
    assert hashlib.sha256(b"M0001").hexdigest() not in text  # not guessable without the key


# --------------------------------------------------------------------------- rerun


def test_rerun_with_unchanged_exports_leaves_the_member_out_everywhere(story):
    assert holding(story["out"] / "2026-12", ERASED) == {}
    assert warehouse_holding(story["warehouse"], ERASED) == {}
    assert not [p for p in (story["out"] / ".work").rglob("*.parquet")
                if any(_compact(n) in _compact(pd.read_parquet(p).to_csv()) for n in ERASED)]


def test_rerun_counts_the_erased_rows_as_quarantined_without_values(story):
    edition = story["out"] / "2026-12"
    record = json.loads((edition / "run.json").read_text("utf-8"))
    counts = record["reconciliation"]
    assert counts["members"] == {"rows_read": 10, "rows_loaded": 7, "rows_quarantined": 3}
    for table in ("members", "transactions", "complaints", "contacts", "events"):
        c = counts[table]
        assert c["rows_read"] == c["rows_loaded"] + c["rows_quarantined"]
    quarantine = pd.read_parquet(edition / "tables" / "quarantine.parquet")
    erased = quarantine[quarantine["reason"] == "erased"]
    # M0001's row and its duplicate, both transaction lines, the complaint and the contact.
    assert erased.groupby("table").size().to_dict() == {
        "complaints": 1, "contacts": 1, "members": 2, "transactions": 2}
    assert erased["value"].isna().all()
    assert (erased["action"] == "row_quarantined").all()
