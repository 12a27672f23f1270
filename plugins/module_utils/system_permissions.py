# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""System permissions of a permission set or a profile: the part sf_permission_set and sf_profile share.

Both hold user permissions as ``Permissions<Name>`` booleans on one record. This file turns the
module options into canonical names (from the org's describe), plans what to switch on and off
(``purge``), guards the privileged ones (``allow_privileged``) and checks them against what a
permission set license allows (its ``MaximumPermissions<Name>`` fields, read from the org).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ansible_collections.sfops.integration.plugins.module_utils.errors import refuse
from ansible_collections.sfops.integration.plugins.module_utils.org import unknown_message
from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    PERMISSION_PREFIX,
    SystemPermissionCatalogue,
    privileged_permissions,
)
from ansible_collections.sfops.integration.plugins.module_utils.state import set_changes

MAXIMUM_PREFIX = "MaximumPermissions"

# Salesforce switches these on in a permission set licensed by a permission set license that allows
# them (reference 3.12: API Enabled in a set with the Salesforce API Integration license). They are
# part of what such a set is expected to hold, so a run never reports them as drift.
LICENSE_FORCED_PERMISSIONS = ("ApiEnabled",)

# Options both modules declare, with the same meaning.
ARGUMENT_SPEC = dict(
    system_permissions=dict(type="list", elements="str"),
    purge=dict(type="bool", default=True),
    allow_privileged=dict(type="bool", default=False),
)


def resolve(catalogue: SystemPermissionCatalogue, names: Optional[Iterable[str]]) -> tuple[list[str], Optional[str]]:
    """(canonical names, error message or None) for the ``system_permissions`` option."""
    found, unknown = catalogue.resolve(names)
    if unknown:
        return found, unknown_message("system permission", unknown, catalogue.names)
    return found, None


def forced_by_license(license_record: Optional[dict]) -> list[str]:
    """The permissions a permission set license switches on by itself (see LICENSE_FORCED_PERMISSIONS)."""
    record = license_record or {}
    return [name for name in LICENSE_FORCED_PERMISSIONS if record.get(MAXIMUM_PREFIX + name) is True]


def not_allowed_by_license(names: Iterable[str], license_record: Optional[dict]) -> list[str]:
    """Names the permission set license does not allow (its MaximumPermissions<Name> is false).

    A permission the license record has no field for is left to Salesforce to judge.
    """
    record = license_record or {}
    return [name for name in names if record.get(MAXIMUM_PREFIX + name) is False]


def license_message(catalogue: SystemPermissionCatalogue, names: Iterable[str], license_name: str) -> str:
    labels = ", ".join("%s (%s)" % (name, catalogue.label(name)) for name in names)
    return "the license '%s' does not allow the system permission(s) %s" % (license_name, labels)


class SystemPermissionPlan:
    """What to switch on and off so a record holds the desired system permissions.

    ``requested`` are canonical names, ``enabled`` those the record has on now, ``forced`` those
    the license switches on by itself. With ``purge`` everything else is switched off.
    """

    def __init__(self, requested: Optional[Iterable[str]], enabled: Optional[Iterable[str]], purge: bool,
                 forced: Iterable[str] = ()) -> None:
        self.requested = sorted(set(requested or []))
        self.desired = sorted(set(self.requested) | set(forced))
        self.enabled = sorted(set(enabled or []))
        self.to_enable, self.to_disable = set_changes(self.desired, self.enabled, purge)
        self.after = sorted((set(self.enabled) | set(self.to_enable)) - set(self.to_disable))

    @property
    def changed(self) -> bool:
        return bool(self.to_enable or self.to_disable)

    def record_fields(self) -> dict:
        """{PermissionsName: bool} for every permission that changes."""
        fields = dict((PERMISSION_PREFIX + name, True) for name in self.to_enable)
        fields.update((PERMISSION_PREFIX + name, False) for name in self.to_disable)
        return fields

    def changes(self) -> dict:
        return dict(added=list(self.to_enable), removed=list(self.to_disable))


def privileged_offenders(catalogue: SystemPermissionCatalogue, names: Iterable[str]) -> list[str]:
    """``ModifyAllData (Modify All Data)`` for each privileged permission among ``names``."""
    return ["%s (%s)" % (name, catalogue.label(name)) for name in privileged_permissions(names)]


def privileged_problem(module: Any, offenders: list[str], what: str) -> Optional[str]:
    """The refusal of privileged grants, as a problem to report with the others; None when none or allowed.

    ``offenders`` are readable descriptions; ``what`` names the record (``permission set X``).
    """
    if not offenders or module.params["allow_privileged"]:
        return None  # allowed: guard_privileged warns once the rest of the input is accepted
    return ("refusing to grant privileged access in %s: %s. An integration user should not have these "
            "(an integration needs only the access of its job); set allow_privileged: true to grant them anyway."
            % (what, "; ".join(offenders)))


def guard_privileged(module: Any, offenders: list[str], what: str) -> None:
    """Refuse privileged grants unless ``allow_privileged``; warn when they are allowed."""
    refuse([privileged_problem(module, offenders, what)])
    if offenders:
        module.warn("%s grants privileged access an integration user should not need: %s" % (what, "; ".join(offenders)))
