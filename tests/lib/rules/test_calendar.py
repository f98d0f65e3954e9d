"""The holidays calendar: festivals, official arrangements, custom and Western dates."""

from datetime import date, datetime, time
from pathlib import Path

import pytest

from pipeline.lib.rules.calendar import (
    COLUMNS,
    CustomDate,
    build_calendar,
    festival_key,
    festivals_in_month,
    dim_working_day,
    official_name_en,
)

REFERENCE = Path(__file__).resolve().parents[3] / "data" / "reference"


@pytest.fixture(scope="module")
def cal_2026():
    return build_calendar(2026, REFERENCE)


def _rows(frame, kind, name=None):
    picked = frame[frame["kind"] == kind]
    if name is not None:
        picked = picked[picked["name"] == name]
    return list(picked["date"])


def _festival(year, name):
    dates = _rows(build_calendar(year, REFERENCE), "festival", name)
    assert len(dates) == 1, dates
    return dates[0]


@pytest.mark.parametrize(
    ("year", "name", "expected"),
    [
        (2026, "除夕", date(2026, 2, 16)),  # 腊月 of lunar 2025 has 29 days: 除夕 on 腊月29
        (2025, "除夕", date(2025, 1, 28)),  # 腊月 of lunar 2024 has 29 days as well
        (2024, "除夕", date(2024, 2, 9)),  # 腊月 of lunar 2023 has 30 days: 除夕 on 腊月30
        (2023, "除夕", date(2023, 1, 21)),  # 30-day 腊月 again
        (2026, "春节", date(2026, 2, 17)),
        (2026, "元宵节", date(2026, 3, 3)),  # lunar 1-15
        (2026, "清明节", date(2026, 4, 5)),  # solar term, not a lunar date
        (2025, "清明节", date(2025, 4, 4)),
        (2026, "端午节", date(2026, 6, 19)),
        (2026, "七夕", date(2026, 8, 19)),
        (2026, "中秋节", date(2026, 9, 25)),
        (2025, "中秋节", date(2025, 10, 6)),  # late: lunar 2025 has a leap 6th month
        (2026, "重阳节", date(2026, 10, 18)),
        (2026, "冬至", date(2026, 12, 22)),  # solar term
        (2025, "冬至", date(2025, 12, 21)),
        # fixed dates clubs greet, listed every year as festivals
        (2026, "元旦", date(2026, 1, 1)),
        (2027, "劳动节", date(2027, 5, 1)),
        (2040, "国庆节", date(2040, 10, 1)),  # a year with no published arrangement
    ],
)
def test_festival_dates(year, name, expected):
    assert _festival(year, name) == expected


def test_columns_kinds_and_order(cal_2026):
    assert list(cal_2026.columns) == COLUMNS
    assert set(cal_2026["kind"]) == {"festival", "statutory_off", "make_up_workday"}
    assert all(type(d) is date for d in cal_2026["date"])
    ordered = cal_2026.sort_values(["date", "kind", "name"]).reset_index(drop=True)
    assert cal_2026.equals(ordered)


def test_festival_english_names(cal_2026):
    festivals = cal_2026[cal_2026["kind"] == "festival"]
    assert dict(zip(festivals["name"], festivals["name_en"])) == {
        "除夕": "Chinese New Year's Eve",
        "春节": "Spring Festival",
        "元宵节": "Lantern Festival",
        "清明节": "Qingming Festival",
        "端午节": "Dragon Boat Festival",
        "七夕": "Qixi Festival",
        "中秋节": "Mid-Autumn Festival",
        "重阳节": "Double Ninth Festival",
        "冬至": "Winter Solstice",
        "元旦": "New Year's Day",
        "劳动节": "Labour Day",
        "国庆节": "National Day",
    }


def test_fixed_festivals_sit_beside_their_statutory_blocks(cal_2026):
    # 国庆节 is a festival on 1 October and, apart from it, the days off of its block
    assert _rows(cal_2026, "festival", "国庆节") == [date(2026, 10, 1)]
    assert date(2026, 10, 1) in _rows(cal_2026, "statutory_off", "国庆节")
    assert len(_rows(cal_2026, "statutory_off", "国庆节")) == 7


@pytest.mark.parametrize(
    ("name", "name_en", "key"),
    [("元旦", "New Year's Day", "new-year"), ("劳动节", "Labour Day", "labour-day"),
     ("国庆节", "National Day", "national-day")],
)
def test_fixed_festival_greeting_keys(name, name_en, key):
    assert festival_key(name, name_en) == key


