# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SOQL with every value quoted: never built by string concatenation.

``soql(template, *args, **kwargs)`` fills ``str.format`` fields the way simple-salesforce's
documented ``format_soql`` does, so that the REST path needs no simple-salesforce (whose import
pulls in zeep):

- ``{}`` / ``{name}``: the value as a SOQL literal. Text is quoted with the escapes of the SOQL
  reference (Quoted String Escape Sequences); True/False are ``true``/``false``, None is ``null``,
  numbers as they are, a list, tuple or set ``('a','b')``, a datetime in UTC without
  microseconds, a date as ``YYYY-MM-DD``; anything else is refused.
- ``{:literal}``: the value inserted as it is (a composite reference such as ``@{user.id}``).
- ``{:like}``: text escaped for inside a quoted LIKE pattern (``%`` and ``_`` too), not quoted.
"""

from __future__ import annotations

import datetime
import string
from typing import Any

# SOQL reference, Quoted String Escape Sequences.
QUOTED_STRING_ESCAPES = str.maketrans({
    "\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
})
# LIKE wildcards, escaped so that they match themselves.
LIKE_ESCAPES = str.maketrans({"%": "\\%", "_": "\\_"})


def quote(value: Any) -> str:
    """``value`` as a SOQL literal; ValueError for a type SOQL has no literal for."""
    if isinstance(value, str):
        return "'%s'" % value.translate(QUOTED_STRING_ESCAPES)
    if isinstance(value, bool):  # before int: True is an int too
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return "(%s)" % ",".join(quote(item) for item in value)
    if isinstance(value, datetime.datetime):
        # A SOQL dateTime literal carries its offset and no fraction of a second.
        return value.replace(microsecond=0).astimezone(datetime.timezone.utc).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise ValueError("SOQL has no literal for a %s" % type(value).__name__)


class _SoqlFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "":
            return quote(value)
        if format_spec == "literal":
            return value if isinstance(value, str) else str(value)
        if format_spec == "like":
            return str(value).translate(QUOTED_STRING_ESCAPES).translate(LIKE_ESCAPES)
        return super().format_field(value, format_spec)


_FORMATTER = _SoqlFormatter()


def soql(template: str, *args: Any, **kwargs: Any) -> str:
    """``template`` with its ``{}`` fields filled by quoted values (see the module docstring)."""
    return _FORMATTER.vformat(template, args, kwargs)


# Characters of field names per query (about 250 fields). A query travels in a URL, and Salesforce takes a URI
# and headers of 16,384 bytes at most (Help KB 000386264, which advises composite subrequests, as the modules
# use, for long queries); with a semi-join and URL encoding a chunk stays well under that.
FIELDS_PER_QUERY = 8000


def field_chunks(names: list, budget: int = FIELDS_PER_QUERY) -> list:
    """``names`` (field names) in lists whose SELECT list stays within ``budget`` characters each.

    A real org's PermissionSet has several hundred ``Permissions*`` fields: in one query the URL would be too long.
    """
    chunks, current, size = [], [], 0
    for name in names:
        if current and size + len(name) + 2 > budget:
            chunks.append(current)
            current, size = [], 0
        current.append(name)
        size += len(name) + 2
    return chunks + [current] if current else chunks or [["Name"]]
