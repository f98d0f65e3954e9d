"""The contact plan: who gets which piece by which channel, and why the rest do not.

CONTRACT §4 (`contact_plan`, `suppressed`, and `run.json` -> `reconciliation.contact_plan`).

`plan_contacts` is a pure, vectorised function of the staged members, the wanted pieces
(`requests`, one row per member and kind), the contact history and `ContactRules`.
Every request ends up exactly once in `ContactPlan.plan` or in `ContactPlan.suppressed`,
so `eligible = planned + suppressed` always holds (checked before returning).

Kinds and families
------------------
A kind is `birthday`, `anniversary-membership`, `anniversary-ownership`,
`festival-<key>` or `newsletter`; its *family* is the part before the first `-`.
Rules keyed by kind family (`channels`, `priority`, `household_kinds`) may also name a
full kind, which then wins over its family.

Decisions, in the order they are taken for each request
-------------------------------------------------------
1. **Channel.** The allowed channels of the kind, in fallback order. The member's
   `preferred_channel` is used when it is allowed, consented (`has_consent_<channel>`)
   and usable; otherwise the first allowed channel that is consented and usable.
   Usable: `post` needs a non-blank `address` and a six-digit `postal_code` (mainland
   China: a member without a six-digit postal code cannot be reached by post) that
   has not come back as undeliverable (`returned`: members whose returned piece went
   to the address the members export still carries),
   `email` a non-blank `email` (validated upstream), `sms` a `phone` that can take an
   SMS (`parse.takes_sms`: a mobile number; a landline cannot, so a member with only
   a landline is `no_valid_phone` for sms or falls back to another channel).
2. **Suppression**, first applicable reason wins:
   `deceased`, `do_not_contact`,
   `no_consent` (none of the allowed channels is consented),
   `address_returned` (post is allowed and consented, the address came back, and no
   other consented channel is usable),
   `no_valid_address` / `no_valid_email` / `no_valid_phone` (channels are consented
   but none is usable; named after what is missing when exactly one allowed channel
   is consented, otherwise the generic `no_valid_address`),
   `household_duplicate`, `frequency_cap` (below).
3. **Households.** For household kinds (default: festivals, the newsletter and
   ownership anniversaries) the members of one `household_id` at one address (same
   postal code and same street address, compared after NFKC normalisation, lower-cased
   and without spaces) whose piece goes by post get one piece addressed to the
   household. It is planned for the lowest `member_id` (code-point order) that still
   has room under the frequency cap; the others it covers are suppressed as
   `household_duplicate`, and its `household_size` is the number of members it covers
   (1 for every other piece). E-mail and SMS stay personal, and so do birthdays and
   membership anniversaries.
4. **Frequency cap.** Per member, history contacts dated in
   in the `cap_window_days` days ending with the cut-off day (any channel) whose
   purpose is one of `cap_purposes` (greetings and newsletters by default; a purpose
   also matches by its kind family, `festival-mid-autumn` by `festival`; a blank
   purpose counts, since it may be a greeting) plus the pieces
   planned in the edition may not exceed `max_pieces_per_month`. Pieces are granted
   highest priority first (between kinds of one priority: kind name order); the ones
   that do not fit are suppressed as `frequency_cap`. A household piece counts against
   the member it is planned for (the one the mailing house records it under), not
   against the members it covers. When no member of a household has room, nobody gets
   that household piece and every member's request is `frequency_cap`.

Output
------
`plan`: member_id, kind, channel, piece_id, household_id (the member's, also on
personal pieces; NA when none), household_size, priority (1 = highest, the position of
the kind, or else its family, in `ContactRules.priority`). Sorted by kind, channel,
member_id. `suppressed`: member_id, kind, reason; sorted by kind, member_id. Sorting is
by code point; text columns are pandas `string`.

`piece_id` is `"{YYYYMM}-{kind}-{member}"`: the edition month, the kind and the member
id the piece is planned for, each reduced to `[A-Za-z0-9_-]`. A part that had to
change (another character replaced by `_`, cut to 48 characters, or empty) gets `_` and
the first 8 hex digits of the SHA-256 of its original UTF-8 text appended, so that
`a/b` and `a_b` stay apart: `202612-birthday-M0000001`,
`202612-newsletter-___x_d6b96a97` (member `../x`). It depends only on the edition, the
kind and the member id, so reruns and reordered inputs give the same ids; it is safe as
a file name (only `[A-Za-z0-9_-]`, never starts with `.` or `-`). Uniqueness is
checked: a clash raises `ValueError`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.lib.edition import Edition
from pipeline.lib.read.parse import takes_sms
from pipeline.config.contact import CHANNELS, ContactRules


# Suppression reasons, in the order they are tested (the first applicable wins).
DECEASED = "deceased"
DO_NOT_CONTACT = "do_not_contact"
NO_CONSENT = "no_consent"
ADDRESS_RETURNED = "address_returned"
NO_VALID_ADDRESS = "no_valid_address"
NO_VALID_EMAIL = "no_valid_email"
NO_VALID_PHONE = "no_valid_phone"
HOUSEHOLD_DUPLICATE = "household_duplicate"
FREQUENCY_CAP = "frequency_cap"
REASONS: tuple[str, ...] = (
    DECEASED,
    DO_NOT_CONTACT,
    NO_CONSENT,
    ADDRESS_RETURNED,
    NO_VALID_ADDRESS,
    NO_VALID_EMAIL,
    NO_VALID_PHONE,
    HOUSEHOLD_DUPLICATE,
    FREQUENCY_CAP,
)

PLAN_COLUMNS: tuple[str, ...] = (
    "member_id",
    "kind",
    "channel",
    "piece_id",
    "household_id",
    "household_size",
    "priority",
)
SUPPRESSED_COLUMNS: tuple[str, ...] = ("member_id", "kind", "reason")
MEMBER_COLUMNS: tuple[str, ...] = (
    "member_id",
    "household_id",
    "address",
    "postal_code",
    "email",
    "phone",
    "preferred_channel",
    "has_consent_post",
    "has_consent_email",
    "has_consent_sms",
    "is_do_not_contact",
    "is_deceased",
)
REQUEST_COLUMNS: tuple[str, ...] = ("member_id", "kind")
CONTACT_COLUMNS: tuple[str, ...] = ("member_id", "contact_date")
CONTACT_PURPOSE = "purpose"  # optional: without it every history contact counts


MAX_ID_PART_CHARS = 48
_SAFE_TEXT = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_PART_CHARS}}}")
_SAFE_PART = f"^{_SAFE_TEXT.pattern}$"  # the same rule for Arrow's whole-text match
_UNSAFE_CHAR = re.compile(r"[^A-Za-z0-9_-]")
_HASH_CHARS = 8
_NO_SEPARATOR = pa.scalar("", pa.large_string())

# Reason codes: 0 = planned, i + 1 = REASONS[i].
_PLANNED = 0
_CODE = {reason: i + 1 for i, reason in enumerate(REASONS)}
_NO_VALID_BY_CHANNEL = np.array([_CODE[NO_VALID_ADDRESS], _CODE[NO_VALID_EMAIL],
                                 _CODE[NO_VALID_PHONE]])
_POST = CHANNELS.index("post")
_CHANNEL_SORT_KEY = np.argsort(np.argsort(np.array(CHANNELS)))  # channel code -> name order
_NOT_ALLOWED = len(CHANNELS)  # fallback position of a channel the kind does not allow

# A member's state packs everything the channel decision reads into 11 bits:
# consent (bits 0-2) and usable (3-5) per channel in CHANNELS order, preferred channel
# code + 1 (6-7, 0 = none), deceased (8), do not contact (9), post returned (10).
_USABLE_SHIFT, _PREFERRED_SHIFT, _DECEASED_BIT, _DO_NOT_CONTACT_BIT = 3, 6, 8, 9
_RETURNED_BIT = 10
_STATES = 1 << 11


@dataclass(frozen=True)
class ContactPlan:
    """The planned pieces, the suppressed requests and the number of requests."""

    plan: pd.DataFrame  # PLAN_COLUMNS
    suppressed: pd.DataFrame  # SUPPRESSED_COLUMNS
    eligible: int  # requests considered: one per (member, kind)

    def reconciliation(self) -> dict[str, int]:
        """`run.json` -> `reconciliation.contact_plan`; eligible = planned + suppressed."""
        planned, suppressed = len(self.plan), len(self.suppressed)
        if planned + suppressed != self.eligible:
            raise AssertionError(
                f"contact plan does not reconcile: {planned} planned + {suppressed} suppressed "
                f"!= {self.eligible} eligible"
            )
        return {"eligible": self.eligible, "planned": planned, "suppressed": suppressed}


# --------------------------------------------------------------------------- text helpers


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}")


def _arrow(values: pd.Series) -> pa.Array:
    """Text as one Arrow large_string array (nulls kept)."""
    array = pa.array(values.astype("string").array, type=pa.large_string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _strings(values: pa.Array) -> pd.Series:
    """An Arrow text array as a pandas `string` Series, without copying."""
    return pd.Series(pd.arrays.ArrowStringArray(values.cast(pa.large_string())))


def _numpy(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _text(values: pd.Series) -> pa.Array:
    """Stripped text, blank as null."""
    text = pc.utf8_trim_whitespace(_arrow(values))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)


def _filled(values: pd.Series) -> np.ndarray:
    """True where the text is neither missing nor blank."""
    length = pc.utf8_length(pc.utf8_trim_whitespace(_arrow(values)))
    return _numpy(pc.greater(length, 0).fill_null(False))


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if values.isna().any():
        raise ValueError(f"members.{column}: flags must be true or false, found blanks")
    return values.to_numpy(dtype=bool)


def _address_key(text: pa.Array) -> pa.Array:
    """Street address compared leniently: NFKC (full-width digits, ideographic spaces),
    lower case, without spaces."""
    folded = pc.utf8_lower(pc.utf8_normalize(text, form="NFKC"))
    return pc.replace_substring(folded, " ", "")


def _positions(values: pa.Array, ids: pa.Array) -> np.ndarray:
    """Position of each value in `ids` (-1 when absent), by an Arrow hash lookup."""
    return _numpy(pc.index_in(values, value_set=ids).fill_null(-1)).astype(np.int64)


# --------------------------------------------------------------------------- members


@dataclass(frozen=True)
class _Members:
    """Per-member facts, members in member_id (code-point) order.

    A member's position is its rank: "lowest member_id" is "lowest position", and
    reading sorted positions from the Arrow arrays reads them in sequence.
    """

    ids: pa.Array  # large_string, sorted
    household_id: pa.Array  # large_string, stripped, blank as null
    state: np.ndarray  # int64, the bits described at _STATES
    household: np.ndarray  # int64 code of the household at its address, -1 when none


def _members(members: pd.DataFrame, returned: pd.Series | None = None) -> _Members:
    _require(members, MEMBER_COLUMNS, "members")
    ids = _arrow(members["member_id"])
    if ids.null_count:
        raise ValueError("members.member_id: blank member ids")
    order = _numpy(pc.sort_indices(ids))
    ranked = ids.take(pa.array(order))
    repeated = _numpy(pc.equal(ranked[1:], ranked[:-1]))
    if repeated.any():
        example = ranked[int(repeated.argmax())].as_py()
        raise ValueError(f"members.member_id: duplicates such as {example!r}")

    address = _text(members["address"])
    postal = _text(members["postal_code"])
    household_id = _text(members["household_id"])
    has_post = _numpy(pc.is_valid(address)) & _numpy(
        pc.match_substring_regex(postal, r"^[0-9]{6}$").fill_null(False)
    )
    came_back = np.zeros(len(ids), dtype=bool)
    if returned is not None and len(returned):
        came_back = _numpy(pc.is_in(ids, value_set=_arrow(pd.Series(returned))).fill_null(False))
    usable = (has_post & ~came_back, _filled(members["email"]), takes_sms(members["phone"]))

    preferred_text = _text(members["preferred_channel"])
    preferred = pc.index_in(preferred_text, value_set=pa.array(CHANNELS, pa.large_string()))
    unknown = _numpy(pc.and_(pc.is_valid(preferred_text), pc.is_null(preferred)))
    if unknown.any():
        example = preferred_text[int(unknown.argmax())].as_py()
        raise ValueError(f"members.preferred_channel: unknown channel {example!r}")

    state = (_numpy(preferred.fill_null(-1)).astype(np.int64) + 1) << _PREFERRED_SHIFT
    for i, channel in enumerate(CHANNELS):
        state |= _flag(members, f"has_consent_{channel}").astype(np.int64) << i
        state |= usable[i].astype(np.int64) << (_USABLE_SHIFT + i)
    state |= _flag(members, "is_deceased").astype(np.int64) << _DECEASED_BIT
    state |= _flag(members, "is_do_not_contact").astype(np.int64) << _DO_NOT_CONTACT_BIT
    state |= came_back.astype(np.int64) << _RETURNED_BIT

    household = np.full(len(ids), -1, dtype=np.int64)
    at_home = np.flatnonzero(_numpy(pc.is_valid(household_id)) & has_post)
    if len(at_home):
        rows = pa.array(at_home)
        key = pc.binary_join_element_wise(
            household_id.take(rows),
            postal.take(rows),
            _address_key(address.take(rows)),
            pa.scalar("\x1f", pa.large_string()),
        )
        household[at_home] = _numpy(pc.dictionary_encode(key).indices)

    return _Members(
        ids=ranked,
        household_id=household_id.take(pa.array(order)),
        state=state[order],
        household=household[order],
    )


# --------------------------------------------------------------------------- decisions


def _decision_table(fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Channel code and reason code for every (kind, member state), each (kinds, _STATES).

    `fallback[k, c]` is channel c's place in kind k's fallback order (_NOT_ALLOWED when
    not allowed). Steps 1 and 2 of the module notes, evaluated once per possible
    state rather than once per request.
    """
    state = np.arange(_STATES)
    bit = np.arange(len(CHANNELS))
    consent = ((state[:, None] >> bit) & 1).astype(bool)  # (states, channels)
    usable = ((state[:, None] >> (_USABLE_SHIFT + bit)) & 1).astype(bool)
    preferred = ((state >> _PREFERRED_SHIFT) & 3) - 1
    deceased = ((state >> _DECEASED_BIT) & 1).astype(bool)
    do_not_contact = ((state >> _DO_NOT_CONTACT_BIT) & 1).astype(bool)
    came_back = ((state >> _RETURNED_BIT) & 1).astype(bool)

    allowed = fallback < _NOT_ALLOWED
    consented = allowed[:, None, :] & consent[None, :, :]  # (kinds, states, channels)
    reachable = consented & usable[None, :, :]
    first_ok = np.where(reachable, fallback[:, None, :], _NOT_ALLOWED).argmin(axis=2)
    has_preference = (preferred >= 0) & (preferred < len(CHANNELS))
    preferred_ok = has_preference & reachable[:, state, np.clip(preferred, 0, len(CHANNELS) - 1)]
    channel = np.where(preferred_ok, preferred, first_ok)

    single = consented.sum(axis=2) == 1
    no_valid = np.where(single, _NO_VALID_BY_CHANNEL[consented.argmax(axis=2)],
                        _CODE[NO_VALID_ADDRESS])
    shape = channel.shape
    returned = consented[:, :, _POST] & came_back[None, :]
    reason = np.select(
        [np.broadcast_to(deceased, shape), np.broadcast_to(do_not_contact, shape),
         ~consented.any(axis=2), returned & ~reachable.any(axis=2), ~reachable.any(axis=2)],
        [_CODE[DECEASED], _CODE[DO_NOT_CONTACT], _CODE[NO_CONSENT], _CODE[ADDRESS_RETURNED],
         no_valid],
        _PLANNED,
    )
    return channel.astype(np.int8), reason.astype(np.int8)