def test_new_year_enabled_as_western_date_is_listed_once():
    cal = build_calendar(2026, REFERENCE, western=["new_year"])
    assert _rows(cal, "festival", "元旦") == [date(2026, 1, 1)]


def test_spring_festival_block_2026(cal_2026):
    # 15-23 February off, weekends inside the block (15, 21, 22 Feb) included.
    off = _rows(cal_2026, "statutory_off", "春节")
    assert off == [date(2026, 2, d) for d in range(15, 24)]
    assert all(
        name_en == "Spring Festival"
        for name_en in cal_2026[cal_2026["name"] == "春节"]["name_en"]
    )


def test_make_up_workdays_2026(cal_2026):
    # Saturdays 14 and 28 February are worked for the Spring Festival block.
    makeup = cal_2026[cal_2026["kind"] == "make_up_workday"]
    spring = makeup[makeup["name"] == "春节调休"]
    assert list(spring["date"]) == [date(2026, 2, 14), date(2026, 2, 28)]
    assert set(spring["name_en"]) == {"Spring Festival make-up workday"}
    assert all(d.weekday() >= 5 for d in makeup["date"])  # 调休 is always a weekend day
    assert cal_2026.attrs["arrangement_source"] == "holiday-cn"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("国庆节", "National Day"),
        ("劳动节", "Labour Day"),
        ("国庆节、中秋节", "National Day and Mid-Autumn Festival"),  # combined blocks (2020, 2025)
        ("中秋节、国庆节", "Mid-Autumn Festival and National Day"),  # (2023)
    ],
)
def test_official_name_en(name, expected):
    assert official_name_en(name) == expected


def test_combined_block_2025():
    cal = build_calendar(2025, REFERENCE)
    oct_1 = cal[(cal["date"] == date(2025, 10, 1)) & (cal["kind"] == "statutory_off")]
    assert list(oct_1["name"]) == ["国庆节、中秋节"]
    assert list(oct_1["name_en"]) == ["National Day and Mid-Autumn Festival"]


def test_new_year_block_straddling_the_year():
    # The 2023 arrangement gives 31 December 2022 off; it belongs in the 2022 calendar.
    assert date(2022, 12, 31) in _rows(build_calendar(2022, REFERENCE), "statutory_off", "元旦")
    assert date(2022, 12, 31) not in list(build_calendar(2023, REFERENCE)["date"])


@pytest.mark.parametrize(
    ("custom", "year", "expected"),
    [
        (CustomDate("06-18", "建会纪念日", "Club Day"), 2026, date(2026, 6, 18)),  # yearly
        (CustomDate(date(2026, 5, 20), "开业典礼", "Opening"), 2026, date(2026, 5, 20)),  # one-off
        (CustomDate("02-29", "闰日会", "Leap Day Party"), 2026, date(2026, 2, 28)),  # common year
        (CustomDate("02-29", "闰日会", "Leap Day Party"), 2028, date(2028, 2, 29)),  # leap year
    ],
)
def test_custom_dates(custom, year, expected):
    cal = build_calendar(year, REFERENCE, custom=[custom])
    rows = cal[cal["kind"] == "custom"]
    assert list(rows["date"]) == [expected]
    assert list(rows["name"]) == [custom.name]
    assert list(rows["name_en"]) == [custom.name_en]


def test_one_off_custom_date_only_in_its_year():
    custom = CustomDate(date(2026, 5, 20), "开业典礼", "Opening")
    cal = build_calendar(2027, REFERENCE, custom=[custom])
    assert "custom" not in set(cal["kind"])


@pytest.mark.parametrize("text", ["6/18", "13-01", "02-30", ""])
def test_custom_date_rejects_bad_month_day(text):
    with pytest.raises(ValueError, match="MM-DD"):
        CustomDate(text, "x", "x")


@pytest.mark.parametrize(
    ("key", "year", "name", "expected"),
    [
        ("new_year", 2026, "元旦", date(2026, 1, 1)),
        ("valentines", 2026, "情人节", date(2026, 2, 14)),
        ("womens_day", 2026, "妇女节", date(2026, 3, 8)),
        ("mothers_day", 2026, "母亲节", date(2026, 5, 10)),  # second Sunday of May
        ("mothers_day", 2027, "母亲节", date(2027, 5, 9)),
        ("fathers_day", 2026, "父亲节", date(2026, 6, 21)),  # third Sunday of June
        ("fathers_day", 2025, "父亲节", date(2025, 6, 15)),  # 1 June 2025 is a Sunday
        ("christmas", 2026, "圣诞节", date(2026, 12, 25)),
    ],
)
def test_western_dates(key, year, name, expected):
    cal = build_calendar(year, REFERENCE, western=[key])
    assert _rows(cal, "festival", name) == [expected]


