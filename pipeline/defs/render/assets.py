"""Render: the documents of an edition, each step writing its own folder.

Each step renders into `out/.work/render/<edition>/<part>/` (emptied first); the edition
step moves the folders into the edition when every step has succeeded.
"""

import shutil
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import editions
from pipeline.defs.render.shards import SHARD_NAMES, gather, shard_dir
from pipeline.defs.resources import SUMMARY_ONLY, ClubPressSettings
from pipeline.lib.edition import Edition
from pipeline.lib.documents.glyphs import LETTER_FONTS, missing_glyphs
from pipeline.lib.read.ingest import Staged
from pipeline.lib.documents.letters import MANIFEST_COLUMNS, finish_letters, join_slices
from pipeline.lib.documents.pdf import page_count
from pipeline.lib.documents.newsletter import join_print_slices, prepare, write_email_timed
from pipeline.lib.progress import report
from pipeline.lib.documents.report import build_report_context, render_report
from pipeline.lib.read.schema import TABLES

REPORT_TABLES = [
    "segments", "churn_risk", "upcoming_birthdays", "anniversaries", "holidays",
    "complaint_stats", "complaint_backlog", "complaint_overdue_by_owner", "agg_monthly_activity",
    "care_response",
]


def fresh_dir(settings: ClubPressSettings, edition: Edition, part: str) -> Path:
    folder = settings.render_dir(edition.month, part)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def ingest_reconciliation(staged: dict[str, Staged]) -> dict[str, dict[str, int]]:
    return {s.table: s.reconciliation() for s in staged.values()}