def _apply_cap(
    member: np.ndarray,
    kind_code: np.ndarray,
    group: np.ndarray,
    reason: np.ndarray,
    used: np.ndarray,
    cap: int,
    granting_order: np.ndarray,
) -> np.ndarray:
    """Steps 3 and 4: grant pieces kind by kind; return household_size per request.

    Marks `household_duplicate` and `frequency_cap` in `reason` and counts granted
    pieces into `used` (both in place). `group` is the request's household group
    (-1 for a personal piece). One vectorised pass per kind, never a loop per member.
    """
    household_size = np.ones(len(member), dtype=np.int64)
    open_kind = np.where(reason == _PLANNED, kind_code, -1)
    for kind in granting_order:
        rows = np.flatnonzero(open_kind == kind)  # at most one row per member
        who, shared = member[rows], group[rows] >= 0
        room = used[who] < cap
        granted = room & ~shared
        reason[rows[~room & ~shared]] = _CODE[FREQUENCY_CAP]
        together = np.flatnonzero(shared)
        if len(together):
            # Per group: members with room first, then the lowest member_id (= position).
            by = together[np.lexsort((who[together], ~room[together], group[rows[together]]))]
            starts = np.flatnonzero(np.r_[True, np.diff(group[rows[by]]) != 0])
            sizes = np.diff(np.r_[starts, len(by)])
            sent = room[by[starts]]  # a group gets its piece when its first member has room
            in_sent_group = np.repeat(sent, sizes)
            first = np.zeros(len(by), dtype=bool)
            first[starts] = True
            reason[rows[by[~first & in_sent_group]]] = _CODE[HOUSEHOLD_DUPLICATE]
            reason[rows[by[~in_sent_group]]] = _CODE[FREQUENCY_CAP]
            kept = by[first & in_sent_group]
            granted[kept] = True
            household_size[rows[kept]] = sizes[sent]
        used[who[granted]] += 1
    return household_size


