#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_org_info
short_description: Read what a Salesforce org offers integration users, before a rollout
version_added: 0.1.0
description:
  - Reads, in two API requests (one composite request with five queries, and C(/limits)), the
    facts a rollout of integration users depends on. The org's id, name, edition and whether it
    is a sandbox. The daily API requests left. The seats of every user license and permission set
    license. Whether Multi-Factor Authentication is required for API logins, and through which
    profiles and permission sets. The profiles an integration user can have.
  - Optionally checks, in the same composite request, names a rollout needs to exist before it
    writes anything. Permission sets (O(permission_sets)) and permission set groups
    (O(permission_set_groups)) widen the permission set query. Objects and fields of object and
    field permissions (O(objects), O(fields)) add one describe per object and one of
    C(ObjectPermissions); system permissions (O(system_permissions)) one of C(PermissionSet).
    Describes are GET subrequests, not queries, so they ride in the same composite request while
    it holds at most 25 subrequests (one more request per 25 beyond).
    Only when a name is not found, one more request reads the names that exist, for a hint.
  - Every name not found is returned in RV(problems); the module does not fail on them, so a
    caller can name them all at once with its own context.
  - Changes nothing.
options:
  permission_sets:
    description:
      - API names (C(PermissionSet.Name)) of permission sets that must exist, matched without
        regard to case. Profile-owned sets and the sets behind groups do not count.
    type: list
    elements: str
    default: []
  permission_set_groups:
    description:
      - API names (C(PermissionSetGroup.DeveloperName)) of permission set groups that must exist,
        matched without regard to case.
    type: list
    elements: str
    default: []
  licenses:
    description:
      - License names permission sets are to be on (a permission set license by API name or label, a
        user license by name, or V(none)), matched as M(sfops.integration.sf_permission_set) matches
        them. Checked against the license rows this module reads anyway, with no extra request.
    type: list
    elements: str
    default: []
  system_permissions:
    description:
      - System permissions that a permission set must be able to hold (the C(Permissions*) fields of
        C(PermissionSet)), for example V(ConvertLeads), matched as M(sfops.integration.sf_permission_set)
        matches them (without regard to case, with or without the C(Permissions) prefix).
    type: list
    elements: str
    default: []
  objects:
    description:
      - API names of objects that must take object permissions (the C(SobjectType) values of
        C(ObjectPermissions)), for example V(Account) or V(Invoice__c).
    type: list
    elements: str
    default: []
  fields:
    description:
      - Fields that must take field permissions, as M(sfops.integration.sf_permission_set) checks
        them. The field must exist and be permissionable; edit access needs a field that is not a
        formula or auto-number field.
    type: list
    elements: dict
    default: []
    suboptions:
      field:
        description: V(Object.Field), for example V(Account.Industry).
        type: str
        required: true
      access:
        description: The access the field permission would grant.
        type: str
        choices: [read, edit]
        default: read
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
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
  - module: sfops.integration.sf_session
"""

EXAMPLES = r"""
- name: Log in once
  sfops.integration.sf_session:
    login_url: "{{ sf_login_url }}"
  register: sf

- name: Read the org's facts with that session
  sfops.integration.sf_org_info:
    instance_url: "{{ sf.instance_url }}"
    access_token: "{{ sf.access_token }}"
  register: org

- name: Stop when the org has no Salesforce Integration seat left
  ansible.builtin.assert:
    that:
      - org.user_licenses
        | selectattr('name', 'equalto', 'Salesforce Integration')
        | map(attribute='available') | first | default(0) > 0
    fail_msg: "{{ org.org.name }} has no free Salesforce Integration license"

- name: Show the profiles integration users can get
  ansible.builtin.debug:
    msg: "{{ org.integration_profiles | map(attribute='name') | list }}"
"""

RETURN = r"""
org:
  description: The organization.
  returned: success
  type: dict
  contains:
    id:
      description: Organization id.
      type: str
      sample: 00D5g000004XXXXEAA
    name:
      description: Organization name.
      type: str
      sample: Acme Corp
    edition:
      description: The edition (C(Organization.OrganizationType)).
      type: str
      sample: Enterprise Edition
    is_sandbox:
      description: Whether the org is a sandbox.
      type: bool
      sample: false
    instance_name:
      description: The Salesforce instance (pod) the org runs on.
      type: str
      sample: NA224
limits:
  description: API limits of the org (C(/limits)); values lag by up to a few minutes.
  returned: success
  type: dict
  contains:
    daily_api_requests:
      description: The rolling 24-hour API request allowance.
      type: dict
      sample: {"max": 100000, "remaining": 99412}
