# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_org_record
short_description: Summarise one org's rollout task results into a record for the rollout report
version_added: 0.1.0
description:
  - Used by the role M(sfops.integration.integration_users) at the end of each org.
  - Takes the registered results of the role's steps and returns what changed (or would change,
    in check mode) in readable form, the failure if there was one, and the sum of the
    C(api_requests) every task returned.
  - Each change is the C(change) record the module returned (kind, name, action and readable
    details); the filter only collects and counts them.
  - Secrets never reach the record; task arguments (C(invocation)) are ignored.
options:
  _input:
    description:
      - C(org) (inventory name), C(check_mode), C(org_info) (the M(sfops.integration.sf_org_info)
        result), C(steps) (step name to a registered result, a loop result, or a list of them) and
        C(failure) (C(task) and C(message)) when the org failed, and C(warnings) (a list of
        texts) for what the run could not do but went on without, and C(logins) (how each integration
        logs in, and whether its passwordless login was proven), and C(left_out) (integrations not
        rolled out this run, see C(sf_integration_only)).
      - Every changed result of a step that carries a C(change) record becomes a change; every
        result counts its API requests.
    type: dict
    required: true
author:
  - sfops maintainers (@sfops)
seealso:
  - plugin: sfops.integration.rollout_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Record what happened in this org
  ansible.builtin.set_fact:
    integration_users_record: "{{ record_input | sfops.integration.rollout_org_record }}"
  vars:
    record_input:
      org: "{{ inventory_hostname }}"
      check_mode: "{{ ansible_check_mode }}"
      org_info: "{{ integration_users_org }}"
      steps:
        users: "{{ integration_users_users }}"
        permission_sets: "{{ integration_users_permission_sets }}"
"""

RETURN = r"""
_value:
  description: The org's record.
  type: dict
  contains:
    org:
      description: Inventory name of the org.
      type: str
    org_name:
      description: Organization name, when the org could be read.
      type: str
    org_id:
      description: Organization id.
      type: str
    check_mode:
      description: Whether the changes are a plan.
      type: bool
    status:
      description: V(failed), V(changed) or V(unchanged).
      type: str
    failure:
      description: C(task) and C(message) of the failure, or null.
      type: dict
    api_requests:
      description: Sum of every task's C(api_requests).
      type: int
    changes:
      description:
        - One entry per changed resource, with C(kind), C(name), C(action) and C(details) (readable lines).
        - C(concurrent) is true when part of it was found already made by another writer (another run at
          the same time); the entry is then what this run itself changed.
      type: list
      elements: dict
    concurrent:
      description:
        - C(kind) and C(name) of every resource a create found already made by another writer during
          the run (another run of the rollout at the same time), whether this run still changed it or not.
        - Only present when there is one.
      type: list
      elements: dict
    counts:
      description: Users created, updated, deactivated and reactivated, permission sets created and updated,
        assignments added and removed, password policies and profiles changed.
      type: dict
    warnings:
      description: What the run could not do in this org but went on without.
      type: list
      elements: str
    left_out:
      description: Names of the integrations this run left out (C(sf_integration_only)).
      type: list
      elements: str
    logins:
      description:
        - One entry per present integration, with C(integration), C(username), C(method) (V(jwt),
          V(client_credentials), V(password) or V(none)), C(app) and C(consumer_key) of its External
          Client App, C(verified) (true, false, or null when not tried), C(note) and C(session_user)
          (the username the new session read as its own identity; null when there was no session).
      type: list
      elements: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

COUNTS = ("users_created", "users_updated", "users_deactivated", "users_reactivated", "permission_sets_created",
          "permission_sets_updated", "permission_sets_deleted", "assignments_added", "assignments_removed",
          "password_policies_changed", "profiles_changed", "apps_created", "apps_updated", "apps_deleted")