# --------------------------------------------------------------------------- piece ids


def safe_text(text: str) -> str:
    """One text reduced to `[A-Za-z0-9_-]{1,48}`: kept when it already is, else its
    unsafe characters as `_`, cut to 48, and `_` + 8 hex of the original's SHA-256 (so
    different texts never meet). See the module notes on `piece_id`."""
    if _SAFE_TEXT.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    return f"{_UNSAFE_CHAR.sub('_', text)[:MAX_ID_PART_CHARS]}_{digest}"


def safe_part(values: pd.Series) -> pd.Series:
    """`safe_text` of each value (NA as the empty text). Vectorised: only the texts that
    have to change go through `safe_text` one by one."""
    text = pc.fill_null(_arrow(values), "")
    changed = ~_numpy(pc.match_substring_regex(text, _SAFE_PART))
    if not changed.any():
        return _strings(text)
    mask = pa.array(changed)
    replaced = pa.array([safe_text(v) for v in text.filter(mask).to_pylist()],
                        pa.large_string())
    return _strings(pc.replace_with_mask(text, mask, replaced))


def _check_distinct(ids: pa.Array, parts: pa.Array) -> None:
    """Distinct member ids must keep distinct id parts (only a changed part can clash)."""
    changed = _numpy(pc.not_equal(ids, parts))
    if not changed.any():
        return
    mine = parts.filter(pa.array(changed))
    clash = _numpy(pc.is_in(mine, value_set=parts.filter(pa.array(~changed))))
    if clash.any() or pc.count_distinct(mine).as_py() != len(mine):
        raise ValueError("piece_id clash: two member ids reduce to the same file-name part")