@dg.asset(
    partitions_def=editions,
    group_name="render",
    ins={
        "stg_members": dg.AssetIn(),
        "stg_transactions": dg.AssetIn(),
        **{f"stg_{t}": dg.AssetIn(metadata=SUMMARY_ONLY) for t in TABLES
           if t not in ("members", "transactions")},
        **{name: dg.AssetIn() for name in REPORT_TABLES},
        "contact_plan": dg.AssetIn(),
        "suppressed": dg.AssetIn(),
        "contact_reconciliation": dg.AssetIn(),
        "produced": dg.AssetIn(),
    },
    description="report/monthly-report.pdf: the monthly report for marketing, with charts.",
)
def monthly_report(
    context: dg.AssetExecutionContext,
    settings: ClubPressSettings,
    contact_plan: pd.DataFrame,
    suppressed: pd.DataFrame,
    contact_reconciliation: dict,
    produced: dict,
    **inputs,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    staged = {k: v for k, v in inputs.items() if k.startswith("stg_")}
    tables = {k: v for k, v in inputs.items() if k in REPORT_TABLES}
    tables["quarantine"] = pd.concat([s.quarantine for s in staged.values()], ignore_index=True)
    reconciliation = {**ingest_reconciliation(staged), "contact_plan": contact_reconciliation}
    report_context = build_report_context(
        tables, staged["stg_members"].frame, staged["stg_transactions"].frame, reconciliation,
        contact_plan, suppressed, settings.club, settings.edition(context), produced,
    )
    rendered = render_report(report_context)
    folder = fresh_dir(settings, settings.edition(context), "report")
    (folder / "monthly-report.pdf").write_bytes(rendered.pdf)
    seconds = time.perf_counter() - started
    report("report", f"monthly-report.pdf: {rendered.pages} pages in {seconds:.1f} s")
    return dg.MaterializeResult(metadata={"pages": rendered.pages})



SHARD_INS = {name: dg.AssetIn(name) for name in SHARD_NAMES}


def fresh_subdirs(settings: ClubPressSettings, edition: Edition, part: str,
                  *subdirs: str) -> Path:
    """The part's folder with these subfolders emptied: two steps fill one part."""
    folder = settings.render_dir(edition.month, part)
    for name in subdirs:
        shutil.rmtree(folder / name, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dg.asset(
    partitions_def=editions,
    group_name="render",
    description="newsletters/html and newsletters/text: the e-mail newsletters. They do not "
    "wait for the print shards, so the e-mails are written while the shards lay out.",
)
def newsletters(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                contact_plan: pd.DataFrame, stg_members: Staged, stg_events: Staged,
                segments: pd.DataFrame, upcoming_birthdays: pd.DataFrame,
                holidays: pd.DataFrame) -> dg.MaterializeResult:
    edition = settings.edition(context)
    folder = fresh_subdirs(settings, edition, "newsletters", "html", "text")
    prepared = prepare(contact_plan, stg_members.frame, segments, upcoming_birthdays, holidays,
                       stg_events.frame, settings.club, edition.month)
    written = write_email_timed(prepared, folder.parent)
    return dg.MaterializeResult(metadata={"html": written, "text": written,
                                          "skipped": prepared.skipped})


@dg.asset(
    partitions_def=editions,
    group_name="render",
    ins=SHARD_INS,
    description="newsletters/print/batch-NNN.pdf for post, gathered from the render shards.",
)
def print_newsletters(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                      **shards: dict) -> dg.MaterializeResult:
    started = time.perf_counter()
    edition = settings.edition(context)
    folder = fresh_subdirs(settings, edition, "newsletters", "print")
    for index in range(1, len(SHARD_NAMES) + 1):
        gather(shard_dir(settings, edition, index) / "newsletters", folder)
    join_print_slices(folder.parent, settings.club.print.duplex)
    counts = {k: sum(int(s["newsletters"][k]) for s in shards.values())
              for k in ("print_pieces", "print_pages", "batches")}
    report("newsletters", f"{counts['print_pieces']:,} printed ({counts['print_pages']:,} "
           f"pages) gathered in {time.perf_counter() - started:.1f} s")
    return dg.MaterializeResult(metadata=counts)


LETTERS_MATCH_PLAN = "every_post_piece_once_and_no_suppressed_member"
PAGES_MATCH_PDFS = "manifest_pages_match_the_pdfs"
NO_MISSING_GLYPH = "no_missing_glyph"


def letters_against_plan(manifest: pd.DataFrame, plan: pd.DataFrame,
                         suppressed: pd.DataFrame) -> dict[str, int]:
    """Planned post greeting pieces missing from the manifest, pieces in it twice or not
    planned, and pieces for a (member, kind) the contact plan suppressed."""
    planned = plan[(plan["channel"] == "post") & (plan["kind"] != "newsletter")]
    wanted, printed = set(planned["piece_id"].astype(str)), manifest["piece_id"].astype(str)
    blocked = set(zip(suppressed["member_id"].astype(str), suppressed["kind"].astype(str)))
    sent = planned[planned["piece_id"].astype(str).isin(set(printed))]
    pairs = zip(sent["member_id"].astype(str), sent["kind"].astype(str))
    return {
        "planned": len(wanted),
        "printed": len(printed),
        "missing": len(wanted - set(printed)),
        "repeated": int(printed.duplicated().sum()),
        "unplanned": len(set(printed) - wanted),
        "suppressed_printed": sum(pair in blocked for pair in pairs),
    }


def pages_against_pdfs(manifest: pd.DataFrame, folder: Path) -> dict[str, int]:
    """Batches whose PDF page count differs from the manifest's pieces (first_page
    running on from the previous piece, page counts adding up to the file)."""
    wrong = 0
    for batch, rows in manifest.groupby("batch", sort=True):
        firsts, counts = rows["first_page"].astype(int), rows["page_count"].astype(int)
        chained = (firsts.iloc[0] == 1 and (firsts.iloc[1:].to_numpy()
                   == (firsts + counts).iloc[:-1].to_numpy()).all())
        pages = page_count(folder / str(batch))
        wrong += int(not chained or int(counts.sum()) != pages)
    return {"batches": int(manifest["batch"].nunique()), "batches_wrong": wrong}


@dg.asset(
    partitions_def=editions,
    group_name="render",
    ins=SHARD_INS,
    description="letters/<kind>/batch-NNN.pdf greeting letters in postcode order (gathered "
    "from the render shards), letters/manifest.csv and letters/README.txt for the mailing house.",
    check_specs=[
        dg.AssetCheckSpec(LETTERS_MATCH_PLAN, asset="letters", blocking=True,
                          description="Every planned post greeting appears once in the "
                          "manifest, nothing else does, and no suppressed member gets one."),
        dg.AssetCheckSpec(PAGES_MATCH_PDFS, asset="letters", blocking=True,
                          description="The manifest's pages add up to each batch PDF."),
        dg.AssetCheckSpec(NO_MISSING_GLYPH, asset="letters", blocking=True,
                          description="Every character of every addressee and address "
                          "line has a glyph in the letter fonts (none prints as a box)."),
    ],
)
def letters(context: dg.AssetExecutionContext, settings: ClubPressSettings,
            contact_plan: pd.DataFrame, suppressed: pd.DataFrame, **shards: dict):
    started = time.perf_counter()
    edition = settings.edition(context)
    folder = fresh_dir(settings, edition, "letters")
    for index in range(1, len(SHARD_NAMES) + 1):
        gather(shard_dir(settings, edition, index) / "letters", folder)
    rows = pd.DataFrame.from_records([r for s in shards.values() for r in s["letters"]],
                                     columns=[*MANIFEST_COLUMNS, "slice"])
    manifest = finish_letters([join_slices(rows, folder)], settings.club, edition.month, folder)
    pages = int(manifest["page_count"].astype(int).sum()) if not manifest.empty else 0
    report("letters", f"{len(manifest):,} letters, {pages:,} pages gathered in "
           f"{time.perf_counter() - started:.1f} s")
    against_plan = letters_against_plan(manifest, contact_plan, suppressed)
    against_pdfs = pages_against_pdfs(manifest, folder)
    yield dg.MaterializeResult(metadata={"pieces": len(manifest), "pages": pages})
    yield dg.AssetCheckResult(
        check_name=LETTERS_MATCH_PLAN, asset_key="letters", metadata=against_plan,
        passed=not any(against_plan[k] for k in
                       ("missing", "repeated", "unplanned", "suppressed_printed")))
    yield dg.AssetCheckResult(check_name=PAGES_MATCH_PDFS, asset_key="letters",
                              passed=against_pdfs["batches_wrong"] == 0, metadata=against_pdfs)
    printed = manifest[["name", "address_lines"]].fillna("").astype(str).to_numpy().ravel()
    missing = sorted(missing_glyphs("".join(printed), LETTER_FONTS))
    yield dg.AssetCheckResult(
        check_name=NO_MISSING_GLYPH, asset_key="letters", passed=not missing,
        metadata={"missing": ", ".join(f"U+{ord(c):04X}" for c in missing) or "none"})


# Render steps and the edition folder each one fills.
RENDER_PARTS = {"monthly_report": "report", "newsletters": "newsletters",
                "print_newsletters": "newsletters",
                "letters": "letters", "proofs": "proofs", "sms": "sms", "emails": "email"}
