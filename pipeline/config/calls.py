"""`club.yaml` `calls`: which members staff phone, and who calls them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


Reason = Literal["complaint_follow_up", "churn_risk", "milestone_birthday",
                 "key_member_birthday", "address_check", "unreachable_valuable"]


REASONS: tuple[str, ...] = ("complaint_follow_up", "churn_risk", "milestone_birthday",
                            "key_member_birthday", "address_check", "unreachable_valuable")


class Owners(BaseModel):
    """Who calls a member, by tier, when no complaint owner is named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = "客户经理"
    important: str = "会员服务中心"
    ordinary: str = "会员服务中心"


class CallRules(BaseModel):
    """`club.yaml` `calls`: which members staff phone this edition (see the module notes).

    - `reasons`: the reasons to call for, most urgent first; a reason left out is off.
    - `follow_up_days`: complaints resolved within this many days before as_of (14).
    - `due_days`: calls without a date are due by this day of the edition month (7).
    - `birthday_tiers`: tiers whose ordinary birthdays get a call (default key).
    - `owners`: the default caller per tier.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    reasons: list[Reason] = list(REASONS)
    follow_up_days: int = Field(14, ge=0)
    due_days: int = Field(7, ge=1, le=28)
    birthday_tiers: list[Literal["key", "important", "ordinary"]] = ["key"]
    owners: Owners = Owners()

    @field_validator("reasons")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"a reason is listed twice: {value}")
        return value
