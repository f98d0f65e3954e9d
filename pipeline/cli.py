"""`clubpress`: argument parsing and progress only; the work is in the Dagster assets.

Exit status: 0 the run completed (quarantined rows included), 1 it could not complete,
2 the arguments (or the configuration file) cannot be used.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date
from pathlib import Path

from pipeline.config import ConfigError, load_config
from pipeline.lib.edition import Edition, today
from pipeline.lib.documents.glyphs import FontsMissing
from pipeline.lib.read.readers import ExportError
from pipeline.settings import PATHS
from pipeline.steps import start_step_server

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Arguments that cannot be used; exit status 2."""


def _month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}")
    return text


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def default_processes() -> int:
    """One more than the CPU cores (one core: everything in this process). A step spends
    part of its time starting its process and reading and writing files, with its core
    idle; the extra process fills that. The bundled sample on two cores, three runs each
    in turn: 57.0-64.0 s with three processes, 59.3-67.0 s with two."""
    cores = len(os.sched_getaffinity(0))
    return 1 if cores == 1 else cores + 1


def _processes(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clubpress", description="Monthly member-club editions from CRM exports."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="build one month's edition")
    run.add_argument("--exports", type=Path, default=PATHS.sample_exports,
                     help="folder of CRM exports (default: the bundled sample)")
    run.add_argument("--out", type=Path, default=PATHS.output,
                     help="where editions go (default: output/)")
    run.add_argument("--month", type=_month, help="edition month YYYY-MM (default: the month after --as-of)")
    run.add_argument("--as-of", type=_day, dest="as_of",
                     help="data cut-off YYYY-MM-DD (default: today in the club's time zone)")
    run.add_argument("--config", type=Path, help="club.yaml (default: the bundled one)")
    run.add_argument("--warehouse", type=Path, default=PATHS.warehouse,
                     help="DuckDB file (default: data/warehouse.duckdb)")
    run.add_argument("--processes", type=_processes, default=default_processes(),
                     help="steps run side by side, each in its own process (default: one "
                     "more than the CPU cores; 1 runs everything in this process)")

    sample = commands.add_parser("sample", help="write a synthetic export folder")
    sample.add_argument("--members", type=int, required=True)
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--seed", type=int, default=2026)
    sample.add_argument("--as-of", type=_day, dest="as_of", default=date(2026, 11, 20),
                        help="the sample's cut-off date (default 2026-11-20)")
    sample.add_argument("--no-bad-rows", action="store_true",
                        help="leave out the deliberately bad rows")

    calendar = commands.add_parser("calendar", help="the year's holiday and festival calendar as CSV")
    calendar.add_argument("--year", type=int, required=True)
    calendar.add_argument("--config", type=Path, help="club.yaml (default: the bundled one)")

    forget = commands.add_parser(
        "forget", help="erase a member on request: warehouse, editions, and every later run")
    forget.add_argument("--member", required=True, help="the member's id (member_id)")
    forget.add_argument("--warehouse", type=Path, default=PATHS.warehouse,
                        help="DuckDB file (default: data/warehouse.duckdb); the erasure "
                        "register lives beside it")
    forget.add_argument("--out", type=Path, default=PATHS.output,
                        help="where editions are (default: output/)")
    forget.add_argument("--config", type=Path, help="club.yaml (default: the bundled one)")

    check = commands.add_parser("check", help="validate exports without running the job")
    check.add_argument("--exports", type=Path, required=True)
    check.add_argument("--as-of", type=_day, dest="as_of")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"clubpress: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as error:
        print(f"clubpress: configuration: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (ExportError, FontsMissing) as error:
        print(f"clubpress: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # the reader of stdout went away (e.g. `| head`)
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("clubpress: interrupted; the previous edition is untouched", file=sys.stderr)
        return EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    if not args.exports.is_dir():
        raise UsageError(f"--exports {args.exports}: not a folder")
    config = load_config(args.config)
    if args.processes > 1:
        start_step_server()  # it imports the pipeline while this process does the same
    from pipeline.run import run_edition  # Dagster loads only for commands that need it

    edition = Edition.after(args.as_of or today(config.timezone), config.timezone, args.month)
    final = run_edition(
        exports=args.exports.resolve(),
        out=args.out.resolve(),
        month=edition.month,
        as_of=edition.as_of,
        config_file=args.config.resolve() if args.config else None,
        warehouse=args.warehouse.resolve(),
        processes=args.processes,
    )
    print(f"Edition ready: {final}")
    print(f"Review site:   {final / 'index.html'}")
    return EXIT_OK


def _sample(args: argparse.Namespace) -> int:
    if args.members < 1:
        raise UsageError("--members must be at least 1")
    from clubpress_tools.sample import write_sample

    counts = write_sample(
        args.out, args.members, seed=args.seed, as_of=args.as_of, bad_rows=not args.no_bad_rows
    )
    for table, rows in counts.items():
        print(f"{table:<13} {rows:>10,} rows")
    print(f"Sample exports written to {args.out}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from pipeline.lib.read.check import check_exports

    if not args.exports.is_dir():
        raise UsageError(f"--exports {args.exports}: not a folder")
    return EXIT_OK if check_exports(args.exports, args.as_of, sys.stdout) else EXIT_FAILED


def _calendar(args: argparse.Namespace) -> int:
    """CSV on stdout with the columns of tables/holidays.csv; warnings on stderr."""
    from pipeline.defs.calendar.assets import club_calendar
    from pipeline.lib.rules.calendar import official_days
    from pipeline.lib.privacy import spreadsheet_safe

    if not 1901 <= args.year <= 2099:
        raise UsageError("--year must be between 1901 and 2099")
    config = load_config(args.config)
    frame = club_calendar(config, args.year)
    if official_days(args.year, PATHS.reference)[1] is None:
        print(f"clubpress: no official holiday arrangement published for {args.year}; "
              "festivals and club dates only", file=sys.stderr)
    spreadsheet_safe(frame).to_csv(sys.stdout, index=False, lineterminator="\n")
    return EXIT_OK


def _forget(args: argparse.Namespace) -> int:
    """Register the member as erased and remove them from the warehouse and editions.
    The id is not echoed: terminals and CI logs are kept free of it."""
    from pipeline.lib.delivery.erasure import forget_member

    if not args.member.strip():
        raise UsageError("--member: a member id is required")
    config = load_config(args.config)
    result = forget_member(args.member, args.warehouse.resolve(), args.out.resolve(),
                           config, today(config.timezone))
    print(f"Erasure register: {result.register} "
          f"({'member added' if result.newly_registered else 'member already registered'}); "
          "every later run leaves the member out")
    rows = sum(result.warehouse_rows.values())
    print(f"Warehouse: {rows:,} rows deleted from {len(result.warehouse_rows)} tables")
    for name, changes in result.editions.items():
        print(f"Edition {name}: rows removed from {len(changes['tables'])} tables, "
              f"{changes['newsletters']} newsletter files deleted, "
              f"{len(changes['withdrawn'])} documents withdrawn; rerun this month")
    if not result.editions:
        print("Editions: none held the member")
    return EXIT_OK


COMMANDS = {"run": _run, "sample": _sample, "check": _check, "calendar": _calendar,
            "forget": _forget}


if __name__ == "__main__":
    sys.exit(main())
