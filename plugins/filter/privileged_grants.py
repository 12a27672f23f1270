# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: privileged_grants
short_description: The privileged grants of sf_integrations that their permission sets do not allow, by path
version_added: 0.2.0
description:
  - Finds, in the permission sets of O(_input), the system permissions and object access that
    M(sfops.integration.sf_permission_set) refuses without C(allow_privileged) (Modify All Data,
    View All Data, Manage Users, View All Records, Modify All Records, ...), so that the role
    M(sfops.integration.integration_users) refuses them before its first login, not after the
    permission sets listed before them were written.
  - System permissions are matched without regard to case, with or without the C(Permissions) prefix,
    as the module matches them.
options:
  _input:
    description: The integrations (C(sf_integrations)).
    type: list
    elements: dict
    required: true
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_permission_set
"""

EXAMPLES = r"""
- name: Refuse privileged grants before any login
  ansible.builtin.assert:
    that: sf_integrations | sfops.integration.privileged_grants | length == 0
    fail_msg: "{{ sf_integrations | sfops.integration.privileged_grants | join('; ') }}"
"""

RETURN = r"""
_value:
  description: One message per permission set that asks for privileged access without C(allow_privileged), naming its path.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    PERMISSION_PREFIX, PRIVILEGED_OBJECT_ACCESS, PRIVILEGED_PERMISSIONS)

PRIVILEGED_BY_LOWER = dict((name.lower(), name) for name in PRIVILEGED_PERMISSIONS)


def privileged_of(permission_set):
    """Readable privileged grants of one permission set entry, in the order given."""
    found = []
    for name in permission_set.get("system_permissions") or []:
        bare = str(name).strip()
        if bare.lower().startswith(PERMISSION_PREFIX.lower()):
            bare = bare[len(PERMISSION_PREFIX):]
        if bare.lower() in PRIVILEGED_BY_LOWER:
            found.append(PRIVILEGED_BY_LOWER[bare.lower()])
    for item in permission_set.get("object_permissions") or []:
        extra = [level for level in item.get("access") or [] if level in PRIVILEGED_OBJECT_ACCESS]
        if extra:
            found.append("%s: %s" % (item.get("object"), ", ".join(extra)))
    return found


def privileged_grants(integrations):
    if not isinstance(integrations, list):
        raise AnsibleFilterError("privileged_grants expects the list sf_integrations")
    problems = []
    for index, integration in enumerate(integrations):
        for set_index, permission_set in enumerate((integration or {}).get("permission_sets") or []):
            found = privileged_of(permission_set)
            if found and not permission_set.get("allow_privileged"):
                problems.append(
                    "sf_integrations[%d].permission_sets[%d] (%s): privileged access an integration user should not need: "
                    "%s; set allow_privileged: true on this permission set to grant it anyway"
                    % (index, set_index, permission_set.get("name"), "; ".join(found)))
    return problems


class FilterModule:

    def filters(self):
        return {"privileged_grants": privileged_grants}
