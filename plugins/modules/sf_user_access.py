#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_user_access
short_description: Read the effective access of one Salesforce user, and where each part comes from
version_added: 0.1.0
description:
  - Reads what one user can do - object permissions, field permissions and system permissions
    (the C(Permissions*) flags such as API Enabled or Modify All Data) - as the union over the
    user's profile, assigned permission sets and assigned permission set groups, with the sources
    of each (profile by name, permission set by API name, group by developer name). Also returns the
    user's license, profile, whether it is API only and its permission set licenses.
  - The first step of moving an integration off a shared or administrator user to a dedicated
    integration user (the playbook C(playbooks/migrate.yml)), or of reviewing what an integration
    user really holds.
  - Bounded requests whatever the user holds. Two composite requests - the user, its assignments and
    permission set licenses, its object and field permissions (through semi-joins on its assignments)
    and the describe of PermissionSet; then the system permissions of its sets (a query per 250 or so
    C(Permissions*) fields) and, with O(permission_set_license), that license's maximum permissions.
    Only the pages of results beyond 2,000 rows add requests.
  - A permission set group counts through its aggregate permission set, which Salesforce keeps with
    the group's permissions (muting included) and names in the group assignment. Expired assignments
    do not count.
  - Changes nothing.
  - Least privilege. The user the module runs as needs API Enabled and View Setup and Configuration
    (C(ViewSetup), to read permission sets, their assignments and their object and field permissions).
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.managed_user
  - sfops.integration.connection.action_group
options:
  username:
    description:
      - Username of the user whose access to read (any user, active or not). The user the module logs
        in as is O(login_username).
    type: str
    required: true
  objects:
    description:
      - Only the object and field permissions of these objects (API names, for example V(Account) or
        V(Invoice__c)). System permissions are always returned. An object the user has no access to
        gets a warning.
    type: list
    elements: str
  permission_set_license:
    description:
      - A permission set license (developer name or label), for example V(Salesforce API Integration).
        Each system permission then says whether a permission set on that license may hold it
        (C(license_allows) in RV(system_permissions)), from the license's C(MaximumPermissions*) fields.
    type: str
notes:
  - Check mode runs the same reads; nothing is ever written.
  - Salesforce returns an object permission row for each object a user can reach through Modify All Data or
    View All Data; they are part of the effective access.
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_permission_set
  - module: sfops.integration.sf_integration_audit
"""

EXAMPLES = r"""
- name: What does the shared integration user hold?
  sfops.integration.sf_user_access:
    username: integration.shared@acme.com
    permission_set_license: Salesforce API Integration
  register: access

- name: Show its privileged system permissions and where they come from
  ansible.builtin.debug:
    msg: "{{ item.label }} from {{ item.sources | map(attribute='name') | join(', ') }}"
  loop: "{{ access.system_permissions | selectattr('privileged') | list }}"
  loop_control:
    label: "{{ item.name }}"

- name: Only its access to accounts and invoices
  sfops.integration.sf_user_access:
    username: integration.shared@acme.com
    objects: [Account, Invoice__c]
"""

RETURN = r"""
user:
  description: The user.
  returned: success
  type: dict
  contains:
    id:
      description: User id.
      type: str
    username:
      description: Username.
      type: str
    name:
      description: Full name.
      type: str
    email:
      description: Email address.
      type: str
    active:
      description: Whether the user is active.
      type: bool
    license:
      description: Name of the user license.
      type: str
      sample: Salesforce
    profile:
      description: Name of the profile.
      type: str
      sample: System Administrator
    api_only:
      description: Whether the user holds API Only User (C(ApiUserOnly)), from any source.
      type: bool
permission_set_licenses:
  description: The permission set licenses assigned to the user.
  returned: success
  type: list
  elements: dict
  sample: [{"developer_name": "SalesforceAPIIntegrationPsl", "label": "Salesforce API Integration"}]
sources:
  description:
    - Where the access comes from - the profile, each assigned permission set and each assigned
      permission set group - with C(kind) (V(profile), V(permission_set) or V(permission_set_group)),
      C(name), C(label) and, for sets, C(license).
  returned: success
  type: list
  elements: dict
