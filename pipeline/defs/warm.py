"""Warm Dagster once in the step processes' parent: imported by the forkserver
(`pipeline.steps.PRELOAD`), like `pipeline.lib.documents.warm` for the fonts.

Each step process the multiprocess executor forks first opens the run's instance. The
first instance a process opens imports Dagster's storage modules and loads the SQL
schema's migration scripts, about 1.3 s; opening a throwaway instance here does that
once, so a forked step opens the run's instance in under 0.1 s.
"""

from __future__ import annotations

import tempfile

import dagster as dg

from pipeline.run import QUIET, monthly_job


def warm() -> None:
    monthly_job()
    with tempfile.TemporaryDirectory(prefix="clubpress-warm-") as home, \
            dg.DagsterInstance.local_temp(home, overrides=QUIET):
        pass


warm()
