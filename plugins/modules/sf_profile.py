#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_profile
short_description: A custom Salesforce profile for integration users and its system permissions
version_added: 0.1.0
description:
  - Creates a custom profile on a user license, manages its description and system permissions,
    or deletes it.
  - A profile created through the API starts with only the permissions its license requires;
    the module then holds exactly the system permissions listed (see O(purge)).
  - Permission names, the privileged guard and O(purge) work as in
    M(sfops.integration.sf_permission_set).
  - Standard profiles (System Administrator, Minimum Access - API Only Integrations, ...) cannot
    have their permissions changed through the API; the module says so instead of trying.
  - One composite request reads the profile, whether it is custom, how many users it has, the
    licenses and the describe; a change is one more request.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
options:
  name:
    description:
      - Name of the profile (C(Profile.Name)), the key it is found by (case-insensitive).
    type: str
    required: true
  license:
    description:
      - Name of the user license the profile is on, for example V(Salesforce Integration).
        Required to create a profile.
      - Salesforce sets a profile's license when it is created and never changes it, so a different
        license on an existing profile is refused.
    type: str
  description:
    description:
      - Description of the profile; left as it is when not given.
    type: str
  system_permissions:
    description:
      - User permissions the profile grants, by API name with or without the C(Permissions)
        prefix, case-insensitive (V(ApiEnabled), V(PermissionsApiUserOnly)).
      - Valid names are read from the org's describe of Profile; the result reports them in their
        canonical form.
      - When omitted the profile's system permissions are left as they are.
    type: list
    elements: str
  purge:
    description:
      - When true the listed system permissions are the whole truth; others are switched off.
      - When false permissions are only switched on.
    type: bool
    default: true
  allow_privileged:
    description:
      - The privileged permissions of M(sfops.integration.sf_permission_set) are refused unless
        this is true; when true they are granted with a warning.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the profile; V(absent) deletes it, which Salesforce refuses
        while users have the profile (the failure says how many).
    type: str
    default: present
    choices: [present, absent]
attributes:
  check_mode:
    description: Reads and validates as a real run does, and writes nothing.
    support: full
  diff_mode:
    description: Shows the license, description and system permissions before and after.
    support: full
notes:
  - A custom profile is told from a standard one by C(IsCustom) of its profile-owned permission set,
    as the Profile object has no such field.
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_permission_set
  - module: sfops.integration.sf_profile_password_policy
"""

EXAMPLES = r"""
- name: An integration-only profile whose access comes from permission sets (no access of its own)
  sfops.integration.sf_profile:
    name: Integration Only
    license: Salesforce Integration
    description: API-only profile for integration users; access comes from permission sets
    system_permissions: [ApiEnabled, ApiUserOnly, PasswordNeverExpires]
    purge: false

- name: Plan the change first
  sfops.integration.sf_profile:
    name: Integration Only
    system_permissions: [ApiEnabled, ApiUserOnly, PasswordNeverExpires]
  check_mode: true
  diff: true

- name: Delete the profile once no user has it
  sfops.integration.sf_profile:
    name: Integration Only
    state: absent
"""

RETURN = r"""
profile:
  description: The profile after the run (in check mode, as the run would leave it); empty after O(state=absent).
  returned: success
  type: dict
  contains:
    id:
      description: Profile id; null in check mode when it would be created.
      type: str
      sample: 00e5g000000XXXXAAA
    name:
      description: Name.
      type: str
      sample: Integration Only
    license:
      description: Name of the user license.
      type: str
      sample: Salesforce Integration
    description:
      description: Description.
      type: str
    custom:
      description: Whether it is a custom profile (standard profiles are read-only here).
      type: bool
    system_permissions:
      description: Effective system permissions, canonical API names.
      type: list
      elements: str
      sample: [ApiEnabled, ApiUserOnly, PasswordNeverExpires]
    users:
      description: How many users have the profile.
      type: int
changes:
  description: What was (or in check mode would be) changed.
  returned: success
  type: dict
  contains:
    system_permissions:
      description: C(added) and C(removed) lists of system permissions.
      type: dict
      sample: {"added": ["PasswordNeverExpires"], "removed": []}
    properties:
      description: Description or license values that change.
      type: dict
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.sfops.integration.plugins.module_utils import system_permissions
from ansible_collections.sfops.integration.plugins.module_utils.change import CREATE, DELETE, NO_CHANGE, UPDATE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import ApiError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import (
    find_license,
    license_by_id,
    licenses,
    unknown_message,
)
from ansible_collections.sfops.integration.plugins.module_utils.permissions import SystemPermissionCatalogue
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql
from ansible_collections.sfops.integration.plugins.module_utils.state import field_changes

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    license=dict(type="str"),
    description=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
