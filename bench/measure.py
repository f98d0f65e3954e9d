"""Run one clubpress command in this process and print its peak memory (MiB) last."""

import resource
import sys

from pipeline.cli import main

if __name__ == "__main__":
    code = main(sys.argv[1:])
    print(f"peak_mib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}")
    sys.exit(code)
