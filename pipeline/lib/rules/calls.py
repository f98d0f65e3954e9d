"""The staff call list (回访): who to phone this edition, why, by when and who calls.

CONTRACT §4 `calls/call-list.csv`. Built by `sql/marts/fct_call_list.sql` in DuckDB over
the steps' tables, with every setting bound as a parameter. One row per member, the
most urgent reason first (`calls.reasons` order, then key before important before
ordinary, then due date and member id); `talking_points` lists every reason the member
is on the list for.

Reasons:

- `complaint_follow_up`: a complaint of theirs resolved in the last
  `calls.follow_up_days` days before `as_of`; the complaint's first-contact owner
  (首问负责人) calls back to check they are satisfied;
- `churn_risk`: every member of the churn-risk table (valuable and lapsing, lapsed or
  with an unresolved complaint);
- `milestone_birthday`: a milestone birthday in the edition month, due on the day;
- `key_member_birthday`: another birthday in the edition month of a member whose tier
  is in `calls.birthday_tiers` (default key), due on the day;
- `address_check`: a returned letter keeps them off post (`returned_addresses`);
- `unreachable_valuable`: a key or important member no channel (post, e-mail, SMS)
  can reach for want of consent or contact details.

Only members with a phone are listed (it is a call list), never one who is deceased or
asked not to be contacted. `owner` is the complaint's owner for a follow-up, otherwise
`calls.owners.<tier>`. `due_on` is the birthday for birthdays, otherwise the edition's
day `calls.due_days`. The list holds full phone numbers: it is for staff only (see
SECURITY.md), never in the mailing-house archive.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.lib.edition import Edition
from pipeline.lib.privacy import spreadsheet_safe
from pipeline.lib.warehouse import query
from pipeline.config.calls import CallRules, REASONS

COLUMNS: tuple[str, ...] = ("member_id", "name", "phone", "reason", "priority", "due_on",
                            "owner", "talking_points", "called_at", "outcome", "notes",
                            "call_id")
FILE = "call-list.csv"  # in the edition's calls/ folder


MEMBER_COLUMNS: tuple[str, ...] = (
    "member_id", "name", "phone", "email", "address", "postal_code", "has_consent_post",
    "has_consent_email", "has_consent_sms", "is_deceased", "is_do_not_contact",
)
COMPLAINT_COLUMNS: tuple[str, ...] = (
    "complaint_id", "member_id", "category", "owner", "resolved_at", "status", "is_known_member",
)


def call_list(members: pd.DataFrame, segments: pd.DataFrame, churn_risk: pd.DataFrame,
              birthdays: pd.DataFrame, complaints: pd.DataFrame, returned: pd.DataFrame,
              rules: CallRules, edition: Edition) -> pd.DataFrame:
    """The call list (COLUMNS), highest priority first; see the module notes."""
    edition_start, as_of = edition.first_day, edition.as_of
    frame = query(
        "marts/fct_call_list",
        params={
            "as_of": as_of, "edition_start": edition_start,
            "follow_up_days": rules.follow_up_days, "due_days": rules.due_days,
            "birthday_tiers": list(rules.birthday_tiers), "reasons": list(rules.reasons),
            "owner_key": rules.owners.key, "owner_important": rules.owners.important,
            "owner_ordinary": rules.owners.ordinary,
        },
        members=members[list(MEMBER_COLUMNS)],
        segments=segments[["member_id", "tier", "recency_days"]],
        churn_risk=churn_risk[["member_id", "reason"]],
        birthdays=birthdays[["member_id", "birthday", "age", "milestone"]],
        complaints=complaints[list(COMPLAINT_COLUMNS)],
        returned=returned[["member_id", "piece_id", "returned_on", "reason"]],
    )
    frame["due_on"] = pd.to_datetime(frame["due_on"]).dt.strftime("%Y-%m-%d")
    return frame[list(COLUMNS)].astype({"priority": "int64"})


def write_call_list(frame: pd.DataFrame, folder: Path) -> Path:
    """`folder`/call-list.csv (the edition's calls/): UTF-8 with BOM, formula-safe (a
    phone's leading + is written as '+ so a spreadsheet shows it as text, not a formula)."""
    path = folder / FILE
    folder.mkdir(parents=True, exist_ok=True)
    spreadsheet_safe(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def counts_by_reason(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per reason, every reason named (0 when none)."""
    found = frame["reason"].value_counts().to_dict()
    return {reason: int(found.get(reason, 0)) for reason in REASONS}
