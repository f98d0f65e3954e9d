"""What each member should receive this edition: the requests the contact plan decides on."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from pipeline.lib.rules.calendar import festival_key

REQUEST_COLUMNS = ["member_id", "kind", "occasion_date"]


def greeting_festivals(festivals: pd.DataFrame, greeting_keys: list[str]) -> pd.DataFrame:
    """Festivals of the edition month that the club greets, with their `festival-<key>` kind."""
    if festivals.empty:
        return festivals.assign(kind=pd.Series([], dtype="string"))
    keys = [festival_key(n, e) for n, e in zip(festivals["name"], festivals["name_en"])]
    chosen = festivals.assign(key=keys)
    chosen = chosen[chosen["key"].isin(greeting_keys)].drop_duplicates("key")
    return chosen.assign(kind="festival-" + chosen["key"]).drop(columns="key")


def age_on(birth_dates: pd.Series, day: pd.Timestamp) -> pd.Series:
    """Whole years of age on `day` (NA without a birth date); born on 29 February, one
    turns a year older on 1 March in common years."""
    born = pd.to_datetime(birth_dates)
    before = (born.dt.month > day.month) | ((born.dt.month == day.month) & (born.dt.day > day.day))
    return (day.year - born.dt.year - before.astype("Int64")).astype("Int64")


def requests(
    members: pd.DataFrame,
    birthdays: pd.DataFrame,
    anniversaries: pd.DataFrame,
    festivals: pd.DataFrame,
    edition_start: pd.Timestamp,
    min_age: dict[str, int] | None = None,
) -> pd.DataFrame:
    """One row per (member, kind): birthday, anniversary-<kind>, festival-<key>, newsletter.

    `festivals` is the output of `greeting_festivals` for the edition month; every member
    is asked for every greeted festival and for the newsletter, except that a festival
    key in `min_age` (`festival_min_age`: 重阳 for 60 and over) asks only members of at
    least that age on the festival day (`birth_date` needed; unknown age: not asked).
    Members who must not be contacted are still requested here: the contact plan
    suppresses them with a reason.
    """
    ids = members["member_id"]
    min_age = min_age or {}
    parts = [
        pd.DataFrame({"member_id": birthdays["member_id"], "kind": "birthday",
                      "occasion_date": pd.to_datetime(birthdays["birthday"])}),
        pd.DataFrame({"member_id": anniversaries["member_id"],
                      "kind": "anniversary-" + anniversaries["kind"].astype(str),
                      "occasion_date": pd.to_datetime(anniversaries["anniversary_date"])}),
        pd.DataFrame({"member_id": ids, "kind": "newsletter", "occasion_date": edition_start}),
    ]
    greeted_kinds = set()
    for festival in festivals.itertuples(index=False):
        if festival.kind in greeted_kinds:  # one request per member and kind
            continue
        greeted_kinds.add(festival.kind)
        greeted = ids
        key = festival.kind.removeprefix("festival-")
        if key in min_age:
            old_enough = age_on(members["birth_date"], pd.Timestamp(festival.date)) >= min_age[key]
            greeted = ids[old_enough.fillna(False).astype(bool).to_numpy()]
        parts.append(pd.DataFrame({"member_id": greeted, "kind": festival.kind,
                                   "occasion_date": pd.Timestamp(festival.date)}))
    # Two anniversaries of one kind cannot fall in one month; keep one row per kind
    # anyway. Only those parts can repeat a pair (member ids are unique, and each other
    # part has a kind of its own): deduplicating the whole list cost 0.4 s at a million.
    parts[:2] = [part.drop_duplicates(["member_id", "kind"]) for part in parts[:2]]
    result = pd.concat(parts, ignore_index=True)
    result["occasion_date"] = result["occasion_date"].astype("datetime64[us]")
    return result


def send_on(occasion: date, as_of: date) -> date:
    """When a greeting goes out: on the occasion's day (a birthday on the day itself),
    or the day after the cut-off when the occasion is on or before it (a late run)."""
    return occasion if occasion > as_of else as_of + timedelta(days=1)
