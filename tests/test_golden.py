"""The job's tables, letter manifest and reconciliation equal the golden files of four
fixed samples (tests/golden/, written by `python -m clubpress_tools.golden`), row for row.

A rewrite of a data step that changes any number a club sees fails here, with the first
rows that differ. A change meant to alter outputs regenerates the case it alters.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from clubpress_tools.golden import CASES, GOLDEN, outputs, run_case

SHOWN_LINES = 12  # of a differing file's diff, enough to see which rows and columns


def _golden(case_name: str) -> dict[str, str]:
    folder = GOLDEN / case_name
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _diff(name: str, expected: str, actual: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                 f"golden/{name}", f"now/{name}", n=0, lineterm="")
    return "\n".join(list(lines)[:SHOWN_LINES])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_outputs_equal_the_golden_files(case, tmp_path: Path):
    expected = _golden(case.name)
    assert expected, f"no golden files for {case.name}: run python -m clubpress_tools.golden"
    actual = outputs(run_case(case, tmp_path))
    assert sorted(actual) == sorted(expected), "a table appeared or disappeared"
    differing = [_diff(name, expected[name], actual[name])
                 for name in sorted(expected) if expected[name] != actual[name]]
    assert not differing, "\n\n".join(differing)
