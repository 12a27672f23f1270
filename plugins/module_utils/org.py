# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Lookups in what an org holds, written once for every module: ids, picklist values, licenses,
profiles fit for integration users, seats, and the "did you mean" hint for a name the org lacks.

Records in (as the REST API returns them), answers out; nothing here talks to Salesforce.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Optional

from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    ADMIN_PROFILE_PERMISSIONS,
    admin_grade_permissions,
)

# The user license of integration users (reference 3.3, 3.12).
INTEGRATION_USER_LICENSE = "Salesforce Integration"
ADMIN_PROFILE = "System Administrator"
# The option value that means "no license" (sf_permission_set's license).
NO_LICENSE = "none"
# A permission set license by the name an option gives (its API name or its label), for a composite read
# (soql.soql fills in the name; a later subrequest reads the record through @{<ref>.records[0].Id}).
LICENSE_QUERY = "SELECT Id FROM PermissionSetLicense WHERE DeveloperName = {0} OR MasterLabel = {0} LIMIT 1"


# ---- ids ---------------------------------------------------------------------------------------------


def id15(record_id: Optional[str]) -> str:
    """The 15-character form of an id: Salesforce gives 15 or 18 characters for the same record."""
    return (record_id or "")[:15]


def same_id(one: Optional[str], other: Optional[str]) -> bool:
    """Whether two ids name the same record, whatever their length (two missing ids are the same)."""
    return id15(one) == id15(other)


# ---- names the org does not have ---------------------------------------------------------------------


