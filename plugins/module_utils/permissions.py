# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The permission catalogue: names, dependencies and what counts as privileged.

System permission names are not hard-coded: an org has hundreds and each release adds more, so
the valid names are read from the describe of PermissionSet (or Profile), every boolean field
called ``Permissions<Name>``. What is fixed here is what the documentation fixes: the object and
field access dependencies (Object Reference, ObjectPermissions and FieldPermissions) and the
list of permissions an integration user must not have.
"""

from __future__ import annotations

from typing import Iterable, Optional

PERMISSION_PREFIX = "Permissions"

# Object access words of the module interface -> ObjectPermissions fields [OBJREF ObjectPermissions].
OBJECT_ACCESS_FIELDS = dict(
    read="PermissionsRead",
    create="PermissionsCreate",
    edit="PermissionsEdit",
    delete="PermissionsDelete",
    view_all_records="PermissionsViewAllRecords",
    modify_all_records="PermissionsModifyAllRecords",
)
OBJECT_ACCESS_ORDER = list(OBJECT_ACCESS_FIELDS)

# What each access needs, as Salesforce's permission set editor completes it [OBJREF ObjectPermissions].
OBJECT_ACCESS_IMPLIES = dict(
    create=["read"],
    edit=["read"],
    delete=["read", "edit"],
    view_all_records=["read"],
    modify_all_records=["read", "edit", "delete", "view_all_records"],
)

# Field access [OBJREF FieldPermissions]: edit needs read.
FIELD_ACCESS_FIELDS = dict(read="PermissionsRead", edit="PermissionsEdit")
FIELD_ACCESS_LEVELS = ["read", "edit"]

# The permissions the practice says should not be enabled for an integration user, plus the admin-grade
# permissions named in issue 4 (Modify All Data, View All Data, Author Apex, Customize
# Application, Modify Metadata). Manage Internal Users creates users like Manage Users does.
PRIVILEGED_PERMISSIONS = frozenset([
    "AssignPermissionSets", "BulkApiHardDelete", "OutboundMigrationToolsUser", "InboundMigrationToolsUser",
    "LightningExperienceUser", "ManageAuthProviders", "ManageIpAddresses", "ManageTwoFactor",
    "DelegatedTwoFactor", "ManagePackageLicenses", "ManageProfilesPermissionsets", "ManageRoles",
    "ManageUsers", "ManageInternalUsers", "ManageLoginAccessPolicies", "ManagePasswordPolicies",
    "ResetPasswords", "TwoFactorApi", "ForceTwoFactor", "ViewEncryptedData", "DataExport",
    "ModifyAllData", "ViewAllData", "AuthorApex", "CustomizeApplication", "ModifyMetadata",
])

# Object access that reaches every record regardless of sharing.
PRIVILEGED_OBJECT_ACCESS = frozenset(["view_all_records", "modify_all_records"])

# A profile holding any of these is admin-grade: never an integration user's profile (issue 5).
# Name -> UI label (reference 4), for messages that do not describe Profile.
ADMIN_PROFILE_PERMISSIONS = dict(ModifyAllData="Modify All Data", ViewAllData="View All Data",
                                 ManageUsers="Manage Users", CustomizeApplication="Customize Application",
                                 AuthorApex="Author Apex")


class SystemPermissionCatalogue:
    """The system permissions an object (PermissionSet or Profile) has, from its describe."""

    def __init__(self, describe: dict) -> None:
        self.labels: dict = {}
        for field in describe.get("fields") or []:
            name = field.get("name") or ""
            if name.startswith(PERMISSION_PREFIX) and field.get("type") == "boolean" and len(name) > len(PERMISSION_PREFIX):
                self.labels[name[len(PERMISSION_PREFIX):]] = field.get("label") or name
        self._by_lower = dict((name.lower(), name) for name in self.labels)

    @property
    def names(self) -> list[str]:
        return sorted(self.labels)

    def canonical(self, name: Optional[str]) -> Optional[str]:
        """``ApiEnabled`` for ``apienabled``, ``PermissionsApiEnabled`` or ``permissionsAPIENABLED``; else None."""
        text = (name or "").strip()
        if text.lower().startswith(PERMISSION_PREFIX.lower()) and text.lower() not in self._by_lower:
            text = text[len(PERMISSION_PREFIX):]
        return self._by_lower.get(text.lower())

    def resolve(self, names: Optional[Iterable[str]]) -> tuple[list[str], list[str]]:
        """(canonical names sorted and unique, names not found)."""
        found, unknown = set(), []
        for name in names or []:
            canonical = self.canonical(name)
            if canonical is None:
                unknown.append(name)
            else:
                found.add(canonical)
        return sorted(found), unknown

    def field(self, name: str) -> str:
        return PERMISSION_PREFIX + name

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def enabled(self, record: dict) -> list[str]:
        """Canonical names of the permissions a PermissionSet/Profile record has switched on."""
        return sorted(name for name in self.labels if record.get(PERMISSION_PREFIX + name) is True)


def complete_object_access(access: Optional[Iterable[str]]) -> list[str]:
    """The effective access list: what was asked plus what it implies, in canonical order."""
    wanted = set(access or [])
    for level in list(wanted):
        wanted.update(OBJECT_ACCESS_IMPLIES.get(level, []))
    return [level for level in OBJECT_ACCESS_ORDER if level in wanted]


def object_access_from_record(record: dict) -> list[str]:
    """Access words of an ObjectPermissions row."""
    return [level for level in OBJECT_ACCESS_ORDER if record.get(OBJECT_ACCESS_FIELDS[level]) is True]


def object_access_record(access: Iterable[str]) -> dict:
    """ObjectPermissions flags for an access list (every flag set, so absent ones are switched off)."""
    return dict((field, level in access) for level, field in OBJECT_ACCESS_FIELDS.items())


def field_access_from_record(record: dict) -> Optional[str]:
    """``edit``, ``read`` or None for a FieldPermissions row."""
    if record.get("PermissionsEdit"):
        return "edit"
    if record.get("PermissionsRead"):
        return "read"
    return None


def field_access_record(level: Optional[str]) -> dict:
    """FieldPermissions flags for ``read`` or ``edit`` (edit implies read)."""
    return dict(PermissionsRead=level in FIELD_ACCESS_LEVELS, PermissionsEdit=level == "edit")


def privileged_permissions(names: Iterable[str]) -> list[str]:
    """The privileged ones among canonical system permission names."""
    return sorted(name for name in names if name in PRIVILEGED_PERMISSIONS)


def admin_grade_permissions(record: dict) -> list[str]:
    """The admin-grade permissions a Profile (or PermissionSet) record has switched on."""
    return [name for name in ADMIN_PROFILE_PERMISSIONS if record.get(PERMISSION_PREFIX + name) is True]
