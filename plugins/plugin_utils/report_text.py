# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Text pieces the reports share (the rollout report, the audit report and the org probe's report)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def render(filter_name: str, format: str, renderers: Mapping[str, Callable[[], Any]]) -> Any:
    """The report in ``format``: the named renderer's output (renderers: format -> function of no argument);
    an unknown format fails naming the formats the filter has."""
    if format not in renderers:
        names = list(renderers)
        raise AnsibleFilterError("%s: format must be %s or %s, not %r"
                                 % (filter_name, ", ".join(names[:-1]), names[-1], format))
    return renderers[format]()


def escape(text: Any) -> str:
    """A value safe in a Markdown table cell."""
    return to_text(text).replace("|", "\\|").replace("\n", " ")


def text_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned lines of ``rows`` (header first, totals last), with a rule under the header and above the totals."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.insert(-1, lines[1])
    return lines


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A Markdown table: the header, its rule and one line per row (cells escaped)."""
    lines = ["| %s |" % " | ".join(header), "|%s|" % "|".join(["---"] * len(header))]
    return lines + ["| %s |" % " | ".join(escape(cell) for cell in row) for row in rows]


def org_heading(record: Mapping[str, Any]) -> list[str]:
    """The lines that open one org's section: its inventory name, then name, id and kind when known."""
    lines = ["", "## %s" % record.get("org")]
    about = [record.get("org_name"), record.get("org_id"),
             "sandbox" if record.get("is_sandbox") else ("production" if record.get("is_sandbox") is False else None)]
    about = [to_text(a) for a in about if a]
    if about:
        lines += ["", ", ".join(about)]
    return lines + [""]
