# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: org_probe_report
short_description: The org probe's result as Markdown, or as summary lines
version_added: 0.1.0
description:
  - Used by C(playbooks/verify_org.yml) with the result of M(sfops.integration.sf_org_probe).
  - V(markdown) gives C(org-probe.md) (one table of the questions and their outcome, then each question with
    what was sent and what the org answered); V(lines) a few lines for the console, which in check mode are
    the plan (what each question would send, or why it would be skipped).
positional: format, org
options:
  _input:
    description: The registered result of M(sfops.integration.sf_org_probe).
    type: dict
    required: true
  format:
    description: V(markdown) or V(lines).
    type: str
    default: lines
    choices: [markdown, lines]
  org:
    description: The inventory name of the org, for the heading.
    type: str
    default: ""
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_org_probe
"""

EXAMPLES = r"""
- name: Write org-probe.md
  ansible.builtin.copy:
    content: "{{ probe | sfops.integration.org_probe_report('markdown', inventory_hostname) }}"
    dest: reports/org-probe.md
    mode: "0644"
"""

RETURN = r"""
_value:
  description: V(markdown) the report as text; V(lines) a list of lines.
  type: raw
"""

import json
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.sfops.integration.plugins.plugin_utils.report_text import markdown_table, render

HEADER = ("Question", "Outcome", "docs/emulator.md row")
WHAT_OUTCOMES_MEAN = [
    "- **holds**: the org answered as the collection and the emulator assume.",
    "- **differs**: it did not; the emulator (and maybe the collection) is wrong for this org: please report it.",
    "- **inconclusive**: a step before the question failed; the answers below say why.",
    "- **skipped**: the org lacks what the question needs, or its answer is known without asking.",
]


def _answer(answer):
    if not answer:
        return "not sent"
    said = "ok" if answer.get("ok") else "refused"
    parts = [said] + [to_text(answer[k]) for k in ("status", "errorCode") if answer.get(k) is not None]
    text = " ".join(parts)
    if answer.get("message"):
        text += ": %s" % to_text(answer["message"])
    if answer.get("values"):
        text += " (%s)" % ", ".join("%s = %s" % (k, json.dumps(v)) for k, v in sorted(answer["values"].items()))
    return text


def lines(result):
    found = ["%s: %s%s" % (p["name"], p["outcome"], " (%s)" % p["reason"] if p.get("reason") else "")
             for p in result.get("probes") or []]
    planned = [p for p in result.get("probes") or [] if p["outcome"] == "planned"]
    for probe in planned:
        found += ["  %s would send: %s" % (probe["name"], "; ".join(to_text(s) for s in probe["steps"]))]
    if result.get("cleanup", {}).get("failed"):
        found += ["Left behind (remove by hand): %s" % "; ".join(result["cleanup"]["failed"])]
    return found


def markdown(result, org=""):
    report = result.get("report") or {}
    about = result.get("org") or {}
    kind = "sandbox" if about.get("is_sandbox") else "not a sandbox"
    out = ["# Org probe: %s" % (org or "one org"), "",
           "%s, %s; run %s, %s API requests." % (to_text(about.get("edition") or "edition unknown"), kind,
                                                 to_text(result.get("run_id")), to_text(result.get("api_requests"))),
           ""] + WHAT_OUTCOMES_MEAN + [""]
    rows = [[p["name"], p["outcome"], "%s: %s" % (p["section"], p["rule"])] for p in result.get("probes") or []]
    out += markdown_table(HEADER, rows)
    for probe in result.get("probes") or []:
        out += ["", "## %s: %s" % (probe["name"], probe["outcome"]), "", probe["question"], "",
                "Relied on: %s" % probe["relied_on"]]
        if probe.get("reason"):
            out += ["", "Why: %s" % probe["reason"]]
        for step in probe.get("steps") or []:
            if isinstance(step, Mapping):
                out += ["", "- %s: `%s` -> %s" % (step["step"], step.get("sent"), _answer(step.get("answer")))]
    cleanup = result.get("cleanup") or {}
    out += ["", "## Cleanup", ""]
    out += ["- removed: %s" % item for item in cleanup.get("done") or []]
    out += ["- **left behind, remove by hand**: %s" % item for item in cleanup.get("failed") or []]
    if report:
        out += ["", "Every exchange, with the names and ids of the run as placeholders, is in org-probe.json "
                "(format %s)." % report.get("format")]
    return "\n".join(out) + "\n"


def org_probe_report(result, format="lines", org=""):
    if not isinstance(result, Mapping):
        raise AnsibleFilterError("org_probe_report expects the registered result of sf_org_probe")
    return render("org_probe_report", format, dict(markdown=lambda: markdown(result, to_text(org or "")),
                                                   lines=lambda: lines(result)))


class FilterModule:

    def filters(self):
        return {"org_probe_report": org_probe_report}
