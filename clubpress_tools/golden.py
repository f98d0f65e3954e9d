"""Golden outputs: what the monthly job computes for four fixed samples, kept in
`tests/golden/` so that a rewrite of the data steps can prove it changed nothing.

Each case keeps every CSV of the edition's `tables/`, `letters/manifest.csv` and the
reconciliation of `run.json`. The cases: the bundled sample, and three generated samples
with their own seed and month: a January edition, an edition in a lunar leap month (闰六月
of 2025) and one in a year with no published holiday arrangement that has a lunar leap
month (闰五月 of 2028).

Regenerate after a change that is meant to change outputs (and say why in the commit):

    .venv/bin/python -m clubpress_tools.golden            # every case
    .venv/bin/python -m clubpress_tools.golden s11-2027-01  # one case
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
BUNDLED = ROOT / "data" / "sample"
MANIFEST = "letters-manifest.csv"
RECONCILIATION = "reconciliation.json"


@dataclass(frozen=True)
class Case:
    name: str
    month: str
    as_of: date
    seed: int | None = None  # None: the bundled sample in data/sample/
    members: int = 600

    def exports(self, work: Path) -> Path:
        """The case's export folder: the bundled sample, or a sample generated into work."""
        if self.seed is None:
            return BUNDLED
        from clubpress_tools.sample import write_sample

        folder = work / "exports"
        write_sample(folder, self.members, seed=self.seed, as_of=self.as_of)
        return folder


CASES = [
    Case("bundled-2026-12", "2026-12", date(2026, 11, 20)),
    Case("s11-2027-01", "2027-01", date(2026, 12, 20), seed=11),
    Case("s23-2025-08", "2025-08", date(2025, 7, 20), seed=23),   # 闰六月 2025-07-25..08-22
    Case("s37-2028-06", "2028-06", date(2028, 5, 20), seed=37),   # 闰五月 2028, no arrangement
]


def run_case(case: Case, work: Path, processes: int = 2) -> Path:
    """Run the monthly job for the case in `work`; return the edition folder."""
    from pipeline.run import run_edition

    exports = case.exports(work)
    return run_edition(exports=exports, out=work / "out", month=case.month, as_of=case.as_of,
                       config_file=None, warehouse=work / "warehouse.duckdb",
                       processes=processes)


def outputs(edition: Path) -> dict[str, str]:
    """The files a golden case keeps, by their name in tests/golden/<case>/, as text."""
    files = {f"tables/{p.name}": p.read_text(encoding="utf-8-sig")
             for p in sorted((edition / "tables").glob("*.csv"))}
    manifest = edition / "letters" / "manifest.csv"
    files[MANIFEST] = manifest.read_text(encoding="utf-8-sig") if manifest.exists() else ""
    record = json.loads((edition / "run.json").read_text(encoding="utf-8"))
    files[RECONCILIATION] = json.dumps(record["reconciliation"], ensure_ascii=False,
                                       indent=2, sort_keys=True) + "\n"
    return files


def write_case(case: Case, processes: int = 2) -> Path:
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        files = outputs(run_case(case, Path(tmp), processes))
    target = GOLDEN / case.name
    shutil.rmtree(target, ignore_errors=True)
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    chosen = [c for c in CASES if not args.cases or c.name in args.cases]
    unknown = set(args.cases) - {c.name for c in CASES}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    for case in chosen:
        print(f"{case.name}: {write_case(case, args.processes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
