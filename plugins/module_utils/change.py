# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The change record every module returns: what it changed, or in check mode would change.

A module knows its plan: the kind and name of what it manages, the action (create, update,
delete, ...) and the managed state before and after. ``change_record`` turns that into one
record with readable detail lines, so that reports only collect and sum records and never
have to guess a change from a diff. Nothing here talks to Salesforce.

Record keys: ``kind``, ``name``, ``action`` (``none`` when nothing changes), ``details``
(readable lines such as ``label: Old -> New`` or ``system_permissions: + ApiEnabled``),
``added`` and ``removed`` (how many list items were added and removed) and ``attributes``
(the same changes, structured: ``path``, ``added``, ``removed``, ``before``, ``after``). A module
adds ``concurrent: true`` when it found part of the resource already made by another writer
during the run (module.py ``finish``); the action is then what this run itself changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

NO_CHANGE = "none"
CREATE = "create"
UPDATE = "update"
DELETE = "delete"

# Keys that name an item of a list of dictionaries, in order of preference.
ID_KEYS = ("object", "field", "name", "username", "developer_name", "permission_set", "label", "id")
# Attributes a new resource's name already says: not repeated as details of a create.
NAMING_ATTRIBUTES = ("state", "exists", "name", "username")
EMPTY: tuple = (None, "", {}, [])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def render(value: Any) -> str:
    """A short readable form: ``Lead: read, edit`` for {object: Lead, access: [read, edit]}."""
    if isinstance(value, Mapping):
        key = id_key([value])
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
    return _text(value)


def id_key(items: list) -> Optional[str]:
    """The key every dictionary of ``items`` has, that names it; None if there is none."""
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in ID_KEYS:
        if all(item.get(key) not in (None, "") for item in items):
            return key
    return None


def _as_list(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [] if value in EMPTY else [value]


def _compare_lists(before: Any, after: Any, path: str) -> list[dict]:
    before_list, after_list = _as_list(before), _as_list(after)
    key = id_key(before_list + after_list)
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


def compare(before: Any, after: Any, path: str = "") -> list[dict]:
    """Structured differences: [{path, added: [...], removed: [...], before, after}] (readable values)."""
    if before == after:
        return []
    before_is_map, after_is_map = isinstance(before, Mapping), isinstance(after, Mapping)
    if before_is_map or after_is_map:
        if (not before_is_map and before not in EMPTY) or (not after_is_map and after not in EMPTY):
            return [dict(path=path, added=[], removed=[], before=render(before), after=render(after))]
        before, after = before or {}, after or {}
        changes = []
        for key in list(before) + [k for k in after if k not in before]:
            changes += compare(before.get(key), after.get(key), "%s.%s" % (path, key) if path else _text(key))
        return changes
    if isinstance(before, (list, tuple)) or isinstance(after, (list, tuple)):
        return _compare_lists(before, after, path)
    return [dict(path=path, added=[], removed=[], before=render(before), after=render(after))]


def describe(changes: list[dict]) -> list[str]:
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


def _as_created(changes: list[dict]) -> list[dict]:
    """What a new resource gets, as ``attribute: value`` lines; its name is already the record's name."""
    created = []
    for change in changes:
        if change["path"] in NAMING_ATTRIBUTES:
            continue
        if change["added"] and not change["removed"]:
            change = dict(change, before="none", added=[], after=", ".join(change["added"]))
        created.append(change)
    return created


def record(kind: str, name: Optional[str], action: str, attributes: list[dict]) -> dict:
    """A change record from structured attribute changes (see compare())."""
    if action == CREATE:
        attributes = _as_created(attributes)
    return dict(kind=kind, name=name, action=action, details=describe(attributes),
                added=sum(len(c["added"]) for c in attributes), removed=sum(len(c["removed"]) for c in attributes),
                attributes=attributes)


def change_record(kind: str, name: Optional[str], action: str, before: Any = None, after: Any = None) -> dict:
    """The record of a module's plan: ``action`` on the resource ``name`` of ``kind``, state before and after.

    ``action`` is the module's own decision (``create``, ``update``, ``delete``, ``deactivate``, ...);
    NO_CHANGE gives a record without details.
    """
    if action == NO_CHANGE:
        return record(kind, name, NO_CHANGE, [])
    return record(kind, name, action, compare(before, after))


def membership_record(kind: str, name: Optional[str], added: Mapping, removed: Mapping) -> dict:
    """The record of adding and removing members: {group: [items]} added and removed (assignments)."""
    attributes = [dict(path=key, added=[render(v) for v in added.get(key) or []],
                       removed=[render(v) for v in removed.get(key) or []], before=None, after=None)
                  for key in sorted(set(added) | set(removed))]
    attributes = [a for a in attributes if a["added"] or a["removed"]]
    adds, removes = any(a["added"] for a in attributes), any(a["removed"] for a in attributes)
    action = NO_CHANGE if not attributes else ("add" if not removes else ("remove" if not adds else UPDATE))
    return record(kind, name, action, attributes)
