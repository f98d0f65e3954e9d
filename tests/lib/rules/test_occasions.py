from datetime import date

import pandas as pd
import pytest

from pipeline.lib.rules.occasions import greeting_festivals, requests

MEMBERS = pd.DataFrame({"member_id": ["M1", "M2"]})
FESTIVALS = pd.DataFrame({
    "date": [date(2026, 9, 25), date(2026, 9, 10), date(2026, 9, 30)],
    "name": ["中秋节", "教师节", "会庆日"],
    "name_en": ["Mid-Autumn Festival", "Teachers' Day", "Club Day"],
    "kind": ["festival", "festival", "custom"],
})


@pytest.mark.parametrize(
    "keys, expected",
    [
        (["mid-autumn"], ["festival-mid-autumn"]),  # a traditional festival by its key
        (["club-day"], ["festival-club-day"]),  # a custom club date by its English slug
        (["spring"], []),  # Spring Festival is not in September
    ],
)
def test_greeting_festivals_by_key(keys, expected):
    assert greeting_festivals(FESTIVALS, keys)["kind"].tolist() == expected


def test_requests_one_row_per_member_and_kind():
    # a birthday, an anniversary and a festival each listed twice still ask once
    birthdays = pd.DataFrame({"member_id": ["M1", "M1"],
                              "birthday": [date(2026, 9, 3), date(2026, 9, 3)]})
    anniversaries = pd.DataFrame({"member_id": ["M2", "M2"],
                                  "anniversary_date": [date(2026, 9, 9), date(2026, 9, 9)],
                                  "kind": ["ownership", "ownership"]})
    festival = greeting_festivals(FESTIVALS, ["mid-autumn"])
    wanted = requests(MEMBERS, birthdays, anniversaries, pd.concat([festival, festival]),
                      pd.Timestamp(2026, 9, 1))
    assert sorted(zip(wanted["member_id"], wanted["kind"])) == [
        ("M1", "birthday"), ("M1", "festival-mid-autumn"), ("M1", "newsletter"),
        ("M2", "anniversary-ownership"), ("M2", "festival-mid-autumn"), ("M2", "newsletter"),
    ]
    festival = wanted[wanted["kind"] == "festival-mid-autumn"]
    assert (festival["occasion_date"] == pd.Timestamp(2026, 9, 25)).all()


def test_double_ninth_only_for_members_aged_60_and_over():
    members = pd.DataFrame({
        "member_id": ["OLD", "SIXTY", "YOUNG", "UNKNOWN"],
        # 60 on the day itself counts; 59 the day before; no birth date: not asked
        "birth_date": pd.to_datetime(["1950-03-01", "1966-10-18", "1966-10-19", None]),
    })
    festivals = pd.DataFrame({"date": [date(2026, 10, 18), date(2026, 10, 1)],
                              "name": ["重阳节", "国庆节"],
                              "name_en": ["Double Ninth Festival", "National Day"],
                              "kind": ["festival", "festival"]})
    greeted = greeting_festivals(festivals, ["double-ninth", "national-day"])
    wanted = requests(members, pd.DataFrame({"member_id": [], "birthday": []}),
                      pd.DataFrame({"member_id": [], "anniversary_date": [], "kind": []}),
                      greeted, pd.Timestamp(2026, 10, 1), {"double-ninth": 60})
    by_kind = wanted.groupby("kind")["member_id"].apply(sorted).to_dict()
    assert by_kind["festival-double-ninth"] == ["OLD", "SIXTY"]
    assert by_kind["festival-national-day"] == ["OLD", "SIXTY", "UNKNOWN", "YOUNG"]