ARGUMENT_SPEC.update(system_permissions.ARGUMENT_SPEC)

NEW_REF = "newProfile"


def read_subrequests(client, name):
    return [
        client.composite_describe("describeProfile", "Profile"),
        client.composite_query("profile", soql("SELECT Id, Name, Description, UserLicenseId FROM Profile "
                                               "WHERE Name = {}", name)),
        client.sobject_subrequest("profileRecord", "GET", "Profile", "@{profile.records[0].Id}"),
        client.composite_query("ownedSet", soql("SELECT IsCustom FROM PermissionSet WHERE IsOwnedByProfile = true "
                                                "AND Profile.Name = {}", name)),
        client.composite_query("users", soql("SELECT COUNT() FROM User WHERE Profile.Name = {}", name)),
        client.composite_query("userLicenses", "SELECT Id, Name, MasterLabel FROM UserLicense"),
    ]


class ProfileState:
    """The profile (or None), whether it is custom, its users and the org's user licenses."""

    def __init__(self, client, name):
        responses = client.read(read_subrequests(client, name))
        rows = client.composite_records(responses, "profile")
        self.profile = rows[0] if rows else None
        self.record = client.composite_body(responses, "profileRecord", resource="profile") if self.profile else {}
        owned = client.composite_records(responses, "ownedSet")
        self.custom = bool(owned and owned[0].get("IsCustom"))
        self.users = client.composite_body(responses, "users", action="query").get("totalSize", 0)
        self.licenses = licenses(client.composite_records(responses, "userLicenses"))
        self.catalogue = SystemPermissionCatalogue(client.composite_body(responses, "describeProfile"))

    def license_name(self, license_id):
        found = license_by_id(license_id, self.licenses)
        return found.name if found else license_id

    def view(self, permissions):
        """The readable profile for results and --diff."""
        if not self.profile:
            return {}
        return dict(name=self.profile["Name"], license=self.license_name(self.profile.get("UserLicenseId")),
                    description=self.profile.get("Description"), system_permissions=permissions)


def option_problems(params):
    """Every problem with the options that can be found without the org (a list of messages)."""
    if params["state"] == "present" and not (params["name"] or "").strip():
        return ["name must not be empty: it is the profile's Name"]
    return []


def wanted_license(module, state):
    """(the user license for a new profile, None) or (None, the problem when it is missing or unknown)."""
    typed = module.params["license"]
    if not typed:
        return None, ("profile '%s' does not exist; give license (for example Salesforce Integration) to create it"
                      % module.params["name"])
    found = find_license(typed, state.licenses)
    if found is None:
        return None, "profile %s: %s" % (module.params["name"], unknown_message(
            "user license", [typed], [user_license.name for user_license in state.licenses]))
    return found, None


def salesforce_refuses(module, state, plan):
    """What Salesforce does not allow on an existing profile (a new license, edits to a standard one): problems."""
    name = state.profile["Name"]
    current_id = state.profile.get("UserLicenseId")
    problems = []
    wanted, problem = wanted_license(module, state) if module.params["license"] else (None, None)
    problems.append(problem)
    if wanted and not wanted.same_as(current_id):
        problems.append("profile %s is on the user license '%s'; Salesforce sets a profile's license when it is "
                        "created and cannot change it. Create a new profile on '%s' and move the users to it."
                        % (name, state.license_name(current_id), wanted.name))
    if not state.custom and plan.changed:
        problems.append("profile %s is a standard profile: Salesforce does not let its system permissions be changed "
                        "through the API (asked to switch on %s and off %s). Create a custom profile, or grant the "
                        "access with a permission set."
                        % (name, plan.to_enable or "nothing", plan.to_disable or "nothing"))
    return problems


def result(module, state, changed, plan, profile_id, properties):
    before = state.view(sorted(plan.enabled))
    after = dict(before or dict(name=module.params["name"], license=module.params["license"]),
                 system_permissions=plan.after)
    after.update((key.lower(), value) for key, value in properties.items())
    changes = dict(system_permissions=plan.changes(),
                   properties=dict((key.lower(), value) for key, value in properties.items()))
    profile = dict(after, id=profile_id, custom=state.custom or not state.profile, users=state.users)
    action = NO_CHANGE if not changed else (UPDATE if state.profile else CREATE)
    record = change_record("profile", module.params["name"], action, before, after)
    return module.finish(record, before, after, profile=profile, changes=changes)


