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
  - Changes nothing.
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
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import is_integration_profile, seats
from ansible_collections.sfops.integration.plugins.module_utils.permissions import ADMIN_PROFILE_PERMISSIONS, PERMISSION_PREFIX

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


def read_org_facts(client):
    """Run the five queries in one composite request and /limits in a second one."""
    responses = client.read([client.composite_query(ref, text) for ref, text in QUERIES.items()])
    rows = {}
    for ref in QUERIES:
        rows[ref] = client.more_records(client.composite_body(responses, ref, action="query", resource=ref))
    return rows, client.limits()


def summarise(rows, limits):
    """Shape the raw rows into the module's result."""
    org = rows["org"][0] if rows["org"] else {}
    licenses = [dict(id=r["Id"], name=r.get("Name"), definition_key=r.get("LicenseDefinitionKey"),
                     status=r.get("Status"), **seats(r)) for r in rows["user_licenses"]]
    license_names = dict((r["id"], r["name"]) for r in licenses)
    psls = [dict(id=r["Id"], developer_name=r.get("DeveloperName"), label=r.get("MasterLabel"),
                 status=r.get("Status"), expiration_date=r.get("ExpirationDate"), **seats(r))
            for r in rows["permission_set_licenses"]]
    integration_profiles = [
        dict(id=p["Id"], name=p.get("Name"), user_license=license_names.get(p.get("UserLicenseId")),
             api_only=bool(p.get("PermissionsApiUserOnly")))
        for p in rows["profiles"] if is_integration_profile(p, license_names.get(p.get("UserLicenseId")))
    ]
    mfa_profiles = [p.get("Name") for p in rows["profiles"] if p.get("PermissionsTwoFactorApi")]
    mfa_sets = [s.get("Name") for s in rows["mfa_permission_sets"]]
    daily = (limits or {}).get("DailyApiRequests") or {}
    return dict(
        org=dict(id=org.get("Id"), name=org.get("Name"), edition=org.get("OrganizationType"),
                 is_sandbox=org.get("IsSandbox"), instance_name=org.get("InstanceName")),
        limits=dict(daily_api_requests=dict(max=daily.get("Max"), remaining=daily.get("Remaining"))),
        user_licenses=licenses,
        permission_set_licenses=psls,
        mfa_for_api_logins=dict(required=bool(mfa_profiles or mfa_sets), profiles=mfa_profiles,
                                permission_sets=mfa_sets),
        integration_profiles=integration_profiles,
    )


def run(module):
    rows, limits = read_org_facts(module.client)
    return summarise(rows, limits)


def main():
    SalesforceModule(argument_spec={}, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
