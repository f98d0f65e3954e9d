"""Dagster's entry point: `dagster dev -m pipeline.definitions` finds `defs` here."""

from pipeline.defs import build_defs

defs = build_defs()