object_permissions:
  description:
    - Each object the user has access to, with C(object), the effective C(access) (V(read), V(create),
      V(edit), V(delete), V(view_all_records), V(modify_all_records)) and its C(sources), each with
      C(kind), C(name) and the C(access) it grants.
  returned: success
  type: list
  elements: dict
  sample: [{"object": "Account", "access": ["read", "edit"],
            "sources": [{"kind": "permission_set", "name": "Sales_Sync", "access": ["read", "edit"]}]}]
field_permissions:
  description:
    - Each field the user can read, with C(field) (C(Object.Field)), C(object), the effective C(access)
      (V(read) or V(edit)) and its C(sources).
  returned: success
  type: list
  elements: dict
system_permissions:
  description:
    - Each system permission the user holds, with C(name) (API name without C(Permissions)), C(label),
      C(privileged) (admin-grade, or a permission an integration user should not have), C(sources)
      and, with O(permission_set_license), C(license_allows) (V(null) when the license does not say).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "ModifyAllData", "label": "Modify All Data", "privileged": true,
            "sources": [{"kind": "profile", "name": "System Administrator"}]}]
permission_set_license:
  description: With O(permission_set_license), the license compared and what it allows.
  returned: when O(permission_set_license) is given
  type: dict
  contains:
    developer_name:
      description: Its developer name.
      type: str
    label:
      description: Its label.
      type: str
    not_allowed:
      description: The user's system permissions that a permission set on this license may not hold.
      type: list
      elements: str
counts:
  description: How many objects, fields and system permissions the user holds (after O(objects)).
  returned: success
  type: dict
  sample: {"objects": 3, "fields": 12, "system_permissions": 40}
