"""The cron grammar as one regular expression, so that the API's document states it.

Five fields (minute hour day month weekday), optionally a sixth of seconds
(croniter's order); each field a list of ``*``, values or ranges, each with
an optional ``/step``; months and weekdays also by name (``JAN``, ``mon``).
What croniter still refuses beyond this grammar is a 422.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["CRON_PATTERN"]

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DAYS = "sun|mon|tue|wed|thu|fri|sat"


def _names(names: str) -> str:
    return f"{names}|{names.upper()}"


def _field(value: str) -> str:
    item = rf"(?:\*|(?:{value})(?:-(?:{value}))?)(?:/[1-9][0-9]{{0,3}})?"
    return rf"{item}(?:,{item})*"


_MINUTE = _field(r"[0-5]?[0-9]")
_HOUR = _field(r"[01]?[0-9]|2[0-3]")
_DAY = _field(r"0?[1-9]|[12][0-9]|3[01]|L")
_MONTH = _field(rf"0?[1-9]|1[0-2]|{_names(_MONTHS)}")
_WEEKDAY = _field(rf"[0-7]|{_names(_DAYS)}")

#: a cron expression (spaces or tabs between fields)
CRON_PATTERN: Final = (
    rf"^[ \t]*{_MINUTE}[ \t]+{_HOUR}[ \t]+{_DAY}[ \t]+{_MONTH}[ \t]+{_WEEKDAY}"
    rf"(?:[ \t]+{_MINUTE})?[ \t]*$"
)
re.compile(CRON_PATTERN)
