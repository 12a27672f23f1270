# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: migration_entry
short_description: An sf_integrations entry for a dedicated integration user, from a shared user's effective access
version_added: 0.1.0
description:
  - Used by C(playbooks/migrate.yml). Takes what M(sfops.integration.sf_user_access) read about a
    shared or administrator user and returns the C(sf_integrations) entry of the role
    P(sfops.integration.integration_users#role) for a dedicated integration user whose one permission
    set holds that user's data access - the part a permission set on the Salesforce API Integration
    permission set license may hold, without anything privileged.
  - Left out, and listed with the reason, never granted - privileged system permissions (Modify All
    Data, View All Data, Manage Users, Author Apex, Customize Application and the others the
    collection refuses for integration users), View All and Modify All on objects (they reach every
    record regardless of sharing), and system permissions the license does not allow (its
    C(MaximumPermissions*) fields).
  - Returns the entry as data and as reviewable YAML text with comments saying where each permission
    comes from.
options:
  _input:
    description: The result of M(sfops.integration.sf_user_access), read with O(sfops.integration.sf_user_access#module:permission_set_license).
    type: dict
    required: true
  name:
    description: Name of the new integration (letters, digits, C(-) and C(_), a letter first), for example V(marketo).
    type: str
    required: true
  username:
    description: Username of the new integration user; by default C(<name>.integration@) and the domain of the shared user's username.
    type: str
  email:
    description: Email of the new integration user; by default the shared user's email.
    type: str
  org:
    description: Name of the org, for the comments.
    type: str
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_user_access
"""

EXAMPLES = r"""
- name: Turn the shared user's access into an entry
  ansible.builtin.set_fact:
    migration: "{{ access | sfops.integration.migration_entry(name='marketo', org=inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description:
    - C(entry) (the C(sf_integrations) item), C(left_out) (each C(permission) left out with its C(reason)),
      C(kept) (how many system permissions, objects and fields the set holds) and C(text) (the YAML
      file, with C(sf_integrations) holding the entry).
  type: dict
"""

import json
import re
from collections.abc import Mapping

import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    ADMIN_PROFILE_PERMISSIONS,
    OBJECT_ACCESS_ORDER,
    PRIVILEGED_OBJECT_ACCESS,
    PRIVILEGED_PERMISSIONS,
    complete_object_access,
)

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
SOURCE_WORDS = dict(profile="profile", permission_set="permission set", permission_set_group="group")
ADMIN_GRADE = "admin-grade; an integration needs only the access of its job"
PRIVILEGED = "privileged; the collection keeps it off integration users"
RECORDS_REGARDLESS = "reaches every record regardless of sharing"


def set_name(name):
    """``Marketo_Integration`` for ``marketo``, ``Sap_Erp_Integration`` for ``sap-erp``."""
    parts = [part for part in re.split(r"[^A-Za-z0-9]+", name) if part]
    return "_".join(part[:1].upper() + part[1:] for part in parts) + "_Integration"


def _sources(sources, with_access=False):
    words = []
    for source in sources or []:
        text = "%s %s" % (SOURCE_WORDS.get(source.get("kind"), source.get("kind")), source.get("name"))
        if with_access and source.get("access"):
            access = source["access"]
            text += " (%s)" % (", ".join(access) if isinstance(access, list) else access)
        words.append(text)
    return "; ".join(words)


def plan(access, name, username=None, email=None, org=None):
    """The entry and what was left out, from an sf_user_access result."""
    if not isinstance(access, Mapping) or not isinstance(access.get("user"), Mapping):
        raise AnsibleFilterError("migration_entry expects the result of sfops.integration.sf_user_access")
    if not NAME_RE.match(name or ""):
        raise AnsibleFilterError("migration_entry: the integration name '%s' must be letters, digits, '-' and '_', "
                                 "a letter first" % name)
    if "permission_set_license" not in access:
        raise AnsibleFilterError("migration_entry needs sf_user_access run with permission_set_license, "
                                 "to know what a permission set on that license may hold")
    user = access["user"]
    license_label = access["permission_set_license"].get("label") or access["permission_set_license"].get("developer_name")
    left_out, comments = [], {}

    system = []
    for item in access.get("system_permissions") or []:
        what = "%s (%s)" % (item["name"], item.get("label") or item["name"])
        if item["name"] in ADMIN_PROFILE_PERMISSIONS:
            left_out.append(dict(permission=what, reason=ADMIN_GRADE, sources=_sources(item.get("sources"))))
        elif item.get("privileged") or item["name"] in PRIVILEGED_PERMISSIONS:
            left_out.append(dict(permission=what, reason=PRIVILEGED, sources=_sources(item.get("sources"))))
        elif item.get("license_allows") is False:
            left_out.append(dict(permission=what, reason="the %s license does not allow it" % license_label,
                                 sources=_sources(item.get("sources"))))
        else:
            system.append(item["name"])
            note = _sources(item.get("sources"))
            if item.get("license_allows") is None:
                note += "; the license does not say whether it allows it: Salesforce decides on apply"
            comments[("system", item["name"])] = note

    objects = []
    for item in access.get("object_permissions") or []:
        wanted = [level for level in item.get("access") or [] if level not in PRIVILEGED_OBJECT_ACCESS]
        for level in item.get("access") or []:
            if level in PRIVILEGED_OBJECT_ACCESS:
                left_out.append(dict(permission="%s on %s" % (level, item["object"]), reason=RECORDS_REGARDLESS,
                                     sources=_sources([s for s in item.get("sources") or [] if level in s.get("access", [])])))
        wanted = complete_object_access(wanted)
        if wanted:
            objects.append(dict(object=item["object"], access=[level for level in OBJECT_ACCESS_ORDER if level in wanted]))
            comments[("object", item["object"])] = _sources(item.get("sources"), with_access=True)

    fields = []
    for item in access.get("field_permissions") or []:
        fields.append(dict(field=item["field"], access=item["access"]))
        comments[("field", item["field"])] = _sources(item.get("sources"), with_access=True)

    domain = (user.get("username") or "").partition("@")[2] or "example.com"
    permission_set = dict(name=set_name(name), label=set_name(name).replace("_", " "),
                          description=("Access of %s, copied by playbooks/migrate.yml" % user.get("username"))[:255])
    if system:
        permission_set["system_permissions"] = system
    if objects:
        permission_set["object_permissions"] = objects
    if fields:
        permission_set["field_permissions"] = fields
    entry = dict(name=name, user=dict(username=username or "%s.integration@%s" % (name.lower(), domain),
                                      email=email or user.get("email"),
                                      last_name=set_name(name).replace("_", " ")),
                 permission_sets=[permission_set])
    return dict(entry=entry, left_out=left_out, comments=comments, org=org, source=user, license=license_label,
                kept=dict(system_permissions=len(system), objects=len(objects), fields=len(fields)))


# ---- the YAML text ------------------------------------------------------------------------------------------


def _scalar(value):
    """A YAML scalar or flow list on one line, quoted only where YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10000, allow_unicode=True).strip()
    return text[:-4].strip() if text.endswith("\n...") else text


def _line(indent, text, comment=None):
    line = " " * indent + text
    return "%s  # %s" % (line, comment) if comment else line


def render(planned):
    """The file: a header saying what to review, the entry under sf_integrations, comments on every permission."""
    entry, source = planned["entry"], planned["source"]
    permission_set = entry["permission_sets"][0]
    comments = planned["comments"]
    lines = [
        "# A dedicated integration user for '%s', to replace the shared user %s%s." % (
            entry["name"], source.get("username"), " in %s" % planned["org"] if planned.get("org") else ""),
        "# Written by playbooks/migrate.yml from that user's effective access (profile %s, license %s); the org" % (
            source.get("profile"), source.get("license")),
        "# was not changed. One dedicated user per external system, with only the access its job needs:",
        "# review every permission below and delete what the integration does not use, then roll it out to this",
        "# org (put the entry in its sf_integrations, or pass this file with --limit to this org only):",
        "#   ansible-playbook -i <inventory> playbooks/integration_users.yml -e @<this file> --check --diff",
        "# and, once the external system logs in as the new user, deactivate the shared user's API access.",
    ]
    if planned["left_out"]:
        lines += ["#", "# Left out, never granted to an integration user:"]
        lines += ["#   - %s: %s (from %s)" % (item["permission"], item["reason"], item["sources"] or "?")
                  for item in planned["left_out"]]
    lines += ["", "sf_integrations:", _line(2, "- name: %s" % _scalar(entry["name"])), _line(4, "user:"),
              _line(6, "username: %s" % _scalar(entry["user"]["username"]),
                    "unique across every Salesforce org: change it if it is taken"),
              _line(6, "email: %s" % _scalar(entry["user"]["email"])),
              _line(6, "last_name: %s" % _scalar(entry["user"]["last_name"])),
              _line(4, "# Log in without a password through an External Client App of its own (see the README):"),
              _line(4, "# oauth: {flow: jwt, generate_key: keys/%s.key}" % entry["name"]),
              _line(4, "permission_sets:"),
              _line(6, "- name: %s" % _scalar(permission_set["name"])),
              _line(8, "label: %s" % _scalar(permission_set["label"])),
              _line(8, "description: %s" % _scalar(permission_set["description"]))]
    if permission_set.get("system_permissions"):
        lines.append(_line(8, "system_permissions:"))
        lines += [_line(10, "- %s" % _scalar(name), comments.get(("system", name)))
                  for name in permission_set["system_permissions"]]
    if permission_set.get("object_permissions"):
        lines.append(_line(8, "object_permissions:"))
        for item in permission_set["object_permissions"]:
            lines += [_line(10, "- object: %s" % _scalar(item["object"]), comments.get(("object", item["object"]))),
                      _line(12, "access: %s" % _scalar(item["access"]))]
    if permission_set.get("field_permissions"):
        lines.append(_line(8, "field_permissions:"))
        for item in permission_set["field_permissions"]:
            lines += [_line(10, "- field: %s" % _scalar(item["field"]), comments.get(("field", item["field"]))),
                      _line(12, "access: %s" % _scalar(item["access"]))]
    if not any(permission_set.get(key) for key in ("system_permissions", "object_permissions", "field_permissions")):
        lines.append(_line(8, "# %s holds no access a permission set on this license may carry" % source.get("username")))
    return "\n".join(lines) + "\n"


def _plain(value):
    """Plain Python values: newer ansible-core passes tagged strings, which the YAML dumper does not know."""
    return json.loads(json.dumps(value)) if value is not None else None


def migration_entry(access, name, username=None, email=None, org=None):
    planned = plan(_plain(access), _plain(name), _plain(username) or None, _plain(email) or None, _plain(org))
    return dict(entry=planned["entry"], left_out=planned["left_out"], kept=planned["kept"], text=render(planned))


class FilterModule:

    def filters(self):
        return {"migration_entry": migration_entry}
