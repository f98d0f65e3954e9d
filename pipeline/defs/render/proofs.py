"""Render: proofs/proofs.pdf, every template branch for fictional members, for review."""

import time

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import editions
from pipeline.defs.render.assets import fresh_dir
from pipeline.defs.resources import ClubPressSettings
from pipeline.lib.read.ingest import Staged
from pipeline.lib.progress import report
from pipeline.lib.documents.proofs import build_proofs


@dg.asset(
    partitions_def=editions,
    group_name="render",
    description="proofs/proofs.pdf: one sample of every newsletter and greeting-letter "
    "branch per language and segment, for fictional members, with a contents cover.",
)
def proofs(context: dg.AssetExecutionContext, settings: ClubPressSettings,
           stg_events: Staged, holidays: pd.DataFrame) -> dg.MaterializeResult:
    started = time.perf_counter()
    edition = settings.edition(context)
    built = build_proofs(holidays, stg_events.frame, settings.club, edition.month)
    folder = fresh_dir(settings, edition, "proofs")
    (folder / "proofs.pdf").write_bytes(built.pdf)
    seconds = time.perf_counter() - started
    report("proofs", f"proofs.pdf: {len(built.branches)} branches, {built.pages} pages "
           f"in {seconds:.1f} s")
    return dg.MaterializeResult(metadata={"branches": len(built.branches), "pages": built.pages})
