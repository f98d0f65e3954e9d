"""The review site: `index.html` describes what the edition folder actually holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.lib.delivery import produced
from pipeline.lib.documents.pdf import page_count
from pipeline.lib.documents.templating import render

NEWSLETTERS_PER_PAGE = 1000


def quarantine_summary(quarantine: pd.DataFrame) -> list[dict]:
    """Counts by table, action and reason (line numbers folded so like counts with like)."""
    if quarantine.empty:
        return []
    kinds = quarantine.assign(reason=quarantine["reason"].str.replace(r"\d+", "N", regex=True))
    grouped = kinds.groupby(["table", "action", "reason"], sort=True).size()
    return [
        {"table": t, "action": a, "reason": r, "count": int(n)}
        for (t, a, r), n in grouped.items()
    ]


def _counts(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    if frame.empty:
        return []
    grouped = frame.groupby(columns, sort=True).size()
    return [dict(zip(columns, key if isinstance(key, tuple) else (key,)), count=int(n))
            for key, n in grouped.items()]


def _batches(edition_dir: Path) -> list[dict]:
    """Every print batch with its pieces and pages, from the letters manifest and the
    newsletter print batches."""
    rows = []
    manifest = edition_dir / "letters" / "manifest.csv"
    if manifest.exists():
        pieces = pd.read_csv(manifest, encoding="utf-8-sig", dtype=str)
        if not pieces.empty:
            pages = pieces.assign(page_count=pieces["page_count"].astype(int))
            for batch, group in pages.groupby("batch", sort=True):
                rows.append({"path": f"letters/{batch}", "pieces": len(group),
                             "pages": int(group["page_count"].sum())})
    return rows


def newsletter_pages(edition_dir: Path) -> list[str]:
    """Write newsletters/index-NNN.html listing every e-mail newsletter; return their paths."""
    html_dir = edition_dir / "newsletters" / "html"
    if not html_dir.is_dir():
        return []
    names = sorted(p.name for p in html_dir.glob("*.html"))
    pages = []
    for number, start in enumerate(range(0, len(names), NEWSLETTERS_PER_PAGE), start=1):
        chunk = names[start : start + NEWSLETTERS_PER_PAGE]
        path = f"newsletters/index-{number:03d}.html"
        (edition_dir / path).write_text(
            render("site/newsletters.html.j2", names=chunk, number=number,
                   total=len(names), pages=-(-len(names) // NEWSLETTERS_PER_PAGE)),
            encoding="utf-8",
        )
        pages.append(path)
    return pages


SAMPLE_EMAILS = 1  # sample .eml files linked per kind


def sample_emails(edition_dir: Path) -> list[str]:
    """The first e-mail of each kind folder (email/<kind>/*.eml), for a quick look."""
    email_dir = edition_dir / "email"
    if not email_dir.is_dir():
        return []
    return [path.relative_to(edition_dir).as_posix()
            for folder in sorted(p for p in email_dir.iterdir() if p.is_dir())
            for path in sorted(folder.glob("*.eml"))[:SAMPLE_EMAILS]]


def produced_counts(edition_dir: Path, plan: pd.DataFrame) -> list[dict]:
    """Per channel: pieces planned and outputs found in the edition folder."""
    found = produced.outputs(edition_dir / "letters", edition_dir / "newsletters",
                             edition_dir / "sms", edition_dir / "email")
    counts = produced.against_plan(plan, found)
    return [{"channel": c, "planned": counts[f"planned_{c}"], "produced": counts[f"produced_{c}"]}
            for c in ("post", "email", "sms")]


def write_site(edition_dir: Path, *, club, edition: str, as_of: str, reconciliation: dict,
               sources: dict, quarantine: pd.DataFrame, plan: pd.DataFrame,
               suppressed: pd.DataFrame, table_names: list[str], notice: str | None = None) -> None:
    """Render `index.html` for a complete edition folder (everything else already there);
    `notice` is shown at the top (e.g. documents withdrawn after an erasure)."""
    def present(path: str) -> str | None:
        return path if (edition_dir / path).exists() else None

    newsletter_index = newsletter_pages(edition_dir)
    batches = _batches(edition_dir)
    letters = [b for b in batches if b["path"].startswith("letters/")]
    print_dir = edition_dir / "newsletters" / "print"
    documents = {
        "proofs": present("proofs/proofs.pdf"),
        "report": present("report/monthly-report.pdf"),
        "manifest": present("letters/manifest.csv"),
        "mailing_readme": present("letters/README.txt"),
        "delivery": present(f"delivery/mailing-house-{edition}.zip"),
        "calls": present("calls/call-list.csv"),
        "changes": present("changes.md"),
        "newsletter_index": newsletter_index[0] if newsletter_index else None,
        "sms": present("sms/messages.csv"),
        "outbox": present("email/outbox.csv"),
    }
    if print_dir.is_dir():
        batches += [{"path": f"newsletters/print/{p.name}", "pieces": None,
                     "pages": page_count(p)} for p in sorted(print_dir.glob("*.pdf"))]
    totals = {
        "members": reconciliation.get("members", {}).get("rows_loaded", 0),
        "planned": len(plan),
        "suppressed": len(suppressed),
        "letters": sum(b["pieces"] for b in letters),
        "letter_pages": sum(b["pages"] for b in letters),
        "newsletters_html": len(list((edition_dir / "newsletters" / "html").glob("*.html"))),
        "newsletters_print": int(((plan["kind"] == "newsletter") & (plan["channel"] == "post")).sum())
        if not plan.empty else 0,
    }
    html = render(
        "site/index.html.j2", club=club, edition=edition, as_of=as_of, notice=notice,
        reconciliation=reconciliation, sources=sources,
        quarantine_rows=sum(c["rows_quarantined"] for c in reconciliation.values()),
        dropped_values=int((quarantine["action"] == "value_dropped").sum()),
        reasons=quarantine_summary(quarantine), documents=documents, totals=totals,
        batches=batches, plan_counts=_counts(plan, ["kind", "channel"]),
        produced=produced_counts(edition_dir, plan), sample_emails=sample_emails(edition_dir),
        suppression_counts=_counts(suppressed, ["reason"]),
        links=["run.json"] + [f"tables/{n}.csv" for n in sorted(table_names)],
    )
    (edition_dir / "index.html").write_text(html, encoding="utf-8")


