from datetime import date

import pandas as pd
import pytest

from pipeline.lib.occasions import greeting_festivals, requests

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
    birthdays = pd.DataFrame({"member_id": ["M1"], "birthday": [date(2026, 9, 3)]})
    anniversaries = pd.DataFrame({"member_id": ["M2"], "anniversary_date": [date(2026, 9, 9)],
                                  "kind": ["ownership"]})
    wanted = requests(MEMBERS, birthdays, anniversaries,
                      greeting_festivals(FESTIVALS, ["mid-autumn"]), pd.Timestamp(2026, 9, 1))
    assert sorted(zip(wanted["member_id"], wanted["kind"])) == [
        ("M1", "birthday"), ("M1", "festival-mid-autumn"), ("M1", "newsletter"),
        ("M2", "anniversary-ownership"), ("M2", "festival-mid-autumn"), ("M2", "newsletter"),
    ]
    festival = wanted[wanted["kind"] == "festival-mid-autumn"]
    assert (festival["occasion_date"] == pd.Timestamp(2026, 9, 25)).all()
