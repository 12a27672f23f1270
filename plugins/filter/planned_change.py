# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: planned_change
short_description: A change that check mode plans without a module run, in the shape modules return
version_added: 0.2.0
description:
  - Used by the role M(sfops.integration.integration_users) in check mode for what depends on
    things the run would create (the assignments of a new user, the password policy of a new
    profile). No module can read them yet, so the plan comes from the input.
  - Returns what a module would have returned (C(changed) and its C(change) record, built the same
    way as the modules build theirs), so the rollout report treats both alike.
options:
  _input:
    description:
      - C(kind) and C(name) of the resource, and either C(action) with C(before) and C(after) (the
        managed state), or C(added) and C(removed) (lists of members by group, for assignments).
    type: dict
    required: true
author:
  - sfops maintainers (@sfops)
seealso:
  - plugin: sfops.integration.rollout_org_record
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Plan the assignments of a user check mode would create
  ansible.builtin.set_fact:
    planned: "{{ {'kind': 'assignments', 'name': 'int.marketo@acme.example',
                  'added': {'permission_sets': ['Marketo_Integration']}, 'removed': {}}
                 | sfops.integration.planned_change }}"
"""

RETURN = r"""
_value:
  description: C(changed) (true unless the plan changes nothing) and C(change), the change record.
  type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.module_utils.change import NO_CHANGE, change_record, membership_record


def planned_change(plan):
    if not isinstance(plan, Mapping) or not plan.get("kind"):
        raise AnsibleFilterError("planned_change expects a dictionary with at least 'kind'")
    if "added" in plan or "removed" in plan:
        record = membership_record(plan["kind"], plan.get("name"), plan.get("added") or {}, plan.get("removed") or {})
    else:
        record = change_record(plan["kind"], plan.get("name"), plan.get("action") or NO_CHANGE, plan.get("before"),
                               plan.get("after"))
    return dict(changed=record["action"] != NO_CHANGE, change=record)


class FilterModule:

    def filters(self):
        return {"planned_change": planned_change}
