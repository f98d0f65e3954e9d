"""Progress lines for the operator: one short line per step, on standard error."""

from __future__ import annotations

import sys
import time


def report(step: str, message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {step:<14} {message}", file=sys.stderr, flush=True)


def rate(count: int, seconds: float, unit: str) -> str:
    per_second = count / seconds if seconds > 0 else float("inf")
    return f"{count:,} {unit} in {seconds:.1f} s ({per_second:,.0f}/s)"
