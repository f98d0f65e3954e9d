"""The one Jinja environment: loaders, autoescaping and the filters templates use."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from pipeline.settings import PATHS


def thousands(value) -> str:
    return f"{int(value):,}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PATHS.templates)),
        autoescape=True,  # every template: member data is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = thousands
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
