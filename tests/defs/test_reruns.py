"""Safe reruns end to end: changes.md, the mailing-house archive, byte-identical editions,
and a run killed mid-render that leaves the previous edition as it was."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.lib.delivery.delivery import check
from pipeline.run import run_edition
from pipeline.settings import PROJECT_ROOT

AS_OF = date(2026, 11, 20)
MONTH = "2026-12"


def run(exports: Path, out: Path, warehouse: Path, processes: int = 1) -> Path:
    return run_edition(exports=exports, out=out, month=MONTH, as_of=AS_OF, config_file=None,
                       warehouse=warehouse, processes=processes)


def files(edition: Path) -> dict[str, bytes]:
    return {p.relative_to(edition).as_posix(): p.read_bytes()
            for p in sorted(edition.rglob("*")) if p.is_file()}


def without_timings(run_json: bytes) -> dict:
    record = json.loads(run_json)
    record.pop("timings_seconds")
    return record


def segments(edition: Path) -> dict[str, str]:
    frame = pd.read_csv(edition / "tables" / "segments.csv", dtype=str, encoding="utf-8-sig")
    return dict(zip(frame["member_id"], frame["rfm_segment"].fillna("(no purchase)")))


def edit_exports(exports: Path) -> None:
    """Remove 王伟 (M0001, who has a December birthday letter), add 吴芳 (M0010, born in
    December, post) with a purchase, and make 李娜's (M0002) purchase a hundred times larger."""
    members = exports / "members.csv"
    lines = members.read_text("utf-8").splitlines()
    lines = [line for line in lines if not line.startswith("M0001,")]
    lines.append("M0010,吴芳,女,1980-12-15,,,13800008888,,上海市,上海市,静安区,南京西路100号,"
                 "200040,2020-01-01,,zh-CN,post,是,,,,,,普通")
    members.write_text("\n".join(lines) + "\n", "utf-8")
    transactions = exports / "transactions.csv"
    text = transactions.read_text("utf-8")
    assert "2026/9/15 18:30,￥560," in text
    text = text.replace("2026/9/15 18:30,￥560,", "2026/9/15 18:30,￥56000,")
    transactions.write_text(text.rstrip("\n") + "\nT0009,M0010,2026-11-10,200.00,餐饮,门店\n", "utf-8")


def test_rerun_on_changed_exports_says_what_changed(exports, tmp_path):
    first = run(exports, tmp_path / "out", tmp_path / "w.duckdb")
    assert not (first / "changes.md").exists()  # first run: nothing to compare
    assert json.loads((first / "run.json").read_text("utf-8"))["changes"] is None
    before = segments(first)

    edit_exports(exports)
    second = run(exports, tmp_path / "out", tmp_path / "w.duckdb")
    after = segments(second)
    text = (second / "changes.md").read_text("utf-8")
    record = json.loads((second / "run.json").read_text("utf-8"))

    assert "- members: members.csv sha256" in text and "- transactions: transactions.csv" in text
    assert "## Members added\n\n- M0010\n" in text
    assert "## Members removed\n\n- M0001\n" in text
    assert before["M0002"] != after["M0002"]  # the larger spend moved 李娜's segment
    assert f"- M0002: {before['M0002']} → {after['M0002']}" in text
    moved = sorted(m for m in before.keys() & after.keys() if before[m] != after[m])
    assert f"| members who moved segment | {len(moved)} |" in text
    assert "## Letters added\n\n- 202612-birthday-M0010 (birthday)\n" in text
    assert "## Letters withdrawn\n\n- 202612-birthday-M0001 (birthday)\n" in text
    assert record["changes"]["members_added"] == record["changes"]["members_removed"] == 1
    assert record["changes"]["members_moved_segment"] == len(moved)
    assert sum(record["changes"]["segment_moves"].values()) == len(moved)
    assert (record["changes"]["letters_added"], record["changes"]["letters_withdrawn"]) == (1, 1)
    assert "王伟" not in text and "吴芳" not in text and "李娜" not in text  # ids only
    assert 'href="changes.md"' in (second / "index.html").read_text("utf-8")

    third = run(exports, tmp_path / "out", tmp_path / "w.duckdb")  # same inputs again
    assert not (third / "changes.md").exists()