# What the report keeps of each integration's login (never a secret: the consumer key is public).
LOGIN_KEYS = ("integration", "username", "method", "app", "consumer_key", "verified", "note", "session_user")
# What the report shows of a module's change record (``attributes`` is for programs, not readers).
REPORT_KEYS = ("kind", "name", "action", "details", "added", "removed")


def _change(result):
    """The change record a module returned, as the report shows it; None when nothing changed."""
    record = result.get("change")
    if not result.get("changed") or result.get("failed") or not isinstance(record, Mapping):
        return None
    if record.get("action") in (None, "none"):
        return None
    change = dict((key, record.get(key)) for key in REPORT_KEYS)
    if record.get("concurrent"):
        change["concurrent"] = True
    return change


def _concurrent(result):
    """{kind, name} of what a module found already made by another writer during the run (module_utils/change.py)."""
    record = result.get("change")
    if result.get("failed") or not isinstance(record, Mapping) or not record.get("concurrent"):
        return None
    return dict(kind=record.get("kind"), name=record.get("name"))


def _results(value):
    """Flatten a registered result, a loop result or a list of them into single results."""
    if isinstance(value, (list, tuple)):
        flat = []
        for item in value:
            flat += _results(item)
        return flat
    if not isinstance(value, Mapping):
        return []
    if isinstance(value.get("results"), list):
        return _results(value["results"])
    return [value]


def _count(counts, change):
    kind, action = change["kind"], change["action"]
    if kind == "user":
        key = dict(create="users_created", deactivate="users_deactivated", reactivate="users_reactivated").get(action, "users_updated")
        counts[key] += 1
    elif kind == "permission_set":
        counts[dict(create="permission_sets_created", delete="permission_sets_deleted").get(action, "permission_sets_updated")] += 1
    elif kind == "assignments":
        counts["assignments_added"] += change["added"]
        counts["assignments_removed"] += change["removed"]
    elif kind == "password_policy":
        counts["password_policies_changed"] += 1
    elif kind == "profile":
        counts["profiles_changed"] += 1
    elif kind == "external_client_app":
        counts[dict(create="apps_created", delete="apps_deleted").get(action, "apps_updated")] += 1


def rollout_org_record(data):
    if not isinstance(data, Mapping) or not data.get("org"):
        raise AnsibleFilterError("rollout_org_record expects a dictionary with at least 'org'")
    org = (data.get("org_info") or {}).get("org") or {}
    steps = data.get("steps") or {}
    api_requests = 0
    changes = []
    concurrent = []
    counts = dict((key, 0) for key in COUNTS)
    for value in steps.values():
        for result in _results(value):
            if result.get("skipped"):
                continue
            requests = result.get("api_requests")
            if isinstance(requests, int) and not isinstance(requests, bool):
                api_requests += requests
            change = _change(result)
            if change:
                changes.append(change)
                _count(counts, change)
            if _concurrent(result):
                concurrent.append(_concurrent(result))
    failure = data.get("failure") or None
    if failure:
        failure = dict(task=to_text(failure.get("task") or ""), message=to_text(failure.get("message") or "failed"))
    status = "failed" if failure else ("changed" if changes else "unchanged")
    warnings = [to_text(w) for w in data.get("warnings") or []]
    logins = [dict((key, login.get(key)) for key in LOGIN_KEYS) for login in data.get("logins") or []
              if isinstance(login, Mapping)]
    left_out = [to_text(name) for name in data.get("left_out") or []]
    record = dict(org=to_text(data["org"]), org_name=org.get("name"), org_id=org.get("id"), is_sandbox=org.get("is_sandbox"),
                  check_mode=bool(data.get("check_mode")), status=status, failure=failure, api_requests=api_requests,
                  changes=changes, counts=counts, warnings=warnings, logins=logins, left_out=left_out)
    if concurrent:
        record["concurrent"] = concurrent
    return record


class FilterModule:

    def filters(self):
        return {"rollout_org_record": rollout_org_record}