# --------------------------------------------------------------------------- the plan


def _counted_purpose(purposes: pd.Series, cap_purposes: list[str]) -> np.ndarray:
    """True where a history contact's purpose counts against the cap: blank, one of
    `cap_purposes`, or a kind whose family is one (`festival-mid-autumn`)."""
    # Decided once per distinct purpose (a handful among a million contacts: a regular
    # expression over every contact took 0.3 s).
    encoded = pc.dictionary_encode(_text(purposes))
    text = encoded.dictionary
    family = pc.replace_substring_regex(text, "-.*$", "")
    wanted = pa.array(cap_purposes, pa.large_string())
    counted = pc.or_(pc.is_in(text, value_set=wanted), pc.is_in(family, value_set=wanted))
    decided = np.append(_numpy(counted.fill_null(False)), True)  # last: a blank purpose
    return decided[_numpy(encoded.indices.fill_null(len(text)))]


def _contacts_in_window(contacts: pd.DataFrame | None, as_of: date, window_days: int,
                        cap_purposes: list[str] | None = None) -> pa.Array:
    """member_id of every history contact dated in the `window_days` days that end with
    the cut-off day `as_of` (data up to the end of the cut-off day counts) whose purpose
    counts (`_counted_purpose`; every contact when there is no purpose column or
    `cap_purposes` is None)."""
    if contacts is None or not len(contacts) or window_days == 0:
        return pa.array([], pa.large_string())
    _require(contacts, CONTACT_COLUMNS, "contacts")
    when = contacts["contact_date"]
    if not pd.api.types.is_datetime64_any_dtype(when):
        when = pd.to_datetime(when)
    if isinstance(when.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"contacts.contact_date: expected dates, got {when.dtype}")
    day = when.to_numpy().astype("datetime64[D]")
    end = np.datetime64(as_of + timedelta(days=1), "D")
    start = end - np.timedelta64(window_days, "D")
    in_window = (day >= start) & (day < end)
    if cap_purposes is not None and CONTACT_PURPOSE in contacts:
        in_window &= _counted_purpose(contacts[CONTACT_PURPOSE], cap_purposes)
    return _arrow(contacts["member_id"]).filter(pa.array(in_window))