def closest(name: str, candidates: Iterable[str], count: int = 3) -> list[str]:
    """Up to ``count`` candidates that look like ``name`` (case-insensitive), best first."""
    by_lower: dict = {}
    for candidate in candidates:
        if candidate:
            by_lower.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=count, cutoff=0.6)
    return [by_lower[m] for m in matches]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean ApiEnabled, ApiUserOnly?)``, or "" when nothing looks like ``name``."""
    hints = closest(name, candidates)
    return " (did you mean %s?)" % ", ".join(hints) if hints else ""


def unknown_message(kind: str, unknown: Iterable[str], candidates: Iterable[str]) -> str:
    """``unknown system permission 'ApiEnable' (did you mean ApiEnabled?)`` for each offender."""
    candidates = list(candidates)
    return "unknown %s %s" % (kind, "; ".join("'%s'%s" % (name, did_you_mean(name, candidates)) for name in unknown))


# ---- describes -------------------------------------------------------------------------------------


def describe_field(describe: Optional[dict], name: str) -> Optional[dict]:
    """The field ``name`` of an sObject describe, or None."""
    for field in (describe or {}).get("fields") or []:
        if field.get("name") == name:
            return field
    return None


def picklist_values(describe: Optional[dict], name: str) -> Optional[list[str]]:
    """Active values of the picklist field ``name``; None when the describe does not list the field."""
    field = describe_field(describe, name)
    if field is None:
        return None
    return [value["value"] for value in field.get("picklistValues") or [] if value.get("active", True)]


def object_for_permissions(typed: str, permissionable: Optional[list[str]],
                           describes: dict[str, Optional[dict]]) -> tuple[Optional[str], Optional[str]]:
    """(canonical name, None) of an object that takes object and field permissions, else (None, why not).

    ``permissionable`` is the SobjectType picklist of ObjectPermissions (when the org gave none, the
    described objects count); ``describes`` maps lower-case object names to their describe (missing or
    None: the org has no such object). sf_permission_set and sf_org_info (the rollout's check before
    its first write) resolve names here, so both refuse the same input in the same words.
    """
    text = typed.strip()
    valid = permissionable or [d.get("name") for d in describes.values() if d]
    by_lower = dict((name.lower(), name) for name in valid)
    if text.lower() in by_lower:
        return by_lower[text.lower()], None
    if describes.get(text.lower()):
        return None, "object '%s' takes no object or field permissions in Salesforce" % text
    return None, unknown_message("object", [typed], valid)


def field_for_permissions(typed: str, access: str, permissionable: Optional[list[str]],
                          describes: dict[str, Optional[dict]]) -> tuple[Optional[str], Optional[str], bool]:
    """(canonical ``Object.Field``, None, False) of a field that takes ``access`` (read or edit), else
    (None, why not, refused): ``refused`` when the field exists but cannot take that access, as
    opposed to a name the org does not have. ``Contact.Account`` means the lookup ``Contact.AccountId``.
    """
    object_part, dot, field_part = typed.strip().partition(".")
    if not dot or not field_part:
        return None, "field '%s' must be written Object.Field, for example Invoice__c.Paid__c" % typed, False
    sobject, problem = object_for_permissions(object_part, permissionable, describes)
    if sobject is None:
        return None, problem, False
    fields = (describes.get(sobject.lower()) or {}).get("fields") or []
    by_lower = dict((f["name"].lower(), f) for f in fields)
    field = by_lower.get(field_part.lower()) or by_lower.get(field_part.lower() + "id")
    if field is None:
        candidates = ["%s.%s" % (sobject, f["name"]) for f in fields if f.get("permissionable")]
        return None, unknown_message("field", [typed], candidates), False
    name = "%s.%s" % (sobject, field["name"])
    if not field.get("permissionable"):
        return None, ("field %s takes no field permissions in Salesforce (system, required or master-detail fields "
                      "are always visible)" % name), True
    if access == "edit" and (field.get("calculated") or field.get("autoNumber")):
        return None, "field %s is a formula or auto-number field: only read access can be granted" % name, True
    return name, None, False


# ---- licenses ----------------------------------------------------------------------------------------


class License:
    """A user license (``kind`` "user") or permission set license ("psl") as options name it."""

    def __init__(self, license_id: Optional[str] = None, name: str = NO_LICENSE, kind: Optional[str] = None,
                 aliases: Iterable[Optional[str]] = ()) -> None:
        self.id = license_id
        self.name = name
        self.kind = kind
        self.aliases = [alias for alias in aliases if alias]  # every name it is found by

    def same_as(self, license_id: Optional[str]) -> bool:
        return same_id(self.id, license_id)


def licenses(user_license_rows: Iterable[dict] = (), psl_rows: Iterable[dict] = ()) -> list[License]:
    """Licenses from UserLicense rows (Name, MasterLabel) and PermissionSetLicense rows (DeveloperName, MasterLabel).

    Permission set licenses come first: a name both kinds carry means the permission set license.
    """
    found = [License(row["Id"], row.get("MasterLabel") or row.get("DeveloperName"), "psl",
                     (row.get("DeveloperName"), row.get("MasterLabel"))) for row in psl_rows]
    found += [License(row["Id"], row.get("Name") or row.get("MasterLabel"), "user",
                      (row.get("Name"), row.get("MasterLabel"))) for row in user_license_rows]
    return found


def find_license(name: str, candidates: Iterable[License]) -> Optional[License]:
    """The license one of whose names is ``name``, without regard to case or surrounding blanks."""
    wanted = (name or "").strip().lower()
    for found in candidates:
        if wanted in (alias.lower() for alias in found.aliases):
            return found
    return None


def license_by_id(license_id: Optional[str], candidates: Iterable[License]) -> Optional[License]:
    """The license with id ``license_id`` (15 or 18 characters), or None."""
    for found in candidates:
        if license_id and found.same_as(license_id):
            return found
    return None


def license_names(candidates: Iterable[License]) -> list[str]:
    """Every name the licenses can be given by, for a "did you mean" hint."""
    return [alias for found in candidates for alias in found.aliases]


# ---- seats -------------------------------------------------------------------------------------------


def seats(row: dict) -> dict:
    """{total, used, available} of a UserLicense or PermissionSetLicense row (available never below 0)."""
    total = row.get("TotalLicenses") or 0
    used = row.get("UsedLicenses") or 0
    return dict(total=total, used=used, available=max(0, total - used))


def out_of_seats(row: dict) -> bool:
    """True when every seat of the license is used; counts the row lacks leave the check to Salesforce."""
    if row.get("TotalLicenses") is None or row.get("UsedLicenses") is None:
        return False
    return row["UsedLicenses"] >= row["TotalLicenses"]


def seats_text(row: dict) -> str:
    """``5 of 5 used``."""
    counted = seats(row)
    return "%d of %d used" % (counted["used"], counted["total"])


# ---- profiles ------------------------------------------------------------------------------------------


def admin_grade_reasons(profile: dict) -> list[str]:
    """Why a profile is admin-grade: the admin permissions it grants, or being System Administrator; [] if not."""
    reasons = [ADMIN_PROFILE_PERMISSIONS[name] for name in admin_grade_permissions(profile)]
    if not reasons and profile.get("Name") == ADMIN_PROFILE:
        reasons = [ADMIN_PROFILE]
    return reasons


def is_integration_user(license_name: Optional[str], api_only: bool) -> bool:
    """A dedicated integration user: on the Salesforce Integration user license, or API Only User (through its
    profile or a permission set). Whether its rights are fit for one is another question (is_integration_profile);
    the audit reports integration users with admin-grade rights."""
    return license_name == INTEGRATION_USER_LICENSE or bool(api_only)


def is_integration_profile(profile: dict, license_name: Optional[str]) -> bool:
    """A profile fit for integration users: one that makes its users integration users (is_integration_user),
    and not admin-grade (see admin_grade_reasons). ``license_name`` is the name of the profile's user license.

    The admin-grade permissions are read only when the profile row carries them (``Permissions<Name>``).
    """
    api_profile = is_integration_user(license_name, bool(profile.get("PermissionsApiUserOnly")))
    return api_profile and not admin_grade_reasons(profile)