user_licenses:
  description: Every user license with its seats.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: UserLicense id.
      type: str
    name:
      description: License name.
      type: str
      sample: Salesforce Integration
    definition_key:
      description: C(LicenseDefinitionKey).
      type: str
    status:
      description: V(Active) or V(Disabled).
      type: str
    total:
      description: Seats bought.
      type: int
      sample: 5
    used:
      description: Seats taken.
      type: int
      sample: 1
    available:
      description: Seats left (total minus used, never below 0).
      type: int
      sample: 4
permission_set_licenses:
  description: Every permission set license with its seats.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: PermissionSetLicense id.
      type: str
    developer_name:
      description: API name.
      type: str
      sample: SalesforceAPIIntegrationPsl
    label:
      description: Label.
      type: str
      sample: Salesforce API Integration
    status:
      description: V(Active) or V(Disabled).
      type: str
    total:
      description: Seats bought.
      type: int
    used:
      description: Seats taken.
      type: int
    available:
      description: Seats left.
      type: int
    expiration_date:
      description: When the license expires, if it does.
      type: str
mfa_for_api_logins:
  description:
    - Whether some users must use Multi-Factor Authentication for API logins
      (the C(TwoFactorApi) permission), and who grants it. An integration user holding it cannot
      log in through the API without a second factor.
  returned: success
  type: dict
  contains:
    required:
      description: True when at least one profile or permission set grants the permission.
      type: bool
    profiles:
      description: Names of the profiles granting it.
      type: list
      elements: str
    permission_sets:
      description: API names of the permission sets (not profile-owned) granting it.
      type: list
      elements: str
integration_profiles:
  description:
    - Profiles suitable for integration users, those on the Salesforce Integration user license
      and any other API-only profile, except admin-grade ones (C(System Administrator), or a profile
      with Modify All Data, View All Data, Manage Users, Customize Application or Author Apex).
      M(sfops.integration.sf_integration_user) lists the same profiles when a profile is not found.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Profile id.
      type: str
    name:
      description: Profile name.
      type: str
      sample: Minimum Access - API Only Integrations
    user_license:
      description: Name of the profile's user license.
      type: str
      sample: Salesforce Integration
    api_only:
      description: Whether the profile has API Only User (C(PermissionsApiUserOnly)).
      type: bool
problems:
  description:
    - What O(permission_sets), O(permission_set_groups), O(licenses), O(system_permissions), O(objects) and O(fields) asked for and the
      org does not have, in the order asked. Empty when everything was found or nothing was asked.
  returned: success
  type: list
  elements: dict
  contains:
    kind:
      description: V(permission_set), V(permission_set_group), V(license), V(system_permission), V(object) or V(field).
      type: str
    name:
      description: The name as it was given.
      type: str
      sample: No_Such_Set
    message:
      description: What is wrong, naming the value.
      type: str
      sample: "no permission set named 'Marketo' (did you mean Marketo_Integration?)"
  sample: []
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
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import (
    NO_LICENSE, did_you_mean, field_for_permissions, find_license, is_integration_profile, license_names, licenses,
    object_for_permissions, picklist_values, seats, unknown_message)
from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    ADMIN_PROFILE_PERMISSIONS, PERMISSION_PREFIX, SystemPermissionCatalogue)
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql

# Five queries: the most one composite request may carry.
QUERIES = dict(
    org="SELECT Id, Name, OrganizationType, IsSandbox, InstanceName FROM Organization",
    user_licenses="SELECT Id, Name, LicenseDefinitionKey, Status, TotalLicenses, UsedLicenses "
                  "FROM UserLicense ORDER BY Name",
    permission_set_licenses="SELECT Id, DeveloperName, MasterLabel, Status, TotalLicenses, UsedLicenses, "
                            "ExpirationDate FROM PermissionSetLicense ORDER BY DeveloperName",
    profiles="SELECT Id, Name, UserLicenseId, PermissionsApiUserOnly, PermissionsTwoFactorApi, %s "
             "FROM Profile ORDER BY Name" % ", ".join(PERMISSION_PREFIX + name for name in ADMIN_PROFILE_PERMISSIONS),
    mfa_permission_sets="SELECT Id, Name FROM PermissionSet "
                        "WHERE PermissionsTwoFactorApi = true AND IsOwnedByProfile = false ORDER BY Name",
)
# With names to check, the permission set query also finds them (a sixth query would not fit the composite):
# every group has an aggregate PermissionSet whose PermissionSetGroupId is the group (Object Reference,
# PermissionSet), so one query over PermissionSet finds sets and groups.
NAMED_SETS_QUERY = ("SELECT Id, Name, PermissionsTwoFactorApi, PermissionSetGroupId, PermissionSetGroup.DeveloperName "
                    "FROM PermissionSet WHERE IsOwnedByProfile = false AND (PermissionsTwoFactorApi = true%s) ORDER BY Name")
