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
  - A change is read from the C(diff) of a module result (C(before) and C(after)); lists are
    compared item by item, lists of dictionaries by their key (C(object), C(field), C(name), ...).
  - Secrets never reach the record; task arguments (C(invocation)) are ignored.
options:
  _input:
    description:
      - C(org) (inventory name), C(check_mode), C(org_info) (the M(sfops.integration.sf_org_info)
        result), C(steps) (step name to a registered result, a loop result, or a list of them) and
        C(failure) (C(task) and C(message)) when the org failed, and C(warnings) (a list of
        texts) for what the run could not do but went on without.
      - Steps named C(users), C(permission_sets), C(mfa_waiver), C(assignments), C(profile) and
        C(password_policy) become changes of that kind; any other step only counts API requests.
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
      description: One entry per changed resource, with C(kind), C(name), C(action) and C(details) (readable lines).
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
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

# Keys that name an item of a list of dictionaries, in order of preference.
ID_KEYS = ("object", "field", "name", "username", "developer_name", "permission_set", "label", "id")
# Step name -> kind of change it makes.
KINDS = dict(profile="profile", password_policy="password_policy", permission_sets="permission_set",
             mfa_waiver="permission_set", users="user", assignments="assignments")
# Where a result (or its loop item) names the resource, per kind.
NAME_PATHS = dict(
    user=(("user", "username"), ("invocation", "module_args", "username")),
    permission_set=(("permission_set", "name"), ("invocation", "module_args", "name")),
    assignments=(("user", "username"), ("invocation", "module_args", "username")),
    password_policy=(("policy", "profile"), ("profile",), ("invocation", "module_args", "profile")),
    profile=(("profile", "name"), ("invocation", "module_args", "name")),
)
COUNTS = ("users_created", "users_updated", "users_deactivated", "users_reactivated", "permission_sets_created",
          "permission_sets_updated", "permission_sets_deleted", "assignments_added", "assignments_removed",
          "password_policies_changed", "profiles_changed")
EMPTY = (None, "", {}, [])


def _dig(data, path):
    for key in path:
        if isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(data, (list, tuple)) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def render(value):
    """A short readable form: ``Lead: read, edit`` for {object: Lead, access: [read, edit]}."""
    if isinstance(value, Mapping):
        key = _id_key([value])
        rest = dict((k, v) for k, v in value.items() if k != key and v not in EMPTY)
        if key and len(rest) == 1:
            return "%s: %s" % (render(value[key]), render(list(rest.values())[0]))
        parts = ["%s=%s" % (k, render(v)) for k, v in sorted(rest.items())]
        return "%s (%s)" % (render(value[key]), ", ".join(parts)) if key else ", ".join(parts)
    if isinstance(value, (list, tuple)):
        return ", ".join(render(v) for v in value) if value else "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_text(value)


def _id_key(items):
    """The key every dictionary of ``items`` has, that names it; None if there is none."""
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in ID_KEYS:
        if all(item.get(key) not in (None, "") for item in items):
            return key
    return None


def compare(before, after, path=""):
    """Structured differences: [{path, added: [...], removed: [...], before, after}] (readable values)."""
    if before == after:
        return []
    if isinstance(before, Mapping) or isinstance(after, Mapping):
        if not isinstance(before, Mapping) and before not in EMPTY or not isinstance(after, Mapping) and after not in EMPTY:
            return [dict(path=path, added=[], removed=[], before=render(before), after=render(after))]
        before, after = before or {}, after or {}
        changes = []
        keys = list(before) + [k for k in after if k not in before]
        for key in keys:
            changes += compare(before.get(key), after.get(key), "%s.%s" % (path, key) if path else to_text(key))
        return changes
    if isinstance(before, (list, tuple)) or isinstance(after, (list, tuple)):
        before_list = list(before) if isinstance(before, (list, tuple)) else ([] if before in EMPTY else [before])
        after_list = list(after) if isinstance(after, (list, tuple)) else ([] if after in EMPTY else [after])
        key = _id_key(before_list + after_list)
        if key:
            old = dict((item[key], item) for item in before_list)
            new = dict((item[key], item) for item in after_list)
            added = [render(new[k]) for k in new if k not in old]
            removed = [render(old[k]) for k in old if k not in new]
            changed = [dict(path="%s[%s]" % (path, k), added=[], removed=[], before=render(old[k]), after=render(new[k]))
                       for k in new if k in old and old[k] != new[k]]
        else:
            added = [render(v) for v in after_list if v not in before_list]
            removed = [render(v) for v in before_list if v not in after_list]
            changed = []
        head = [dict(path=path, added=added, removed=removed, before=None, after=None)] if added or removed else []
        return head + changed
    return [dict(path=path, added=[], removed=[], before=render(before), after=render(after))]


