# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Desired-versus-actual helpers every module shares.

A module reads the actual state, builds the desired state from its options (``None`` means
"not managed, leave as it is"), and asks these helpers what differs. Nothing here talks to
Salesforce.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional


def same_value(desired: Any, actual: Any) -> bool:
    """Equality the way Salesforce stores values: text compared as text, None and '' alike."""
    if desired in (None, "") and actual in (None, ""):
        return True
    if isinstance(desired, bool) or isinstance(actual, bool):
        return desired is actual
    if isinstance(desired, str) and isinstance(actual, str):
        return desired == actual
    return desired == actual


def field_changes(desired: dict, actual: Optional[dict], case_insensitive: Iterable[str] = ()) -> dict:
    """{field: desired value} for every managed field (desired value not None) that differs.

    ``case_insensitive`` names fields Salesforce compares without case (Username, Email).
    """
    changes = {}
    for field, value in desired.items():
        if value is None:
            continue
        current = (actual or {}).get(field)
        if field in case_insensitive and isinstance(value, str) and isinstance(current, str):
            if value.lower() == current.lower():
                continue
        elif same_value(value, current):
            continue
        changes[field] = value
    return changes


def set_changes(desired: Iterable, actual: Iterable, purge: bool) -> tuple[list, list]:
    """(to add, to remove) between two collections of keys; removals only when ``purge``."""
    desired_set, actual_set = set(desired), set(actual)
    to_add = sorted(desired_set - actual_set)
    to_remove = sorted(actual_set - desired_set) if purge else []
    return to_add, to_remove


def index_by(records: Optional[Iterable[dict]], key: str, lower: bool = True) -> dict:
    """{record[key] (lower-cased): record} for a list of records."""
    indexed = {}
    for record in records or []:
        value = record.get(key)
        if value is None:
            continue
        indexed[value.lower() if lower and isinstance(value, str) else value] = record
    return indexed


def subquery_records(record: Optional[dict], relationship: str) -> list[dict]:
    """Rows of a child subquery; Salesforce returns null (not an empty list) when there are none."""
    child = (record or {}).get(relationship)
    if not child:
        return []
    return list(child.get("records") or [])


def diff(before: Any, after: Any) -> dict:
    """The ``diff`` value Ansible shows with --diff: the managed state before and after."""
    return dict(before=before if before is not None else {}, after=after if after is not None else {})