NAMED_SET_FILTER = " OR (PermissionSetGroupId = null AND Name IN {sets})"
NAMED_GROUP_FILTER = " OR PermissionSetGroup.DeveloperName IN {groups}"
# Only read when a set or group is missing, to name the closest ones.
HINT_QUERIES = dict(
    permission_set="SELECT Name FROM PermissionSet WHERE IsOwnedByProfile = false AND PermissionSetGroupId = null",
    permission_set_group="SELECT DeveloperName FROM PermissionSetGroup",
)
API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
KIND_WORDS = dict(permission_set="permission set", permission_set_group="permission set group")


def queries(params):
    """The five queries; the permission set one widened to the names to check, if any (SOQL has no empty IN ())."""
    sets, groups = params.get("permission_sets") or [], params.get("permission_set_groups") or []
    if not (sets or groups):
        return QUERIES
    filters = (NAMED_SET_FILTER if sets else "") + (NAMED_GROUP_FILTER if groups else "")
    return dict(QUERIES, mfa_permission_sets=soql(NAMED_SETS_QUERY % filters, sets=sets, groups=groups))


def named_objects(params):
    """Distinct object names (as typed) of O(objects) and O(fields), in the order given."""
    names = [name.strip() for name in params.get("objects") or []]
    names += [item["field"].strip().partition(".")[0] for item in params.get("fields") or [] if "." in item["field"]]
    seen, out = set(), []
    for name in names:
        if name and name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def read_org_facts(client, params=None):
    """The five queries and the describes in one composite request (more past 25 subrequests), /limits in another.

    ({ref: rows}, limits, {lower-case object: describe or None when the org has no such object}); the describes
    of PermissionSet and ObjectPermissions are there when system permissions or objects were asked for.
    """
    params = params or {}
    asked = queries(params)
    subs = [client.composite_query(ref, text) for ref, text in asked.items()]
    objects = [name for name in named_objects(params) if API_NAME_RE.match(name)]
    describe_refs = dict((name.lower(), "describe%d" % index) for index, name in enumerate(objects))
    if params.get("system_permissions"):
        subs.append(client.composite_describe("describePermissionSet", "PermissionSet"))
    if objects:
        subs.append(client.composite_describe("describeObjectPermissions", "ObjectPermissions"))
        subs += [client.composite_describe(describe_refs[name.lower()], name) for name in objects]
    responses = client.read(subs)
    rows = {}
    for ref in asked:
        rows[ref] = client.more_records(client.composite_body(responses, ref, action="query", resource=ref))
    describes = {}
    if params.get("system_permissions"):
        describes["permissionset"] = client.composite_body(responses, "describePermissionSet", action="describe",
                                                           resource="PermissionSet")
    if objects:
        describes["objectpermissions"] = client.composite_body(responses, "describeObjectPermissions",
                                                               action="describe", resource="ObjectPermissions")
        for name, ref in describe_refs.items():
            # 404: no such object; any other failure is the org's and raised.
            missing = (responses.get(ref) or {}).get("httpStatusCode") == 404
            describes[name] = None if missing else client.composite_body(responses, ref, action="describe", resource=name)
    return rows, client.limits(), describes


def missing_names(params, rows):
    """[(kind, name as given)] of the sets and groups asked for that the permission set query did not find."""
    found = dict(permission_set=set(), permission_set_group=set())
    for row in rows:
        group = (row.get("PermissionSetGroup") or {}).get("DeveloperName")
        if group:
            found["permission_set_group"].add(group.lower())
        elif not row.get("PermissionSetGroupId"):
            found["permission_set"].add((row.get("Name") or "").lower())
    asked = [("permission_set", name) for name in params.get("permission_sets") or []]
    asked += [("permission_set_group", name) for name in params.get("permission_set_groups") or []]
    return [(kind, name) for kind, name in asked if name.strip().lower() not in found[kind]]


def name_problems(client, missing):
    """A problem per missing set or group, with the closest names the org has (one more read, only now)."""
    if not missing:
        return []
    kinds = sorted(set(kind for kind, _name in missing))
    responses = client.read([client.composite_query(kind, HINT_QUERIES[kind]) for kind in kinds])
    candidates = dict((kind, [r.get("Name") or r.get("DeveloperName") for r in client.composite_records(responses, kind)])
                      for kind in kinds)
    return [dict(kind=kind, name=name, message="no %s named '%s'%s" % (KIND_WORDS[kind], name,
                                                                       did_you_mean(name, candidates[kind])))
            for kind, name in missing]


