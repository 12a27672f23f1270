# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_report
short_description: Build the rollout report of integration users across orgs (data, Markdown or a summary table)
version_added: 0.1.0
description:
  - Used by the C(report) entry point of the role M(sfops.integration.integration_users).
  - Takes the records of every org of a run (see P(sfops.integration.rollout_org_record#filter)) and
    returns the whole report as data (for C(rollout-report.json)), as Markdown (for
    C(rollout-report.md)), or as the lines of a short summary table for the end of the output.
  - Orgs are sorted by name; totals add up every org's counts and API requests.
positional: format, generated
options:
  _input:
    description: The org records of the run.
    type: list
    elements: dict
    required: true
  format:
    description: V(data), V(markdown) or V(table).
    type: str
    default: data
    choices: [data, markdown, table]
  generated:
    description: When the report was made (shown as is).
    type: str
    default: ""
author:
  - sfops maintainers (@sfops)
seealso:
  - plugin: sfops.integration.rollout_org_record
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the Markdown report
  ansible.builtin.copy:
    content: "{{ records | sfops.integration.rollout_report('markdown', now(utc=true).isoformat()) }}"
    dest: reports/rollout-report.md
    mode: "0644"

- name: Print the summary table
  ansible.builtin.debug:
    msg: "{{ records | sfops.integration.rollout_report('table') }}"
"""

RETURN = r"""
_value:
  description:
    - V(data) a dictionary with C(generated), C(mode) (V(check), V(apply) or V(mixed)), C(totals) and
      C(orgs) (the records); V(markdown) the report as text; V(table) a list of lines.
  type: raw
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.sfops.integration.plugins.plugin_utils.report_text import escape as _escape
from ansible_collections.sfops.integration.plugins.plugin_utils.report_text import markdown_table, org_heading, render, text_table

COLUMNS = (("Org", None), ("Status", None), ("Users", "users"), ("Permission sets", "permission_sets"),
           ("Assignments", "assignments"), ("Password policy", "password_policy"), ("API requests", None))
KIND_TITLES = dict(user="User", permission_set="Permission set", assignments="Assignments of",
                   password_policy="Password policy of profile", profile="Profile",
                   external_client_app="External Client App", jwt_certificate="JWT certificate")
LOGIN_HEADER = ("Integration", "User", "Login", "External Client App", "Consumer key", "Proven")
METHODS = dict(jwt="JWT bearer", client_credentials="client credentials", password="password (being retired)",
               none="none")


def _counts_text(counts, group):
    counts = counts or {}
    if group == "users":
        parts = [(counts.get("users_created", 0), "created"), (counts.get("users_updated", 0), "updated"),
                 (counts.get("users_deactivated", 0), "deactivated"), (counts.get("users_reactivated", 0), "reactivated")]
    elif group == "permission_sets":
        parts = [(counts.get("permission_sets_created", 0), "created"), (counts.get("permission_sets_updated", 0), "updated"),
                 (counts.get("permission_sets_deleted", 0), "deleted")]
    elif group == "assignments":
        added, removed = counts.get("assignments_added", 0), counts.get("assignments_removed", 0)
        return ", ".join(text for number, text in ((added, "+%d" % added), (removed, "-%d" % removed)) if number) or "-"
    else:
        parts = [(counts.get("password_policies_changed", 0), "changed")]
    return ", ".join("%d %s" % (number, text) for number, text in parts if number) or "-"


def _row(record):
    counts = record.get("counts")
    status = record.get("status") or "?"
    cells = [record.get("org") or "?", "would change" if status == "changed" and record.get("check_mode") else status]
    cells += [_counts_text(counts, group) for _title, group in COLUMNS[2:-1]]
    cells.append(to_text(record.get("api_requests") or 0))
    return cells


def _mode(records):
    modes = set("check" if record.get("check_mode") else "apply" for record in records)
    return modes.pop() if len(modes) == 1 else ("mixed" if modes else "apply")


def build(records, generated=""):
    records = sorted((dict(r) for r in records), key=lambda r: to_text(r.get("org")))
    totals = dict(orgs=len(records), changed=0, unchanged=0, failed=0, api_requests=0)
    for record in records:
        totals[record.get("status", "failed")] = totals.get(record.get("status", "failed"), 0) + 1
        totals["api_requests"] += record.get("api_requests") or 0
        for key, value in (record.get("counts") or {}).items():
            totals[key] = totals.get(key, 0) + value
    return dict(generated=generated, mode=_mode(records), totals=totals, orgs=records)


def table(report):
    rows = [[title for title, _group in COLUMNS]] + [_row(record) for record in report["orgs"]]
    totals = report["totals"]
    rows.append(["total (%d orgs)" % totals["orgs"], "%d failed" % totals["failed"] if totals["failed"] else "ok"]
                + [_counts_text(totals, group) for _title, group in COLUMNS[2:-1]] + [to_text(totals["api_requests"])])
    return text_table(rows)


def _verified(login):
    if login.get("verified") is True:
        # The proof is the identity the new session read of itself: name it.
        return "yes: the session is %s" % login["session_user"] if login.get("session_user") else "yes"
    if login.get("verified") is False:
        return "**no**: %s" % login.get("note")
    return login.get("note") or "-"


def login_lines(logins):
    """The Markdown table of how each integration logs in (none when the org has no integration)."""
    if not logins:
        return []
    rows = []
    for login in logins:
        method = login.get("method") or "none"
        rows.append([login.get("integration"), login.get("username"), METHODS.get(method, method), login.get("app") or "-",
                     "`%s`" % login["consumer_key"] if login.get("consumer_key") else "-", _verified(login)])
    lines = ["", "Logins:", ""] + markdown_table(LOGIN_HEADER, [[cell or "-" for cell in row] for row in rows])
    retiring = [login for login in logins if login.get("method") in ("password", "none")]
    for login in retiring:
        lines += ["", "**Warning:** %s: %s" % (_escape(login.get("integration")), _escape(login.get("note")))]
    return lines


def concurrent_lines(found):
    """The note naming what another run made while this one ran (none when nothing was)."""
    if not found:
        return []
    names = ["%s `%s`" % (KIND_TITLES.get(item.get("kind"), item.get("kind")), item.get("name")) for item in found]
    return ["**Note:** found already made by another run at the same time (this run only checked it and wrote what "
            "was still missing): %s." % ", ".join(names), ""]


def markdown(report):
    plan = report["mode"] == "check"
    totals = report["totals"]
    title = "Rollout plan (check mode: nothing was changed)" if plan else "Rollout report"
    lines = ["# Salesforce integration users: %s" % title, ""]
    if report.get("generated"):
        lines += ["Generated %s." % report["generated"], ""]
    lines += ["%d org(s): %d %s, %d unchanged, %d failed. API requests used: %d." % (
        totals["orgs"], totals["changed"], "would change" if plan else "changed", totals["unchanged"], totals["failed"],
        totals["api_requests"]), ""]
    header = [title for title, _group in COLUMNS]
    lines += markdown_table(header, [_row(record) for record in report["orgs"]])
    for record in report["orgs"]:
        lines += org_heading(record)
        if record.get("failure"):
            failure = record["failure"]
            lines.append("**FAILED** at task `%s`:" % failure.get("task"))
            lines += ["", "```", to_text(failure.get("message")), "```", ""]
            if record.get("changes"):
                lines += ["Changes made before the failure:" if not record.get("check_mode") else "Planned before the failure:", ""]
        if record.get("left_out"):
            lines += ["Left out of this run (sf_integration_only): %s." % _escape(", ".join(record["left_out"])), ""]
        for warning in record.get("warnings") or []:
            lines += ["**Warning:** %s" % _escape(warning), ""]
        lines += concurrent_lines(record.get("concurrent"))
        changes = record.get("changes") or []
        if not changes and not record.get("failure"):
            lines.append("No change: the org already matches." if not record.get("check_mode")
                         else "No change needed: the org already matches.")
        verb = "would " if record.get("check_mode") else ""
        for change in changes:
            name = " `%s`" % change["name"] if change.get("name") else ""
            action = change.get("action") or "update"
            note = " (part of it was already made by another run at the same time)" if change.get("concurrent") else ""
            lines.append("- %s%s: %s%s%s" % (KIND_TITLES.get(change.get("kind"), change.get("kind")), name, verb, action,
                                             note))
            lines += ["  - %s" % _escape(detail) for detail in change.get("details") or []]
        lines += login_lines(record.get("logins"))
        lines.append("%sAPI requests: %d." % ("\n" if changes or record.get("logins") else "", record.get("api_requests") or 0))
    return "\n".join(lines) + "\n"


def rollout_report(records, format="data", generated=""):
    if not isinstance(records, (list, tuple)) or not all(isinstance(r, Mapping) for r in records):
        raise AnsibleFilterError("rollout_report expects a list of org records")
    report = build(records, to_text(generated or ""))
    return render("rollout_report", format, dict(data=lambda: report, markdown=lambda: markdown(report),
                                                 table=lambda: table(report)))


class FilterModule:

    def filters(self):
        return {"rollout_report": rollout_report}
