"""The contact plan: channels, suppression reasons, households, the cap, piece ids."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.lib.edition import Edition
from pipeline.lib.rules.contact import PLAN_COLUMNS, REASONS, SUPPRESSED_COLUMNS, ContactRules, plan_contacts, safe_part, safe_text
from pipeline.config.contact import DEFAULT_CHANNELS, kind_family

AS_OF = date(2026, 11, 20)
EDITION = Edition("2026-12", AS_OF)
MID_AUTUMN = "festival-mid-autumn"
THREE_KINDS = ("birthday", MID_AUTUMN, "newsletter")  # priorities 1, 2 and 4
TEXT_COLUMNS = ("member_id", "name", "household_id", "address", "postal_code", "province",
                "city", "district", "email", "phone", "preferred_channel")
FILE_NAME_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
ONLY_POST = {"has_consent_email": False, "has_consent_sms": False}
ONLY_EMAIL = {"has_consent_post": False, "has_consent_sms": False}
ONLY_SMS = {"has_consent_post": False, "has_consent_email": False}
NO_CONSENT = {"has_consent_post": False, "has_consent_email": False, "has_consent_sms": False}


def member(member_id: str, **changes) -> dict:
    """A member reachable on every channel, with no preference, household or flags."""
    row = {
        "member_id": member_id,
        "name": "张伟",
        "household_id": None,
        "address": "朝阳区建国路88号",
        "postal_code": "100020",
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
        "email": f"{member_id}@example.cn",
        "phone": "+8613800138000",
        "preferred_channel": None,
        "has_consent_post": True,
        "has_consent_email": True,
        "has_consent_sms": True,
        "is_do_not_contact": False,
        "is_deceased": False,
    }
    row.update(changes)
    return row


def members_frame(*rows: dict) -> pd.DataFrame:
    """Staged members: text columns as pandas `string`, flags as bool."""
    return pd.DataFrame(list(rows)).astype({c: "string" for c in TEXT_COLUMNS})


def requests_frame(*pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(pairs), columns=["member_id", "kind"])


def wants(member_id: str, *kinds: str) -> pd.DataFrame:
    """Requests of one member."""
    return requests_frame(*[(member_id, kind) for kind in kinds])


def contacts_frame(*rows: tuple[str, date], purpose: str | None = "节日问候") -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=["member_id", "contact_date"])
    frame["contact_date"] = pd.to_datetime(frame["contact_date"])
    frame["channel"], frame["purpose"] = "sms", purpose
    return frame


def days_before(*days: int, member_id: str = "M1", purpose: str | None = "节日问候") -> pd.DataFrame:
    """History contacts of one member, `days` before as_of (greetings unless told)."""
    return contacts_frame(*[(member_id, AS_OF - timedelta(days=d)) for d in days], purpose=purpose)


def run(members, requests, contacts=None, rules=None):
    return plan_contacts(members, requests, contacts, EDITION, rules or ContactRules())


def outcome(result, member_id: str, kind: str) -> str:
    """The channel a request was planned on, or the reason it was suppressed."""
    plan, dropped = result.plan, result.suppressed
    planned = plan[(plan["member_id"] == member_id) & (plan["kind"] == kind)]
    dropped = dropped[(dropped["member_id"] == member_id) & (dropped["kind"] == kind)]
    assert len(planned) + len(dropped) == 1, (planned, dropped)
    return planned["channel"].iloc[0] if len(planned) else dropped["reason"].iloc[0]


def single(row: dict, kind: str) -> str:
    """Outcome of one request of one member."""
    return outcome(run(members_frame(row), wants(row["member_id"], kind)), row["member_id"], kind)


# --------------------------------------------------------------------------- rules


def test_rules_defaults_are_the_documented_ones():
    rules = ContactRules()
    assert rules.channels == {
        "birthday": ["post", "email", "sms"],
        "anniversary": ["post", "email"],
        "festival": ["email", "sms"],
        "festival-spring": ["post", "email", "sms"],
        "festival-mid-autumn": ["post", "email", "sms"],
        "newsletter": ["email", "post"],
    }
    assert rules.priority == ["birthday", "festival", "anniversary", "newsletter"]
    assert (rules.max_pieces_per_month, rules.cap_window_days) == (3, 30)
    assert rules.household_kinds == ["festival", "newsletter", "anniversary-ownership"]


@pytest.mark.parametrize(
    ("kind", "family", "channels", "priority", "is_household"),
    [
        # the family is the part before the first '-'
        ("festival-mid-autumn", "festival", ("post", "email", "sms"), 2, True),
        # named as a full kind in household_kinds
        ("anniversary-ownership", "anniversary", ("post", "email"), 3, True),
        # same family, but each member's own membership: personal
        ("anniversary-membership", "anniversary", ("post", "email"), 3, False),
        ("birthday", "birthday", ("post", "email", "sms"), 1, False),
        ("newsletter", "newsletter", ("email", "post"), 4, True),
    ],
)
def test_rules_by_kind(kind, family, channels, priority, is_household):
    rules = ContactRules()
    assert kind_family(kind) == family
    assert rules.allowed_channels(kind) == channels
    assert rules.priority_of(kind) == priority
    assert rules.is_household_kind(kind) is is_household


def test_rules_channels_merge_over_defaults_and_full_kind_wins():
    # overriding one family keeps the others; a full kind beats its family
    rules = ContactRules(channels={"birthday": ["sms"], "festival-spring": ["email"]})
    assert rules.allowed_channels("birthday") == ("sms",)
    assert rules.allowed_channels("festival-spring") == ("email",)
    assert rules.allowed_channels(MID_AUTUMN) == tuple(DEFAULT_CHANNELS[MID_AUTUMN])
    assert rules.allowed_channels("festival-qingming") == tuple(DEFAULT_CHANNELS["festival"])
    assert rules.priority_of("festival-spring") == 2  # ranked by its family


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"max_pieces": 3}, "max_pieces"),  # unknown key: extra='forbid'
        ({"channels": {"birthday": ["fax"]}}, "channels"),  # not a channel
        ({"channels": {"birthday": []}}, "channels"),  # nothing left to send by
        ({"channels": {"birthday": ["post", "post"]}}, "channels"),  # listed twice
        ({"channels": {"survey": ["email"]}}, "priority"),  # a family with no rank
        ({"priority": ["birthday", "birthday"]}, "priority"),  # listed twice
        ({"max_pieces_per_month": -1}, "max_pieces_per_month"),
        ({"household_kinds": ["survey"]}, "household_kinds"),  # no such family
    ],
)
def test_rules_errors_name_the_key(config, key):
    with pytest.raises(ValidationError, match=key):
        ContactRules(**config)


def test_unknown_kind_is_an_error_not_a_silent_drop():
    with pytest.raises(ValueError, match="survey"):
        run(members_frame(member("M1")), wants("M1", "survey"))


# --------------------------------------------------------------------------- channel


@pytest.mark.parametrize(
    ("changes", "kind", "expected"),
    [
        # no preference: the first allowed channel
        ({}, "birthday", "post"),
        ({}, "newsletter", "email"),
        # preference honoured when allowed, consented and usable
        ({"preferred_channel": "email"}, "birthday", "email"),
        ({"preferred_channel": "sms"}, MID_AUTUMN, "sms"),
        ({"preferred_channel": "post"}, "newsletter", "post"),
        # sms is not allowed for anniversaries: the first allowed channel instead
        ({"preferred_channel": "sms"}, "anniversary-membership", "post"),
        # preferred channel not consented: fall back in the kind's order
        ({"preferred_channel": "email", "has_consent_email": False}, "birthday", "post"),
        ({"preferred_channel": "post", "has_consent_post": False}, "newsletter", "email"),
        # preferred channel consented but unusable (no e-mail address): fall back
        ({"preferred_channel": "email", "email": None}, "birthday", "post"),
        # first allowed channel not consented: the next one
        ({"has_consent_post": False}, "birthday", "email"),
        (ONLY_SMS, MID_AUTUMN, "sms"),
        # first allowed channel unusable (no postal code, blank address): the next one
        ({"postal_code": None}, "birthday", "email"),
        ({"address": "   "}, "anniversary-ownership", "email"),
        ({"email": None}, "newsletter", "post"),
        # blank consents were defaulted upstream (post yes, e-mail and sms no): plain bools
        (ONLY_POST, "newsletter", "post"),
        # post goes only for 春节 and 中秋; the other festivals by e-mail, then SMS
        ({}, "festival-spring", "post"),
        ({}, "festival-national-day", "email"),
        ({"email": None}, "festival-new-year", "sms"),
        # SMS preferred but the phone is a landline: the next allowed channel
        ({"preferred_channel": "sms", "phone": "+862158880000"}, "birthday", "post"),
        ({"preferred_channel": "sms", "phone": "+862158880000"}, "festival-labour-day", "email"),
    ],
)
def test_channel(changes, kind, expected):
    assert single(member("M1", **changes), kind) == expected


# --------------------------------------------------------------------------- suppression


@pytest.mark.parametrize(
    ("changes", "kind", "expected"),
    [
        # deceased wins over every other reason, do-not-contact over consent
        ({"is_deceased": True}, "birthday", "deceased"),
        ({"is_deceased": True, "is_do_not_contact": True, **NO_CONSENT}, "birthday", "deceased"),
        ({"is_do_not_contact": True}, "newsletter", "do_not_contact"),
        ({"is_do_not_contact": True, **NO_CONSENT}, "birthday", "do_not_contact"),
        # no consent on any channel
        (NO_CONSENT, "birthday", "no_consent"),
        # consent only for sms, which anniversaries do not use
        (ONLY_SMS, "anniversary-membership", "no_consent"),
        # only post consented and no usable address: missing, blank postal code, 5 digits
        ({**ONLY_POST, "address": None}, "birthday", "no_valid_address"),
        ({**ONLY_POST, "postal_code": " "}, "birthday", "no_valid_address"),
        ({**ONLY_POST, "postal_code": "10002"}, "birthday", "no_valid_address"),
        # only e-mail consented and no e-mail address (missing or blank)
        ({**ONLY_EMAIL, "email": None}, "birthday", "no_valid_email"),
        ({**ONLY_EMAIL, "email": ""}, "newsletter", "no_valid_email"),
        # only sms consented and no phone
        ({**ONLY_SMS, "phone": None}, MID_AUTUMN, "no_valid_phone"),
        # a landline (Shanghai, Hong Kong) cannot take an SMS
        ({**ONLY_SMS, "phone": "+862158880000"}, "birthday", "no_valid_phone"),
        ({**ONLY_SMS, "phone": "+85221234567"}, "festival-national-day", "no_valid_phone"),
        # sms is consented but not allowed for anniversaries; e-mail is the only allowed
        # consented channel, so the reason names it
        ({"has_consent_post": False, "email": None, "phone": None}, "anniversary-membership",
         "no_valid_email"),
        # several consented channels, none usable: the generic reason
        ({"address": None, "email": None, "phone": None}, "birthday", "no_valid_address"),
        ({"postal_code": None, "email": None}, "newsletter", "no_valid_address"),
    ],
)
def test_suppression_reason(changes, kind, expected):
    assert single(member("M1", **changes), kind) == expected


def test_reason_strings_are_the_contracted_ones():
    assert REASONS == ("deceased", "do_not_contact", "no_consent", "address_returned",
                       "no_valid_address",
                       "no_valid_email", "no_valid_phone", "household_duplicate", "frequency_cap")


# --------------------------------------------------------------------------- households


def household(*ids: str, **changes) -> list[dict]:
    """Members of household H1 at one address, reachable by post only."""
    return [member(i, **({"household_id": "H1", "email": None, "phone": None} | changes))
            for i in ids]


def each(kind: str, *ids: str) -> pd.DataFrame:
    """The same kind requested for several members."""
    return requests_frame(*[(i, kind) for i in ids])


def test_household_gets_one_post_piece_for_the_lowest_member_id():
    # M2 comes first in the export but M1 is the lower id: the piece is M1's
    result = run(members_frame(*household("M2", "M1")), each(MID_AUTUMN, "M2", "M1"))
    columns = ["member_id", "channel", "household_id", "household_size"]
    assert result.plan[columns].values.tolist() == [["M1", "post", "H1", 2]]
    assert result.suppressed.values.tolist() == [["M2", MID_AUTUMN, "household_duplicate"]]


def test_birthdays_in_a_household_stay_personal():
    # birthdays are not a household kind: both members get their own letter
    result = run(members_frame(*household("M1", "M2")), each("birthday", "M1", "M2"))
    assert result.plan[["member_id", "household_size"]].values.tolist() == [["M1", 1], ["M2", 1]]
    assert result.suppressed.empty


@pytest.mark.parametrize(
    ("kind", "pieces"),
    [
        ("anniversary-ownership", 1),  # the home's anniversary: one letter per household
        ("anniversary-membership", 2),  # each member's own membership: personal
        ("newsletter", 1),  # by post when there is no e-mail: one per household
    ],
)
def test_household_kinds(kind, pieces):
    result = run(members_frame(*household("M1", "M2")), each(kind, "M1", "M2"))
    assert len(result.plan) == pieces


@pytest.mark.parametrize(
    "elsewhere",
    [
        # the household's second home: each address gets its letter
        {"address": "浦东新区世纪大道1号", "postal_code": "200120"},
        # the same street text in another city is another address
        {"postal_code": "200120"},
        # flatmates without a household id are separate households
        {"household_id": None},
        # another household at the same address
        {"household_id": "H2"},
    ],
)
def test_household_apart_gets_two_pieces(elsewhere):
    frame = members_frame(*household("M1"), *household("M2", **elsewhere))
    result = run(frame, each(MID_AUTUMN, "M1", "M2"))
    assert result.plan[["member_id", "household_size"]].values.tolist() == [["M1", 1], ["M2", 1]]


def test_household_address_compared_after_width_and_space_normalisation():
    # full-width digits and a stray space: the same address typed by another clerk
    frame = members_frame(*household("M1"), *household("M2", address="朝阳区 建国路８８号"))
    result = run(frame, each(MID_AUTUMN, "M1", "M2"))
    assert result.plan["household_size"].tolist() == [2]


def test_household_email_and_sms_stay_personal():
    # M1 and M2 prefer e-mail, M3 has only post: two e-mails and one letter (size 1)
    frame = members_frame(
        *household("M1", "M2", email="home@example.cn", preferred_channel="email"),
        *household("M3"),
    )
    result = run(frame, each(MID_AUTUMN, "M1", "M2", "M3"))
    assert result.plan[["member_id", "channel", "household_size"]].values.tolist() == [
        ["M1", "email", 1], ["M2", "email", 1], ["M3", "post", 1]]


def test_household_ignores_members_suppressed_for_their_own_reasons():
    # M1 is deceased: M2 gets the household letter, which covers M2 and M3
    frame = members_frame(*household("M1", is_deceased=True), *household("M2", "M3"))
    result = run(frame, each(MID_AUTUMN, "M1", "M2", "M3"))
    assert result.plan[["member_id", "household_size"]].values.tolist() == [["M2", 2]]
    assert outcome(result, "M1", MID_AUTUMN) == "deceased"
    assert outcome(result, "M3", MID_AUTUMN) == "household_duplicate"


def test_household_piece_goes_to_a_member_with_room_under_the_cap():
    # M1 (lowest id) already had 3 contacts: M2 gets the household letter rather than
    # nobody; M1 is still covered by it, so M1's request is a household duplicate
    result = run(members_frame(*household("M1", "M2")), each(MID_AUTUMN, "M1", "M2"),
                 days_before(1, 2, 3))
    assert result.plan[["member_id", "household_size"]].values.tolist() == [["M2", 2]]
    assert outcome(result, "M1", MID_AUTUMN) == "household_duplicate"


def test_household_without_room_gets_nothing_and_says_frequency_cap():
    # neither member has room: no piece is sent, so nobody is a household duplicate
    history = contacts_frame(("M1", AS_OF - timedelta(days=1)), ("M2", AS_OF - timedelta(days=1)))
    result = run(members_frame(*household("M1", "M2")), each(MID_AUTUMN, "M1", "M2"), history,
                 ContactRules(max_pieces_per_month=1))
    assert result.plan.empty
    assert result.suppressed["reason"].tolist() == ["frequency_cap", "frequency_cap"]


def test_household_piece_counts_against_its_addressee_only():
    # cap 1: M1 gets the household festival letter; M2 is covered by it and still has
    # room for their own birthday letter
    requests = requests_frame(("M1", MID_AUTUMN), ("M2", MID_AUTUMN), ("M2", "birthday"))
    result = run(members_frame(*household("M1", "M2")), requests,
                 rules=ContactRules(max_pieces_per_month=1))
    assert outcome(result, "M1", MID_AUTUMN) == "post"
    assert outcome(result, "M2", MID_AUTUMN) == "household_duplicate"
    assert outcome(result, "M2", "birthday") == "post"


# --------------------------------------------------------------------------- frequency cap


@pytest.mark.parametrize(
    ("history_days", "planned"),
    [
        ((), ["birthday", MID_AUTUMN, "newsletter"]),  # 0 + 3 = cap: everything goes
        ((5,), ["birthday", MID_AUTUMN]),  # one slot used: the newsletter (lowest) goes
        ((5, 10), ["birthday"]),  # two used: only the highest-priority piece
        ((1, 2, 3), []),  # cap reached by history alone
        ((1, 2, 3, 4), []),  # over the cap already: nothing, never negative room
        ((29,), ["birthday", MID_AUTUMN]),  # the 30 days end with the cut-off day
        ((30, 40, 90), ["birthday", MID_AUTUMN, "newsletter"]),  # older: ignored
        ((0,), ["birthday", MID_AUTUMN]),  # dated on the cut-off day: history, it counts
        ((-3,), ["birthday", MID_AUTUMN, "newsletter"]),  # after as_of: not history
    ],
)
def test_frequency_cap_with_history(history_days, planned):
    result = run(members_frame(member("M1")), wants("M1", *THREE_KINDS), days_before(*history_days))
    assert sorted(result.plan["kind"]) == sorted(planned)
    assert set(result.suppressed["reason"]) <= {"frequency_cap"}


@pytest.mark.parametrize(
    ("purpose", "planned"),
    [
        ("缴费提醒", 3),  # a service reminder: the birthday greeting is not crowded out
        ("活动邀请", 3),  # an event invitation is not a greeting either
        ("address_check", 3),  # a staff call from last month's call list
        ("生日贺卡", 1),  # greetings count: two of three slots are gone
        ("festival-mid-autumn", 1),  # our own kind counts by its family
        (None, 1),  # a blank purpose may be a greeting: it counts
    ],
)
def test_frequency_cap_counts_only_cap_purposes(purpose, planned):
    result = run(members_frame(member("M1")), wants("M1", *THREE_KINDS),
                 days_before(1, 2, purpose=purpose))
    assert len(result.plan) == planned
    if planned == 1:
        assert result.plan["kind"].tolist() == ["birthday"]


def test_frequency_cap_decides_each_contact_by_its_own_purpose():
    # a blank purpose counts and a service reminder does not: one slot of three is gone
    history = pd.concat([days_before(1, purpose=None), days_before(2, purpose="缴费提醒"),
                         days_before(3, purpose="缴费提醒")], ignore_index=True)
    result = run(members_frame(member("M1")), wants("M1", *THREE_KINDS), history)
    assert len(result.plan) == 2


def test_cap_purposes_follow_the_rules():
    # a club that counts its payment reminders against the cap may say so
    rules = ContactRules(cap_purposes=["缴费提醒"])
    result = run(members_frame(member("M1")), wants("M1", *THREE_KINDS),
                 days_before(1, 2, purpose="缴费提醒"), rules)
    assert result.plan["kind"].tolist() == ["birthday"]
    assert ContactRules().cap_purposes[:4] == ["birthday", "festival", "anniversary", "newsletter"]


@pytest.mark.parametrize(
    ("changes", "kind", "expected"),
    [
        ({}, "birthday", "email"),  # post came back: the next consented channel
        ({"preferred_channel": "post"}, "birthday", "email"),  # even when post is preferred
        (ONLY_POST, "birthday", "address_returned"),  # post was the only way: say why
        ({"has_consent_email": False}, "anniversary-membership", "address_returned"),
        ({"has_consent_email": False}, "birthday", "sms"),  # birthdays may go by SMS
        (NO_CONSENT, "birthday", "no_consent"),  # no consent wins over the return
        ({"is_deceased": True}, "birthday", "deceased"),
    ],
)
def test_returned_address_keeps_the_member_off_post(changes, kind, expected):
    people = members_frame(member("M1", **changes), member("M2", **changes))
    result = plan_contacts(people, each(kind, "M1", "M2"), None, EDITION,
                           ContactRules(), returned=pd.Series(["M1"]))
    assert outcome(result, "M1", kind) == expected
    assert outcome(result, "M2", kind) == ("post" if expected in ("email", "sms", "address_returned")
                                           else expected)  # M2's letters still arrive


def test_frequency_cap_window_follows_the_rules():
    # a 7-day window ignores contacts 10 days ago
    result = run(members_frame(member("M1")), wants("M1", *THREE_KINDS), days_before(10, 10, 10),
                 ContactRules(cap_window_days=7))
    assert len(result.plan) == 3


def test_frequency_cap_counts_each_members_own_history():
    # M2's busy history does not take M1's room
    result = run(members_frame(member("M1"), member("M2")), each("birthday", "M1", "M2"),
                 days_before(1, 2, 3, member_id="M2"))
    assert outcome(result, "M1", "birthday") == "post"
    assert outcome(result, "M2", "birthday") == "frequency_cap"


def test_frequency_cap_history_of_unknown_members_is_ignored():
    # a contact of someone not in members (quarantined upstream) cannot cap anyone
    result = run(members_frame(member("M1")), wants("M1", "birthday"),
                 days_before(1, 2, 3, member_id="M9"))
    assert len(result.plan) == 1


def test_frequency_cap_between_kinds_of_one_priority_goes_by_kind_name():
    # two festivals in one month and room for one: the first by name
    result = run(members_frame(member("M1")), wants("M1", MID_AUTUMN, "festival-chongyang"),
                 rules=ContactRules(max_pieces_per_month=1))
    assert result.plan["kind"].tolist() == ["festival-chongyang"]


def test_earlier_reasons_win_over_the_cap():
    # a do-not-contact member with a full history is do_not_contact, not capped
    result = run(members_frame(member("M1", is_do_not_contact=True)), wants("M1", "birthday"),
                 days_before(1, 2, 3))
    assert result.suppressed["reason"].tolist() == ["do_not_contact"]


def test_priority_order_follows_the_rules():
    # newsletter ranked first: with room for one piece, the newsletter is kept
    rules = ContactRules(priority=["newsletter", "birthday", "festival", "anniversary"],
                         max_pieces_per_month=1)
    result = run(members_frame(member("M1")), wants("M1", *THREE_KINDS), rules=rules)
    assert result.plan[["kind", "priority"]].values.tolist() == [["newsletter", 1]]


# --------------------------------------------------------------------------- piece ids


@pytest.mark.parametrize(
    ("member_id", "expected"),
    [
        ("M0000001", "202612-birthday-M0000001"),  # already safe: kept as is
        ("ab-12_X", "202612-birthday-ab-12_X"),
        ("../x", "202612-birthday-___x_d6b96a97"),  # path traversal: no '.' or '/' left
        ("a/b", "202612-birthday-a_b_c14cddc0"),  # a path separator
        ("会员 001", None),  # Chinese and a space
        ("x" * 80, None),  # too long for comfort: cut and hashed
    ],
)
def test_piece_id_is_file_name_safe(member_id, expected):
    result = run(members_frame(member(member_id)), wants(member_id, "birthday"))
    piece_id = result.plan["piece_id"].iloc[0]
    assert FILE_NAME_SAFE.match(piece_id) and len(piece_id) < 100
    assert piece_id.startswith("202612-birthday-")
    assert expected is None or piece_id == expected


def test_piece_ids_stay_apart_when_sanitising_would_merge_them():
    # 'a/b', 'a.b' and 'a_b' would all become 'a_b' without the hash
    ids = ["a/b", "a.b", "a_b", "../x", "__x"]
    result = run(members_frame(*[member(i) for i in ids]), each("birthday", *ids))
    assert result.plan["piece_id"].is_unique
    pieces = dict(zip(result.plan["member_id"], result.plan["piece_id"]))
    assert pieces["a_b"] == "202612-birthday-a_b"


def test_piece_ids_are_stable_across_reruns_and_input_order():
    # same input in another row order: the same tables, ids included
    ids = ["M3", "a/b", "M1", "会员2"]
    frame = members_frame(*[member(i, household_id="H1") for i in ids])
    requests = requests_frame(*[(i, k) for i in ids for k in THREE_KINDS])
    first = run(frame, requests)
    again = run(frame.iloc[::-1], requests.sample(frac=1, random_state=7))
    pd.testing.assert_frame_equal(first.plan, again.plan)
    pd.testing.assert_frame_equal(first.suppressed, again.suppressed)


def test_safe_part_keeps_safe_text_and_hashes_the_rest():
    # sha256 of the original text, as in the module notes
    assert safe_part(pd.Series(["../x", "M1", ""])).tolist() == [
        "___x_d6b96a97", "M1", "_e3b0c442"]


def test_one_text_is_made_safe_as_a_column_is():
    texts = ["../x", "M1", "", "M1\n", "会员-7", "a" * 48, "a" * 49, "x/" * 40, "😀", "A_b-9"]
    assert [safe_text(t) for t in texts] == safe_part(pd.Series(texts)).tolist()
    assert safe_text("M1\n") != "M1"  # a trailing line break is not safe


# --------------------------------------------------------------------------- output


def test_output_columns_types_and_order():
    frame = members_frame(member("M2"), member("M1", preferred_channel="email"),
                          member("M3", is_deceased=True))
    requests = requests_frame(*[(m, k) for m in ("M3", "M2", "M1")
                                for k in ("newsletter", "birthday")])
    result = run(frame, requests)
    assert tuple(result.plan.columns) == PLAN_COLUMNS
    assert tuple(result.suppressed.columns) == SUPPRESSED_COLUMNS
    # sorted by kind, channel (email before post), member_id
    assert result.plan[["kind", "channel", "member_id", "priority"]].values.tolist() == [
        ["birthday", "email", "M1", 1], ["birthday", "post", "M2", 1],
        ["newsletter", "email", "M1", 4], ["newsletter", "email", "M2", 4]]
    assert result.suppressed.values.tolist() == [
        ["M3", "birthday", "deceased"], ["M3", "newsletter", "deceased"]]
    assert str(result.plan["member_id"].dtype) == "string"
    assert str(result.plan["household_size"].dtype) == "int64"
    assert result.plan["household_id"].isna().all()  # no household: NA, not a blank string
    assert result.reconciliation() == {"eligible": 6, "planned": 4, "suppressed": 2}


def test_no_requests_gives_empty_tables_with_columns():
    result = run(members_frame(member("M1")), requests_frame())
    assert tuple(result.plan.columns) == PLAN_COLUMNS and result.plan.empty
    assert tuple(result.suppressed.columns) == SUPPRESSED_COLUMNS and result.suppressed.empty
    assert result.reconciliation() == {"eligible": 0, "planned": 0, "suppressed": 0}


def test_history_as_plain_dates_or_absent():
    # contact dates as datetime.date objects work; None means no history at all
    history = pd.DataFrame({"member_id": ["M1"] * 3,
                            "contact_date": [AS_OF - timedelta(days=1)] * 3})
    assert run(members_frame(member("M1")), wants("M1", "birthday"), history).plan.empty
    assert len(run(members_frame(member("M1")), wants("M1", "birthday"), None).plan) == 1


@pytest.mark.parametrize(
    ("members", "requests", "message"),
    [
        # a request for someone who is not a member is a caller bug, not a suppression
        ([member("M1")], [("M9", "birthday")], "M9"),
        # one row per (member, kind)
        ([member("M1")], [("M1", "birthday"), ("M1", "birthday")], "twice"),
        ([member("M1"), member("M1")], [("M1", "birthday")], "duplicates"),
        ([member("M1", preferred_channel="wechat")], [("M1", "birthday")], "wechat"),
    ],
)
def test_bad_input_is_refused(members, requests, message):
    with pytest.raises(ValueError, match=message):
        run(members_frame(*members), requests_frame(*requests))


def test_blank_flags_are_refused_rather_than_guessed():
    frame = members_frame(member("M1"))
    frame["has_consent_sms"] = pd.array([pd.NA], dtype="boolean")
    with pytest.raises(ValueError, match="has_consent_sms"):
        run(frame, wants("M1", "birthday"))


def test_an_edition_is_a_whole_month():
    with pytest.raises(ValueError, match="YYYY-MM"):
        Edition("2026-12-02", AS_OF)


# --------------------------------------------------------------------------- property

KINDS = ("birthday", "anniversary-membership", "anniversary-ownership", "festival-mid-autumn",
         "festival-chongyang", "newsletter")
IDS = ("M1", "M2", "M10", "m1", "a/b", "a_b", "../x", "会员")

# Weighted towards living, contactable members of one household at one address
# reachable by post, so that household merging and the cap meet often.
RARELY = st.sampled_from([True] + [False] * 7)
USUALLY = st.sampled_from([True, True, True, False])
HOME = ("H1", "建国路8号", "100020")
PLACES = st.sampled_from([HOME] * 6 + [
    ("H1", "建国路 ８号", "100020"),  # the same address typed differently
    ("H1", "世纪大道1号", "200120"),  # the household's second home
    ("H1", "建国路8号", "200120"),  # same street text, another city
    ("H2", "建国路8号", "100020"),  # another household at the same address
    (None, "建国路8号", "100020"),  # no household id
    ("H1", "", "100020"),  # blank address
    ("H1", "建国路8号", "10002"),  # five-digit postal code
    ("H1", None, None),
])
CONTACT_DETAILS = st.fixed_dictionaries({
    "email": st.sampled_from([None, "x@example.cn"]),
    "phone": st.sampled_from([None, "+8613800138000", "+862158880000"]),  # mobile, landline
    "preferred_channel": st.sampled_from([None, None, "post", "email", "sms"]),
    "has_consent_post": USUALLY,
    "has_consent_email": st.booleans(),
    "has_consent_sms": st.booleans(),
    "is_do_not_contact": RARELY,
    "is_deceased": RARELY,
})


@st.composite
def scenarios(draw):
    ids = draw(st.lists(st.sampled_from(IDS), min_size=3, max_size=5, unique=True))
    rows = []
    for member_id in ids:
        household_id, address, postal_code = draw(PLACES)
        rows.append(member(member_id, household_id=household_id, address=address,
                           postal_code=postal_code, **draw(CONTACT_DETAILS)))
    kinds = sorted(draw(st.sets(st.sampled_from(KINDS), min_size=1, max_size=4)))
    keep = draw(st.lists(USUALLY, min_size=len(ids) * len(kinds), max_size=len(ids) * len(kinds)))
    pairs = [(i, k) for i in ids for k in kinds]
    pairs = [pair for pair, kept in zip(pairs, keep) if kept]  # mostly wanted by everyone
    history = draw(st.lists(st.tuples(st.sampled_from(ids), st.integers(-5, 40)), max_size=12))
    cap = draw(st.sampled_from([0, 1, 2, 3, 3, 4]))
    return rows, pairs, history, cap


def _usable(row: dict, channel: str) -> bool:
    if channel == "post":
        return bool(row["address"]) and bool(re.fullmatch(r"[0-9]{6}", row["postal_code"] or ""))
    if channel == "sms":
        return (row["phone"] or "").startswith("+8613")  # the landline cannot take an SMS
    return bool(row["email"])


def _place(row: dict) -> tuple:
    address = unicodedata.normalize("NFKC", row["address"]).lower().replace(" ", "")
    return row["household_id"], row["postal_code"], address


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_request_is_planned_or_suppressed_exactly_once(scenario):
    rows, pairs, history_days, cap = scenario
    rules = ContactRules(max_pieces_per_month=cap)
    history = contacts_frame(*[(m, AS_OF - timedelta(days=d)) for m, d in history_days])
    # plain object columns here (the other tests use staged `string` columns)
    result = run(pd.DataFrame(rows), requests_frame(*pairs), history, rules)
    plan, dropped = result.plan, result.suppressed

    # reconciliation: every request exactly once, in one of the two tables
    seen = [*zip(plan["member_id"], plan["kind"]), *zip(dropped["member_id"], dropped["kind"])]
    assert sorted(seen) == sorted(pairs)
    assert result.reconciliation() == {"eligible": len(pairs), "planned": len(plan),
                                       "suppressed": len(dropped)}
    assert set(dropped["reason"]) <= set(REASONS)

    # a planned piece is allowed, consented and usable, for a living, contactable member
    by_id = {row["member_id"]: row for row in rows}
    for member_id, kind, channel in plan[["member_id", "kind", "channel"]].itertuples(index=False):
        row = by_id[member_id]
        assert channel in rules.allowed_channels(kind)
        assert row[f"has_consent_{channel}"] and _usable(row, channel)
        assert not row["is_deceased"] and not row["is_do_not_contact"]
    for member_id, reason in dropped[["member_id", "reason"]].itertuples(index=False):
        assert (reason == "deceased") == by_id[member_id]["is_deceased"]

    # the cap: history in the window plus planned pieces stay within it, and a piece is
    # capped only when its member is full
    planned_count = plan["member_id"].value_counts().to_dict()
    for member_id in by_id:
        known = sum(1 for m, d in history_days if m == member_id and 0 <= d <= 29)
        load = planned_count.get(member_id, 0) + known
        assert planned_count.get(member_id, 0) == 0 or load <= cap
        if (dropped.loc[dropped["member_id"] == member_id, "reason"] == "frequency_cap").any():
            assert load >= cap

    # households: one post piece per household address and kind, which covers every
    # household duplicate of that kind there
    is_household = np.array([rules.is_household_kind(k) for k in plan["kind"]], dtype=bool)
    shared = plan[(plan["channel"] == "post").to_numpy(dtype=bool) & is_household]
    places = [(_place(by_id[m]), k) for m, k in zip(shared["member_id"], shared["kind"])
              if by_id[m]["household_id"]]
    assert len(places) == len(set(places))
    duplicates = dropped[dropped["reason"] == "household_duplicate"]
    for member_id, kind in duplicates[["member_id", "kind"]].itertuples(index=False):
        assert (_place(by_id[member_id]), kind) in places
    assert plan["household_size"].sum() == len(plan) + len(duplicates)

    # piece ids: unique and file-name safe
    assert plan["piece_id"].is_unique
    assert all(FILE_NAME_SAFE.match(p) for p in plan["piece_id"])
