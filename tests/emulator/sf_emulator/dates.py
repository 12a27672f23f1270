"""SOQL date literals (TODAY, LAST_N_DAYS:n, ...) and comparisons of date and datetime fields.

Source: SOQL and SOSL Reference, "Date Formats and Date Literals". A date literal is a range of time:
TODAY starts 00:00:00 of the current day and lasts 24 hours; YESTERDAY and TOMORROW the day before
and after; LAST_N_DAYS:n "starts 00:00:00 of the current day and continues for the past n days",
read here as from 00:00:00 n days before the current day to the end of the current day (today
included; UNVERIFIED which way the reference counts); N_DAYS_AGO:n the whole day n days before the
current day. ``=`` matches inside the range, ``<`` before its start, ``>`` after its end, ``<=`` and
``>=`` include it. Days are taken in UTC: Salesforce may take the calling user's time zone
(UNVERIFIED; docs/emulator.md, SOQL). Other literals (NEXT_N_DAYS, THIS_MONTH, ...) are not modelled.

Stored datetimes look like ``2024-01-31T10:00:00.000+0000`` (store.now_iso); literals in a query like
``2024-01-31T10:00:00Z`` or with an offset (``+01:00``); both are compared as instants, not as text.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass
from typing import Optional

UTC = _dt.timezone.utc
# What the tokenizer of soql.py takes as one date literal token (case-insensitive).
LITERAL_PATTERN = r"(?i:TODAY|YESTERDAY|TOMORROW|(?:LAST_N_DAYS|N_DAYS_AGO):\d+)(?![A-Za-z0-9_])"
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(frozen=True)
class DateRange:
    """A date literal: [start, end) in UTC."""

    text: str
    start: _dt.datetime
    end: _dt.datetime


def now() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def literal(text: str, current: Optional[_dt.datetime] = None) -> DateRange:
    """The range a date literal stands for, relative to ``current`` (now)."""
    today = (current or now()).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = _dt.timedelta(days=1)
    name, _, number = text.upper().partition(":")
    n = int(number) if number else 0
    start, end = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_N_DAYS": (today - n * day, today + day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
    }[name]
    return DateRange(text, start, end)


@functools.lru_cache(maxsize=200000)
def parse(value: str) -> Optional[_dt.datetime]:
    """A stored or literal date/datetime as an aware UTC datetime (a date is its midnight UTC); None if not one."""
    m = _ISO_RE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    moment = _dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0")[:6].ljust(6, "0")), tzinfo=UTC)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def compare(value, comparator: str, literal_value, field_type: str) -> Optional[bool]:
    """The comparison of a date/datetime field with a date literal or an ISO literal; None when it is no such one."""
    if isinstance(literal_value, DateRange):
        moment = parse(value) if isinstance(value, str) else None
        if moment is None:
            return comparator in ("!=", "<>") if value is None else False
        inside = literal_value.start <= moment < literal_value.end
        return {"=": inside, "!=": not inside, "<>": not inside, "<": moment < literal_value.start,
                "<=": moment < literal_value.end, ">": moment >= literal_value.end,
                ">=": moment >= literal_value.start}[comparator]
    if field_type not in ("datetime", "date") or not isinstance(literal_value, str) or value is None:
        return None
    left, right = parse(value) if isinstance(value, str) else None, parse(literal_value)
    if left is None or right is None:
        return None
    if field_type == "date":
        left, right = left.date(), right.date()
    return {"=": left == right, "!=": left != right, "<>": left != right, "<": left < right, "<=": left <= right,
            ">": left > right, ">=": left >= right}[comparator]


def iso(moment: _dt.datetime) -> str:
    """The stored form of a datetime (as store.now_iso writes it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