def _empty_frame(columns: tuple[str, ...], ints: tuple[str, ...] = ()) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series([], dtype="int64" if c in ints else "string") for c in columns}
    )


def plan_contacts(
    members: pd.DataFrame,
    requests: pd.DataFrame,
    contacts: pd.DataFrame | None,
    edition: Edition,
    rules: ContactRules | None = None,
    returned: pd.Series | None = None,
) -> ContactPlan:
    """Plan one edition's pieces; see the module notes for every rule.

    `members`: staged members (MEMBER_COLUMNS at least). `requests`: member_id, kind,
    one row per pair. `contacts`: member_id, contact_date and optionally purpose
    (history; None for none).
    `edition`: the edition month (piece ids) and the data cut-off (the cap's history).
    `returned`: member ids whose post came back to the address they still have.
    Raises `ValueError` (naming the value) for a request of an unknown member, a
    repeated (member_id, kind), a kind the rules do not cover, a repeated member_id,
    a blank flag or an unknown `preferred_channel`: staging should have caught them.

    Vectorised: every per-member and per-request step runs on whole Arrow or numpy
    columns; the only Python loops are over the handful of kinds (and over member ids
    that must be hashed for `piece_id`).
    """
    rules = rules or ContactRules()
    edition_start = edition.first_day
    people = _members(members, returned)
    _require(requests, REQUEST_COLUMNS, "requests")
    requested, kind_text = _arrow(requests["member_id"]), _arrow(requests["kind"])
    if requested.null_count or kind_text.null_count:
        raise ValueError("requests: blank member_id or kind")

    # Requests as integer codes: member position (= rank) and kind code (kinds in name order).
    encoded = pc.dictionary_encode(kind_text)
    kinds = sorted(encoded.dictionary.to_pylist())
    to_sorted = np.array([kinds.index(k) for k in encoded.dictionary.to_pylist()], dtype=np.int64)
    kind_code = to_sorted[_numpy(encoded.indices)] if kinds else np.zeros(0, dtype=np.int64)
    history = _contacts_in_window(contacts, edition.as_of, rules.cap_window_days,
                                  rules.cap_purposes)
    found = _positions(pa.concat_arrays([requested, history]), people.ids)  # one hash table
    member, history_member = found[: len(requested)], found[len(requested):]
    if (member < 0).any():
        example = requested[int(np.argmax(member < 0))].as_py()
        raise ValueError(f"requests: member_id {example!r} is not among the members")
    n_kinds = max(len(kinds), 1)
    pair = np.sort(member * n_kinds + kind_code)
    twice = np.flatnonzero(pair[1:] == pair[:-1])
    if len(twice):
        who, kind = divmod(int(pair[twice[0]]), n_kinds)
        example = (people.ids[who].as_py(), kinds[kind])
        raise ValueError(f"requests: {example!r} is requested twice")

    # Steps 1 and 2: channel and early suppression from a (kind, member state) table.
    fallback = np.full((len(kinds), len(CHANNELS)), _NOT_ALLOWED, dtype=np.int64)
    for k, kind in enumerate(kinds):
        for place, channel in enumerate(rules.allowed_channels(kind)):
            fallback[k, CHANNELS.index(channel)] = place
    channel_table, reason_table = _decision_table(fallback)
    cell = kind_code * _STATES + people.state[member]
    channel, reason = channel_table.ravel()[cell], reason_table.ravel()[cell]

    # Steps 3 and 4: household groups (one per household at an address and kind, post
    # only), then the cap, granting kinds by priority and then name.
    is_household_kind = np.array([rules.is_household_kind(k) for k in kinds], dtype=bool)
    home = people.household[member]
    grouped = (reason == _PLANNED) & (channel == _POST) & is_household_kind[kind_code] & (home >= 0)
    group = np.where(grouped, home * n_kinds + kind_code, -1)
    used = np.bincount(history_member[history_member >= 0], minlength=len(people.ids))
    priority_by_kind = np.array([rules.priority_of(k) for k in kinds], dtype=np.int64)
    granting_order = np.lexsort((np.arange(len(kinds)), priority_by_kind))
    household_size = _apply_cap(
        member, kind_code, group, reason, used, rules.max_pieces_per_month, granting_order
    )

    return _assemble(people, kinds, member, kind_code, channel, reason, household_size,
                     priority_by_kind, edition_start)


