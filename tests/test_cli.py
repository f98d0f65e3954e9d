"""The command line as an operator uses it: exit codes, messages, what it prints."""

import pytest

from pipeline.cli import _parser, default_processes, main


def test_run_prints_the_edition_path(exports, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "--exports", str(exports), "--out", str(out), "--as-of", "2026-11-20",
                 "--warehouse", str(tmp_path / "w.duckdb"), "--processes", "1"])
    printed = capsys.readouterr()
    assert code == 0
    assert f"Edition ready: {out / '2026-12'}" in printed.out  # default month: after --as-of
    assert "members: 10 rows read" in printed.err  # progress on stderr
    assert (out / "2026-12" / "index.html").exists()


def test_run_with_unusable_export_exits_1_naming_the_file(exports, tmp_path, capsys):
    (exports / "transactions.csv").write_bytes(b"txn_id,member_id\n\xff\xfe\xfa\xfb\n")
    code = main(["run", "--exports", str(exports), "--out", str(tmp_path / "out"),
                 "--as-of", "2026-11-20", "--warehouse", str(tmp_path / "w.duckdb"),
                 "--processes", "1"])
    assert code == 1
    assert "transactions.csv: line 2: neither UTF-8 nor GBK" in capsys.readouterr().err
    assert not (tmp_path / "out" / "2026-12").exists()


def exit_code(argv):
    """main()'s status, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--month", "2026-13"], "expected YYYY-MM"),  # no month 13
        (["run", "--as-of", "2026-02-30"], "expected YYYY-MM-DD"),  # impossible date
        (["run", "--exports", "/nonexistent/folder"], "not a folder"),
        (["sample", "--members", "0", "--out", "/tmp/x"], "at least 1"),
    ],
)
def test_unusable_arguments_exit_2(argv, message, capsys):
    assert exit_code(argv) == 2
    assert message in capsys.readouterr().err


def test_config_with_unknown_key_exits_2_naming_the_key(exports, tmp_path, capsys):
    config = tmp_path / "club.yaml"
    config.write_text("club:\n  nmae: Typo Club\ntimezone: Asia/Shanghai\n", "utf-8")
    code = main(["run", "--exports", str(exports), "--config", str(config)])
    assert code == 2
    assert "club.nmae: unknown key" in capsys.readouterr().err


def test_check_prints_counts_and_every_problem(exports, capsys):
    code = main(["check", "--exports", str(exports), "--as-of", "2026-11-20"])
    out = capsys.readouterr().out
    assert code == 0
    assert "members       members.csv (utf-8): 10 read, 8 loaded, 2 quarantined" in out
    assert "members.csv, line 9, column 会员编号: member_id: duplicate of line 2" in out
    assert "transactions.csv, line 6, column member_id: member_id: not a loaded member" in out


def test_check_writes_nothing(exports, capsys):
    before = sorted(p.name for p in exports.iterdir())
    main(["check", "--exports", str(exports)])
    assert sorted(p.name for p in exports.iterdir()) == before


def test_check_exits_1_on_unusable_file(exports, capsys):
    (exports / "members.csv").write_text("", "utf-8")
    assert main(["check", "--exports", str(exports)]) == 1
    assert "members.csv: line 1: the file is empty" in capsys.readouterr().out


def test_calendar_prints_the_holidays_table_as_csv(capsys):
    import csv
    import io

    assert main(["calendar", "--year", "2026"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["date", "name", "name_en", "kind"]
    by_date = {(r["date"], r["kind"]): r["name"] for r in rows}
    assert by_date[("2026-02-17", "festival")] == "春节"
    assert by_date[("2026-09-25", "festival")] == "中秋节"
    assert by_date[("2026-02-14", "make_up_workday")] == "春节调休"  # a Saturday at work
    assert by_date[("2026-02-21", "statutory_off")] == "春节"  # a Saturday inside the block


def test_calendar_for_an_unpublished_year_warns_and_lists_festivals(capsys):
    assert main(["calendar", "--year", "2031"]) == 0
    printed = capsys.readouterr()
    assert "no official holiday arrangement published for 2031" in printed.err
    assert "statutory_off" not in printed.out and "春节" in printed.out


def test_calendar_with_custom_and_western_dates_from_config(tmp_path, capsys):
    config = tmp_path / "club.yaml"
    config.write_text(
        "calendar:\n  western: [christmas]\n  custom:\n"
        "    - {when: '06-18', name: 建会纪念日, name_en: Club Founding Day}\n", "utf-8")
    assert main(["calendar", "--year", "2026", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "2026-12-25,圣诞节,Christmas Day,festival" in out
    assert "2026-06-18,建会纪念日,Club Founding Day,custom" in out


@pytest.mark.parametrize("cores, processes", [(1, 1), (2, 3), (8, 9)])
def test_run_takes_one_process_more_than_the_cores(cores, processes, monkeypatch):
    """One core: every step in the calling process; more: one process per core and one to
    fill the time steps spend starting and reading."""
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cores)))
    assert default_processes() == processes
    assert _parser().parse_args(["run"]).processes == processes


def test_steps_run_without_transparent_huge_pages():
    # With huge pages on, zeroing fresh 2 MiB pages made the data steps a third slower
    # (pipeline.steps.small_pages): a process that loads the definitions, and every
    # process it starts, runs with them off. The child turns them on again first (this
    # test process may have them off, and the child would inherit that).
    import subprocess
    import sys

    script = """
import ctypes, subprocess
from pipeline.steps import PR_SET_THP_DISABLE  # imports nothing that switches them off
def thp():
    return subprocess.run(["grep", "THP_enabled", "/proc/self/status"],
                          capture_output=True, text=True).stdout.split()
ctypes.CDLL(None).prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0)
print(*thp())
import pipeline.definitions
print(*thp())
"""
    printed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    assert printed == ["THP_enabled: 1", "THP_enabled: 0"]
