"""All Dagster definitions of ClubPress, assembled in one place."""

from __future__ import annotations

import dagster as dg

from pipeline.defs.deliver.assets import edition
from pipeline.defs.ingest.assets import STAGED_ASSETS, warehouse
from pipeline.defs.resources import ClubPressSettings, ParquetIOManager

ASSETS = [*STAGED_ASSETS, warehouse, edition]

monthly_edition = dg.define_asset_job(
    "monthly_edition",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Ingest the CRM exports and build one month's edition.",
)


def build_defs() -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        jobs=[monthly_edition],
        resources={"settings": ClubPressSettings(), "io_manager": ParquetIOManager()},
    )