def _assemble(
    people: _Members,
    kinds: list[str],
    member: np.ndarray,
    kind_code: np.ndarray,
    channel: np.ndarray,
    reason: np.ndarray,
    household_size: np.ndarray,
    priority_by_kind: np.ndarray,
    edition_start: date,
) -> ContactPlan:
    # One distinct integer sort key per row: kind (name order), channel, member_id.
    n_members = max(len(people.ids), 1)
    kind_key = kind_code * (len(CHANNELS) * n_members)
    planned = np.flatnonzero(reason == _PLANNED)
    channel_key = _CHANNEL_SORT_KEY[channel[planned]] * n_members
    planned = planned[np.argsort(kind_key[planned] + channel_key + member[planned])]
    dropped = np.flatnonzero(reason != _PLANNED)
    dropped = dropped[np.argsort(kind_key[dropped] + member[dropped])]

    def take(values: pa.Array, rows: np.ndarray) -> pa.Array:
        return values.take(pa.array(member[rows]))

    def lookup(texts: list[str], codes: np.ndarray) -> pa.Array:
        return pa.array(texts, pa.large_string()).take(pa.array(codes))

    if len(planned):
        kind_parts = safe_part(pd.Series(kinds, dtype="string"))
        prefixes = [f"{edition_start:%Y%m}-{part}-" for part in kind_parts]
        member_part = _arrow(safe_part(_strings(people.ids)))
        _check_distinct(people.ids, member_part)
        piece_id = pc.binary_join_element_wise(
            lookup(prefixes, kind_code[planned]), take(member_part, planned), _NO_SEPARATOR
        )
        plan = pd.DataFrame({
            "member_id": _strings(take(people.ids, planned)),
            "kind": _strings(lookup(kinds, kind_code[planned])),
            "channel": _strings(lookup(list(CHANNELS), channel[planned])),
            "piece_id": _strings(piece_id),
            "household_id": _strings(take(people.household_id, planned)),
            "household_size": household_size[planned],
            "priority": priority_by_kind[kind_code[planned]],
        })
        # Distinct (member, kind) pairs and distinct member parts give distinct ids,
        # unless one kind's prefix starts another's (kinds `a` and `a-b`): then compare.
        overlapping = any(a != b and b.startswith(a) for a in prefixes for b in prefixes)
        clashes = plan["piece_id"][plan["piece_id"].duplicated()] if overlapping else ()
        if len(clashes):
            raise ValueError(f"piece_id clash: {clashes.iloc[0]!r}")
    else:
        plan = _empty_frame(PLAN_COLUMNS, ints=("household_size", "priority"))
    if len(dropped):
        suppressed = pd.DataFrame({
            "member_id": _strings(take(people.ids, dropped)),
            "kind": _strings(lookup(kinds, kind_code[dropped])),
            "reason": _strings(lookup(list(REASONS), reason[dropped] - 1)),
        })
    else:
        suppressed = _empty_frame(SUPPRESSED_COLUMNS)
    result = ContactPlan(plan=plan, suppressed=suppressed, eligible=len(member))
    result.reconciliation()  # raises when a request went missing or was counted twice
    return result
