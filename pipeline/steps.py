"""The server the multiprocess executor forks step processes from.

Each step runs in its own process. A fresh interpreter per step would spend seconds
importing Dagster, pandas, DuckDB and WeasyPrint, some forty times a run; instead every
step forks from Python's forkserver, which has imported the PRELOAD modules once. The two
`warm` modules load WeasyPrint's fonts and Dagster's instance storage there, so no step
loads them again. The server keeps the environment of the first multiprocess run in this
process (the CLI makes one run per process).

This module imports nothing heavy: the CLI starts the server before it imports Dagster,
so the server's imports (about 5 s) run on the second core while the CLI does its own
(about 3 s).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import forkserver

# Dagster's executor puts its own module first: with the same list, the server started
# early is the one the executor would have started.
PRELOAD = ["dagster._core.executor.multiprocess", "pipeline.definitions", "pipeline.run",
           "pipeline.defs.warm", "pipeline.lib.documents.warm"]


def start_step_server() -> None:
    """Start the forkserver now (it imports PRELOAD while the caller goes on); the
    multiprocess executor later finds it running and forks every step from it."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def multiprocess_execution(processes: int) -> dict:
    """The run config's `execution`: up to `processes` steps side by side, each forked
    from the server above."""
    return {"config": {"multiprocess": {
        "max_concurrent": processes, "start_method": {"forkserver": {"preload_modules": PRELOAD}},
    }}}
