#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_integration_export
short_description: Describe an org's existing integration users as sf_integrations entries, to adopt them
version_added: 0.2.0
description:
  - Reads one org, without changing anything, and describes each of its active integration users in
    the shape the role P(sfops.integration.integration_users#role) takes (C(sf_integrations)), so that
    integrations set up by hand can be reviewed and then managed by the collection.
  - Integration users are the users on the Salesforce Integration user license, and the users whose
    profile or permission sets give API Only User (C(ApiUserOnly)). Inactive ones are listed in
    RV(left_out), not exported.
  - Each entry has the user (the fields the role manages, as they are), the permission sets assigned to
    that user alone with every system, object and field permission and the license they hold now
    (C(permission_sets)), the permission sets it shares with other users, managed sets and the MFA waiver
    set by name (C(extra_permission_sets), which the rollout assigns but never changes), and its
    permission set groups by developer name (C(permission_set_groups)).
  - A rollout in check mode with the exported entries reports no change for these users. What deserves a
    look before adopting them (privileged permissions, shared sets, a profile that is not an integration
    profile, licenses the rollout would remove) is listed in RV(review).
  - Bounded requests whatever the number of users and sets. Two composite requests carry every read
    (the users with their assignments, then the sets with their object and field permissions and
    assignees, the groups and the licenses); only pages of 2,000 rows grow with the org.
  - Least privilege. The user the export runs as needs API Enabled and View Setup and Configuration
    (C(ViewSetup)), to read users, permission sets, their permissions and assignments. Without it the
    export fails and names it.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
options:
  mfa_waiver_permission_set:
    description:
      - The permission set the role keeps for the MFA waiver (as the role's
        C(sf_integration_mfa_waiver_permission_set)); it is listed in C(extra_permission_sets), never
        described, because the role manages it itself.
    type: str
    default: Integration_MFA_Waiver
notes:
  - Check mode runs the same reads; nothing is ever written.
  - The export does not read External Client Apps, so no entry has C(oauth); add it when the integration
    moves to a login without a password.
  - Permission set groups are assigned by name; their component sets are not changed by the rollout.
  - Permission set licenses are not part of C(sf_integrations); the rollout assigns the ones the sets
    need. A license the user holds beyond that is named in RV(review).
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
  - module: sfops.integration.sf_integration_audit
  - module: sfops.integration.sf_permission_set
  - module: sfops.integration.sf_permset_assignment
"""

EXAMPLES = r"""
- name: Log in once
  sfops.integration.sf_session:
    login_url: "{{ sf_login_url }}"
    client_id: "{{ sf_client_id }}"
    username: "{{ sf_username }}"
    private_key_file: "{{ sf_private_key_file }}"
  register: sf

- name: Describe the integration users set up by hand
  sfops.integration.sf_integration_export:
    instance_url: "{{ sf.instance_url }}"
    access_token: "{{ sf.access_token }}"
  register: export

- name: Write them as sf_integrations, to review
  ansible.builtin.copy:
    content: "{{ export | sfops.integration.export_yaml(org=inventory_hostname) }}"
    dest: "reports/export-{{ inventory_hostname }}.yml"
    mode: "0600"
  delegate_to: localhost
"""

RETURN = r"""
integrations:
  description:
    - One entry per active integration user, in the shape of the role's C(sf_integrations), ordered by username.
      Empty when the org has none.
  returned: success
  type: list
  elements: dict
  sample:
    - name: marketo_integration
      user: {username: marketo.integration@acme.com, email: ops@acme.com, last_name: Integration, alias: marketoi}
      permission_sets:
        - name: Marketo_Integration
          label: Marketo Integration
          description: ""
          license: Salesforce API Integration
          system_permissions: [ApiEnabled]
          object_permissions: [{object: Lead, access: [read, create, edit]}]
          field_permissions: [{field: Lead.Email, access: edit}]
      extra_permission_sets: []
      permission_set_groups: [Sales_Sync]
review:
  description: What to look at before adopting the entries; C(integration) is null for notes about the org.
  returned: success
  type: list
  elements: dict
  sample: [{"integration": "etl", "username": "etl@acme.com", "note": "permission set ETL holds privileged permissions: ModifyAllData"}]
profile:
  description:
    - The profile every exported user has (the role's C(sf_integration_profile)), or null when they differ
      or there are none.
  returned: success
  type: str
profiles:
  description: Usernames by profile name.
  returned: success
  type: dict
left_out:
  description: Integration users not exported (inactive), with the reason.
  returned: success
  type: list
  elements: dict
message:
  description: One sentence on what was found.
  returned: success
  type: str
  sample: No integration users in this org (no active user on the Salesforce Integration license or with API Only User).
counts:
  description: Integration users exported and left out, permission sets described and assigned by name, groups.
  returned: success
  type: dict
org:
  description: The organization (C(id), C(name)).
  returned: success
  type: dict
change:
  description: The change record; always action V(none).
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
from ansible_collections.sfops.integration.plugins.module_utils.errors import PermissionDeniedError, ReadDeniedError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import (
    INTEGRATION_USER_LICENSE,
    NO_LICENSE,
    admin_grade_reasons,
    is_integration_profile,
    license_by_id,
    licenses,
)
from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    ADMIN_PROFILE_PERMISSIONS,
    OBJECT_ACCESS_FIELDS,
    PERMISSION_PREFIX,
    PRIVILEGED_OBJECT_ACCESS,
    SystemPermissionCatalogue,
    field_access_from_record,
    object_access_from_record,
    privileged_permissions,
)
from ansible_collections.sfops.integration.plugins.module_utils.soql import field_chunks, soql
from ansible_collections.sfops.integration.plugins.module_utils.state import subquery_records

# User fields the role's user options set (the option names of sf_integration_user), in entry order.
USER_OPTIONS = (
    ("username", "Username"), ("email", "Email"), ("first_name", "FirstName"), ("last_name", "LastName"),
    ("alias", "Alias"), ("nickname", "CommunityNickname"), ("title", "Title"), ("department", "Department"),
    ("company_name", "CompanyName"), ("about_me", "AboutMe"), ("time_zone", "TimeZoneSidKey"),
    ("locale", "LocaleSidKey"), ("language", "LanguageLocaleKey"), ("email_encoding", "EmailEncodingKey"),
)
PROFILE_FIELDS = "Profile.Name, Profile.UserLicense.Name, Profile.PermissionsApiUserOnly, %s" % ", ".join(
    "Profile.%s%s" % (PERMISSION_PREFIX, name) for name in ADMIN_PROFILE_PERMISSIONS)
USER_SELECT = (
    "SELECT Id, IsActive, UserPermissionsMarketingUser, UserRole.DeveloperName, %s, %s, "
    "(SELECT PermissionSetId, PermissionSetGroupId, PermissionSetGroup.DeveloperName, PermissionSet.Name, "
    "PermissionSet.IsOwnedByProfile FROM PermissionSetAssignments "
    "WHERE ExpirationDate = null OR ExpirationDate > TODAY), "
    "(SELECT PermissionSetLicenseId, PermissionSetLicense.DeveloperName, PermissionSetLicense.MasterLabel "
    "FROM PermissionSetLicenseAssignments) FROM User" % (", ".join(field for _option, field in USER_OPTIONS), PROFILE_FIELDS))
# The first composite request: the integration users in two queries (SOQL refuses OR with a semi-join),
# the organization and the describe that lists every system permission of PermissionSet.
FIRST_READ = dict(
    users=soql(USER_SELECT + " WHERE UserType = 'Standard' AND (Profile.UserLicense.Name = {} "
               "OR Profile.PermissionsApiUserOnly = true) ORDER BY Username", INTEGRATION_USER_LICENSE),
    api_only_users=USER_SELECT + (
        " WHERE UserType = 'Standard' AND Id IN (SELECT AssigneeId FROM PermissionSetAssignment "
        "WHERE PermissionSet.PermissionsApiUserOnly = true AND PermissionSet.IsOwnedByProfile = false) ORDER BY Username"),
    organization="SELECT Id, Name FROM Organization",
)
SET_SELECT = (
    "SELECT Id, Name, Label, Description, LicenseId, NamespacePrefix, IsOwnedByProfile, PermissionSetGroupId, %s, "
    "(SELECT Id, SobjectType, " + ", ".join(OBJECT_ACCESS_FIELDS.values()) + " FROM ObjectPerms), "
    "(SELECT Id, SobjectType, Field, PermissionsRead, PermissionsEdit FROM FieldPerms), "
    "(SELECT AssigneeId FROM Assignments) FROM PermissionSet WHERE Id IN {ids}")
# The system permissions that did not fit the first query (see soql.field_chunks), one query per chunk.
SET_FIELDS_SELECT = "SELECT Id, %s FROM PermissionSet WHERE Id IN {ids}"
GROUP_SELECT = ("SELECT Id, DeveloperName, MasterLabel, Status, (SELECT PermissionSetId, PermissionSet.Name, "
                "PermissionSet.LicenseId FROM PermissionSetGroupComponents) FROM PermissionSetGroup WHERE Id IN {ids}")
LICENSE_QUERIES = dict(
    licenses="SELECT Id, DeveloperName, MasterLabel FROM PermissionSetLicense",
    user_licenses="SELECT Id, Name, MasterLabel FROM UserLicense",
)
# What each read is, for a refusal.
READS = dict(users="users and their assignments", api_only_users="users and their assignments",
             organization="the organization", describe="the PermissionSet describe",
             sets="permission sets and their permissions", groups="permission set groups",
             licenses="permission set licenses", user_licenses="user licenses")
NEEDED = "API Enabled and View Setup and Configuration (ViewSetup)"
# Salesforce ids of object permission rows that Modify All Data implies start with 000 (reference 3.6): not copied.
IMPLIED_ROW_PREFIX = "000"

ARGUMENT_SPEC = dict(
    mfa_waiver_permission_set=dict(type="str", default="Integration_MFA_Waiver"),
)


# ---- input -------------------------------------------------------------------------------------------


def option_problems(params):
    """Every problem of the options, each naming the option and the value; [] when they are fine."""
    name = params.get("mfa_waiver_permission_set")
    if name is not None and not name.strip():
        return ["mfa_waiver_permission_set must name a permission set, not '%s'" % name]
    return []


# ---- reading -----------------------------------------------------------------------------------------


def _read(client, queries, subrequests=()):
    """client.read_records; refused for lack of access, the export fails naming what it needs."""
    try:
        return client.read_records(queries, subrequests)
    except ReadDeniedError as error:
        names = sorted(set(READS.get(ref) or READS["sets"] for ref in error.denied))  # sets1, sets2...: more fields
        raise PermissionDeniedError("The user this export runs as may not read %s; nothing was changed. It needs %s. (%s)"
                                    % (", ".join(names), NEEDED, next(iter(error.denied.values()))),
                                    status=error.status, error_code=error.error_code)


def read_org(client):
    """({reference: records}, the PermissionSet catalogue): everything the export needs, in two composite requests
    (one for an org without integration users), plus the later pages of large results."""
    rows = _read(client, FIRST_READ, [client.composite_describe("describe", "PermissionSet")])
    catalogue = SystemPermissionCatalogue(rows.pop("describe"))
    users = dict((u["Id"], u) for u in rows["users"] + rows["api_only_users"])
    rows["users"] = sorted(users.values(), key=lambda u: (u.get("Username") or "").lower())
    set_ids, group_ids = set(), set()
    for user in rows["users"]:
        if not user.get("IsActive"):
            continue
        for row in subquery_records(user, "PermissionSetAssignments"):
            if row.get("PermissionSetGroupId"):
                group_ids.add(row["PermissionSetGroupId"])
            elif row.get("PermissionSetId") and not (row.get("PermissionSet") or {}).get("IsOwnedByProfile"):
                set_ids.add(row["PermissionSetId"])
    second = dict(LICENSE_QUERIES)
    chunks = field_chunks([catalogue.field(name) for name in catalogue.names])
    if set_ids:  # SOQL has no empty IN ()
        second["sets"] = soql(SET_SELECT % ", ".join(chunks[0]), ids=sorted(set_ids))
        second.update(("sets%d" % index, soql(SET_FIELDS_SELECT % ", ".join(chunk), ids=sorted(set_ids)))
                      for index, chunk in enumerate(chunks[1:], 1))
    if group_ids:
        second["groups"] = soql(GROUP_SELECT, ids=sorted(group_ids))
    rows.update(sets=[], groups=[])
    if set_ids or group_ids:
        rows.update(_read(client, second))
        for index in range(1, len(chunks)):  # the fields that did not fit the first query, set by set
            more = dict((record["Id"], record) for record in rows.pop("sets%d" % index, []))
            for record in rows["sets"]:
                record.update(more.get(record["Id"]) or {})
        for record in rows["sets"]:
            for relationship in ("ObjectPerms", "FieldPerms", "Assignments"):
                record[relationship] = dict(records=client.more_records(record.get(relationship)), done=True)
    return rows, catalogue


# ---- building the entries ------------------------------------------------------------------------------


def integration_name(username, taken):
    """A short key from the username's local part (``marketo_integration``), unique among ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "_", (username or "").split("@", 1)[0].lower()).strip("_") or "integration"
    name, index = base, 2
    while name in taken:
        name, index = "%s_%d" % (base, index), index + 1
    taken.add(name)
    return name


def user_options(user):
    """The user as the role's ``user`` options: what the user has now, so that a rollout changes nothing.

    Not ``frozen``: reading UserLogin needs Manage Users, far more than the export's read-only permissions, and
    an option left out leaves the user's freeze as it is."""
    options = {}
    for option, field in USER_OPTIONS:
        if user.get(field) not in (None, ""):
            options[option] = user[field]
    if user.get("UserPermissionsMarketingUser"):
        options["marketing_user"] = True
    role = (user.get("UserRole") or {}).get("DeveloperName")
    if role:
        options["role"] = role
    return options


def license_name(license_id, known):
    """The license as sf_permission_set's ``license`` option takes it: a label or name, or ``none``."""
    if not license_id:
        return NO_LICENSE
    found = license_by_id(license_id, known)
    return found.name if found else license_id


def permission_set_entry(record, catalogue, known):
    """(the set as the role's permission_sets entry, privileged grants found)."""
    system = catalogue.enabled(record)
    objects, fields = [], []
    for row in sorted(subquery_records(record, "ObjectPerms"), key=lambda r: r.get("SobjectType") or ""):
        access = object_access_from_record(row)
        if access and not (row.get("Id") or "").startswith(IMPLIED_ROW_PREFIX):
            objects.append(dict(object=row["SobjectType"], access=access))
    for row in sorted(subquery_records(record, "FieldPerms"), key=lambda r: r.get("Field") or ""):
        access = field_access_from_record(row)
        if access:
            fields.append(dict(field=row["Field"], access=access))
    privileged = privileged_permissions(system) + ["%s: %s" % (o["object"], ", ".join(
        level for level in o["access"] if level in PRIVILEGED_OBJECT_ACCESS)) for o in objects
        if set(o["access"]) & PRIVILEGED_OBJECT_ACCESS]
    entry = dict(name=record["Name"], label=record.get("Label") or record["Name"],
                 # Always given: the role describes a set without one as its integration's, which would be a change.
                 description=record.get("Description") or "",
                 license=license_name(record.get("LicenseId"), known),
                 system_permissions=system, object_permissions=objects, field_permissions=fields)
    if privileged:
        entry["allow_privileged"] = True
    return entry, privileged


class Export:
    """The org's rows turned into sf_integrations entries, review notes and counts."""

    def __init__(self, rows, catalogue, params):
        self.rows = rows
        self.catalogue = catalogue
        self.waiver = (params.get("mfa_waiver_permission_set") or "").lower()
        self.known = licenses(rows.get("user_licenses") or [], rows.get("licenses") or [])
        self.sets = dict((r["Id"], r) for r in rows.get("sets") or [])
        self.groups = dict((r["Id"], r) for r in rows.get("groups") or [])
        self.review, self.left_out, self.profiles = [], [], {}
        self.described = set()

    def note(self, integration, username, text):
        self.review.append(dict(integration=integration, username=username, note=text))

    def owned(self, record, user_id):
        """Whether the set belongs to this user alone and can be described as its integration's own."""
        assignees = set(row.get("AssigneeId") for row in subquery_records(record, "Assignments"))
        return (not record.get("NamespacePrefix") and (record.get("Name") or "").lower() != self.waiver
                and assignees == {user_id})

    def sets_entries(self, name, user):
        owned, extra, groups, licensed = [], [], [], set()
        for row in subquery_records(user, "PermissionSetAssignments"):
            if row.get("PermissionSetGroupId"):
                group = self.groups.get(row["PermissionSetGroupId"]) or {}
                groups.append(group.get("DeveloperName") or (row.get("PermissionSetGroup") or {}).get("DeveloperName"))
                licensed.update((c.get("PermissionSet") or {}).get("LicenseId")
                                for c in subquery_records(group, "PermissionSetGroupComponents"))
                continue
            record = self.sets.get(row.get("PermissionSetId"))
            if record is None or record.get("IsOwnedByProfile") or record.get("PermissionSetGroupId"):
                continue  # the profile's own set, or a group's aggregate set (the group is listed)
            licensed.add(record.get("LicenseId"))
            if not self.owned(record, user["Id"]):
                extra.append(record["Name"])
                self._why_extra(name, user, record)
                continue
            entry, privileged = permission_set_entry(record, self.catalogue, self.known)
            owned.append(entry)
            self.described.add(record["Id"])
            if privileged:
                self.note(name, user["Username"], "permission set %s holds privileged access an integration user should "
                          "not need: %s (allow_privileged: true keeps it; remove what the integration does not use)"
                          % (record["Name"], ", ".join(privileged)))
        self._licenses_beyond_sets(name, user, licensed)
        return (sorted(owned, key=lambda s: s["name"].lower()), sorted(extra, key=str.lower),
                sorted((g for g in groups if g), key=str.lower))

    def _why_extra(self, name, user, record):
        if (record.get("Name") or "").lower() == self.waiver:
            return  # the role's own MFA waiver set
        if record.get("NamespacePrefix"):
            why = "belongs to the managed package %s" % record["NamespacePrefix"]
        else:
            count = len(set(row.get("AssigneeId") for row in subquery_records(record, "Assignments")))
            why = "is assigned to %d users" % count
        self.note(name, user["Username"], "permission set %s %s, so it is listed in extra_permission_sets: the rollout "
                  "assigns it but does not change it" % (record["Name"], why))

    def _licenses_beyond_sets(self, name, user, licensed):
        held = subquery_records(user, "PermissionSetLicenseAssignments")
        for row in held:
            psl = row.get("PermissionSetLicense") or {}
            if row.get("PermissionSetLicenseId") in licensed:
                continue  # a set of the user's, or of one of its groups, is licensed by it
            self.note(name, user["Username"], "holds the permission set license %s, which none of its permission sets "
                      "is licensed by: with sf_integration_exclusive the rollout removes it unless a set needs it"
                      % (psl.get("MasterLabel") or psl.get("DeveloperName") or row.get("PermissionSetLicenseId")))

    def profile_notes(self, name, user):
        profile = user.get("Profile") or {}
        profile_name = profile.get("Name")
        self.profiles.setdefault(profile_name, []).append(user["Username"])
        license_name = (profile.get("UserLicense") or {}).get("Name")
        if is_integration_profile(profile, license_name):
            return
        reasons = admin_grade_reasons(profile)
        why = ("admin-grade (%s)" % ", ".join(reasons)) if reasons else "not on the %s license nor API only" % (
            INTEGRATION_USER_LICENSE)
        self.note(name, user["Username"], "profile %s is %s: the rollout refuses it as sf_integration_profile; move "
                  "the user to an integration profile" % (profile_name, why))

    def run(self):
        integrations, taken = [], set()
        for user in self.rows.get("users") or []:
            if not user.get("IsActive"):
                self.left_out.append(dict(username=user.get("Username"), reason="inactive"))
                continue
            name = integration_name(user.get("Username"), taken)
            permission_sets, extra, groups = self.sets_entries(name, user)
            self.profile_notes(name, user)
            integrations.append(dict(name=name, user=user_options(user), permission_sets=permission_sets,
                                     extra_permission_sets=extra, permission_set_groups=groups))
        if len(self.profiles) > 1:
            self.note(None, None, "the integration users have different profiles (%s); the rollout gives every one "
                      "sf_integration_profile, so it would change the others" % ", ".join(
                          sorted(str(p) for p in self.profiles)))
        return integrations

    def result(self):
        integrations = self.run()
        if integrations:
            message = "Exported %d integration user(s) of this org as sf_integrations entries; review them before " \
                      "adopting them." % len(integrations)
        else:
            message = "No integration users in this org (no active user on the %s license or with API Only User)." % (
                INTEGRATION_USER_LICENSE)
        if self.left_out:
            message += " %d inactive integration user(s) left out." % len(self.left_out)
        org = (self.rows.get("organization") or [{}])[0]
        return dict(
            integrations=integrations, review=self.review, left_out=self.left_out, message=message,
            profile=list(self.profiles)[0] if len(self.profiles) == 1 else None,
            profiles=dict((str(k), v) for k, v in self.profiles.items()),
            counts=dict(integration_users=len(integrations), left_out=len(self.left_out),
                        permission_sets=len(self.described),
                        extra_permission_sets=len(set(n for i in integrations for n in i["extra_permission_sets"])),
                        permission_set_groups=len(set(g for i in integrations for g in i["permission_set_groups"]))),
            org=dict(id=org.get("Id"), name=org.get("Name")),
        )


# ---- the module ----------------------------------------------------------------------------------------


def run(module):
    module.refuse(option_problems(module.params))
    rows, catalogue = read_org(module.client)
    result = Export(rows, catalogue, module.params).result()
    return module.finish(change_record("integration_export", result["org"]["name"], NO_CHANGE), {}, {}, **result)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
