#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_permset_assignment
short_description: Assign permission set licenses, permission sets and groups to a Salesforce user
version_added: 0.1.0
description:
  - Makes sure a user holds the listed permission set licenses (PSLs), permission sets and permission
    set groups, adding only what is missing, so a re-run changes nothing.
  - With O(exclusive=true) it also removes every other permission set and group the user has, and
    every PSL that nothing listed needs. The assignment of the permission set owned by the user's
    profile, which every user has, is never touched.
  - With O(state=absent) it removes the listed assignments.
  - Reads the user with all its assignments, and the named sets, groups and licenses, in one
    composite request. Writes one all-or-none sObject Collections request per kind (per 200
    records), in the order Salesforce needs, as it checks licenses at assignment time. First the
    PSLs, then the permission sets and groups, and last the removals (sets and groups before the PSLs
    they need).
  - Everything it can check is checked before the first write. It fails without changing anything
    when a permission set, group or license to assign does not exist (naming each, with the closest
    names; with O(state=absent) such a name only gets a warning, there is nothing to remove), when a
    PSL it would assign has no free seat, when a permission set is licensed for another user license
    than the user's, or when a listed PSL to remove is still needed by a set that stays.
  - Before assigning a permission set group whose C(Status) is not V(Updated) it waits for
    Salesforce to finish recalculating it, up to O(group_wait_timeout) seconds.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.managed_user
  - sfops.integration.connection.action_group
options:
  username:
    description:
      - Username of the user whose assignments are managed (not the user who logs in, see
        O(login_username)).
    type: str
    required: true
  permission_sets:
    description:
      - Permission sets by API name (C(PermissionSet.Name)), matched without regard to case.
      - Profile-owned permission sets and the sets behind groups cannot be listed.
    type: list
    elements: str
    default: []
  permission_set_groups:
    description:
      - Permission set groups by API name (C(PermissionSetGroup.DeveloperName)), matched without
        regard to case.
    type: list
    elements: str
    default: []
  permission_set_licenses:
    description:
      - Permission set licenses by API name (C(DeveloperName), for example V(SalesforceAPIIntegrationPsl))
        or label (C(MasterLabel), for example V(Salesforce API Integration)), matched without regard to case.
    type: list
    elements: str
    default: []
  auto_licenses:
    description:
      - With O(state=present), also assign, before the permission sets and groups, every PSL the
        listed sets (and the sets inside the listed groups) need. The rule is this.
      - A set whose license is a PSL needs that PSL. Salesforce would assign it by itself with the
        set; the module assigns it first so its seat is checked and it shows in the diff.
      - A set with no license needs the Salesforce API Integration PSL (C(SalesforceAPIIntegrationPsl))
        when the user is on the C(Salesforce Integration) user license and the set grants any access to a
        standard object (an object permission on an object whose API name has no C(__) suffix), or
        one of the permissions that user license lacks on its own. Those are API Only User, View All
        Data, View Setup and Configuration, View Roles and Role Hierarchy, View All Users, Author
        Apex, Modify Metadata Through Metadata API Functions and Run Reports.
        Salesforce refuses such a set until the PSL is held.
      - A set licensed by a user license needs no PSL; it must be the user's license.
      - With V(false) only the PSLs in O(permission_set_licenses) are assigned explicitly. Salesforce
        still assigns the PSL of a PSL-licensed set itself, and refuses a set with no license that needs
        a PSL the user does not hold.
      - The same rule tells O(exclusive=true) which PSLs are still needed and stay.
    type: bool
    default: true
  exclusive:
    description:
      - With O(state=present), remove every permission set and group assignment that is not listed
        and every PSL assignment that is neither listed nor needed by a listed set or group (see
        O(auto_licenses)). The profile-owned permission set assignment always stays.
      - Removals happen after the additions, so the user never loses a license a new set needs.
      - With nothing listed, this removes every assignment the user has but the profile's.
      - Ignored with O(state=absent).
    type: bool
    default: false
  group_wait_timeout:
    description:
      - Seconds to wait for a permission set group to be assigned whose C(Status) is V(Outdated) or
        V(Updating), polling every few seconds. The module fails when the time is up, and at once
        for a group whose Status is V(Failed).
      - In check mode nothing is waited for; a warning names the groups a real run would wait for.
    type: int
    default: 120
  state:
    description:
      - V(present) adds the listed assignments (and with O(exclusive) removes the others).
      - V(absent) removes the listed assignments the user has.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Reads and checks everything a real run would, writes nothing, and reports what would change.
    support: full
  diff_mode:
    description: Shows the user's permission sets, groups and PSLs before and after.
    support: full
