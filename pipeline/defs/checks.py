"""Asset checks on the marts.

The tests a reader relies on (unique keys, no blanks, known values, dates inside the
edition, references between marts) are declared in `pipeline/sql/marts/marts.yml`; one
factory turns each mart's list into blocking asset checks (`declared_specs`), which the
mart's asset runs in DuckDB over the rows it produces (`declared_results`).
Reconciliations are written out in the assets they check.
"""


from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import yaml

from pipeline.lib.edition import Edition
from pipeline.settings import PATHS

DECLARED_TESTS = PATHS.sql / "marts" / "marts.yml"
KINDS = ("unique", "not_null", "accepted_values", "expression", "relationship")


class DeclaredTestError(Exception):
    """marts.yml declares a test that cannot be run; the message names the mart."""


@dataclass(frozen=True)
class DeclaredTest:
    """One test of marts.yml: its check name, what it looks for and the SQL that counts
    the rows failing it (over the view `mart`, and `other` for a relationship)."""

    model: str
    name: str
    description: str
    failing_sql: str
    other: str | None = None  # the mart a relationship refers to


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _test(model: str, spec: dict) -> DeclaredTest:
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
        raise DeclaredTestError(f"{DECLARED_TESTS.name}: {model}: each test is one of "
                                f"{', '.join(KINDS)}, got {spec!r}")
    kind, arg = next(iter(spec.items()))
    if kind == "unique":
        keys = ", ".join(_quoted(c) for c in arg)
        return DeclaredTest(model, "unique_" + "_".join(arg), f"no two rows share {', '.join(arg)}",
                            f"select coalesce(sum(n - 1), 0) from (select count(*) n from mart "
                            f"group by {keys} having count(*) > 1)")
    if kind == "not_null":
        blank = " or ".join(f"{_quoted(c)} is null" for c in arg)
        return DeclaredTest(model, "not_null", f"no blank {', '.join(arg)}",
                            f"select count(*) from mart where {blank}")
    if kind == "accepted_values":
        column, values = arg["column"], arg["values"]
        listed = ", ".join(_literal(v) for v in values)
        return DeclaredTest(model, f"accepted_values_{column}",
                            f"{column} is one of {', '.join(map(str, values))}",
                            f"select count(*) from mart where {_quoted(column)} is not null "
                            f"and {_quoted(column)}::varchar not in ({listed})")
    if kind == "expression":
        return DeclaredTest(model, arg["name"], arg["sql"],
                            f"select count(*) from mart where not coalesce(({arg['sql']}), false)")
    other, other_column = arg["to"].split(".")
    column = arg["column"]
    return DeclaredTest(model, f"relationship_{column}_in_{other}",
                        f"every {column} is a {other}.{other_column}",
                        f"select count(*) from mart where {_quoted(column)} is not null and "
                        f"{_quoted(column)} not in (select {_quoted(other_column)} from other)",
                        other)


def load_declared_tests(path: Path = DECLARED_TESTS) -> dict[str, list[DeclaredTest]]:
    """The tests of marts.yml by mart; a test that cannot be understood is an error."""
    declared = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {model: [_test(model, spec) for spec in specs] for model, specs in declared.items()}


def count_failing(test: DeclaredTest, mart: Path | pd.DataFrame | pa.Table, params: dict,
                  other: Path | pd.DataFrame | pa.Table | None = None) -> int:
    """Rows of `mart` failing `test`, the edition's dates bound as $first_day, $last_day
    and $as_of (a test that does not use them is run without)."""
    with duckdb.connect() as con:
        for name, relation in (("mart", mart), ("other", other)):
            if isinstance(relation, Path):
                con.read_parquet(str(relation)).create_view(name)
            elif relation is not None:
                con.register(name, relation)
        used = {k: v for k, v in params.items() if f"${k}" in test.failing_sql}
        return int(con.execute(test.failing_sql, used or None).fetchone()[0])


DECLARED = load_declared_tests()


def declared_specs(model: str) -> list[dg.AssetCheckSpec]:
    """The blocking checks marts.yml declares on `model`, for its asset's check_specs. The
    asset runs them in its own step (`declared_results`): a step of their own would cost
    a process per mart, about half a second each on the run's critical path."""
    return [dg.AssetCheckSpec(t.name, asset=model, blocking=True, description=t.description)
            for t in DECLARED.get(model, [])]


def declared_results(model: str, rows: Path | pd.DataFrame | pa.Table, edition: Edition,
                     **others: Path | pd.DataFrame | pa.Table) -> Iterator[dg.AssetCheckResult]:
    """The results of `declared_specs(model)` over the mart's rows; a relationship's other
    mart is passed by name (an input of the asset)."""
    params = {"first_day": edition.first_day, "last_day": edition.last_day,
              "as_of": edition.as_of}
    for test in DECLARED.get(model, []):
        if test.other and test.other not in others:
            raise DeclaredTestError(f"{DECLARED_TESTS.name}: {model}: {test.name} refers to "
                                    f"{test.other}, which is no input of {model}'s asset")
        failing = count_failing(test, rows, params, others[test.other] if test.other else None)
        yield dg.AssetCheckResult(check_name=test.name, asset_key=model,
                                  passed=failing == 0, metadata={"failing_rows": failing})