def test_western_dates_are_opt_in(cal_2026):
    assert "圣诞节" not in set(cal_2026["name"])


def test_unknown_western_key_is_named():
    with pytest.raises(ValueError, match="halloween"):
        build_calendar(2026, REFERENCE, western=["halloween"])


def test_year_without_json_falls_back_to_chinesecalendar(tmp_path):
    # No holiday-cn file at all: the chinesecalendar package knows 2026.
    cal = build_calendar(2026, tmp_path)
    assert cal.attrs["arrangement_source"] == "chinesecalendar"
    assert _rows(cal, "statutory_off", "春节") == [date(2026, 2, d) for d in range(15, 24)]
    assert _rows(cal, "make_up_workday", "春节调休") == [date(2026, 2, 14), date(2026, 2, 28)]


def test_year_nobody_knows_gives_festivals_only(tmp_path):
    cal = build_calendar(2040, tmp_path)
    assert cal.attrs["arrangement_source"] is None  # callers warn: no arrangement published
    assert set(cal["kind"]) == {"festival"}
    assert len(cal) == 12  # nine lunar and solar-term festivals, 元旦, 劳动节, 国庆节


def test_bad_json_names_the_file(tmp_path):
    folder = tmp_path / "holiday-cn"
    folder.mkdir()
    (folder / "2026.json").write_text('{"year": 2026}', encoding="utf-8")
    with pytest.raises(ValueError, match="2026.json"):
        build_calendar(2026, tmp_path)


def test_festivals_in_month(cal_2026):
    feb = festivals_in_month(cal_2026, 2026, 2)
    assert list(zip(feb["date"], feb["name"])) == [
        (date(2026, 2, 16), "除夕"),
        (date(2026, 2, 17), "春节"),
    ]
    assert festivals_in_month(cal_2026, 2026, 11).empty


@pytest.fixture(scope="module")
def working_days():
    days = dim_working_day(date(2026, 1, 1), date(2027, 12, 31), REFERENCE)
    return {row["day"]: row for row in days.to_pylist()}


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 13), True),  # Friday before the block
        (date(2026, 2, 14), True),  # Saturday, make-up workday
        (date(2026, 2, 16), False),  # Monday inside the Spring Festival block
        (date(2026, 2, 24), True),  # Tuesday after the block
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 10, 10), True),  # Saturday, National Day make-up
        (date(2027, 3, 1), True),  # a Monday of a year without data: weekday rule
        (date(2027, 3, 6), False),  # a Saturday of a year without data: weekday rule
    ],
)
def test_is_working_day(working_days, day, expected):
    assert working_days[day]["is_working_day"] is expected


def test_dim_working_day_has_one_row_per_day_and_the_window(working_days):
    # 2026 and 2027 are both 365 days; a working day works 09:00-18:00, a day off has an
    # empty window, so nothing of it counts.
    assert len(working_days) == 730
    monday, saturday = working_days[date(2026, 3, 9)], working_days[date(2026, 3, 7)]
    assert (monday["work_starts_at"], monday["work_ends_at"], monday["working_seconds"]) == (
        datetime(2026, 3, 9, 9), datetime(2026, 3, 9, 18), 9 * 3600)
    assert saturday["working_seconds"] == 0
    assert saturday["work_ends_at"] == saturday["work_starts_at"]


def test_working_seconds_before_is_the_running_total(working_days):
    # The first day starts at 0; each day adds its own window. 1 Jan 2026 is a day off
    # (元旦), 2 Jan (Friday) is off too in the 2026 arrangement, 4 Jan (Sunday) is a
    # make-up workday: by Monday 5 Jan only 4 Jan has counted.
    assert working_days[date(2026, 1, 1)]["working_seconds_before"] == 0
    assert working_days[date(2026, 1, 5)]["working_seconds_before"] == 9 * 3600
    days = sorted(working_days)
    for before, after in zip(days, days[1:]):
        assert (working_days[after]["working_seconds_before"]
                == working_days[before]["working_seconds_before"]
                + working_days[before]["working_seconds"])


def test_dim_working_day_uses_the_given_window():
    # A club whose staff answer 08:30-17:15 has 8.75 working hours a day.
    days = dim_working_day(date(2026, 3, 9), date(2026, 3, 10), REFERENCE, time(8, 30), time(17, 15))
    assert days["working_seconds"].to_pylist() == [31500, 31500]
    with pytest.raises(ValueError):  # an overnight window would count nothing
        dim_working_day(date(2026, 3, 9), date(2026, 3, 10), REFERENCE, time(18), time(9))
