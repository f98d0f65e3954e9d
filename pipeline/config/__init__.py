"""`club.yaml`: the club's settings as one typed model, read once per run.

Every key has a default; an unknown key or a value of the wrong type is an error
that names the key (`ConfigError`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.config.calendar import WESTERN_DATES
from pipeline.config.calls import CallRules
from pipeline.config.care import CareRules, Costs
from pipeline.config.complaints import SlaTargets
from pipeline.config.contact import ContactRules
from pipeline.config.segments import (
    DEFAULT_INDICATORS,
    DEFAULT_SEGMENT_RULES,
    DEFAULT_TIERS,
    Indicator,
    LifecycleThresholds,
    SegmentRule,
    TierRule,
    check_indicators,
    check_segment_rules,
    check_tiers,
)
from pipeline.settings import PATHS


class ConfigError(Exception):
    """club.yaml cannot be used; the message names the file and the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Model):
    lines: list[str] = Field(default_factory=list)
    postal_code: str = ""


class Club(_Model):
    name: str = "ClubPress Owners' Club"
    name_zh: str = "会员俱乐部"
    sender: str = "Member Services"
    sender_zh: str = "会员服务中心"
    return_address: Address = Address()
    logo: str | None = None
    phone: str = ""
    email: str = ""
    # The SMS signature Chinese rules require, written in 【】 at the start of every SMS
    # (blank: name_zh).
    sms_signature: str = ""


class Scorecard(_Model):
    """The weighted relationship scorecard: indicators with weights, then tiers."""

    indicators: list[Indicator] = list(DEFAULT_INDICATORS)
    tiers: list[TierRule] = list(DEFAULT_TIERS)

    @field_validator("indicators")
    @classmethod
    def _indicators(cls, value: list[Indicator]) -> list[Indicator]:
        check_indicators(value)
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[TierRule]) -> list[TierRule]:
        check_tiers(value)
        return value


class Birthdays(_Model):
    milestones: list[int] = [60, 70, 80, 90, 100]


class Anniversaries(_Model):
    """Greet on membership (join_date) and ownership (move_in_date) anniversaries.

    `*_every`: every N years (1 = each year); 0 turns the kind off.
    """

    membership_every: int = Field(1, ge=0)
    ownership_every: int = Field(1, ge=0)


class CustomDay(_Model):
    """A club date: `when` is a yearly "MM-DD" or a one-off "YYYY-MM-DD"."""

    when: str
    name: str
    name_en: str

    @field_validator("when")
    @classmethod
    def _when(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"(\d{4}-)?\d{2}-\d{2}", value):
            raise ValueError("expected MM-DD (yearly) or YYYY-MM-DD (once)")
        return value


GREETING_FESTIVALS = ("new-year", "spring", "qingming", "labour-day", "dragon-boat",
                      "mid-autumn", "national-day", "double-ninth")


class Calendar(_Model):
    western: list[str] = []  # Western dates to list as festivals, e.g. christmas
    custom: list[CustomDay] = []
    # Festivals greeted in their month (keys of FESTIVAL_KEYS or custom slugs): the
    # seven of Chinese club practice, and 重阳 for the members `festival_min_age` names.
    greeting_festivals: list[str] = list(GREETING_FESTIVALS)
    # Festival key -> the age (on the festival day) a member must have reached to be
    # greeted; a member without a birth date is not greeted then.
    festival_min_age: dict[str, int] = {"double-ninth": 60}

    @field_validator("western")
    @classmethod
    def _western(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in WESTERN_DATES]
        if unknown:
            raise ValueError(f"unknown western date {unknown[0]!r}; expected one of "
                             f"{', '.join(sorted(WESTERN_DATES))}")
        return value


class Complaints(_Model):
    sla: SlaTargets = SlaTargets()


class EnvelopeWindow(_Model):
    """Where the address shows through a window envelope, from the sheet's top left (mm)."""

    left_mm: float = Field(20, ge=0)
    top_mm: float = Field(45, ge=0)
    width_mm: float = Field(90, gt=0)
    height_mm: float = Field(45, gt=0)


class Print(_Model):
    """Paper, envelopes and batches for the mailing house."""

    paper: Literal["A4", "A5", "Letter"] = "A4"
    envelope_window: EnvelopeWindow = EnvelopeWindow()
    batch_size: int = Field(500, ge=1)  # pieces per batch file
    duplex: bool = False  # printed on both sides: every piece starts on a new sheet
    lead_days: int = Field(7, ge=0)  # a greeting is posted this many days before its day
    drops: Literal["monthly", "weekly"] = "monthly"  # one drop per edition, or per week


OfferTier = Literal["all", "key", "important", "ordinary"]
OfferLanguage = Literal["zh-CN", "zh-TW", "en"]
OfferTexts = dict[OfferTier, dict[OfferLanguage, str]]


