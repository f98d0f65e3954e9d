"""`club.yaml` `care` and `costs`: how care is measured and what a piece costs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CareRules(BaseModel):
    """`club.yaml` `care`: the months looked back on, the response window, the smallest
    group worth comparing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    months: int = Field(6, ge=1, le=36)
    response_days: int = Field(30, ge=1)
    min_group: int = Field(30, ge=1)


class Costs(BaseModel):
    """`club.yaml` `costs`: unit costs in CNY; 0 means not known (no cost is shown)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    print_cny: float = Field(0, ge=0)  # printing and enveloping one post piece
    postage_cny: float = Field(0, ge=0)  # per post piece
    sms_cny: float = Field(0, ge=0)  # per SMS
    email_cny: float = Field(0, ge=0)  # per e-mail

    def per_piece(self, channel: str) -> float:
        return {"post": self.print_cny + self.postage_cny, "sms": self.sms_cny,
                "email": self.email_cny}.get(channel, 0.0)

    @property
    def is_set(self) -> bool:
        return any((self.print_cny, self.postage_cny, self.sms_cny, self.email_cny))