change:
  description: The change record; its action is always V(none).
  returned: success
  type: dict
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 3
"""

import re

from ansible_collections.sfops.integration.plugins.module_utils.change import NO_CHANGE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError, PermissionDeniedError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import LICENSE_QUERY, unknown_message
from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    OBJECT_ACCESS_FIELDS,
    OBJECT_ACCESS_ORDER,
    PRIVILEGED_PERMISSIONS,
    SystemPermissionCatalogue,
    field_access_from_record,
    object_access_from_record,
)
from ansible_collections.sfops.integration.plugins.module_utils.soql import field_chunks, soql
from ansible_collections.sfops.integration.plugins.module_utils.system_permissions import MAXIMUM_PREFIX

ARGUMENT_SPEC = dict(
    username=dict(type="str", required=True),
    objects=dict(type="list", elements="str"),
    permission_set_license=dict(type="str"),
)

API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
PROFILE = "profile"
PERMISSION_SET = "permission_set"
GROUP = "permission_set_group"

# Every set the user is assigned: the profile's own set, permission sets, groups' aggregate sets (oauth
# reference C.1). Object and field rows are read through it as a semi-join, so one query covers all sets.
ASSIGNED_SETS = "SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username = {username}"
QUERIES = dict(
    user="SELECT Id, Username, Name, Email, IsActive, Profile.Name, Profile.UserLicense.Name FROM User "
         "WHERE Username = {username}",
    assignments="SELECT PermissionSetId, PermissionSetGroupId, ExpirationDate, PermissionSet.Name, "
                "PermissionSet.Label, PermissionSet.IsOwnedByProfile, PermissionSet.License.Name, "
                "PermissionSetGroup.DeveloperName, PermissionSetGroup.MasterLabel FROM PermissionSetAssignment "
                "WHERE Assignee.Username = {username} AND (ExpirationDate = null OR ExpirationDate > TODAY)",
    licenses="SELECT PermissionSetLicense.DeveloperName, PermissionSetLicense.MasterLabel "
             "FROM PermissionSetLicenseAssign WHERE Assignee.Username = {username}",
    objects="SELECT ParentId, SobjectType, %s FROM ObjectPermissions WHERE ParentId IN (%s)"
            % (", ".join(OBJECT_ACCESS_FIELDS.values()), ASSIGNED_SETS),
    fields="SELECT ParentId, SobjectType, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
           "WHERE ParentId IN (%s)" % ASSIGNED_SETS,
)
OBJECT_FILTER = " AND SobjectType IN {objects}"
SETS_QUERY = "SELECT Id, %s FROM PermissionSet WHERE Id IN (" + ASSIGNED_SETS + ")"
LICENSES_QUERY = "SELECT DeveloperName, MasterLabel FROM PermissionSetLicense"


# ---- input -------------------------------------------------------------------------------------------


def option_problems(params):
    """Every problem of the options, each naming the option and the value; [] when they are fine."""
    problems = []
    if not (params.get("username") or "").strip():
        problems.append("username must name a user, not '%s'" % (params.get("username") or ""))
    for index, name in enumerate(params.get("objects") or []):
        if not API_NAME_RE.match((name or "").strip()):
            problems.append("objects[%d]: '%s' is not an object API name" % (index, name))
    if params.get("permission_set_license") is not None and not params["permission_set_license"].strip():
        problems.append("permission_set_license must name a permission set license when given")
    return problems


# ---- reading -------------------------------------------------------------------------------------------


def first_read(client, params):
    """The user, its assignments, licenses, object and field rows and the describe: one composite request."""
    values = dict(username=params["username"].strip(), objects=[o.strip() for o in params.get("objects") or []])
    queries = {}
    for ref, text in QUERIES.items():
        if ref in ("objects", "fields") and values["objects"]:
            text += OBJECT_FILTER
        queries[ref] = soql(text, **values)
    rows = client.read_records(queries, [client.composite_describe("describePermissionSet", "PermissionSet")])
    return rows, SystemPermissionCatalogue(rows.pop("describePermissionSet"))


def second_read(client, params, catalogue):
    """The system permissions of the user's sets, in a few queries of some fields each, and the license's
    record (every MaximumPermissions field): one composite request while they are five queries at most."""
    chunks = field_chunks([catalogue.field(name) for name in catalogue.names])
    username = params["username"].strip()
    subs = [client.composite_query("sets%d" % index, soql(SETS_QUERY % ", ".join(chunk), username=username))
            for index, chunk in enumerate(chunks)]
    wanted = (params.get("permission_set_license") or "").strip()
    if wanted:
        subs += [client.composite_query("license", soql(LICENSE_QUERY, wanted)),
                 client.sobject_subrequest("licenseRecord", "GET", "PermissionSetLicense", "@{license.records[0].Id}")]
    responses = client.read(subs)
    sets = {}
    for index in range(len(chunks)):
        for record in client.composite_records(responses, "sets%d" % index):
            sets.setdefault(record["Id"], {}).update(record)
    sets = list(sets.values())
    if not wanted:
        return sets, None
    license_record = client.optional_body(responses, "licenseRecord")
    if not client.composite_records(responses, "license") or not isinstance(license_record, dict):
        names = client.query(LICENSES_QUERY)  # only to name the licenses the org has
        raise InputError("permission_set_license: " + unknown_message(
            "permission set license", [wanted], [r.get("MasterLabel") for r in names] + [r.get("DeveloperName") for r in names]))
    return sets, license_record


# ---- the readable state ---------------------------------------------------------------------------------


def source_of(assignment, user):
    """{kind, name, label[, license]} of one assignment: its group, the profile or the permission set."""
    permission_set = assignment.get("PermissionSet") or {}
    group = assignment.get("PermissionSetGroup") or {}
    if assignment.get("PermissionSetGroupId"):
        return dict(kind=GROUP, name=group.get("DeveloperName"), label=group.get("MasterLabel"))
    if permission_set.get("IsOwnedByProfile"):
        # The profile's own set: named after the profile (its Name and Label are not the profile's, C.1).
        profile = user.get("Profile") or {}
        return dict(kind=PROFILE, name=profile.get("Name"), label=profile.get("Name"))
    return dict(kind=PERMISSION_SET, name=permission_set.get("Name"), label=permission_set.get("Label"),
                license=(permission_set.get("License") or {}).get("Name"))


def _ordered(sources):
    order = {PROFILE: 0, PERMISSION_SET: 1, GROUP: 2}
    return sorted(sources, key=lambda s: (order[s["kind"]], (s.get("name") or "").lower()))


def _short(source, **extra):
    return dict(kind=source["kind"], name=source["name"], **extra)


def effective_access(user, rows, sets, catalogue, license_record=None, objects=None):
    """The module's result (without change record) from the rows the two reads returned."""
    by_set = {}
    for assignment in rows["assignments"]:
        if assignment.get("PermissionSetId"):
            by_set[assignment["PermissionSetId"]] = source_of(assignment, user)
    sources = _ordered(list(by_set.values()))

    object_access = {}
    for row in rows["objects"]:
        if row.get("ParentId") in by_set:
            granted = object_access_from_record(row)
            if granted:
                item = object_access.setdefault(row["SobjectType"], dict(object=row["SobjectType"], sources=[]))
                item["sources"].append(_short(by_set[row["ParentId"]], access=granted))
    for item in object_access.values():
        item["sources"] = _ordered(item["sources"])
        union = set(level for source in item["sources"] for level in source["access"])
        item["access"] = [level for level in OBJECT_ACCESS_ORDER if level in union]

    field_access = {}
    for row in rows["fields"]:
        level = field_access_from_record(row)
        if row.get("ParentId") in by_set and level:
            item = field_access.setdefault(row["Field"], dict(field=row["Field"], object=row["SobjectType"],
                                                              sources=[]))
            item["sources"].append(_short(by_set[row["ParentId"]], access=level))
    for item in field_access.values():
        item["sources"] = _ordered(item["sources"])
        item["access"] = "edit" if any(s["access"] == "edit" for s in item["sources"]) else "read"

    system = {}
    for record in sets:
        if record.get("Id") in by_set:
            for name in catalogue.enabled(record):
                system.setdefault(name, []).append(_short(by_set[record["Id"]]))
    system_permissions = []
    for name in sorted(system):
        item = dict(name=name, label=catalogue.label(name), privileged=name in PRIVILEGED_PERMISSIONS,
                    sources=_ordered(system[name]))
        if license_record is not None:
            allowed = license_record.get(MAXIMUM_PREFIX + name)
            item["license_allows"] = allowed if isinstance(allowed, bool) else None
        system_permissions.append(item)

    profile = user.get("Profile") or {}
    result = dict(
        user=dict(id=user.get("Id"), username=user.get("Username"), name=user.get("Name"), email=user.get("Email"),
                  active=user.get("IsActive"), license=(profile.get("UserLicense") or {}).get("Name"),
                  profile=profile.get("Name"), api_only="ApiUserOnly" in system),
        permission_set_licenses=sorted(
            (dict(developer_name=(r.get("PermissionSetLicense") or {}).get("DeveloperName"),
                  label=(r.get("PermissionSetLicense") or {}).get("MasterLabel")) for r in rows["licenses"]),
            key=lambda p: p["developer_name"] or ""),
        sources=sources,
        object_permissions=[object_access[name] for name in sorted(object_access, key=str.lower)],
        field_permissions=[field_access[name] for name in sorted(field_access, key=str.lower)],
        system_permissions=system_permissions,
    )
    result["counts"] = dict(objects=len(result["object_permissions"]), fields=len(result["field_permissions"]),
                            system_permissions=len(system_permissions))
    if license_record is not None:
        result["permission_set_license"] = dict(
            developer_name=license_record.get("DeveloperName"), label=license_record.get("MasterLabel"),
            not_allowed=[p["name"] for p in system_permissions if p["license_allows"] is False])
    result["objects_without_access"] = [
        name for name in objects or [] if name.lower() not in set(o.lower() for o in object_access)]
    return result


# ---- the module ----------------------------------------------------------------------------------------


def run(module):
    params = module.params
    module.refuse(option_problems(params))
    client = module.client
    try:
        rows, catalogue = first_read(client, params)
    except PermissionDeniedError as error:
        raise PermissionDeniedError(
            "The user this module runs as may not read permission sets and their assignments; nothing was changed. "
            "It needs API Enabled and View Setup and Configuration (ViewSetup). Salesforce answered: %s" % error.message,
            **error.details)
    if not rows["user"]:
        raise InputError("no user with username '%s' in this org; nothing was read about its access"
                         % params["username"].strip())
    sets, license_record = second_read(client, params, catalogue)
    result = effective_access(rows["user"][0], rows, sets, catalogue, license_record,
                              [o.strip() for o in params.get("objects") or []])
    for name in result.pop("objects_without_access"):
        module.warn("%s has no access to the object %s (or it does not exist)" % (result["user"]["username"], name))
    return module.finish(change_record("user_access", result["user"]["username"], NO_CHANGE), {}, {}, **result)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
