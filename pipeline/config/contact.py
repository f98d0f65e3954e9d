"""`club.yaml` `contact`: channels per kind, priorities, the frequency cap, households."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


Channel = Literal["post", "email", "sms"]


CHANNELS: tuple[str, ...] = ("post", "email", "sms")


DEFAULT_CHANNELS: dict[str, list[str]] = {
    "birthday": ["post", "email", "sms"],
    "anniversary": ["post", "email"],
    # Post, the expensive channel, only for 春节 and 中秋; e-mail and SMS for the others.
    "festival": ["email", "sms"],
    "festival-spring": ["post", "email", "sms"],
    "festival-mid-autumn": ["post", "email", "sms"],
    "newsletter": ["email", "post"],
}


DEFAULT_PRIORITY: list[str] = ["birthday", "festival", "anniversary", "newsletter"]


DEFAULT_HOUSEHOLD_KINDS: list[str] = ["festival", "newsletter", "anniversary-ownership"]


# History purposes that count against the frequency cap: the club's greetings and
# newsletters, by kind family and by the words CRMs use for them. Service contacts
# (缴费提醒, 活动邀请, 满意度回访, a staff call) do not crowd out a birthday greeting.
DEFAULT_CAP_PURPOSES: list[str] = [
    "birthday", "festival", "anniversary", "newsletter",
    "生日贺卡", "生日祝福", "生日问候", "节日贺卡", "节日问候", "周年贺卡", "周年问候",
    "会刊", "电子会刊", "会员通讯",
]


def _copy(channels: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: list(allowed) for key, allowed in channels.items()}


def kind_family(kind: str) -> str:
    """`festival-mid-autumn` -> `festival`; `newsletter` -> `newsletter`."""
    return kind.split("-", 1)[0]


class ContactRules(BaseModel):
    """Who may be contacted how, and how often (`club.yaml`: contact caps).

    - `channels`: allowed channels per kind family (or full kind), in fallback order.
      Keys given are merged over the defaults, so overriding one family keeps the
      others: birthday [post, email, sms], anniversary [post, email],
      festival [email, sms] with festival-spring and festival-mid-autumn
      [post, email, sms], newsletter [email, post].
    - `priority`: kind families (or full kinds), highest first; decides which pieces the
      frequency cap keeps. Must rank every `channels` key (itself or its family).
      Default [birthday, festival, anniversary, newsletter].
    - `max_pieces_per_month`: at most this many pieces per member, counting the
      edition's planned pieces and the history contacts in the window. Default 3.
    - `cap_window_days`: the history window, in days ending with the cut-off day. Default 30.
    - `household_kinds`: families or kinds sent once per household at one address, by
      post. Default [festival, newsletter, anniversary-ownership].
    - `cap_purposes`: the history contact purposes that count against the cap (a
      purpose matches itself or its kind family; blank always counts). Default: the
      greeting and newsletter families and their usual Chinese names (生日贺卡, 节日问候,
      会刊, ...).
    """

    model_config = ConfigDict(extra="forbid")

    channels: dict[str, list[Channel]] = Field(default_factory=lambda: _copy(DEFAULT_CHANNELS))
    priority: list[str] = Field(default_factory=lambda: list(DEFAULT_PRIORITY))
    max_pieces_per_month: int = Field(3, ge=0)
    cap_window_days: int = Field(30, ge=0)
    household_kinds: list[str] = Field(default_factory=lambda: list(DEFAULT_HOUSEHOLD_KINDS))
    cap_purposes: list[str] = Field(default_factory=lambda: list(DEFAULT_CAP_PURPOSES))

    @field_validator("channels")
    @classmethod
    def _merge_channels(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, allowed in value.items():
            if not allowed:
                raise ValueError(f"channels.{key}: give at least one channel")
            if len(set(allowed)) != len(allowed):
                raise ValueError(f"channels.{key}: a channel is listed twice: {allowed}")
        return {**_copy(DEFAULT_CHANNELS), **value}

    @field_validator("priority", "household_kinds")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"listed twice: {repeated}")
        return value

    @model_validator(mode="after")
    def _families_covered(self) -> ContactRules:
        ranked = set(self.priority)
        unranked = sorted(
            k for k in self.channels if k not in ranked and kind_family(k) not in ranked
        )
        if unranked:
            raise ValueError(f"priority: no rank for {unranked}; list every key of `channels`")
        families = {kind_family(k) for k in self.channels}
        unknown = sorted(k for k in self.household_kinds if kind_family(k) not in families)
        if unknown:
            raise ValueError(f"household_kinds: {unknown} name no family in `channels`")
        return self

    def allowed_channels(self, kind: str) -> tuple[str, ...]:
        """The kind's channels in fallback order; `ValueError` for a kind without rules."""
        allowed = self.channels.get(kind) or self.channels.get(kind_family(kind))
        if allowed is None:
            raise ValueError(
                f"contact rules: no channels for kind {kind!r} (family {kind_family(kind)!r})"
            )
        return tuple(allowed)

    def priority_of(self, kind: str) -> int:
        """1 for the highest priority; the kind itself first, then its family."""
        for key in (kind, kind_family(kind)):
            if key in self.priority:
                return self.priority.index(key) + 1
        raise ValueError(f"contact rules: no priority for kind {kind!r}")

    def is_household_kind(self, kind: str) -> bool:
        return kind in self.household_kinds or kind_family(kind) in self.household_kinds
