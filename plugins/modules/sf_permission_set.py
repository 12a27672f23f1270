#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_permission_set
short_description: Least-privilege Salesforce permission sets for integration users
version_added: 0.1.0
description:
  - Creates, updates or deletes a permission set holding exactly the system, object and field
    permissions an integration needs, by default on the Salesforce API Integration permission set
    license.
  - Permission, object and field names are checked against the org's describes before anything
    is written; each unknown name is reported with the closest valid names.
  - Object and field access is completed the way Salesforce's permission set editor completes it
    (V(edit), V(create), V(delete) and V(view_all_records) imply V(read), V(delete) implies V(edit),
    V(modify_all_records) implies V(read), V(edit), V(delete) and V(view_all_records); field
    V(edit) implies V(read)). The result shows the effective permissions.
  - Reads cost one composite request (the set with its object permissions, field permissions and
    assignments in one query, the licenses and every describe); a create or an update is one
    all-or-none composite request, so a failure leaves the permission set as it was.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
options:
  name:
    description:
      - API name of the permission set (C(PermissionSet.Name)), the key it is found by.
      - Letters, digits and underscores, starting with a letter.
    type: str
    required: true
  label:
    description:
      - Label shown in Setup. Defaults to O(name) when the permission set is created; left as it
        is on update when not given.
    type: str
  description:
    description:
      - Description of the permission set; left as it is when not given.
    type: str
  license:
    description:
      - The license the permission set is tied to (C(PermissionSet.LicenseId)).
      - A permission set license, by label or developer name (for example
        V(Salesforce API Integration) or V(SalesforceAPIIntegrationPsl)), a user license by name
        (for example V(Salesforce Integration)), or V(none) for no license. Matched case-insensitively.
      - With a permission set license, system permissions the license does not allow (its
        C(MaximumPermissions*) fields, read from the org) are refused before anything is written.
      - Salesforce switches API Enabled on by itself in a set with a permission set license that
        allows it; the module counts it as part of the desired permissions, so it is never
        reported as drift nor purged.
      - Salesforce cannot change the license of an existing permission set; see
        O(recreate_on_license_change).
    type: str
    default: Salesforce API Integration
  system_permissions:
    description:
      - User permissions to grant, by API name with or without the C(Permissions) prefix,
        case-insensitive (V(ApiEnabled), V(PermissionsApiEnabled), V(apienabled)).
      - Valid names are read from the org's describe of PermissionSet; the result reports them in
        their canonical form.
      - Omitted means none.
    type: list
    elements: str
  object_permissions:
    description:
      - Object access to grant. Objects are checked against the objects the org takes object
        permissions on.
      - Omitted means none.
    type: list
    elements: dict
    suboptions:
      object:
        description:
          - API name of the object, for example V(Lead) or V(Invoice__c) (case-insensitive).
        type: str
        required: true
      access:
        description:
          - Access to grant; the access it depends on is added.
          - V(view_all_records) and V(modify_all_records) are privileged, see O(allow_privileged).
        type: list
        elements: str
        required: true
        choices: [read, create, edit, delete, view_all_records, modify_all_records]
  field_permissions:
    description:
      - Field-level access to grant, as C(Object.Field) (case-insensitive; a lookup may be named
        with or without C(Id)).
      - Fields Salesforce takes no permissions on (system and required fields) are refused, and so
        is V(edit) on formula and auto-number fields.
      - Omitted means none.
    type: list
    elements: dict
    suboptions:
      field:
        description:
          - The field, for example V(Invoice__c.Paid__c).
        type: str
        required: true
      access:
        description:
          - V(read), or V(edit) (which includes read).
        type: str
        default: read
        choices: [read, edit]
  purge:
    description:
      - When true the listed permissions are the whole truth; system, object and field
        permissions not listed (and object access beyond what is listed) are removed.
      - When false permissions are only added.
    type: bool
    default: true
  allow_privileged:
    description:
      - Privileged permissions (the ones an integration user must not have, plus
        Modify All Data, View All Data, Author Apex, Customize Application and Modify Metadata) and
        the object access V(view_all_records) and V(modify_all_records) are refused unless this is
        true. When true they are granted with a warning.
    type: bool
    default: false
  recreate_on_license_change:
    description:
      - Salesforce cannot change the license of a permission set. When O(license) differs from the
        existing set's license the module fails, unless this is true; then the set is deleted and
        created again with the new license, and everyone assigned to it is assigned again, all in one
        all-or-none request.
    type: bool
    default: false
  remove_assignments:
    description:
      - With O(state=absent), a permission set that is assigned to users is not deleted (the failure
        lists the assignees) unless this is true; then the assignments are removed with it.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the permission set; V(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
attributes:
  check_mode:
    description: Reads and validates everything as a real run does, and writes nothing.
    support: full
  diff_mode:
    description: Shows the label, description, license and the system, object and field permissions before and after.
    support: full
notes:
  - System permission dependencies (for example Modify All Data needing View All Data) are not
    published by Salesforce; they are checked by Salesforce when the set is saved, and a refusal
    leaves the set unchanged.
  - A user license publishes no list of what it allows; Salesforce checks it when the set is saved.
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_profile
  - module: sfops.integration.sf_org_info
"""

EXAMPLES = r"""
- name: Marketo syncs leads, contacts and campaign members, nothing else
  sfops.integration.sf_permission_set:
    name: Marketo_Integration
    label: Marketo Integration
    description: Access for the Marketo sync
    license: Salesforce API Integration
    system_permissions: [ApiEnabled, ConvertLeads]
    object_permissions:
      - object: Lead
        access: [read, create, edit]
      - object: Contact
        access: [read, create, edit]
      - object: CampaignMember
        access: [read, create, edit]
      - object: Account
        access: [read]
      - object: Campaign
        access: [read]
      - object: Opportunity
        access: [read]
    field_permissions:
      - field: Lead.Email
        access: edit
      - field: Lead.HasOptedOutOfEmail
        access: edit

- name: The accounting integration may only read and edit invoices and mark them paid
  sfops.integration.sf_permission_set:
    name: Accounting_Integration
    label: Accounting Integration
    object_permissions:
      - object: Invoice__c
        access: [read, edit]
    field_permissions:
      - field: Invoice__c.External_Id__c
        access: read
      - field: Invoice__c.Paid__c
        access: edit

- name: Plan only (add --diff to see each permission added or removed); purge false only adds
  sfops.integration.sf_permission_set:
    name: Marketo_Integration
    purge: false
    object_permissions:
      - object: CampaignMember
        access: [read, create]
  check_mode: true
  register: plan

- name: Show what the run would add and remove
  ansible.builtin.debug:
    var: plan.changes

- name: Move an existing set to the permission set license (it is recreated and reassigned)
  sfops.integration.sf_permission_set:
    name: Accounting_Integration
    license: SalesforceAPIIntegrationPsl
    recreate_on_license_change: true
    object_permissions:
      - object: Invoice__c
        access: [read, edit]

- name: Remove a retired integration's permission set and its assignments
  sfops.integration.sf_permission_set:
    name: Legacy_ETL_Integration
    state: absent
    remove_assignments: true
"""

RETURN = r"""
permission_set:
  description:
    - The permission set as it is after the run (in check mode, as the run would leave it).
      Empty after O(state=absent).
  returned: success
  type: dict
  contains:
    id:
      description: PermissionSet id; null in check mode when it would be created.
      type: str
      sample: 0PS5g000000XXXXGAA
    name:
      description: API name.
      type: str
      sample: Marketo_Integration
    label:
      description: Label.
      type: str
      sample: Marketo Integration
    description:
      description: Description.
      type: str
    license:
      description: Label of the permission set license or name of the user license, or V(none).
      type: str
      sample: Salesforce API Integration
    system_permissions:
      description: Effective system permissions, canonical API names without the prefix.
      type: list
      elements: str
      sample: [ApiEnabled, ConvertLeads]
    object_permissions:
      description: Effective access per object.
      type: dict
      sample: {"Lead": ["read", "create", "edit"]}
    field_permissions:
      description: Effective access per field, V(read) or V(edit).
      type: dict
      sample: {"Lead.Email": "edit"}
    assignees:
      description: Usernames of the users assigned the permission set.
      type: list
      elements: str
changes:
  description: Exactly what was (or in check mode would be) added and removed.
  returned: success
  type: dict
  contains:
    system_permissions:
      description: C(added) and C(removed) lists of system permissions.
      type: dict
      sample: {"added": ["ConvertLeads"], "removed": []}
    object_permissions:
      description: C(added) and C(removed), each access levels per object.
      type: dict
      sample: {"added": {"Lead": ["create"]}, "removed": {"Account": ["read"]}}
    field_permissions:
      description: C(added) and C(removed), each access levels per field.
      type: dict
      sample: {"added": {"Invoice__c.Paid__c": ["edit"]}, "removed": {}}
    properties:
      description: Label, description or license values that change.
      type: dict
      sample: {"label": "Marketo Integration"}
recreated:
  description: True when a license change replaced the permission set (O(recreate_on_license_change)).
  returned: when the set was (or in check mode would be) recreated
  type: bool
  sample: true
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 3
"""

import re

from ansible_collections.sfops.integration.plugins.module_utils import system_permissions
from ansible_collections.sfops.integration.plugins.module_utils.change import CREATE, DELETE, NO_CHANGE, UPDATE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import ApiError, InputError, NotFoundError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import (
    LICENSE_QUERY,
    NO_LICENSE,
    License,
    field_for_permissions,
    find_license,
    license_by_id,
    license_names,
    licenses,
    object_for_permissions,
    picklist_values,
    unknown_message,
)
from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    FIELD_ACCESS_LEVELS,
    OBJECT_ACCESS_FIELDS,
    OBJECT_ACCESS_ORDER,
    PRIVILEGED_OBJECT_ACCESS,
    SystemPermissionCatalogue,
    complete_object_access,
    field_access_from_record,
    field_access_record,
    object_access_from_record,
    object_access_record,
)
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql
from ansible_collections.sfops.integration.plugins.module_utils.state import field_changes

SET_REF = "permissionSet"
API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# PermissionSet.Name [OBJREF PermissionSet]: letters, digits and single underscores, a letter first, no
# underscore last, at most 80 characters.
SET_NAME_RE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")
NAME_LENGTH = 80

SET_QUERY = (
    "SELECT Id, Name, Label, Description, LicenseId, "
    "(SELECT Id, SobjectType, %s FROM ObjectPerms), "
    "(SELECT Id, SobjectType, Field, PermissionsRead, PermissionsEdit FROM FieldPerms), "
    "(SELECT Id, AssigneeId, Assignee.Username FROM Assignments) "
    "FROM PermissionSet WHERE Name = {} AND IsOwnedByProfile = false" % ", ".join(OBJECT_ACCESS_FIELDS.values())
)
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    label=dict(type="str"),
    description=dict(type="str"),
    license=dict(type="str", default="Salesforce API Integration"),
    object_permissions=dict(type="list", elements="dict", options=dict(
        object=dict(type="str", required=True),
        access=dict(type="list", elements="str", required=True, choices=OBJECT_ACCESS_ORDER),
    )),
    field_permissions=dict(type="list", elements="dict", options=dict(
        field=dict(type="str", required=True),
        access=dict(type="str", default="read", choices=FIELD_ACCESS_LEVELS),
    )),
    recreate_on_license_change=dict(type="bool", default=False),
    remove_assignments=dict(type="bool", default=False),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
ARGUMENT_SPEC.update(system_permissions.ARGUMENT_SPEC)


# ---- reading -------------------------------------------------------------------------------------


def named_objects(params):
    """Distinct object names (as typed) the options mention, that can be API names at all."""
    names = [item["object"] for item in params.get("object_permissions") or []]
    names += [item["field"].partition(".")[0] for item in params.get("field_permissions") or []]
    seen, out = set(), []
    for name in names:
        name = name.strip()
        if API_NAME_RE.match(name) and name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def wants_license(params):
    return (params["license"] or "").strip().lower() not in (NO_LICENSE, "")


def read_subrequests(client, params):
    """The one composite read: the set, its record, and (for state=present) licenses and describes."""
    subs = [
        client.composite_query(SET_REF, soql(SET_QUERY, params["name"])),
        client.sobject_subrequest("permissionSetRecord", "GET", "PermissionSet", "@{%s.records[0].Id}" % SET_REF),
    ]
    if params["state"] == "absent":
        return subs, {}
    subs += [
        client.composite_describe("describePermissionSet", "PermissionSet"),
        client.composite_describe("describeObjectPermissions", "ObjectPermissions"),
        client.composite_query("licenses", "SELECT Id, DeveloperName, MasterLabel FROM PermissionSetLicense"),
        client.composite_query("userLicenses", "SELECT Id, Name, MasterLabel FROM UserLicense"),
    ]
    if wants_license(params):
        subs += [
            client.composite_query("wantedLicense", soql(LICENSE_QUERY, params["license"].strip())),
            client.sobject_subrequest("wantedLicenseRecord", "GET", "PermissionSetLicense",
                                      "@{wantedLicense.records[0].Id}"),
        ]
    describe_refs = {}
    for index, name in enumerate(named_objects(params)):
        describe_refs[name.lower()] = "describe%d" % index
        subs.append(client.composite_describe(describe_refs[name.lower()], name))
    return subs, describe_refs


def child_rows(client, record, relationship):
    return client.more_records(record.get(relationship) or {})


class OrgState:
    """What the org holds: the set (or None), its children, the licenses and the describes."""

    def __init__(self, client, params):
        subs, describe_refs = read_subrequests(client, params)
        responses = client.read(subs)
        rows = client.composite_records(responses, SET_REF)
        self.set = rows[0] if rows else None
        self.record = {}
        self.object_rows, self.field_rows, self.assignments = [], [], []
        if self.set:
            self.record = client.composite_body(responses, "permissionSetRecord", resource="permission set")
            self.object_rows = child_rows(client, self.set, "ObjectPerms")
            self.field_rows = child_rows(client, self.set, "FieldPerms")
            self.assignments = child_rows(client, self.set, "Assignments")
        if params["state"] == "absent":
            return
        self.catalogue = SystemPermissionCatalogue(client.composite_body(responses, "describePermissionSet"))
        self.permissionable_objects = picklist_values(
            client.composite_body(responses, "describeObjectPermissions"), "SobjectType") or []
        self.licenses = licenses(client.composite_records(responses, "userLicenses"),
                                 client.composite_records(responses, "licenses"))
        self.wanted_license_record = client.optional_body(responses, "wantedLicenseRecord")
        bodies = dict((name, client.optional_body(responses, ref)) for name, ref in describe_refs.items())
        self.describes = dict((name, body) for name, body in bodies.items() if body is not None)

    @property
    def assignees(self):
        return sorted(((row.get("Assignee") or {}).get("Username") or row.get("AssigneeId") or "")
                      for row in self.assignments)


# ---- validating the options against the org ---------------------------------------------------------


class DesiredAccess:
    """The options resolved against the org: canonical names and completed access, or error messages."""

    def __init__(self, params, org):
        self.errors = []
        self.org = org
        self.system, error = system_permissions.resolve(org.catalogue, params.get("system_permissions"))
        self._add_error(error)
        self.objects = {}  # canonical object -> access levels
        self.fields = {}  # canonical Object.Field -> access levels
        for item in params.get("object_permissions") or []:
            name = self.object_name(item["object"])
            if name:
                levels = complete_object_access(self.objects.get(name, []) + list(item["access"]))
                self.objects[name] = levels
        refused = []
        for item in params.get("field_permissions") or []:
            name = self.field_name(item["field"], item["access"], refused)
            if name:
                self.fields[name] = max(self.fields.get(name, []), field_levels(item["access"]), key=len)
        if refused:
            self.errors.append("; ".join(refused))

    def _add_error(self, message):
        if message and message not in self.errors:
            self.errors.append(message)

    def object_name(self, typed):
        """Canonical name of an object that takes permissions, else None (the error is recorded)."""
        name, problem = object_for_permissions(typed, self.org.permissionable_objects, self.org.describes)
        self._add_error(problem)
        return name

    def field_name(self, typed, access, refused):
        """Canonical ``Object.Field`` that takes ``access``, else None (the error is recorded)."""
        name, problem, cannot_take_it = field_for_permissions(typed, access, self.org.permissionable_objects,
                                                              self.org.describes)
        if cannot_take_it:
            refused.append(problem)
        else:
            self._add_error(problem)
        return name

    def privileged(self):
        """Readable privileged grants among what was asked for."""
        offenders = system_permissions.privileged_offenders(self.org.catalogue, self.system)
        for sobject, levels in sorted(self.objects.items()):
            extra = [level for level in levels if level in PRIVILEGED_OBJECT_ACCESS]
            if extra:
                offenders.append("%s: %s" % (sobject, ", ".join(extra)))
        return offenders


# ---- licenses --------------------------------------------------------------------------------------------


def resolve_license(params, org):
    """(wanted License or None, error message or None)."""
    if not wants_license(params):
        return License(), None
    typed = params["license"].strip()
    found = find_license(typed, org.licenses)
    if found:
        return found, None
    return None, unknown_message("license", [typed], license_names(org.licenses) + [NO_LICENSE])


def current_license(org):
    license_id = org.set.get("LicenseId") if org.set else None
    if not license_id:
        return License()
    return license_by_id(license_id, org.licenses) or License(license_id, license_id, None)


# ---- planning -------------------------------------------------------------------------------------------


def union(order, *lists):
    wanted = set()
    for levels in lists:
        wanted.update(levels)
    return [level for level in order if level in wanted]


class AccessPlan:
    """Desired against actual access per object (or field): what to create, update and report."""

    def __init__(self, desired, actual, purge, order):
        # desired: {name: levels}; actual: {name: (row id, levels)}
        self.after, self.creates, self.updates = {}, [], []
        self.added, self.removed = {}, {}
        actual_by_lower = dict((name.lower(), (name, row)) for name, row in actual.items())
        desired_by_lower = dict((name.lower(), (name, levels)) for name, levels in desired.items())
        for key in sorted(set(actual_by_lower) | set(desired_by_lower)):
            actual_name, (row_id, current) = actual_by_lower.get(key, (None, (None, [])))
            desired_name, wanted = desired_by_lower.get(key, (None, None))
            name = actual_name or desired_name  # the name as Salesforce stores it
            if wanted is not None:
                target = list(wanted) if purge else union(order, current, wanted)
            else:
                target = [] if purge else list(current)
            if target:
                self.after[name] = target
            if target == current:
                continue
            self._note(self.added, name, [level for level in target if level not in current])
            self._note(self.removed, name, [level for level in current if level not in target])
            if row_id:
                self.updates.append((row_id, name, target))
            else:
                self.creates.append((name, target))

    @staticmethod
    def _note(where, name, levels):
        if levels:
            where[name] = levels

    @property
    def changed(self):
        return bool(self.creates or self.updates)


def actual_objects(org):
    rows = {}
    for row in org.object_rows:
        levels = object_access_from_record(row)
        if levels:  # rows holding only access the module does not manage (View All Fields) are not ours
            rows[row["SobjectType"]] = (row["Id"], levels)
    return rows


def field_levels(level):
    return FIELD_ACCESS_LEVELS[:FIELD_ACCESS_LEVELS.index(level) + 1] if level else []


def actual_fields(org):
    return dict((row["Field"], (row["Id"], field_levels(field_access_from_record(row)))) for row in org.field_rows)


def readable_fields(levels_by_field):
    return dict((name, levels[-1]) for name, levels in levels_by_field.items() if levels)


class Plan:
    """Everything the run would change, and the permission set as it would be afterwards.

    Changes are always measured against the existing set, also when a license change recreates it
    (``fresh``): the new set then gets the whole effective state.
    """

    def __init__(self, params, org, desired, wanted_license, fresh):
        self.params = params
        self.org = org
        self.license = wanted_license
        self.fresh = fresh
        purge = params["purge"]
        forced = system_permissions.forced_by_license(org.wanted_license_record) if wanted_license.kind == "psl" else []
        enabled = org.catalogue.enabled(org.record) if org.set else []
        self.system = system_permissions.SystemPermissionPlan(desired.system, enabled, purge, forced)
        self.objects = AccessPlan(desired.objects, actual_objects(org), purge, OBJECT_ACCESS_ORDER)
        self.fields = AccessPlan(desired.fields, actual_fields(org), purge, FIELD_ACCESS_LEVELS)
        self.properties = field_changes(dict(Label=params["label"] or (None if org.set else params["name"]),
                                             Description=params["description"]), org.set)

    @property
    def changed(self):
        return self.fresh or bool(self.properties) or self.system.changed or self.objects.changed \
            or self.fields.changed

    def changes(self):
        properties = dict((key.lower(), value) for key, value in self.properties.items())
        if self.fresh:
            properties["license"] = self.license.name
        return dict(
            system_permissions=self.system.changes(),
            object_permissions=dict(added=self.objects.added, removed=self.objects.removed),
            field_permissions=dict(added=readable_levels(self.fields.added), removed=readable_levels(self.fields.removed)),
            properties=properties,
        )

    def after(self, set_id):
        record = self.org.set or {}
        return dict(
            id=set_id,
            name=record.get("Name") or self.params["name"],
            label=self.properties.get("Label", record.get("Label")),
            description=self.properties.get("Description", record.get("Description")),
            license=self.license.name,
            system_permissions=self.system.after,
            object_permissions=self.objects.after,
            field_permissions=readable_fields(self.fields.after),
            assignees=self.org.assignees,
        )


def readable_levels(levels_by_field):
    return dict((name, list(levels)) for name, levels in levels_by_field.items())


def before_state(org, current):
    if not org.set:
        return {}
    return dict(
        name=org.set["Name"], label=org.set.get("Label"), description=org.set.get("Description"),
        license=current.name, system_permissions=org.catalogue.enabled(org.record),
        object_permissions=dict((name, levels) for name, (_id, levels) in actual_objects(org).items()),
        field_permissions=readable_fields(dict((name, levels) for name, (_id, levels) in actual_fields(org).items())),
        assignees=org.assignees,
    )


def diff_view(state):
    """The managed state without ids and assignees, for --diff."""
    return dict((key, value) for key, value in state.items() if key not in ("id", "assignees"))


# ---- writing ---------------------------------------------------------------------------------------------


def object_key(name):
    return dict(SobjectType=name)


def field_key(name):
    return dict(SobjectType=name.split(".")[0], Field=name)


def field_flags(levels):
    return field_access_record(levels[-1] if levels else None)


# Per child object: referenceId prefix, sObject, the plan's part, the fields naming a row, its flags.
CHILDREN = (
    ("object", "ObjectPermissions", "objects", object_key, object_access_record),
    ("field", "FieldPermissions", "fields", field_key, field_flags),
)


def child_records(sobject, access_plan, key_fields, flags, parent_id, fresh):
    """(creates, updates) of one child object; a new set (``fresh``) gets every effective row created."""
    rows = sorted(access_plan.after.items()) if fresh else access_plan.creates
    creates = [dict(attributes=dict(type=sobject), ParentId=parent_id, **dict(key_fields(name), **flags(levels)))
               for name, levels in rows]
    # Removing access is an update with every flag false: Salesforce deletes such rows (reference 3.6, 3.7).
    updates = [] if fresh else [dict(attributes=dict(type=sobject), Id=row_id, **flags(levels))
                                for row_id, _name, levels in access_plan.updates]
    return creates, updates


def child_subrequests(client, plan, parent_id):
    subs = []
    for prefix, sobject, part, key_fields, flags in CHILDREN:
        creates, updates = child_records(sobject, getattr(plan, part), key_fields, flags, parent_id, plan.fresh)
        subs += client.collection_subrequests(prefix + "Creates", "POST", records=creates)
        subs += client.collection_subrequests(prefix + "Updates", "PATCH", records=updates)
    return subs


def new_set_body(plan):
    params, old = plan.params, plan.org.set or {}
    body = dict(Name=old.get("Name") or params["name"], Label=params["label"] or old.get("Label") or params["name"],
                LicenseId=plan.license.id)
    description = params["description"] if params["description"] is not None else old.get("Description")
    if description is not None:
        body["Description"] = description
    body.update((plan.org.catalogue.field(name), True) for name in plan.system.after)
    return body


def create_subrequests(client, plan):
    """Create the set and all its children; with a license change, replace the old set first."""
    subs = []
    org = plan.org
    if org.set:
        subs += client.collection_subrequests("oldAssignments", "DELETE", ids=[row["Id"] for row in org.assignments])
        subs.append(client.sobject_subrequest("oldSet", "DELETE", "PermissionSet", org.set["Id"]))
    subs.append(client.sobject_subrequest(SET_REF, "POST", "PermissionSet", body=new_set_body(plan)))
    parent = "@{%s.id}" % SET_REF
    subs += child_subrequests(client, plan, parent)
    assignments = [dict(attributes=dict(type="PermissionSetAssignment"), AssigneeId=row["AssigneeId"],
                        PermissionSetId=parent) for row in org.assignments]
    return subs + client.collection_subrequests("assignments", "POST", records=assignments)


def update_subrequests(client, plan):
    fields = dict(plan.properties)
    fields.update(plan.system.record_fields())
    subs = []
    if fields:
        subs.append(client.sobject_subrequest(SET_REF + "Update", "PATCH", "PermissionSet", plan.org.set["Id"], fields))
    return subs + child_subrequests(client, plan, plan.org.set["Id"])


def delete_subrequests(client, org):
    subs = client.collection_subrequests("assignments", "DELETE", ids=[row["Id"] for row in org.assignments])
    return subs + [client.sobject_subrequest(SET_REF, "DELETE", "PermissionSet", org.set["Id"])]


SET_EXISTS_QUERY = "SELECT Id FROM PermissionSet WHERE Name = {} AND IsOwnedByProfile = false"


def write(client, plan):
    """Create (or recreate) or update the set, all or none; returns its id.

    Everything fits one composite request unless a set has more than about a thousand permission
    rows; the client then splits it and later requests get the new set's id.

    Returns None when the client's re-read by name explained the write instead of its answer
    (client.call): the connection dropped after it was sent, or another writer (a second run of the
    same rollout) created the set or one of its permission rows first; or when an update met a
    permission row another writer removed meanwhile (all-or-none: nothing of it was written). The
    caller then plans again against the set as it is.
    """
    def find_set():
        return client.query_one(soql(SET_EXISTS_QUERY, plan.params["name"]))

    if plan.fresh:
        subrequests = create_subrequests(client, plan)
        action = "create permission set %s" % plan.params["name"]
    else:
        subrequests = update_subrequests(client, plan)
        action = "update permission set %s" % plan.org.set["Name"]
    try:
        responses = client.write(subrequests, action, find_existing=find_set)
    except NotFoundError as error:
        if plan.fresh:
            raise
        client.done_elsewhere.append(error.message)
        return None
    if any(sub["referenceId"] not in responses for sub in subrequests):
        return None
    return responses[SET_REF]["body"]["id"] if plan.fresh else plan.org.set["Id"]


# ---- the module --------------------------------------------------------------------------------------


def option_problems(params):
    """Every problem with the options that can be found without the org (a list of messages)."""
    error = name_error(params["name"]) if params["state"] == "present" else None
    return [error] if error else []


def validate(module, org):
    """(desired access, license, whether the set is recreated), or refuse naming every bad input.

    Every problem the org shows is reported in one refusal: unknown names, the license's limits, a
    license change without recreate_on_license_change and privileged grants without allow_privileged.
    Nothing has been written yet.
    """
    params = module.params
    what = "permission set %s" % params["name"]
    desired = DesiredAccess(params, org)
    wanted, license_error = resolve_license(params, org)
    problems = desired.errors + [license_error]
    if wanted is not None and wanted.kind == "psl":
        refused = system_permissions.not_allowed_by_license(desired.system, org.wanted_license_record)
        if refused:
            problems.append(system_permissions.license_message(org.catalogue, refused, wanted.name))
    problems = [problem for problem in problems if problem]
    recreate, change_problem = license_change(params, org, wanted)
    offenders = desired.privileged()
    # The license change and the privileged refusal name the set themselves; the other problems get it as their prefix.
    module.refuse(["%s: %s" % (what, "; ".join(problems)) if problems else None, change_problem,
                   system_permissions.privileged_problem(module, offenders, what)])
    system_permissions.guard_privileged(module, offenders, what)  # allowed: only the warning is left
    return desired, wanted, recreate


def name_error(name):
    if SET_NAME_RE.match(name) and len(name) <= NAME_LENGTH:
        return None
    return ("name '%s' is not a valid API name: up to %d letters, digits and single underscores, starting with a "
            "letter and not ending with an underscore" % (name, NAME_LENGTH))


def license_change(params, org, wanted):
    """(whether the set is recreated for a new license, the problem when that is not allowed)."""
    if wanted is None or not org.set or wanted.same_as(org.set.get("LicenseId")):
        return False, None
    if params["recreate_on_license_change"]:
        return True, None
    return False, ("permission set %s has the license '%s' and Salesforce cannot change the license of a permission "
                   "set (LicenseId is set when it is created). Set recreate_on_license_change: true to delete it and "
                   "create it again with '%s'; its %d assignee(s) are assigned again in the same request."
                   % (org.set["Name"], current_license(org).name, wanted.name, len(org.assignments)))


def ensure_present(module, org, again=True):
    desired, wanted, recreate = validate(module, org)
    before = before_state(org, current_license(org))
    plan = Plan(module.params, org, desired, wanted, fresh=recreate or not org.set)
    set_id = None if plan.fresh else org.set["Id"]
    if plan.changed and not module.check_mode:
        set_id = write(module.client, plan)
        if set_id is None:
            # The set is there but not (only) as this run wrote it: plan again against it, write what is left.
            if not again:
                raise ApiError("permission set %s changed again while this run wrote it; run again"
                               % module.params["name"])
            result = ensure_present(module, OrgState(module.client, module.params), again=False)
            if module.client.done_elsewhere:
                return result  # another writer did (part of) it: the result says what this run changed
            set_id = result["permission_set"]["id"]  # a dropped connection: this run's own write, as planned
    after = plan.after(set_id)
    action = NO_CHANGE if not plan.changed else (CREATE if not org.set else UPDATE)
    record = change_record("permission_set", module.params["name"], action, diff_view(before), diff_view(after))
    result = module.finish(record, diff_view(before), diff_view(after), permission_set=after, changes=plan.changes())
    if recreate:
        result["recreated"] = True
    return result


def ensure_absent(module, org):
    if not org.set:
        return module.finish(change_record("permission_set", module.params["name"], NO_CHANGE), {}, {},
                             permission_set={}, changes={})
    assignees = org.assignees
    if assignees and not module.params["remove_assignments"]:
        raise InputError("permission set %s is assigned to %d user(s): %s. Remove the assignments first, or set "
                         "remove_assignments: true." % (org.set["Name"], len(assignees), ", ".join(assignees)))
    if not module.check_mode:
        module.client.write(delete_subrequests(module.client, org), "delete permission set %s" % org.set["Name"])
    before = dict(name=org.set["Name"], label=org.set.get("Label"), assignees=assignees)
    return module.finish(change_record("permission_set", module.params["name"], DELETE, before, {}), before, {},
                         permission_set={}, changes={})


def run(module):
    module.refuse(option_problems(module.params), prefix="permission set %s" % module.params["name"])
    org = OrgState(module.client, module.params)
    if module.params["state"] == "absent":
        return ensure_absent(module, org)
    return ensure_present(module, org)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
