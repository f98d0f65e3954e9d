"""The one Jinja environment: loaders, autoescaping and the filters templates use."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from pipeline.lib.documents import i18n
from pipeline.lib.documents.stamp import WHOLE
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
    env.filters["date"] = i18n.format_date  # {{ day | date(lang) }}
    env.filters["month_day"] = i18n.format_month_day
    env.filters["cny"] = i18n.format_cny
    env.filters["mask_phone"] = i18n.mask_phone
    env.filters["mask_email"] = i18n.mask_email
    env.globals["salutation"] = i18n.salutation
    env.globals["household_name"] = i18n.household_name
    # Layout once, stamp many (documents/stamp.py): whole mode unless a caller splits.
    env.globals["stamp"] = WHOLE
    return env


class MacroModule:
    """A template's module (`Template.make_module`) whose macros, called from Python,
    report an error at the template's own line: Jinja rewrites a traceback to template
    lines only inside `render`, so a macro called directly would name a line of the
    compiled code instead."""

    def __init__(self, module) -> None:
        self._module = module

    def __getattr__(self, name: str):
        macro = getattr(self._module, name)
        if not callable(macro):
            return macro

        def call(*args, **kwargs):
            try:
                return macro(*args, **kwargs)
            except Exception:
                environment().handle_exception()

        return call


def module(template: str, **context) -> MacroModule:
    """The macros of `template` with `context` as its globals."""
    return MacroModule(environment().get_template(template).make_module(context))


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