notes:
  - Prefer a session from M(sfops.integration.sf_session) (O(access_token) and O(instance_url)) through
    C(module_defaults). A C(username) set in C(module_defaults) for this module would be taken as the
    managed user's.
  - The logged-in user needs the Assign Permission Sets permission (and Manage Users to assign or remove PSLs).
  - Each run sends one composite request to read, plus one request per kind of write. Waiting for groups
    adds one query per poll, and a failure adds one request to look up the closest names.
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_session
  - module: sfops.integration.sf_integration_user
  - module: sfops.integration.sf_permission_set
"""

EXAMPLES = r"""
- name: Give the Marketo integration user its permission set (and the PSL the set needs)
  sfops.integration.sf_permset_assignment:
    instance_url: "{{ sf.instance_url }}"
    access_token: "{{ sf.access_token }}"
    username: marketo.integration@acme.com.prod
    permission_sets:
      - Marketo_Integration

# The examples below get the connection (sf.instance_url, sf.access_token) from module_defaults
# with group/sfops.integration.salesforce.
- name: Name the license explicitly, and add a permission set group
  sfops.integration.sf_permset_assignment:
    username: marketo.integration@acme.com.prod
    permission_set_licenses:
      - Salesforce API Integration
    permission_sets:
      - Marketo_Integration
    permission_set_groups:
      - Marketing_Sync
    group_wait_timeout: 300

