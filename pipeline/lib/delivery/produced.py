"""Every planned piece has exactly one output (CONTRACT §4): a page range in a print
batch (post), an `.eml` (email) or a row of `sms/messages.csv` (sms).

`outputs` lists what the render steps produced, one row per output found: piece_id and
channel. `against_plan` compares it with the contact plan, per channel.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.lib.documents.pdf import destination_names
from pipeline.lib.rules.contact import CHANNELS

NEWSLETTER_ANCHOR = "nl-"  # newsletter print pieces are anchored as nl-<piece_id>


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame({"piece_id": pd.Series(dtype="string")})
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def newsletter_print_pieces(print_dir: Path) -> list[str]:
    """piece_id of every newsletter piece laid out in newsletters/print/*.pdf (each
    piece's anchor is a named destination of its batch)."""
    pieces = []
    for path in sorted(print_dir.glob("*.pdf")) if print_dir.is_dir() else []:
        pieces += [n.removeprefix(NEWSLETTER_ANCHOR) for n in destination_names(path)
                   if n.startswith(NEWSLETTER_ANCHOR)]
    return pieces


def outputs(letters_dir: Path, newsletters_dir: Path, sms_dir: Path, email_dir: Path) -> pd.DataFrame:
    """piece_id and channel of every output the render steps wrote; an outbox row whose
    .eml file is missing is not an output."""
    outbox = _read_csv(email_dir / "outbox.csv")
    if len(outbox):
        outbox = outbox[[(email_dir / f).is_file() for f in outbox["file"]]]
    parts = [
        ("post", _read_csv(letters_dir / "manifest.csv")["piece_id"].tolist()),
        ("post", newsletter_print_pieces(newsletters_dir / "print")),
        ("email", outbox["piece_id"].tolist()),
        ("sms", _read_csv(sms_dir / "messages.csv")["piece_id"].tolist()),
    ]
    return pd.DataFrame({
        "piece_id": pd.Series([p for _, ids in parts for p in ids], dtype="string"),
        "channel": pd.Series([c for c, ids in parts for _ in ids], dtype="string"),
    })


def against_plan(plan: pd.DataFrame, produced: pd.DataFrame) -> dict[str, int]:
    """planned_<channel>, produced_<channel>; missing (planned, no output), repeated
    (an output more than once), unplanned (an output of no planned piece) and
    wrong_channel (an output on another channel than planned)."""
    planned = plan[["piece_id", "channel"]].astype("string")
    counts = {}
    for channel in CHANNELS:
        counts[f"planned_{channel}"] = int((planned["channel"] == channel).sum())
        counts[f"produced_{channel}"] = int((produced["channel"] == channel).sum())
    joined = produced.merge(planned, on="piece_id", how="left", suffixes=("", "_planned"))
    counts["missing"] = int((~planned["piece_id"].isin(produced["piece_id"])).sum())
    counts["repeated"] = int(produced["piece_id"].duplicated().sum())
    counts["unplanned"] = int(joined["channel_planned"].isna().sum())
    counts["wrong_channel"] = int((joined["channel_planned"].notna()
                                   & (joined["channel_planned"] != joined["channel"])).sum())
    return counts


def is_complete(counts: dict[str, int]) -> bool:
    return not any(counts[k] for k in ("missing", "repeated", "unplanned", "wrong_channel"))
