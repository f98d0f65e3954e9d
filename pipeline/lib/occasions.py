"""What each member should receive this edition: the requests the contact plan decides on."""

from __future__ import annotations

import pandas as pd

from pipeline.lib.calendar import festival_key

REQUEST_COLUMNS = ["member_id", "kind", "occasion_date"]


def greeting_festivals(festivals: pd.DataFrame, greeting_keys: list[str]) -> pd.DataFrame:
    """Festivals of the edition month that the club greets, with their `festival-<key>` kind."""
    if festivals.empty:
        return festivals.assign(kind=pd.Series([], dtype="string"))
    keys = [festival_key(n, e) for n, e in zip(festivals["name"], festivals["name_en"])]
    chosen = festivals.assign(key=keys)
    chosen = chosen[chosen["key"].isin(greeting_keys)].drop_duplicates("key")
    return chosen.assign(kind="festival-" + chosen["key"]).drop(columns="key")


def requests(
    members: pd.DataFrame,
    birthdays: pd.DataFrame,
    anniversaries: pd.DataFrame,
    festivals: pd.DataFrame,
    edition_start: pd.Timestamp,
) -> pd.DataFrame:
    """One row per (member, kind): birthday, anniversary-<kind>, festival-<key>, newsletter.

    `festivals` is the output of `greeting_festivals` for the edition month; every member
    is asked for every greeted festival and for the newsletter. Members who must not be
    contacted are still requested here: the contact plan suppresses them with a reason.
    """
    ids = members["member_id"]
    parts = [
        pd.DataFrame({"member_id": birthdays["member_id"], "kind": "birthday",
                      "occasion_date": pd.to_datetime(birthdays["birthday"])}),
        pd.DataFrame({"member_id": anniversaries["member_id"],
                      "kind": "anniversary-" + anniversaries["kind"].astype(str),
                      "occasion_date": pd.to_datetime(anniversaries["anniversary_date"])}),
        pd.DataFrame({"member_id": ids, "kind": "newsletter", "occasion_date": edition_start}),
    ]
    for festival in festivals.itertuples(index=False):
        parts.append(pd.DataFrame({"member_id": ids, "kind": festival.kind,
                                   "occasion_date": pd.Timestamp(festival.date)}))
    result = pd.concat(parts, ignore_index=True)
    result["occasion_date"] = result["occasion_date"].astype("datetime64[us]")
    # Two anniversaries of one kind cannot fall in one month; keep one row per kind anyway.
    return result.drop_duplicates(["member_id", "kind"]).reset_index(drop=True)