def test_same_inputs_give_byte_identical_editions(exports, tmp_path):
    """In this process, and again with the multiprocess executor (render shards side by
    side in their own processes): the edition must not depend on how it was run."""
    one = files(run(exports, tmp_path / "one", tmp_path / "one.duckdb"))
    two = files(run(exports, tmp_path / "two", tmp_path / "two.duckdb", processes=2))
    assert sorted(one) == sorted(two)
    assert {"delivery/mailing-house-2026-12.zip", "letters/manifest.csv", "run.json",
            "report/monthly-report.pdf", "index.html", "tables/segments.parquet"} <= set(one)
    # run.json records how long each step took: everything else in it must be the same
    assert without_timings(one.pop("run.json")) == without_timings(two.pop("run.json"))
    differing = [path for path in one if one[path] != two[path]]
    assert differing == []


def test_mailing_house_archive_is_in_the_edition_and_verifies(exports, tmp_path):
    edition = run(exports, tmp_path / "out", tmp_path / "w.duckdb")
    archive = edition / "delivery" / "mailing-house-2026-12.zip"
    result = check(archive)
    manifest = pd.read_csv(edition / "letters" / "manifest.csv", dtype=str, encoding="utf-8-sig")
    assert (result["pieces"], result["batches"]) == (len(manifest), manifest["batch"].nunique())
    assert result["pages"] == manifest["page_count"].astype(int).sum() > 0
    sha = (edition / "delivery" / "mailing-house-2026-12.zip.sha256").read_text("ascii")
    assert sha.endswith("  mailing-house-2026-12.zip\n")
    assert 'href="delivery/mailing-house-2026-12.zip"' in (edition / "index.html").read_text("utf-8")
    assert 'href="changes.md"' not in (edition / "index.html").read_text("utf-8")  # first run


def clubpress(exports: Path, out: Path, warehouse: Path, log: Path) -> subprocess.Popen:
    """`clubpress run` in its own process group, output to `log` (steps in one process:
    the test is about what a killed run leaves behind, not about the executor)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--exports", str(exports), "--out", str(out),
         "--month", MONTH, "--as-of", AS_OF.isoformat(), "--warehouse", str(warehouse),
         "--processes", "1"],
        cwd=PROJECT_ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def rendered_since(folder: Path, started: float) -> bool:
    """A PDF written below `folder` after `started` (earlier runs' work files may remain)."""
    for path in folder.rglob("*.pdf"):
        try:
            if path.stat().st_mtime >= started:
                return True
        except FileNotFoundError:  # removed by the run while we looked
            continue
    return False


def test_run_killed_mid_render_leaves_previous_edition_and_rerun_completes(exports, tmp_path):
    out, warehouse = tmp_path / "out", tmp_path / "w.duckdb"
    previous = run(exports, out, warehouse)
    kept = files(previous)

    edit_exports(exports)
    started = time.time()
    process = clubpress(exports, out, warehouse, tmp_path / "killed.log")
    try:
        deadline = time.monotonic() + 600  # a busy machine renders slowly
        while not rendered_since(out / ".work" / "render" / MONTH, started):
            assert process.poll() is None, (tmp_path / "killed.log").read_text("utf-8")
            assert time.monotonic() < deadline, "no PDF rendered within 600 s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the run and every step process it started
        process.wait()
    assert process.returncode == -signal.SIGKILL

    assert files(previous) == kept  # the previous edition: same files, same bytes
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [MONTH]

    rerun = clubpress(exports, out, warehouse, tmp_path / "rerun.log")
    try:
        rerun.wait(timeout=900)
    finally:
        if rerun.poll() is None:
            os.killpg(rerun.pid, signal.SIGKILL)
    assert rerun.returncode == 0, (tmp_path / "rerun.log").read_text("utf-8")
    assert f"Edition ready: {out / MONTH}" in (tmp_path / "rerun.log").read_text("utf-8")
    new = files(previous)
    assert sorted(new) == sorted([*kept, "changes.md"])  # complete: every file, one more
    record = json.loads(new["run.json"])
    members_sha = next(i["sha256"] for i in record["inputs"] if i["table"] == "members")
    assert members_sha == hashlib.sha256((exports / "members.csv").read_bytes()).hexdigest()
    assert "- M0010" in new["changes.md"].decode("utf-8")  # compared with the kept edition
    check(previous / "delivery" / "mailing-house-2026-12.zip")
    assert not (out / ".build").exists()  # nothing half-built left behind
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [MONTH]
