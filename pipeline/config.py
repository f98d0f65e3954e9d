"""`club.yaml`: the club's settings as one typed model, read once per run.

Every key has a default; an unknown key or a value of the wrong type is an error
that names the key (`ConfigError`).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class ClubConfig(_Model):
    club: Club = Club()
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    phone_region: str = "CN"

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