def license_problems(params, rows):
    """A problem per license name asked for that the org has not (none of its user or permission set licenses)."""
    known = licenses(rows["user_licenses"], rows["permission_set_licenses"])
    return [dict(kind="license", name=name, message=unknown_message("license", [name], license_names(known) + [NO_LICENSE]))
            for name in params.get("licenses") or []
            if name.strip().lower() != NO_LICENSE and find_license(name, known) is None]


def schema_problems(params, describes):
    """A problem per system permission, object or field asked for that a permission set cannot hold, in the order given."""
    problems = []
    if params.get("system_permissions"):
        catalogue = SystemPermissionCatalogue(describes["permissionset"])
        for name in catalogue.resolve(params["system_permissions"])[1]:
            problems.append(dict(kind="system_permission", name=name,
                                 message=unknown_message("system permission", [name], catalogue.names)))
    permissionable = picklist_values(describes.get("objectpermissions"), "SobjectType")
    for typed in params.get("objects") or []:
        message = object_for_permissions(typed, permissionable, describes)[1]
        if message:
            problems.append(dict(kind="object", name=typed, message=message))
    for item in params.get("fields") or []:
        message = field_for_permissions(item["field"], item.get("access") or "read", permissionable, describes)[1]
        if message:
            problems.append(dict(kind="field", name=item["field"], message=message))
    return problems


def summarise(rows, limits):
    """Shape the raw rows into the module's result."""
    org = rows["org"][0] if rows["org"] else {}
    user_licenses = [dict(id=r["Id"], name=r.get("Name"), definition_key=r.get("LicenseDefinitionKey"),
                     status=r.get("Status"), **seats(r)) for r in rows["user_licenses"]]
    license_name_of = dict((r["id"], r["name"]) for r in user_licenses)
    psls = [dict(id=r["Id"], developer_name=r.get("DeveloperName"), label=r.get("MasterLabel"),
                 status=r.get("Status"), expiration_date=r.get("ExpirationDate"), **seats(r))
            for r in rows["permission_set_licenses"]]
    integration_profiles = [
        dict(id=p["Id"], name=p.get("Name"), user_license=license_name_of.get(p.get("UserLicenseId")),
             api_only=bool(p.get("PermissionsApiUserOnly")))
        for p in rows["profiles"] if is_integration_profile(p, license_name_of.get(p.get("UserLicenseId")))
    ]
    mfa_profiles = [p.get("Name") for p in rows["profiles"] if p.get("PermissionsTwoFactorApi")]
    # The widened query (names to check) also returns sets without the permission.
    mfa_sets = [s.get("Name") for s in rows["mfa_permission_sets"] if s.get("PermissionsTwoFactorApi", True)]
    daily = (limits or {}).get("DailyApiRequests") or {}
    return dict(
        org=dict(id=org.get("Id"), name=org.get("Name"), edition=org.get("OrganizationType"),
                 is_sandbox=org.get("IsSandbox"), instance_name=org.get("InstanceName")),
        limits=dict(daily_api_requests=dict(max=daily.get("Max"), remaining=daily.get("Remaining"))),
        user_licenses=user_licenses,
        permission_set_licenses=psls,
        mfa_for_api_logins=dict(required=bool(mfa_profiles or mfa_sets), profiles=mfa_profiles,
                                permission_sets=mfa_sets),
        integration_profiles=integration_profiles,
    )


def run(module):
    params = module.params
    rows, limits, describes = read_org_facts(module.client, params)
    result = summarise(rows, limits)
    problems = (name_problems(module.client, missing_names(params, rows["mfa_permission_sets"]))
                + license_problems(params, rows) + schema_problems(params, describes))
    # Once each: a field asked for with read and with edit access is one problem when it does not exist.
    result["problems"] = [p for index, p in enumerate(problems) if p not in problems[:index]]
    return module.finish(change_record("org", result["org"]["name"], NO_CHANGE), {}, {}, **result)


ARGUMENT_SPEC = dict(
    permission_sets=dict(type="list", elements="str", default=[]),
    permission_set_groups=dict(type="list", elements="str", default=[]),
    licenses=dict(type="list", elements="str", default=[]),
    system_permissions=dict(type="list", elements="str", default=[]),
    objects=dict(type="list", elements="str", default=[]),
    fields=dict(type="list", elements="dict", default=[], options=dict(
        field=dict(type="str", required=True),
        access=dict(type="str", choices=["read", "edit"], default="read"),
    )),
)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
