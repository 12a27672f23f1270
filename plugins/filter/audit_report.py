# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: audit_report
short_description: Build the API access audit report across orgs (data, Markdown, a summary table or the gate)
version_added: 0.1.0
description:
  - Used by the C(report) entry point of the role P(sfops.integration.integration_audit#role).
  - Takes the record of every org of a run (what M(sfops.integration.sf_integration_audit) found there,
    or why the org could not be audited) and returns the whole report as data (for C(audit-report.json)),
    as Markdown (for C(audit-report.md)), as the lines of a summary table, or as the list of reasons the
    run fails with O(fail_on) (V(gate), empty when it passes).
  - Orgs are sorted by name. Markdown has a table of findings by severity per org, then every finding of
    every org, most severe first.
positional: format, generated, fail_on
options:
  _input:
    description:
      - The org records. Each has C(org) (the inventory name), C(status) (V(ok) or V(failed)), and
        either the audit's C(findings), C(summary), C(seats), C(warnings), C(counts), C(window),
        C(excluded_users), C(org_name), C(org_id), C(is_sandbox), or a C(failure) (C(task), C(message)),
        and C(api_requests).
    type: list
    elements: dict
    required: true
  format:
    description: V(data), V(markdown), V(table) or V(gate).
    type: str
    default: data
    choices: [data, markdown, table, gate]
  generated:
    description: When the report was made (shown as is).
    type: str
    default: ""
  fail_on:
    description:
      - For V(gate), the lowest severity that fails the run (V(high), V(medium), V(low), V(info)); an org
        that could not be audited fails it too. Empty or V(none) never fails.
    type: str
    default: ""
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_integration_audit
"""

EXAMPLES = r"""
- name: Write the Markdown report
  ansible.builtin.copy:
    content: "{{ records | sfops.integration.audit_report('markdown', now(utc=true).isoformat()) }}"
    dest: reports/audit-report.md
    mode: "0644"

- name: Fail when an org has a high finding
  ansible.builtin.fail:
    msg: "{{ reasons | join('; ') }}"
  vars:
    reasons: "{{ records | sfops.integration.audit_report('gate', fail_on='high') }}"
  when: reasons | length > 0
"""

RETURN = r"""
_value:
  description:
    - V(data) a dictionary with C(generated), C(totals) (orgs, failed, findings per severity, total,
      API requests) and C(orgs) (the records); V(markdown) the report as text; V(table) a list of lines;
      V(gate) a list of reasons the run fails (empty when it passes).
  type: raw
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.sfops.integration.plugins.plugin_utils.report_text import escape as _escape
from ansible_collections.sfops.integration.plugins.plugin_utils.report_text import markdown_table, org_heading, render, text_table

SEVERITIES = ("high", "medium", "low", "info")
HEADER = ("Org", "Status", "High", "Medium", "Low", "Info", "API requests")
SEVERITY_TITLES = dict(high="HIGH", medium="MEDIUM", low="LOW", info="INFO")


def _summary(record):
    summary = dict((s, 0) for s in SEVERITIES)
    summary.update((k, v) for k, v in (record.get("summary") or {}).items() if k in SEVERITIES)
    return summary


def build(records, generated=""):
    records = sorted((dict(r) for r in records), key=lambda r: to_text(r.get("org")))
    totals = dict(orgs=len(records), failed=0, total=0, api_requests=0, **dict((s, 0) for s in SEVERITIES))
    for record in records:
        if record.get("status") != "ok":
            totals["failed"] += 1
        totals["api_requests"] += record.get("api_requests") or 0
        for severity, count in _summary(record).items():
            totals[severity] += count
            totals["total"] += count
    return dict(generated=generated, totals=totals, orgs=records)


def _row(record):
    summary = _summary(record)
    failed = record.get("status") != "ok"
    return [to_text(record.get("org") or "?"), "FAILED" if failed else "ok"] + \
        ["-" if failed else to_text(summary[s]) for s in SEVERITIES] + [to_text(record.get("api_requests") or 0)]


def table(report):
    totals = report["totals"]
    rows = [list(HEADER)] + [_row(record) for record in report["orgs"]]
    rows.append(["total (%d orgs)" % totals["orgs"], "%d failed" % totals["failed"] if totals["failed"] else "ok"]
                + [to_text(totals[s]) for s in SEVERITIES] + [to_text(totals["api_requests"])])
    return text_table(rows)


def _render(value):
    """A short readable form of an evidence value."""
    if isinstance(value, Mapping):
        return ", ".join("%s %s" % (_render(v), k) if isinstance(v, int) and not isinstance(v, bool)
                         else "%s: %s" % (k, _render(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_render(v) for v in value) if value else "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return to_text(value)


def _evidence_lines(evidence):
    lines = []
    for key, value in (evidence or {}).items():
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
            lines.append("  - %s:" % key)
            for item in value:
                if "display" in item:  # a setup change
                    lines.append("    - %s %s: %s (by %s)" % (item.get("time") or "?", item.get("action") or "?",
                                                              _escape(item.get("display")), item.get("by") or "?"))
                else:
                    lines.append("    - %s" % _escape(_render(item)))
        elif isinstance(value, (list, tuple)) and len(value) > 1 and all(isinstance(v, str) and len(v) > 60 for v in value):
            lines.append("  - %s:" % key)
            lines += ["    - %s" % _escape(v) for v in value]
        else:
            lines.append("  - %s: %s" % (key, _escape(_render(value))))
    return lines


def markdown(report):
    totals = report["totals"]
    lines = ["# Salesforce API access audit", ""]
    if report.get("generated"):
        lines += ["Generated %s." % report["generated"], ""]
    lines += ["%d org(s), %d could not be audited. Findings: %d high, %d medium, %d low, %d info. API requests used: %d."
              % (totals["orgs"], totals["failed"], totals["high"], totals["medium"], totals["low"], totals["info"],
                 totals["api_requests"]), ""]
    lines += markdown_table(HEADER, [_row(record) for record in report["orgs"]])
    for record in report["orgs"]:
        lines += org_heading(record)
        if record.get("status") != "ok":
            failure = record.get("failure") or {}
            lines += ["**Could not be audited** (task `%s`):" % failure.get("task"), "", "```",
                      to_text(failure.get("message")), "```", "", "API requests: %d." % (record.get("api_requests") or 0)]
            continue
        window = record.get("window") or {}
        counts = record.get("counts") or {}
        lines.append("Window: %s days (since %s). Users: %s (%s active, %s integration users, %s with API logins); "
                     "login history rows: %s; setup changes: %s. API requests: %d." % (
                         window.get("days", "?"), window.get("since", "?"), counts.get("users", "?"),
                         counts.get("active_users", "?"), counts.get("integration_users", "?"),
                         counts.get("api_users", "?"), counts.get("login_history_rows", "?"),
                         counts.get("setup_changes", "?"), record.get("api_requests") or 0))
        seats = record.get("seats") or []
        if seats:
            lines += ["", "Seats: %s." % "; ".join("%s %d of %d used, %d free" % (
                s.get("license"), s.get("used") or 0, s.get("total") or 0, s.get("available") or 0) for s in seats)]
        if record.get("excluded_users"):
            lines += ["", "Left out (exclude_users): %s." % ", ".join(record["excluded_users"])]
        for warning in record.get("warnings") or []:
            lines += ["", "**Warning:** %s" % _escape(warning)]
        findings = record.get("findings") or []
        lines.append("")
        if not findings:
            lines.append("No findings.")
        for finding in findings:
            lines += ["### %s %s" % (SEVERITY_TITLES.get(finding.get("severity"), finding.get("severity")),
                                     _escape(finding.get("title"))), ""]
            lines.append("- check: `%s`, id: `%s`" % (finding.get("check"), finding.get("id")))
            if finding.get("user"):
                lines.append("- user: %s" % finding["user"])
            lines.append("- evidence:")
            lines += _evidence_lines(finding.get("evidence"))
            lines += ["- remedy: %s" % _escape(finding.get("remedy")), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def gate(report, fail_on):
    """Why the run fails with ``fail_on``: orgs with findings at or above that severity, and orgs not audited."""
    fail_on = to_text(fail_on or "").strip().lower()
    if fail_on in ("", "none"):
        return []
    if fail_on not in SEVERITIES:
        raise AnsibleFilterError("audit_report: fail_on must be one of %s or none, not %r" % (", ".join(SEVERITIES), fail_on))
    counted = SEVERITIES[:SEVERITIES.index(fail_on) + 1]
    reasons = []
    for record in report["orgs"]:
        if record.get("status") != "ok":
            reasons.append("%s could not be audited" % record.get("org"))
            continue
        summary = _summary(record)
        found = ["%d %s" % (summary[s], s) for s in counted if summary[s]]
        if found:
            reasons.append("%s: %s" % (record.get("org"), ", ".join(found)))
    return reasons


def audit_report(records, format="data", generated="", fail_on=""):
    if not isinstance(records, (list, tuple)) or not all(isinstance(r, Mapping) for r in records):
        raise AnsibleFilterError("audit_report expects a list of org records")
    report = build(records, to_text(generated or ""))
    return render("audit_report", format, dict(data=lambda: report, markdown=lambda: markdown(report),
                                               table=lambda: table(report), gate=lambda: gate(report, fail_on)))


class FilterModule:

    def filters(self):
        return {"audit_report": audit_report}
