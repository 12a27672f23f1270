# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: export_yaml
short_description: Write an org's exported integration users as a reviewable sf_integrations vars file
version_added: 0.2.0
description:
  - Used by C(playbooks/export.yml). Takes the result of M(sfops.integration.sf_integration_export) and
    returns YAML text for a vars file (C(-e @file), C(group_vars)) with a comment header (the org, the date,
    what to review), C(sf_integration_profile) when every exported user has the same profile,
    C(sf_integration_password_policy) as an empty dictionary (the export does not read the password
    policy, so the first rollout leaves it alone), and C(sf_integrations), each entry with its review
    notes as comments above it.
  - An org without integration users gives an empty C(sf_integrations) list and a comment saying so.
positional: org, generated
options:
  _input:
    description: The registered result of M(sfops.integration.sf_integration_export).
    type: dict
    required: true
  org:
    description: The org's inventory name, for the header and the example commands.
    type: str
    default: ""
  generated:
    description: When the export was made (shown as is).
    type: str
    default: ""
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_integration_export
"""

EXAMPLES = r"""
- name: Write the export of this org
  ansible.builtin.copy:
    content: "{{ export | sfops.integration.export_yaml(inventory_hostname, now(utc=true).isoformat()) }}"
    dest: "reports/export-{{ inventory_hostname }}.yml"
    mode: "0600"
"""

RETURN = r"""
_value:
  description: The YAML text, comments included.
  type: str
"""

import textwrap
from collections.abc import Mapping

import yaml

from ansible.errors import AnsibleFilterError

# Small dictionaries written on one line: {object: Lead, access: [read, edit]}.
INLINE_KEYS = (frozenset(["object", "access"]), frozenset(["field", "access"]))
WIDTH = 100


def plain(value):
    """The value with Ansible's own str, dict and list types made plain, so that the safe dumper takes them."""
    if isinstance(value, Mapping):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a plain copy: str() gives back Ansible's unsafe text itself
    return str(value)


class _Dumper(yaml.SafeDumper):
    """Block style, with lists of plain values and access items on one line."""


def _scalar(value):
    return not isinstance(value, (dict, list))


def _represent_list(dumper, value):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=all(_scalar(v) for v in value))


def _represent_dict(dumper, value):
    inline = frozenset(value) in INLINE_KEYS
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=inline)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def dump(value):
    return yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=WIDTH)


def comment(text, indent=""):
    """``text`` as comment lines: one or more per line of text, wrapped (a wrapped list item keeps its indent)."""
    out = []
    for line in str(text).splitlines() or [""]:
        if not line or line.startswith("    "):  # an empty line, or a command to copy: kept whole
            out.append(("%s# %s" % (indent, line)).rstrip())
            continue
        lead = " " * (len(line) - len(line.lstrip())) + ("  " if line.lstrip().startswith("- ") else "")
        parts = textwrap.wrap(line, WIDTH - len(indent) - 2, subsequent_indent=lead, break_long_words=False, break_on_hyphens=False)
        out += ["%s# %s" % (indent, part) for part in parts]
    return out


def header(result, org, generated):
    where = org or "the org"
    org_info = result.get("org") or {}
    named = ", ".join(str(v) for v in (org_info.get("name"), org_info.get("id")) if v)
    lines = ["sf_integrations exported from %s%s%s by sfops.integration.sf_integration_export." % (
        where, " (%s)" % named if named else "", " on %s" % generated if generated else ""),
        "Nothing in the org was changed. %s" % (result.get("message") or "")]
    if not result.get("integrations"):
        return comment("\n".join(lines))
    lines += ["", "Review before adopting these integrations:",
              "- Each entry is what the user has now. Its permission_sets hold exactly the permissions found:",
              "  remove what the integration does not need (least privilege) before a rollout applies it.",
              "- With sf_integration_exclusive: true (the default) a rollout removes every assignment these",
              "  users hold that is not listed here. Review the lists, then roll out knowingly.",
              "- No entry has oauth: add it when the integration moves to a login without a password.",
              "- Check first that a rollout changes nothing:",
              "    ansible-playbook -i INVENTORY playbooks/integration_users.yml%s -e @THIS_FILE --check --diff" % (
                  " --limit %s" % org if org else "")]
    general = [n["note"] for n in result.get("review") or [] if not n.get("integration")]
    for note in general:
        lines.append("- %s" % note)
    for skipped in result.get("left_out") or []:
        lines.append("- Not exported: %s (%s)." % (skipped.get("username"), skipped.get("reason")))
    return comment("\n".join(lines))


def export_yaml(result, org="", generated=""):
    if not isinstance(result, Mapping) or not isinstance(result.get("integrations"), (list, tuple)):
        raise AnsibleFilterError("export_yaml expects the result of sfops.integration.sf_integration_export "
                                 "(a dictionary with 'integrations')")
    result = plain(result)
    lines = header(result, org, generated) + ["---"]
    if result.get("profile"):
        lines += ["# The profile every exported user has now.", dump(dict(sf_integration_profile=result["profile"])).rstrip()]
    lines += ["# Not read by the export: left as it is until you set it.",
              dump(dict(sf_integration_password_policy={})).rstrip()]
    integrations = result["integrations"]
    if not integrations:
        lines += comment(result.get("message") or "No integration users in this org.")
        lines.append("sf_integrations: []")
        return "\n".join(lines) + "\n"
    lines.append("sf_integrations:")
    notes = {}
    for note in result.get("review") or []:
        if note.get("integration"):
            notes.setdefault(note["integration"], []).append(note["note"])
    for entry in integrations:
        for note in notes.get(entry.get("name"), []):
            lines += comment("review: %s" % note, "  ")
        text = dump([entry]).rstrip()
        lines += ["  " + line if line else line for line in text.splitlines()]
    return "\n".join(lines) + "\n"


class FilterModule:
    def filters(self):
        return dict(export_yaml=export_yaml)