def describe(changes):
    """Readable lines of compare()'s result."""
    lines = []
    for change in changes:
        if change["added"] or change["removed"]:
            parts = ["+ %s" % item for item in change["added"]] + ["- %s" % item for item in change["removed"]]
            lines.append("%s: %s" % (change["path"], "; ".join(parts)))
        elif change["before"] == "none":
            lines.append("%s: %s" % (change["path"], change["after"]))
        else:
            lines.append("%s: %s -> %s" % (change["path"], change["before"], change["after"]))
    return lines


def _is_absent(state):
    return state in EMPTY or (isinstance(state, Mapping) and (state.get("state") == "absent" or state.get("exists") is False))


def _diffs(result):
    diff = result.get("diff")
    if isinstance(diff, Mapping):
        return [diff]
    if isinstance(diff, (list, tuple)):
        return [d for d in diff if isinstance(d, Mapping)]
    return []


def _action(kind, before, after):
    if kind == "user":
        was, now = (before or {}).get("active") if isinstance(before, Mapping) else None, \
            (after or {}).get("active") if isinstance(after, Mapping) else None
        if _is_absent(before):
            return "create"
        if was is not False and now is False:
            return "deactivate"
        if was is False and now is True:
            return "reactivate"
        return "update"
    if kind == "assignments":
        return "update"
    if _is_absent(before):
        return "create"
    if _is_absent(after):
        return "delete"
    return "update"


def _name(kind, result):
    for path in NAME_PATHS.get(kind, ()):
        name = _dig(result, path)
        if isinstance(name, (str, int)) and not isinstance(name, bool):
            return to_text(name)
    return None


def _structured(kind, result):
    """(action, compare()-style changes) of one changed result."""
    if isinstance(result.get("added"), Mapping) or isinstance(result.get("removed"), Mapping):
        # sf_permset_assignment says what it adds and removes, with or without --diff.
        added, removed = result.get("added") or {}, result.get("removed") or {}
        changes = [dict(path=key, added=[render(v) for v in added.get(key) or []],
                        removed=[render(v) for v in removed.get(key) or []], before=None, after=None)
                   for key in sorted(set(added) | set(removed))]
        changes = [c for c in changes if c["added"] or c["removed"]]
        adds, removes = any(c["added"] for c in changes), any(c["removed"] for c in changes)
        return "add" if adds and not removes else ("remove" if removes and not adds else "update"), changes
    diffs = _diffs(result)
    if not diffs:
        return "update", []
    changes = []
    for diff in diffs:
        before, after = diff.get("before"), diff.get("after")
        if isinstance(before, (Mapping, list, type(None))) and isinstance(after, (Mapping, list, type(None))):
            changes += compare(before, after)
        else:
            changes.append(dict(path=diff.get("after_header") or "content", added=[], removed=[], before="...", after="..."))
    action = _action(kind, diffs[0].get("before"), diffs[0].get("after")) if len(diffs) == 1 else "update"
    if action == "create":
        # What a new resource gets; its key is already its name in the report.
        changes = [dict(c, before="none", added=[], after=", ".join(c["added"])) if c["added"] and not c["removed"] else c
                   for c in changes if c["path"] not in ("state", "exists", "name", "username")]
    return action, changes


def _change(kind, result):
    """The change one changed result made (or would make)."""
    action, changes = _structured(kind, result)
    return dict(kind=kind, name=_name(kind, result), action=action, details=describe(changes),
                added=sum(len(c["added"]) for c in changes), removed=sum(len(c["removed"]) for c in changes))


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


def rollout_org_record(data):
    if not isinstance(data, Mapping) or not data.get("org"):
        raise AnsibleFilterError("rollout_org_record expects a dictionary with at least 'org'")
    org = (data.get("org_info") or {}).get("org") or {}
    steps = data.get("steps") or {}
    api_requests = 0
    changes = []
    counts = dict((key, 0) for key in COUNTS)
    for step, value in steps.items():
        for result in _results(value):
            if result.get("skipped"):
                continue
            requests = result.get("api_requests")
            if isinstance(requests, int) and not isinstance(requests, bool):
                api_requests += requests
            kind = KINDS.get(step)
            if kind and result.get("changed") and not result.get("failed"):
                change = _change(kind, result)
                changes.append(change)
                _count(counts, change)
    failure = data.get("failure") or None
    if failure:
        failure = dict(task=to_text(failure.get("task") or ""), message=to_text(failure.get("message") or "failed"))
    status = "failed" if failure else ("changed" if changes else "unchanged")
    warnings = [to_text(w) for w in data.get("warnings") or []]
    return dict(org=to_text(data["org"]), org_name=org.get("name"), org_id=org.get("id"), is_sandbox=org.get("is_sandbox"),
                check_mode=bool(data.get("check_mode")), status=status, failure=failure, api_requests=api_requests,
                changes=changes, counts=counts, warnings=warnings)


class FilterModule:

    def filters(self):
        return {"rollout_org_record": rollout_org_record}
