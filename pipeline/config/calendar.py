"""Western festivals a club may add to its calendar (`club.yaml` `calendar.western`)."""

from __future__ import annotations


# key: (Chinese name, English name, month, day) or a weekday rule (month, n-th Sunday).
WESTERN_DATES = {
    "new_year": ("元旦", "New Year's Day", 1, 1),
    "valentines": ("情人节", "Valentine's Day", 2, 14),
    "womens_day": ("妇女节", "International Women's Day", 3, 8),
    "mothers_day": ("母亲节", "Mother's Day", 5, None),
    "fathers_day": ("父亲节", "Father's Day", 6, None),
    "christmas_eve": ("平安夜", "Christmas Eve", 12, 24),
    "christmas": ("圣诞节", "Christmas Day", 12, 25),
}


NTH_SUNDAY = {"mothers_day": 2, "fathers_day": 3}
