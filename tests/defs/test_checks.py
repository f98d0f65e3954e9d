"""The tests declared in sql/marts/marts.yml, as the blocking checks they become."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipeline.defs.checks import (
    DeclaredTestError,
    _test,
    count_failing,
    load_declared_tests,
)
from pipeline.defs.marts import MARTS

DECEMBER = {"first_day": date(2026, 12, 1), "last_day": date(2026, 12, 31),
            "as_of": date(2026, 11, 20)}


def _failing(spec: dict, mart: pd.DataFrame, other: pd.DataFrame | None = None) -> int:
    return count_failing(_test("m", spec), mart, DECEMBER, other)


@pytest.mark.parametrize("spec, rows, failing", [
    # a member listed twice would be greeted twice
    ({"unique": ["member_id"]}, {"member_id": ["M1", "M2", "M1", "M1"]}, 2),
    ({"unique": ["member_id", "kind"]}, {"member_id": ["M1", "M1"], "kind": ["a", "b"]}, 0),
    # a blank in any listed column counts once per row
    ({"not_null": ["member_id", "kind"]}, {"member_id": ["M1", None], "kind": [None, None]}, 2),
    # an unknown value is caught, a blank is left to not_null
    ({"accepted_values": {"column": "channel", "values": ["post", "sms"]}},
     {"channel": ["post", "fax", None]}, 1),
    # the edition's dates are bound: a birthday on 1 January is outside December
    ({"expression": {"name": "in_month", "sql": "birthday between $first_day and $last_day"}},
     {"birthday": pd.to_datetime(["2026-12-01", "2026-12-31", "2027-01-01"]).date}, 1),
    # a condition that is unknown (null) for a row fails it
    ({"expression": {"name": "positive", "sql": "years >= 1"}}, {"years": [1, 0, None]}, 2),
])
def test_each_kind_counts_the_rows_a_reader_would_object_to(spec, rows, failing):
    assert _failing(spec, pd.DataFrame(rows)) == failing


def test_a_relationship_finds_members_missing_from_the_other_mart():
    churn = pd.DataFrame({"member_id": ["M1", "M9"]})
    segments = pd.DataFrame({"member_id": ["M1", "M2"]})
    spec = {"relationship": {"column": "member_id", "to": "segments.member_id"}}
    assert _failing(spec, churn, segments) == 1


def test_declared_tests_name_only_marts_the_job_builds_and_their_columns(tmp_path: Path):
    """A test on a mart or column that does not exist would fail every edition; run each
    declared test over the golden rows of its mart (which pass every test)."""
    declared = load_declared_tests()
    golden = Path(__file__).resolve().parents[1] / "golden" / "bundled-2026-12" / "tables"
    assert set(declared) <= set(MARTS)
    for model, tests in declared.items():
        rows = pd.read_csv(golden / f"{model}.csv", keep_default_na=False, na_values=[""])
        for test in tests:
            other = (pd.read_csv(golden / f"{test.other}.csv", keep_default_na=False, na_values=[""])
                     if test.other else None)
            assert count_failing(test, rows, DECEMBER, other) == 0, (model, test.name)


def test_a_test_that_cannot_be_understood_names_the_mart():
    with pytest.raises(DeclaredTestError, match="segments: each test is one of"):
        _test("segments", {"uniq": ["member_id"]})


def test_every_declared_test_is_a_blocking_check_run_by_its_marts_own_step():
    """A declared test no step runs would never stop an edition. Each is a blocking check
    of the asset that builds its mart, so it runs as the mart is built and the steps
    after the mart wait for it."""
    from pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    for model, tests in load_declared_tests().items():
        specs = {spec.name: spec for spec in graph.get(dg.AssetKey(model)).assets_def.check_specs
                 if spec.asset_key == dg.AssetKey(model)}
        for test in tests:
            assert test.name in specs, (model, test.name)
            assert specs[test.name].blocking, (model, test.name)


@pytest.mark.parametrize("twice, passed", [(False, True), (True, False)])
def test_overdue_by_owner_reconciles_with_a_backlog_that_lists_each_case_once(
        tmp_path: Path, twice: bool, passed: bool):
    """The owners' table is what staff chase: a case the backlog lists twice would be
    chased twice and counted twice, so the reconciliation check fails."""
    from pipeline.defs.complaints.assets import OVERDUE_RECONCILES, complaint_overdue_by_owner
    from pipeline.defs.resources import ClubPressSettings

    golden = Path(__file__).resolve().parents[1] / "golden" / "bundled-2026-12" / "tables"
    backlog = pd.read_csv(golden / "complaint_backlog.csv", dtype={"is_overdue": bool})
    if twice:
        backlog = pd.concat([backlog, backlog[backlog["is_overdue"]].head(1)])
    path = tmp_path / "backlog.parquet"
    backlog.to_parquet(path)
    context = dg.build_asset_context(partition_key="2026-12-01")
    settings = ClubPressSettings(as_of="2026-11-20")
    results = list(complaint_overdue_by_owner(context, settings, path))
    check = next(r for r in results if isinstance(r, dg.AssetCheckResult)
                 and r.check_name == OVERDUE_RECONCILES)
    assert check.passed is passed
    assert check.metadata["duplicate_cases"].value == int(twice)


def test_a_relationship_to_a_mart_the_asset_does_not_read_names_both():
    """churn_risk's members must be segments' members: run without segments, the test
    cannot be run, and the error says which mart is missing."""
    from pipeline.defs.checks import declared_results

    edition = type("Edition", (), DECEMBER)()
    churn = pd.DataFrame({"member_id": ["M1"], "reason": ["lapsed"]})
    with pytest.raises(DeclaredTestError, match="churn_risk: .* refers to segments"):
        list(declared_results("churn_risk", churn, edition))
    segments = pd.DataFrame({"member_id": ["M2"]})
    results = {r.check_name: r.passed
               for r in declared_results("churn_risk", churn, edition, segments=segments)}
    assert results["relationship_member_id_in_segments"] is False