- name: Exactly these assignments, nothing else (the profile's own set stays)
  sfops.integration.sf_permset_assignment:
    username: netsuite.integration@acme.com.prod
    permission_sets:
      - NetSuite_Integration
    exclusive: true

- name: Take a permission set away
  sfops.integration.sf_permset_assignment:
    username: marketo.integration@acme.com.prod
    permission_sets:
      - Marketo_Legacy_Access
    state: absent

- name: Plan only (check mode) and show what would change
  sfops.integration.sf_permset_assignment:
    username: marketo.integration@acme.com.prod
    permission_sets: [Marketo_Integration]
    exclusive: true
  check_mode: true
  register: plan

- name: Show the plan
  ansible.builtin.debug:
    msg: "would add {{ plan.added }}, would remove {{ plan.removed }}"
"""

RETURN = r"""
user:
  description: The user whose assignments were managed.
  returned: success
  type: dict
  contains:
    id:
      description: User id.
      type: str
      sample: 005Hz00000AbCdEIAV
    username:
      description: Username.
      type: str
      sample: marketo.integration@acme.com.prod
assignments:
  description:
    - The user's assignments after the run (in check mode, what they would be), by API name.
    - The profile-owned permission set is not listed.
  returned: success
  type: dict
  contains:
    permission_sets:
      description: Permission set API names.
      type: list
      elements: str
      sample: [Marketo_Integration]
    permission_set_groups:
      description: Permission set group API names.
      type: list
      elements: str
      sample: []
    permission_set_licenses:
      description: Permission set license API names (DeveloperName).
      type: list
      elements: str
      sample: [SalesforceAPIIntegrationPsl]
added:
  description: What was (or in check mode would be) assigned, in the shape of RV(assignments).
  returned: success
  type: dict
  sample: {"permission_sets": ["Marketo_Integration"], "permission_set_groups": [],
           "permission_set_licenses": ["SalesforceAPIIntegrationPsl"]}
removed:
  description: What was (or in check mode would be) removed, in the shape of RV(assignments).
  returned: success
  type: dict
  sample: {"permission_sets": ["Old_Access"], "permission_set_groups": [], "permission_set_licenses": []}
waited_for_groups:
  description: The groups the module waited for, with the seconds each took to become V(Updated).
  returned: success
  type: dict
  sample: {"Marketing_Sync": 4.2}
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 4
"""

import time

from ansible_collections.sfops.integration.plugins.module_utils import assignments
from ansible_collections.sfops.integration.plugins.module_utils.change import membership_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import ApiError, InputError, SalesforceError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql

USER_SELECT = (
    "SELECT Id, Username, Name, Profile.UserLicenseId, Profile.UserLicense.Name, "
    "(SELECT Id, PermissionSetId, PermissionSet.Name, PermissionSet.IsOwnedByProfile, PermissionSet.LicenseId, "
    "PermissionSetGroupId, PermissionSetGroup.DeveloperName FROM PermissionSetAssignments), "
    "(SELECT Id, PermissionSetLicenseId, PermissionSetLicense.DeveloperName FROM PermissionSetLicenseAssignments) "
    "FROM User")
SET_SELECT = (
    "SELECT Id, Name, NamespacePrefix, LicenseId, IsOwnedByProfile, PermissionSetGroupId, %s, "
    "(SELECT SobjectType, %s FROM ObjectPerms) FROM PermissionSet" % (
        ", ".join("Permissions" + name for name in assignments.PSL_ONLY_PERMISSIONS),
        ", ".join(assignments.OBJECT_ACCESS_FLAGS)))
QUERIES = dict(
    user=USER_SELECT + " WHERE Username = {username}",
    sets=SET_SELECT + " WHERE Name IN {sets}",
    groups="SELECT Id, DeveloperName, Status, (SELECT PermissionSetId FROM PermissionSetGroupComponents) "
           "FROM PermissionSetGroup WHERE DeveloperName IN {groups}",
    members=SET_SELECT + " WHERE Id IN (SELECT PermissionSetId FROM PermissionSetGroupComponent "
                         "WHERE PermissionSetGroup.DeveloperName IN {groups})",
    psls="SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses FROM PermissionSetLicense",
)
# Only read when something is wrong, to name the closest names and the licenses involved.
DETAIL_QUERIES = dict(
    permission_sets="SELECT Name FROM PermissionSet WHERE IsOwnedByProfile = false AND PermissionSetGroupId = null",
    permission_set_groups="SELECT DeveloperName FROM PermissionSetGroup",
    licenses="SELECT Id, Name FROM UserLicense WHERE Id IN {ids}",
)
GROUP_STATUS_QUERY = "SELECT Id, Status FROM PermissionSetGroup WHERE Id IN {ids}"
LICENSE_HINT = (" List the permission set license it needs in permission_set_licenses, or set auto_licenses: true"
                " so the module assigns it first.")


class AssignmentError(SalesforceError):
    """A write Salesforce refused, in words about the user."""


# ---- read --------------------------------------------------------------------------------------------


def read(client, params):
    """The user and the named sets, groups (with their members) and all PSLs: one composite request."""
    names = dict(username=params["username"], sets=params["permission_sets"], groups=params["permission_set_groups"])
    asked = dict(user=True, psls=True, sets=bool(names["sets"]), groups=bool(names["groups"]),
                 members=bool(names["groups"]))  # SOQL has no empty IN ()
    refs = [ref for ref in QUERIES if asked[ref]]
    responses = client.read([client.composite_query(ref, soql(QUERIES[ref], **names)) for ref in refs])
    rows = dict((ref, []) for ref in QUERIES)
    for ref in refs:
        rows[ref] = client.more_records(client.composite_body(responses, ref, action="query", resource=ref))
    catalogue = assignments.Catalogue(rows["sets"], rows["groups"], rows["members"], rows["psls"])
    return (rows["user"][0] if rows["user"] else None), catalogue


def read_details(client, plan):
    """Candidate names for unknown ones and names of the licenses in problems (one composite)."""
    refs = [kind for kind in ("permission_sets", "permission_set_groups") if plan.unknown[kind]]
    license_ids = sorted(set(p["license_id"] for p in plan.problems if p["kind"] == "license"))
    if license_ids:
        refs.append("licenses")
    if not refs:
        return {}, {}
    responses = client.read([client.composite_query(ref, soql(DETAIL_QUERIES[ref], ids=license_ids))
                             for ref in refs])
    rows = dict((ref, client.more_records(client.composite_body(responses, ref, action="query", resource=ref)))
                for ref in refs)
    candidates = dict(permission_sets=[r["Name"] for r in rows.get("permission_sets", [])],
                      permission_set_groups=[r["DeveloperName"] for r in rows.get("permission_set_groups", [])])
    license_names = dict((r["Id"], r["Name"]) for r in rows.get("licenses", []))
    return candidates, license_names


# ---- check ----------------------------------------------------------------------------------------------


def option_problems(params):
    """Every problem with the options that can be found without the org (a list of messages)."""
    problems = []
    if not (params["username"] or "").strip():
        problems.append("username must not be empty: it names the user whose assignments are managed")
    if params["state"] == "present":
        # An empty name matches nothing; with state=absent it only gets the warning of an unknown name.
        problems += ["%s: an empty name at position %d" % (kind, index + 1)
                     for kind in assignments.KINDS for index, name in enumerate(params[kind] or [])
                     if not (name or "").strip()]
    if params["group_wait_timeout"] < 0:
        problems.append("group_wait_timeout must be 0 or more seconds; got %d" % params["group_wait_timeout"])
    return problems


def fail_on_problems(module, plan, user, catalogue):
    """One message listing every problem found before writing; nothing has been written.

    With state=absent a name the org does not have is only a warning: there is nothing to remove.
    """
    if not (plan.problems or any(plan.unknown.values())):
        return
    candidates, license_names = read_details(module.client, plan)
    candidates["permission_set_licenses"] = catalogue.psl_names()
    unknown = assignments.unknown_messages(plan.unknown, candidates)
    messages = [assignments.problem_message(p, user, license_names) for p in plan.problems]
    if module.params["state"] == "absent":
        for message in unknown:
            module.warn("Nothing to remove for user '%s': %s." % (user["username"], message))
    else:
        messages = unknown + messages
    if messages:
        raise InputError("Nothing was changed for user '%s': %s." % (user["username"], "; ".join(messages)))


def wait_for_groups(client, groups, timeout, sleep=time.sleep, clock=time.monotonic):
    """Poll the groups until every Status is Updated; {DeveloperName: seconds waited}."""
    pending = dict((g["id"], g) for g in groups)
    started = clock()
    waited = {}
    interval = 1.0
    while True:
        for group_id in [i for i, g in pending.items() if g["status"] == assignments.GROUP_READY]:
            waited[pending.pop(group_id)["name"]] = round(clock() - started, 1)
        broken = sorted(g["name"] for g in pending.values() if g["status"] == assignments.GROUP_BROKEN)
        if broken:
            raise AssignmentError("Permission set group(s) %s have Status Failed: Salesforce could not recalculate "
                                  "them. Fix the group in Setup; nothing was changed." % ", ".join(broken))
        if not pending:
            return waited
        remaining = timeout - (clock() - started)
        if remaining <= 0:
            raise AssignmentError("Timed out after %d s (group_wait_timeout) waiting for permission set group(s) %s "
                                  "to reach Status Updated; nothing was changed." % (timeout, ", ".join(
                                      "%s (%s)" % (g["name"], g["status"]) for g in pending.values())))
        sleep(min(interval, remaining))
        interval = min(interval * 1.5, 10.0)
        for row in client.query(soql(GROUP_STATUS_QUERY, ids=sorted(pending))):
            pending[row["Id"]]["status"] = row.get("Status")


# ---- write ------------------------------------------------------------------------------------------------


def psl_record(user, psl):
    return dict(attributes=dict(type="PermissionSetLicenseAssign"), AssigneeId=user["id"],
                PermissionSetLicenseId=psl["id"])


def assignment_record(user, item, field):
    return {"attributes": dict(type="PermissionSetAssignment"), "AssigneeId": user["id"], field: item["id"]}


def find_existing(client, user):
    """The re-read after a dropped connection or a duplicate answer (client.create_records): for each
    record, the id of the user's assignment of its set, group or license when it exists now, else None."""
    def find(records):
        row = client.query_one(soql(USER_SELECT + " WHERE Id = {}", user["id"]))
        current = assignments.current_assignments(row or {})
        held = dict((i["id"], i["assignment_id"]) for kind in assignments.KINDS for i in current[kind].values())
        return [held.get(r.get("PermissionSetLicenseId") or r.get("PermissionSetId") or r.get("PermissionSetGroupId"))
                for r in records]
    return find


def failed(error, done, hint=""):
    """Salesforce's refusal in words about the user: with the hint that fits it and what was done before it."""
    message = error.message
    # FIELD_INTEGRITY_EXCEPTION covers many refusals; only the text says the user's license is the
    # reason ("The user license doesn't allow the permission: ...", reference 3.8).
    if hint and "user license" in message.lower():
        message += "." + hint
    message += " Done before this failure: %s." % ("; ".join(done) if done else "nothing")
    return AssignmentError(message, error_code=error.error_code)


def create(client, user, additions, done, hint=""):
    """One all-or-none create of (record, label) pairs; notes what was done for later failures.

    Returns, per pair, whether the assignment was found already made (by another run, between our
    read and our write) instead of created: only the others are this run's change.
    """
    records = [record for record, _label in additions]
    labels = [label for _record, label in additions]
    try:
        results = client.create_records(records, labels=["assign %s to user '%s'" % (label, user["username"])
                                                         for label in labels],
                                        action="assign", find_existing=find_existing(client, user))
    except ApiError as error:
        raise failed(error, done, hint)
    found = [bool(result.get("found")) for result in results]
    assigned = not_found(labels, found)
    if assigned:
        done.append("assigned " + ", ".join(assigned))
    return found


def not_found(items, found, plan=None, kind=None):
    """The items not found already there; those found are noted on the plan (by kind)."""
    if plan is not None:
        plan.found[kind] += [item["name"] for item, there in zip(items, found) if there]
    return [item for item, there in zip(items, found) if not there]


def apply(module, user, plan):
    """PSLs, then sets and groups, then removals: each one all-or-none sObject Collections request.

    What another writer assigned meanwhile is left out of the plan, so that the result says what this run did.
    """
    client, done = module.client, []
    if plan.add_psls:
        found = create(client, user, [(psl_record(user, p), "permission set license '%s'" % p["name"])
                                      for p in plan.add_psls], done)
        plan.add_psls = not_found(plan.add_psls, found, plan, "permission_set_licenses")
    additions = [(assignment_record(user, s, "PermissionSetId"), "permission set '%s'" % s["name"])
                 for s in plan.add_sets]
    additions += [(assignment_record(user, g, "PermissionSetGroupId"), "permission set group '%s'" % g["name"])
                  for g in plan.add_groups]
    if additions:
        found = create(client, user, additions, done, "" if module.params["auto_licenses"] else LICENSE_HINT)
        plan.add_sets, plan.add_groups = (
            not_found(plan.add_sets, found[:len(plan.add_sets)], plan, "permission_sets"),
            not_found(plan.add_groups, found[len(plan.add_sets):], plan, "permission_set_groups"))
        # Salesforce assigns a set's license with the set: only with a set this run assigned.
        plan.auto_psls = [p for p in plan.auto_psls if any(s["license_id"] == p["id"] for s in plan.add_sets)]
    if plan.remove:
        remove(client, user, [(assignment_id, "%s '%s'" % (assignments.KIND_WORDS[kind], name))
                              for kind, name, assignment_id in plan.remove], done)


def remove(client, user, removals, done):
    """One all-or-none delete of (assignment id, label) pairs.

    An assignment that is already gone (removed meanwhile, or a PSL Salesforce took away with its
    group) is what we want: the client deletes the others again without it.
    """
    try:
        client.delete_records([assignment_id for assignment_id, _label in removals],
                              labels=["remove %s from user '%s'" % (label, user["username"]) for _id, label in removals],
                              action="remove", missing_ok=True)
    except ApiError as error:
        raise failed(error, done)


# ---- run ---------------------------------------------------------------------------------------------------


def run(module):
    params = module.params
    module.refuse(option_problems(params))
    record, catalogue = read(module.client, params)
    if record is None:
        raise InputError("No user with the username '%s' in this org; nothing was changed." % params["username"])
    user = assignments.user_summary(record)
    current = assignments.current_assignments(record)
    wanted = dict((kind, params[kind]) for kind in assignments.KINDS)
    if params["state"] == "absent":
        plan = assignments.plan_absent(wanted, user, current, catalogue)
    else:
        plan = assignments.plan_present(wanted, user, current, catalogue, auto_licenses=params["auto_licenses"],
                                        exclusive=params["exclusive"])
    fail_on_problems(module, plan, user, catalogue)

    waited = {}
    if plan.wait_for and module.check_mode:
        module.warn("Permission set group(s) %s are not yet Updated; a real run waits up to %d s for them."
                    % (", ".join(g["name"] for g in plan.wait_for), params["group_wait_timeout"]))
    elif plan.wait_for:
        waited = wait_for_groups(module.client, plan.wait_for, params["group_wait_timeout"])
    if plan.changed and not module.check_mode:
        apply(module, user, plan)

    before = assignments.with_found(assignments.names_of(current), plan)
    after = assignments.with_found(assignments.predicted(current, plan), plan)
    record = membership_record("assignments", user["username"], plan.added(), plan.removed())
    return module.finish(record, before, after,
                         user=dict(id=user["id"], username=user["username"]), assignments=after,
                         added=plan.added(), removed=plan.removed(), waited_for_groups=waited)


ARGUMENT_SPEC = dict(
    username=dict(type="str", required=True),
    permission_sets=dict(type="list", elements="str", default=[]),
    permission_set_groups=dict(type="list", elements="str", default=[]),
    permission_set_licenses=dict(type="list", elements="str", default=[]),
    auto_licenses=dict(type="bool", default=True),
    exclusive=dict(type="bool", default=False),
    group_wait_timeout=dict(type="int", default=120),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