def ensure_present(module, state):
    params = module.params
    what = "profile %s" % params["name"]
    requested, error = system_permissions.resolve(state.catalogue, params["system_permissions"])
    offenders = system_permissions.privileged_offenders(state.catalogue, requested)
    enabled = state.catalogue.enabled(state.record) if state.profile else []
    # Without system_permissions the profile's permissions are not managed (purge would strip them all).
    managed = params["system_permissions"] is not None
    plan = system_permissions.SystemPermissionPlan(requested, enabled, params["purge"] and managed)
    properties = field_changes(dict(Description=params["description"]), state.profile)
    # Every problem the org shows, in one refusal: names, privileged grants, the license, a standard profile.
    problems = ["%s: %s" % (what, error) if error else None, system_permissions.privileged_problem(module, offenders, what)]
    new_license = None
    if state.profile:
        problems += salesforce_refuses(module, state, plan)
    else:
        new_license, problem = wanted_license(module, state)
        problems.append(problem)
    module.refuse(problems)
    system_permissions.guard_privileged(module, offenders, what)  # allowed: only the warning is left
    if new_license is not None:
        properties["License"] = new_license.name
    changed = not state.profile or bool(properties) or plan.changed
    profile_id = state.profile["Id"] if state.profile else None
    if changed and not module.check_mode:
        profile_id, written = write(module.client, params, state, new_license, plan, properties)
        if profile_id is None:
            # Another writer (a second run of the same rollout) created the profile between our read and our
            # write: plan again against the profile as it is now (an update, which cannot race this way).
            return ensure_present(module, ProfileState(module.client, params["name"]))
        plan = written
    return result(module, state, changed, plan, profile_id, properties)


def write(client, params, state, new_license, plan, properties):
    """Update the profile, or create it on ``new_license``; returns its id and the permission plan as written.

    A new profile is read back in the same all-or-none request: its license switches permissions on.
    (None, None) when the create was refused because another writer had just created the profile.
    """
    if state.profile:
        client.update("Profile", state.profile["Id"], dict(properties, **plan.record_fields()))
        return state.profile["Id"], plan
    body = dict(Name=params["name"], UserLicenseId=new_license.id, **plan.record_fields())
    if params["description"] is not None:
        body["Description"] = params["description"]
    try:
        responses = client.write([
            client.sobject_subrequest(NEW_REF, "POST", "Profile", body=body),
            client.sobject_subrequest("created", "GET", "Profile", "@{%s.id}" % NEW_REF),
        ], "create profile %s" % params["name"])
    except ApiError as error:
        # Salesforce answers a taken profile name with FIELD_INTEGRITY_EXCEPTION, a code shared with other
        # refusals: whether another writer made it meanwhile is decided by reading it again, not by the message.
        if not client.query_one(soql("SELECT Id FROM Profile WHERE Name = {}", params["name"])):
            raise
        client.done_elsewhere.append(error.message)
        return None, None
    created = responses["created"]["body"]
    # Report what the new profile holds: what was asked for and what its license switched on.
    return created["Id"], system_permissions.SystemPermissionPlan(state.catalogue.enabled(created), [], True)


def ensure_absent(module, state):
    if not state.profile:
        return module.finish(change_record("profile", module.params["name"], NO_CHANGE), {}, {}, profile={}, changes={})
    name = state.profile["Name"]
    module.refuse([
        None if state.custom else "profile %s is a standard profile; Salesforce does not delete standard profiles" % name,
        "profile %s has %d user(s); Salesforce deletes a profile only when no user has it. Move them to another profile "
        "first." % (name, state.users) if state.users else None])
    if not module.check_mode:
        module.client.delete("Profile", state.profile["Id"])
    before = state.view(state.catalogue.enabled(state.record))
    return module.finish(change_record("profile", module.params["name"], DELETE, before, {}), before, {}, profile={}, changes={})


def run(module):
    module.refuse(option_problems(module.params))
    state = ProfileState(module.client, module.params["name"])
    if module.params["state"] == "absent":
        return ensure_absent(module, state)
    return ensure_present(module, state)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