class Offers(_Model):
    """What the club has set up to offer, per content and tier, in each member language.

    Each key is a part of the newsletter (the birthday note or a content block); its
    value maps a tier (`key`, `important`, `ordinary`, or `all` for every tier without
    its own) to the sentence per language (`zh-CN`, `zh-TW`, `en`). A member whose tier
    and language have no sentence gets none: a document never promises what is not set.
    """

    birthday: OfferTexts = {}
    welcome: OfferTexts = {}
    win_back: OfferTexts = {}
    welcome_back: OfferTexts = {}
    thank_you: OfferTexts = {}
    regular: OfferTexts = {}

    def text(self, content: str, tier: str, lang: str) -> str:
        """The sentence for `content` (birthday or a content block), tier and language; ''."""
        by_tier: dict = getattr(self, content)
        chosen = by_tier.get(tier, by_tier.get("all", {}))
        return chosen.get(lang, "").strip()


def _window(value: str) -> str:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)", value)
    if not match or match.group(1, 2) >= match.group(3, 4):
        raise ValueError("expected HH:MM-HH:MM, the start before the end, e.g. 09:00-20:00")
    return value


class Sms(_Model):
    """SMS greetings: the budget in segments, the sending window and the opt-out phrase
    that ends marketing texts (festivals), per language."""

    max_segments: int = Field(1, ge=1)
    send_window: str = "09:00-20:00"  # local time, for the gateway
    opt_out: dict[str, str] = {"zh-CN": "回T退订", "zh-TW": "回T退訂", "en": "Reply T to opt out"}

    @field_validator("send_window")
    @classmethod
    def _send_window(cls, value: str) -> str:
        return _window(value)

    @field_validator("opt_out")
    @classmethod
    def _every_language(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in ("zh-CN", "zh-TW", "en") if not value.get(lang, "").strip()]
        if missing:
            raise ValueError(f"give the opt-out phrase for {', '.join(missing)}")
        return value


class Email(_Model):
    """E-mail pieces: the sender and the unsubscribe addresses of every message.

    `from_address` and `unsubscribe_mailto` default to `club.email`; `unsubscribe_url`
    (https, `{piece_id}` is replaced) also gives the RFC 8058 one-click header."""

    from_address: str = ""
    unsubscribe_mailto: str = ""
    unsubscribe_url: str = ""

    @field_validator("from_address", "unsubscribe_mailto")
    @classmethod
    def _address(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value

    @field_validator("unsubscribe_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if value and not re.fullmatch(r"https://[^\s<>\"]+", value):
            raise ValueError("expected an https:// URL without spaces or <> (RFC 8058 "
                             "one-click unsubscribe)")
        return value


class Output(_Model):
    """The files a run writes: `private` makes editions, the run's work folders and the
    warehouse readable by their owner only (files 0600, folders 0700)."""

    private: bool = True


class Schedule(_Model):
    """When the monthly run starts, in the club's time zone, for the next month's edition."""

    day: int = Field(20, ge=1, le=28)
    hour: int = Field(6, ge=0, le=23)
    minute: int = Field(0, ge=0, le=59)
    running: bool = True  # on as soon as `dagster dev` (or the daemon) starts


class Orchestration(_Model):
    """What scheduled and inbox-triggered runs read and write. Relative paths are below
    the project folder; blank means the bundled sample, output/ and data/warehouse.duckdb."""

    schedule: Schedule = Schedule()
    exports: str = ""  # the folder scheduled runs read
    out: str = ""
    warehouse: str = ""
    inbox: str = ""  # a folder to watch for new export folders; blank: no sensor runs
    inbox_settle_seconds: int = Field(60, ge=0)  # a folder must be this quiet to be read
    inbox_interval_seconds: int = Field(60, ge=5)  # how often the sensor looks


class ClubConfig(_Model):
    club: Club = Club()
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    phone_region: str = "CN"
    segments: list[SegmentRule] = list(DEFAULT_SEGMENT_RULES)
    scorecard: Scorecard = Scorecard()
    lifecycle: LifecycleThresholds = LifecycleThresholds()
    birthdays: Birthdays = Birthdays()
    anniversaries: Anniversaries = Anniversaries()
    calendar: Calendar = Calendar()
    complaints: Complaints = Complaints()
    print: Print = Print()
    contact: ContactRules = ContactRules()
    sms: Sms = Sms()
    email: Email = Email()
    offers: Offers = Offers()
    calls: CallRules = CallRules()
    care: CareRules = CareRules()
    costs: Costs = Costs()
    output: Output = Output()
    orchestration: Orchestration = Orchestration()

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: list[SegmentRule]) -> list[SegmentRule]:
        check_segment_rules(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


def _key_path(location: tuple) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def load_config(path: Path | None = None) -> ClubConfig:
    """Read and validate club.yaml (the bundled one when `path` is None)."""
    path = path or PATHS.default_config
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return ClubConfig.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{_key_path(e['loc'])}: {_friendly(e)}" for e in error.errors(include_url=False)
        )
        raise ConfigError(f"{path}: {problems}") from None


def _friendly(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    return error["msg"]
