"""Ingest: one asset per export table, staged and checked, handed on as Parquet."""


import os
import tempfile
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.defs.marts import MARTS
from pipeline.defs.partitions import editions
from pipeline.defs.resources import (
    SUMMARY_ONLY,
    as_parquet,
    ClubPressSettings,
    ParquetIOManager,
    only_columns,
)
from pipeline.lib.edition import Edition
from pipeline.lib.delivery.erasure import erased_rows, exclude_erased, load_register
from pipeline.lib.read.ingest import Staged, ingest_table
from pipeline.lib.privacy import owner_only_umask, private_dir, restrict_file
from pipeline.lib.progress import rate, report
from pipeline.lib.read.schema import TABLES, Table
from pipeline.lib.warehouse import load_parquet, load_tables

RECONCILES = "rows_reconcile"


def _ingest(settings: ClubPressSettings, edition: Edition, table: Table,
            members: Staged | None) -> Staged:
    started = time.perf_counter()
    known = pd.Index(members.frame["member_id"]) if members is not None else None
    if settings.club.output.private:
        private_dir(settings.out / ".work")  # the steps' copies of the rows stay private
    # DuckDB writes the rows straight to Parquet in the (private) work folder, and the IO
    # manager moves the file into place: seven million rows never pass through pandas.
    rows_file = _rows_file(settings.out / ".work", table)
    try:
        with owner_only_umask(settings.club.output.private):  # DuckDB creates the file anew
            staged = ingest_table(settings.exports, table, known, edition.as_of, rows_file)
        # Members erased on request are left out even while the exports still carry them.
        staged = exclude_erased(staged, table, load_register(Path(settings.warehouse)))
    except BaseException:
        rows_file.unlink(missing_ok=True)
        raise
    if staged.rows_file != rows_file:  # no export, or the rows were read back (erasures)
        rows_file.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    staged.seconds = seconds
    if staged.source is None:
        report("ingest", f"{table.name}: no export, treated as no data")
    else:
        counts = staged.reconciliation()
        report(
            "ingest",
            f"{table.name}: {rate(staged.rows_read, seconds, 'rows read')}, "
            f"{counts['rows_loaded']:,} loaded, {counts['rows_quarantined']:,} quarantined",
        )
    return staged


def _rows_file(work: Path, table: Table) -> Path:
    """A new, owner-only file in the work folder for one table's staged rows."""
    work.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{table.name}-", suffix=".parquet", dir=work)
    os.close(descriptor)
    return Path(name)


def _outputs(staged: Staged):
    counts = staged.reconciliation()
    yield dg.Output(
        staged,
        metadata={
            "source": staged.source or "(no file)",
            "encoding": staged.encoding or "",
            **counts,
            "values_dropped": int((staged.quarantine["action"] == "value_dropped").sum()),
            "rows_erased": erased_rows(staged),  # counted in rows_quarantined
        },
    )
    balanced = counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
    yield dg.AssetCheckResult(
        check_name=RECONCILES,
        passed=balanced,
        metadata=counts,
        description="rows_read = rows_loaded + rows_quarantined",
    )


def _check_specs(name: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            RECONCILES,
            asset=name,
            blocking=True,
            description="Every record read is either loaded or quarantined.",
        )
    ]


@dg.asset(
    partitions_def=editions,
    group_name="ingest",
    check_specs=_check_specs("stg_members"),
    description="Members export, typed and normalised; unusable rows quarantined.",
)
def stg_members(context: dg.AssetExecutionContext, settings: ClubPressSettings):
    yield from _outputs(_ingest(settings, settings.edition(context), TABLES["members"], None))


def _member_table_asset(table_name: str) -> dg.AssetsDefinition:
    name = f"stg_{table_name}"

    @dg.asset(
        name=name,
        partitions_def=editions,
        group_name="ingest",
        check_specs=_check_specs(name),
        ins={"stg_members": dg.AssetIn(metadata=only_columns("member_id"))},
        description=f"{table_name.capitalize()} export, typed; rows for unknown members checked.",
    )
    def _asset(context: dg.AssetExecutionContext, settings: ClubPressSettings,
               stg_members: Staged):
        yield from _outputs(_ingest(settings, settings.edition(context), TABLES[table_name],
                                    stg_members))

    return _asset


stg_transactions = _member_table_asset("transactions")
stg_complaints = _member_table_asset("complaints")
stg_contacts = _member_table_asset("contacts")
stg_returns = _member_table_asset("returns")


@dg.asset(
    partitions_def=editions,
    group_name="ingest",
    check_specs=_check_specs("stg_events"),
    description="Club events for the newsletter.",
)
def stg_events(context: dg.AssetExecutionContext, settings: ClubPressSettings):
    yield from _outputs(_ingest(settings, settings.edition(context), TABLES["events"], None))


STAGED_ASSETS = [stg_members, stg_transactions, stg_complaints, stg_contacts, stg_events,
                 stg_returns]


@dg.asset(
    partitions_def=editions,
    group_name="ingest",
    ins={f"stg_{t}": dg.AssetIn(metadata=SUMMARY_ONLY) for t in TABLES},
    description="Loads the staged tables and the quarantine into the DuckDB warehouse, "
    "in one transaction (the only step that writes it).",
)
def warehouse(
    context: dg.AssetExecutionContext,
    settings: ClubPressSettings,
    io_manager: dg.ResourceParam[ParquetIOManager],
    **staged: Staged,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    tables = {
        ("staging", name): (
            f"warehouse/{name}",  # the warehouse column types of the staged rows
            io_manager.folder(context.partition_key, name) / "rows.parquet",
        )
        for name in staged
    }
    quarantine = pd.concat([s.quarantine for s in staged.values()], ignore_index=True)
    tables[("audit", "quarantine")] = ("warehouse/quarantine", quarantine)
    private = settings.club.output.private
    with owner_only_umask(private):  # the database and its log are created owner-only
        counts = load_tables(Path(settings.warehouse), tables)
    if private:
        restrict_file(Path(settings.warehouse))  # also when it was created before
    report("warehouse", f"{sum(counts.values()):,} rows into {settings.warehouse} "
           f"in {time.perf_counter() - started:.1f} s")
    return dg.MaterializeResult(metadata={**counts, "path": settings.warehouse})


@dg.asset(
    partitions_def=editions,
    group_name="ingest",
    deps=["warehouse"],  # one writer at a time: after the staged tables are in
    ins={name: dg.AssetIn(name, metadata=as_parquet()) for name in MARTS},  # read as Arrow
    description="Loads every derived table into the warehouse's `marts` schema, in one "
    "transaction.",
)
def warehouse_marts(settings: ClubPressSettings, **marts: Path) -> dg.MaterializeResult:
    started = time.perf_counter()
    with owner_only_umask(settings.club.output.private):
        counts = load_parquet(Path(settings.warehouse), "marts", marts)
    report("warehouse", f"{len(marts)} marts, {sum(counts.values()):,} rows "
           f"in {time.perf_counter() - started:.1f} s")
    return dg.MaterializeResult(metadata=counts)
