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

`small_pages` switches transparent huge pages off for the process and the steps it
forks; `build_defs` calls it, so every process that loads the definitions runs with it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import sys
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


PR_SET_THP_DISABLE = 41  # prctl(2), Linux 3.15 and later


def small_pages() -> bool:
    """Switch transparent huge pages off for this process and the processes it starts
    (the setting is inherited by fork and kept across exec); whether it took effect.

    Where the kernel backs fresh memory with 2 MiB pages (`transparent_hugepage` set to
    `always`), each huge page is zeroed whole the first time an allocator (Arrow's
    above all) touches it, and a step that reads an export into fresh buffers spends
    more time in the kernel than reading: the first Arrow read of the 1 M members export
    took 4.2 s (6.3 s of system CPU) against 0.8 s with the pages off, and the data steps
    at a million members 75.6 s against 51.2 s. Elsewhere (other systems, kernels that
    refuse) a no-op."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None).prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
