"""`complaints.sla` in club.yaml: the service-level targets of complaint handling.

Read by the complaint marts (`sql/marts/complaint_stats.sql`, `complaint_backlog.sql`)
and the working-day table (`sql/marts/dim_working_day.sql`).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PositiveHours = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class SeverityTargets(BaseModel):
    """Targets for one severity; a target left out falls back to the general one."""

    model_config = ConfigDict(extra="forbid")

    first_response_hours: PositiveHours | None = None
    resolution_hours: PositiveHours | None = None


class SlaTargets(BaseModel):
    """Complaint service-level targets, read from `club.yaml`.

    `severity_overrides` maps a severity as it appears in the export (e.g. `紧急`) to
    its own targets. `working_hours` makes every SLA clock count working hours instead
    of calendar hours: the time inside `[working_day_start, working_day_end)` on the
    official working days (weekdays, less statutory days off, plus make-up workdays).
    """

    model_config = ConfigDict(extra="forbid")

    first_response_hours: PositiveHours = 24.0
    resolution_hours: PositiveHours = 72.0
    severity_overrides: dict[str, SeverityTargets] = Field(default_factory=dict)
    working_hours: bool = False
    working_day_start: time = time(9, 0)
    working_day_end: time = time(18, 0)

    @field_validator("severity_overrides")
    @classmethod
    def _strip_keys(cls, value: dict[str, SeverityTargets]) -> dict[str, SeverityTargets]:
        return {key.strip(): targets for key, targets in value.items()}

    @field_validator("working_day_start", "working_day_end", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 17:30 as the number 1050 (base 60), which pydantic
        # would take for seconds after midnight (00:17:30).
        if isinstance(value, int | float):
            raise ValueError("write the time in quotes, e.g. '17:30'")
        return value

    @field_validator("working_day_start", "working_day_end")
    @classmethod
    def _local_whole_seconds(cls, value: time) -> time:
        # dim_working_day counts working seconds, and exports carry local wall-clock time.
        if value.tzinfo is not None:
            raise ValueError("must be a local time without a zone, e.g. 09:00")
        if value.microsecond:
            raise ValueError("must be whole seconds, e.g. 09:00 or 17:30:00")
        return value

    @model_validator(mode="after")
    def _window_not_empty(self) -> SlaTargets:
        # An overnight or empty window would silently count no working time at all.
        if not self.working_day_start < self.working_day_end:
            raise ValueError(f"working_day_start {self.working_day_start} must be before "
                             f"working_day_end {self.working_day_end}")
        return self

    def targets_for(self, severity: str | None) -> tuple[float, float]:
        """(first_response_hours, resolution_hours) for one severity."""
        override = self.severity_overrides.get((severity or "").strip())
        first = override.first_response_hours if override else None
        resolution = override.resolution_hours if override else None
        return (
            self.first_response_hours if first is None else first,
            self.resolution_hours if resolution is None else resolution,
        )

    def severity_rows(self) -> list[tuple[str, float, float]]:
        """(severity, first_response_hours, resolution_hours) of every override, its
        missing targets filled from the general ones (the table the marts join)."""
        return [(key, *self.targets_for(key)) for key in self.severity_overrides]
