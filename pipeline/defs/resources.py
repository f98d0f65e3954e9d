"""The run's settings as a Dagster resource, and the Parquet hand-over between steps.

Steps never share a DuckDB connection: each step's result goes to Parquet in the run's
work folder (`ParquetIOManager`) and one step alone writes the warehouse, so Dagster's
multiprocess (or Kubernetes) executors never meet a DuckDB lock.
"""


import json
import shutil
from datetime import date
from functools import cached_property
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import ClubConfig, load_config
from pipeline.lib.edition import Edition, today
from pipeline.lib.read.ingest import Staged, read_rows
from pipeline.settings import PATHS


class ClubPressSettings(dg.ConfigurableResource):
    """Where the exports are, where the edition goes, and the data cut-off."""

    exports_dir: str = str(PATHS.sample_exports)
    out_dir: str = str(PATHS.output)
    warehouse: str = str(PATHS.warehouse)
    config_file: str = ""
    as_of: str = ""  # YYYY-MM-DD; blank = today in the club's time zone

    @property
    def exports(self) -> Path:
        return Path(self.exports_dir)

    @property
    def out(self) -> Path:
        return Path(self.out_dir)

    @cached_property
    def club(self) -> ClubConfig:
        return load_config(Path(self.config_file) if self.config_file else None)

    def as_of_date(self) -> date:
        """The run's cut-off day: `as_of`, else today in the club's time zone."""
        return date.fromisoformat(self.as_of) if self.as_of else today(self.club.timezone)

    def edition(self, context: dg.AssetExecutionContext | str) -> Edition:
        """The edition a step builds: its partition's month and the run's cut-off."""
        key = context if isinstance(context, str) else context.partition_key
        return Edition.of_partition(key, self.as_of_date(), self.club.timezone)

    def render_dir(self, edition: str, part: str) -> Path:
        """Where a render step writes its documents (`report`, `letters`, ...) before the
        edition step moves them into the edition folder."""
        return self.out / ".work" / "render" / edition / part

    def build_dir(self, edition: str) -> Path:
        """The edition is assembled here and moved to `out/<edition>` when complete."""
        return self.out / ".build" / edition


def run_config(
    exports: Path, out: Path, as_of: date, config_file: Path | None, warehouse: Path
) -> dict:
    """The run configuration of one edition: these settings, the Parquet hand-over in
    `out/.work`, and a quiet console (the CLI, the schedule and the sensor use it)."""
    settings = {
        "exports_dir": str(exports),
        "out_dir": str(out),
        "warehouse": str(warehouse),
        "config_file": str(config_file or ""),
        "as_of": as_of.isoformat(),
    }
    return {
        "resources": {
            "settings": {"config": settings},
            "io_manager": {"config": {"base_dir": str(out / ".work")}},
        },
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }


SUMMARY_ONLY = {"rows": False}  # AssetIn metadata: load a Staged input without its rows


def only_columns(*names: str) -> dict:
    """AssetIn metadata: load a Staged input's rows with just these columns (a step that
    needs four columns of seven million transactions should not read the other three)."""
    return {"columns": list(names)}


def as_parquet() -> dict:
    """AssetIn metadata: hand the step the Path of its upstream's rows.parquet instead of
    the rows, for a step that reads it with DuckDB (`warehouse.query`)."""
    return {"parquet": True}


def _typed_table(frame: pd.DataFrame) -> pa.Table:
    """`frame` as Arrow; a column without a single value (untyped objects in pandas,
    which Parquet and the warehouse would store as type NULL) as text."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores each step's tables as Parquet under `base_dir/<partition>/<asset>/`.

    A `Staged` input declared with `AssetIn(metadata=SUMMARY_ONLY)` is loaded with its
    counts and quarantine but without its rows, for steps that only report on it; one
    declared with `AssetIn(metadata=only_columns(...))` with only those columns of its rows.
    """

    base_dir: str = str(PATHS.output / ".work")

    def folder(self, partition: str, asset: str) -> Path:
        return Path(self.base_dir) / partition / asset

    def _dir(self, context: dg.OutputContext | dg.InputContext) -> Path:
        partition = context.partition_key if context.has_partition_key else "all"
        return self.folder(partition, "_".join(context.asset_key.path))

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        folder = self._dir(context)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if isinstance(obj, Staged):
            if obj._frame is None and obj.rows_file is not None:  # as DuckDB wrote them
                shutil.move(obj.rows_file, folder / "rows.parquet")
                obj.rows_file = folder / "rows.parquet"
            else:
                obj.frame.to_parquet(folder / "rows.parquet", index=False)
            obj.quarantine.to_parquet(folder / "quarantine.parquet", index=False)
            meta = {
                "kind": "staged",
                "table": obj.table,
                "rows_read": obj.rows_read,
                "source": obj.source,
                "encoding": obj.encoding,
                "seconds": obj.seconds,
                "rows_loaded": obj.rows_loaded,
            }
        elif isinstance(obj, pd.DataFrame):
            pq.write_table(_typed_table(obj), folder / "rows.parquet")
            meta = {"kind": "frame"}
        elif isinstance(obj, pa.Table):
            pq.write_table(obj, folder / "rows.parquet")
            meta = {"kind": "frame"}
        else:
            meta = {"kind": "json", "value": obj}
        (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    def load_input(self, context: dg.InputContext):
        folder = self._dir(context)
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if (context.definition_metadata or {}).get("parquet"):
            return folder / "rows.parquet"
        if meta["kind"] == "staged":
            wanted = context.definition_metadata or {}
            with_rows = wanted.get("rows", True)
            rows = (read_rows(folder / "rows.parquet", meta["table"], wanted.get("columns"))
                    if with_rows else pd.DataFrame())
            return Staged(
                meta["table"],
                rows,
                pd.read_parquet(folder / "quarantine.parquet"),
                meta["rows_read"],
                meta["source"],
                meta["encoding"],
                meta["seconds"],
                None if with_rows else meta["rows_loaded"],
            )
        if meta["kind"] == "frame":
            return pd.read_parquet(folder / "rows.parquet")
        return meta["value"]
