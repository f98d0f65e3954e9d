"""What works: care effectiveness (`care_response`) and what an edition costs.

`care_response` (CONTRACT §4): for the greetings of the last `care.months` complete
months, the share of greeted members who bought within `care.response_days` days, per
kind family (birthday, festival, anniversary, newsletter) and channel (`group`
`greeted`), beside the same share for members who were due the same greeting and were
suppressed or unreachable (`group` `comparison`, channel `none`). Built by
`sql/marts/fct_care_response.sql` in DuckDB. Greetings come from

- the `contacts` history, by purpose: a kind (`birthday`, `festival-mid-autumn`) or a
  usual Chinese name (`PURPOSE_KINDS`: 生日贺卡, 节日问候, 会刊, ...), dated
  `contact_date`; service contacts (缴费提醒, calls) are not greetings;
- earlier editions under the output folder, when present: their `contact_plan`
  (greeted) and `suppressed` (comparison; not `deceased`, and not
  `household_duplicate`, whose household got the piece), dated the edition's first day.

A greeting counts once per member, kind, channel and month, and only when its whole
response window has passed by the cut-off. "Bought" is any transaction in the window
(visits are purchases: the exports record no other visit). A group smaller than
`care.min_group` is shown but called too small to compare.

Costs: `costs.*` unit prices in CNY (0 = not known, not shown): `print_cny` and
`postage_cny` per post piece, `sms_cny` per SMS, `email_cny` per e-mail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.lib.edition import Edition
from pipeline.lib.warehouse import Relation, query
from pipeline.config.care import CareRules, Costs

COLUMNS: tuple[str, ...] = ("kind", "channel", "group", "members", "responded", "response_rate")
PLAN_FIELDS: tuple[str, ...] = ("member_id", "kind", "channel", "greeted_on", "grp")
NOT_COMPARABLE = ("deceased", "household_duplicate")
PURPOSE_KINDS: dict[str, str] = {
    "生日贺卡": "birthday", "生日祝福": "birthday", "生日问候": "birthday",
    "节日贺卡": "festival", "节日问候": "festival",
    "周年贺卡": "anniversary", "周年问候": "anniversary",
    "会刊": "newsletter", "电子会刊": "newsletter", "会员通讯": "newsletter",
}
_EDITION = re.compile(r"\d{4}-\d{2}")


def earlier_plans(out: Path, month: str) -> pd.DataFrame:
    """Greeted and comparison rows (PLAN_FIELDS) from the contact_plan and suppressed
    tables of every edition in `out` before `month`."""
    frames = []
    folders = sorted(p for p in out.glob("*") if _EDITION.fullmatch(p.name) and p.name < month)
    for folder in folders:
        tables, greeted_on = folder / "tables", pd.Timestamp(f"{folder.name}-01")
        if (tables / "contact_plan.parquet").is_file():
            plan = pd.read_parquet(tables / "contact_plan.parquet",
                                   columns=["member_id", "kind", "channel"])
            frames.append(plan.assign(greeted_on=greeted_on, grp="greeted"))
        if (tables / "suppressed.parquet").is_file():
            dropped = pd.read_parquet(tables / "suppressed.parquet",
                                      columns=["member_id", "kind", "reason"])
            dropped = dropped[~dropped["reason"].isin(NOT_COMPARABLE)].drop(columns="reason")
            frames.append(dropped.assign(channel="none", greeted_on=greeted_on, grp="comparison"))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c == "greeted_on" else "string")
                             for c in PLAN_FIELDS})
    found = pd.concat(frames, ignore_index=True)[list(PLAN_FIELDS)]
    return found.astype({c: "string" for c in PLAN_FIELDS if c != "greeted_on"})


def care_response(contacts: Relation, plans: pd.DataFrame, transactions: Relation,
                  rules: CareRules, edition: Edition) -> pd.DataFrame:
    """The care_response table (COLUMNS); see the module notes. `contacts` and
    `transactions` are frames or their staged Parquet files (which DuckDB reads without
    pandas: seven million transactions took a second through it)."""
    kinds = pd.DataFrame({"purpose": list(PURPOSE_KINDS), "kind": list(PURPOSE_KINDS.values())})
    frame = query(
        "marts/fct_care_response",
        params={"as_of": edition.as_of, "months": rules.months,
                "response_days": rules.response_days},
        contacts=_only(contacts, "member_id", "contact_date", "channel", "purpose"),
        plans=plans[list(PLAN_FIELDS)], purpose_kinds=kinds,
        transactions=_only(transactions, "member_id", "txn_at"),
    )
    return frame[list(COLUMNS)].astype({"members": "int64", "responded": "int64",
                                        "response_rate": "float64"})


def _only(relation: Relation, *columns: str) -> Relation:
    """A frame's `columns`; a Parquet file as it is (the model reads only those)."""
    return relation if isinstance(relation, Path) else relation[list(columns)]


def edition_costs(plan: pd.DataFrame, costs: Costs) -> list[dict]:
    """This edition's estimated cost per kind family and channel (none when no unit
    cost is set): kind, channel, pieces, unit_cny, cost_cny."""
    if not costs.is_set or plan.empty:
        return []
    family = plan["kind"].astype(str).str.split("-").str[0]
    counted = plan.assign(family=family.to_numpy()).groupby(["family", "channel"]).size()
    rows = []
    for (kind, channel), pieces in counted.items():
        unit = costs.per_piece(str(channel))
        rows.append({"kind": kind, "channel": channel, "pieces": int(pieces),
                     "unit_cny": unit, "cost_cny": round(unit * int(pieces), 2)})
    return rows


def cost_per_response(care: pd.DataFrame, costs: Costs) -> dict[tuple[str, str], float | None]:
    """(kind, channel) of the greeted rows -> estimated cost per responding member
    (None when nobody responded or the channel has no unit cost)."""
    found = {}
    for row in care[care["group"] == "greeted"].itertuples(index=False):
        unit = costs.per_piece(row.channel)
        found[(row.kind, row.channel)] = (round(unit * row.members / row.responded, 2)
                                          if unit and row.responded else None)
    return found
