# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a user's permission set, group and license assignments should become, and in which order.

Pure logic for sf_permset_assignment: records in (as the REST API returns them), a plan out.
Nothing here talks to Salesforce, so the ordering and license rules are unit-tested on their own.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from ansible_collections.sfops.integration.plugins.module_utils.org import (
    INTEGRATION_USER_LICENSE,
    did_you_mean,
    find_license,
    license_names,
    licenses,
    out_of_seats,
    seats,
    seats_text,
)
from ansible_collections.sfops.integration.plugins.module_utils.permissions import OBJECT_ACCESS_FIELDS
from ansible_collections.sfops.integration.plugins.module_utils.state import index_by, subquery_records

API_INTEGRATION_PSL = "SalesforceAPIIntegrationPsl"
API_INTEGRATION_PSL_LABEL = "Salesforce API Integration"

# System permissions the Salesforce Integration user license does not give on its own while the
# Salesforce API Integration PSL does (reference 3.12: View All Data, View Setup, View Roles,
# Author Apex, Modify Metadata; API Only User is refused before the PSL is held).
PSL_ONLY_PERMISSIONS = ("ApiUserOnly", "ViewAllData", "ViewSetup", "ViewRoles", "ViewAllUsers", "AuthorApex",
                        "ModifyMetadata", "RunReports")
OBJECT_ACCESS_FLAGS = tuple(OBJECT_ACCESS_FIELDS.values())

KINDS = ("permission_sets", "permission_set_groups", "permission_set_licenses")
KIND_WORDS = dict(permission_sets="permission set", permission_set_groups="permission set group",
                  permission_set_licenses="permission set license")

# Group Status values [OBJREF PermissionSetGroup]: only Updated may be assigned; Failed never settles.
GROUP_READY = "Updated"
GROUP_BROKEN = "Failed"


def is_standard_object(sobject_type: Optional[str]) -> bool:
    """Custom objects, metadata types and events carry a ``__`` suffix; standard objects do not."""
    return "__" not in (sobject_type or "")


# ---- records -> plain dicts ----------------------------------------------------------------------


def permission_set_info(record: dict) -> dict:
    """A PermissionSet row (with its ObjectPerms subquery) reduced to what the license rules need."""
    objects = sorted(set(
        row.get("SobjectType") for row in subquery_records(record, "ObjectPerms")
        if any(row.get(flag) for flag in OBJECT_ACCESS_FLAGS)))
    return dict(
        id=record["Id"],
        name=record.get("Name"),
        license_id=record.get("LicenseId"),
        profile_owned=bool(record.get("IsOwnedByProfile")),
        group_owned=bool(record.get("PermissionSetGroupId")),
        standard_objects=[o for o in objects if is_standard_object(o)],
        psl_only_permissions=[p for p in PSL_ONLY_PERMISSIONS if record.get("Permissions" + p) is True],
    )


def group_info(record: dict, member_sets_by_id: dict) -> dict:
    members = [member_sets_by_id[row["PermissionSetId"]]
               for row in subquery_records(record, "PermissionSetGroupComponents")
               if row.get("PermissionSetId") in member_sets_by_id]
    return dict(id=record["Id"], name=record.get("DeveloperName"), status=record.get("Status"), members=members)


def psl_info(record: dict) -> dict:
    return dict(id=record["Id"], name=record.get("DeveloperName"), label=record.get("MasterLabel"),
                full=out_of_seats(record), seats=seats_text(record), **seats(record))


def current_assignments(user: dict) -> dict:
    """The user's assignments by kind: {key: {name, assignment_id, ...}}; never the profile's own set."""
    sets, groups, psls = {}, {}, {}
    for row in subquery_records(user, "PermissionSetAssignments"):
        permission_set = row.get("PermissionSet") or {}
        group = row.get("PermissionSetGroup") or {}
        if row.get("PermissionSetGroupId"):
            groups[group.get("DeveloperName", row["PermissionSetGroupId"]).lower()] = dict(
                name=group.get("DeveloperName"), assignment_id=row["Id"], id=row["PermissionSetGroupId"])
        elif not permission_set.get("IsOwnedByProfile"):
            sets[permission_set.get("Name", row["PermissionSetId"]).lower()] = dict(
                name=permission_set.get("Name"), assignment_id=row["Id"], id=row["PermissionSetId"],
                license_id=permission_set.get("LicenseId"))
    for row in subquery_records(user, "PermissionSetLicenseAssignments"):
        psl = row.get("PermissionSetLicense") or {}
        psls[row["PermissionSetLicenseId"]] = dict(name=psl.get("DeveloperName"), assignment_id=row["Id"],
                                                   id=row["PermissionSetLicenseId"])
    return dict(permission_sets=sets, permission_set_groups=groups, permission_set_licenses=psls)


def user_summary(user: dict) -> dict:
    profile = user.get("Profile") or {}
    license = profile.get("UserLicense") or {}
    return dict(id=user["Id"], username=user.get("Username"), name=user.get("Name"),
                license_id=profile.get("UserLicenseId"), license_name=license.get("Name"))


# ---- the catalogue of what the org has ------------------------------------------------------------


class Catalogue:
    """The named permission sets and groups, the group members, and every PSL of the org."""

    def __init__(self, set_records: Iterable[dict] = (), group_records: Iterable[dict] = (),
                 member_records: Iterable[dict] = (), psl_records: Iterable[dict] = ()) -> None:
        self.sets = index_by([permission_set_info(r) for r in _prefer_local(set_records)], "name")
        members = dict((r["Id"], permission_set_info(r)) for r in member_records)
        self.groups = index_by([group_info(r, members) for r in group_records], "name")
        psl_records = list(psl_records)
        self.psls = [psl_info(r) for r in psl_records]
        self.psls_by_id = dict((p["id"], p) for p in self.psls)
        self.psl_licenses = licenses(psl_rows=psl_records)

    def psl(self, name: str) -> Optional[dict]:
        """A PSL by DeveloperName or MasterLabel, case-insensitively."""
        found = find_license(name, self.psl_licenses)
        return self.psls_by_id[found.id] if found else None

    def integration_psl(self) -> Optional[dict]:
        return self.psl(API_INTEGRATION_PSL) or self.psl(API_INTEGRATION_PSL_LABEL)

    def psl_names(self) -> list[str]:
        return license_names(self.psl_licenses)


def _prefer_local(records: Iterable[dict]) -> list[dict]:
    """A managed package may ship a set with the same Name; the org's own (no namespace) comes last,
    so index_by keeps it."""
    return sorted(records, key=lambda r: r.get("NamespacePrefix") is None)


# ---- license rules -----------------------------------------------------------------------------------


def psls_needed_by_set(permission_set: dict, user: dict, catalogue: Catalogue) -> list[str]:
    """PSL ids a permission set needs the user to hold before it is assigned (auto_licenses docs).

    - the set's own license, when its LicenseId is a PSL (Salesforce would auto-assign it);
    - for a user on the Salesforce Integration user license, the Salesforce API Integration PSL
      when a set with no license grants standard-object access or a permission that license lacks
      (reference 3.8, 3.12).
    """
    license_id = permission_set["license_id"]
    if license_id:
        return [license_id] if license_id in catalogue.psls_by_id else []
    if user["license_name"] != INTEGRATION_USER_LICENSE:
        return []
    if not (permission_set["standard_objects"] or permission_set["psl_only_permissions"]):
        return []
    integration_psl = catalogue.integration_psl()
    return [integration_psl["id"]] if integration_psl else []


def license_mismatch(permission_set: dict, user: dict, catalogue: Catalogue) -> Optional[str]:
    """The set's user license id when it is not the user's (a PSL or no license always matches)."""
    license_id = permission_set["license_id"]
    if not license_id or license_id in catalogue.psls_by_id or license_id == user["license_id"]:
        return None
    return license_id


def sets_of(plan_sets: list[dict], plan_groups: list[dict]) -> list[tuple[dict, str]]:
    """(permission set, what to call it in a message) for the sets and the sets inside the groups."""
    pairs = [(s, "permission set '%s'" % s["name"]) for s in plan_sets]
    for group in plan_groups:
        pairs += [(m, "permission set '%s' (in group '%s')" % (m["name"], group["name"])) for m in group["members"]]
    return pairs


# ---- the plan ------------------------------------------------------------------------------------------


class Plan:
    """What to write, in the order Salesforce needs: PSLs, then sets and groups, then removals."""

    def __init__(self) -> None:
        self.unknown: dict = dict((kind, []) for kind in KINDS)
        self.problems: list[dict] = []
        self.add_psls = []  # PSL dicts, assigned explicitly first, each with "reason"
        self.auto_psls = []  # PSLs Salesforce assigns itself with a PSL-licensed set
        self.add_sets = []
        self.add_groups = []
        self.remove = []  # (kind, name, assignment id): sets and groups before PSLs
        self.wait_for = []  # groups to be assigned whose Status is not Updated
        self.found: dict = dict((kind, []) for kind in KINDS)  # names found assigned by another writer meanwhile

    @property
    def changed(self) -> bool:
        return bool(self.add_psls or self.add_sets or self.add_groups or self.remove)

    def added(self) -> dict:
        return dict(permission_sets=sorted(s["name"] for s in self.add_sets),
                    permission_set_groups=sorted(g["name"] for g in self.add_groups),
                    permission_set_licenses=sorted(p["name"] for p in self.add_psls + self.auto_psls))

    def removed(self) -> dict:
        out = dict((kind, []) for kind in KINDS)
        for kind, name, _assignment_id in self.remove:
            out[kind].append(name)
        return dict((kind, sorted(names)) for kind, names in out.items())


def names_of(current: dict) -> dict:
    """Readable state: sorted names per kind."""
    return dict((kind, sorted(item["name"] for item in current[kind].values())) for kind in KINDS)


def predicted(current: dict, plan: Plan) -> dict:
    """The assignments after the plan is carried out."""
    before = names_of(current)
    added, removed = plan.added(), plan.removed()
    return dict((kind, sorted((set(before[kind]) - set(removed[kind])) | set(added[kind]))) for kind in KINDS)


def with_found(state: dict, plan: Plan) -> dict:
    """Readable state with what the plan found assigned by another writer while it wrote (there before and after)."""
    return dict((kind, sorted(set(state[kind]) | set(plan.found[kind]))) for kind in KINDS)


def resolve(wanted: dict, catalogue: Catalogue, plan: Plan) -> dict:
    """The catalogue entries for the wanted names; unknown names are noted on the plan."""
    found = dict((kind, []) for kind in KINDS)
    lookups = dict(permission_sets=lambda n: catalogue.sets.get(n.lower()),
                   permission_set_groups=lambda n: catalogue.groups.get(n.lower()),
                   permission_set_licenses=catalogue.psl)
    for kind in KINDS:
        for name in _unique(wanted.get(kind)):
            item = lookups[kind](name)
            if item is None:
                plan.unknown[kind].append(name)
            elif item["id"] not in [i["id"] for i in found[kind]]:
                found[kind].append(item)
    return found


def _unique(names: Optional[Iterable[str]]) -> list[str]:
    seen, out = set(), []
    for name in names or []:
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def plan_present(wanted: dict, user: dict, current: dict, catalogue: Catalogue, auto_licenses: bool = True,
                 exclusive: bool = False) -> Plan:
    """Plan for state=present: add what is missing; with ``exclusive`` remove what is not wanted."""
    plan = Plan()
    found = resolve(wanted, catalogue, plan)
    _plan_additions(plan, found, user, current, catalogue)
    needs = psls_needed(found, user, catalogue)
    _plan_licenses(plan, found, needs, current, catalogue, auto_licenses)
    if exclusive:
        wanted_ids = dict((kind, set(i["id"] for i in found[kind])) for kind in KINDS)
        wanted_ids["permission_set_licenses"] = set(needs)
        plan.remove = _removals(current, lambda kind, item: item["id"] not in wanted_ids[kind])
    return plan


def _plan_additions(plan: Plan, found: dict, user: dict, current: dict, catalogue: Catalogue) -> None:
    """The sets and groups the user lacks, what is wrong with them, and the groups to wait for."""
    plan.add_sets = [s for s in found["permission_sets"] if s["name"].lower() not in current["permission_sets"]]
    plan.add_groups = [g for g in found["permission_set_groups"]
                       if g["name"].lower() not in current["permission_set_groups"]]
    plan.problems += [dict(kind="not_assignable", label="permission set '%s'" % s["name"])
                      for s in found["permission_sets"] if s["profile_owned"] or s["group_owned"]]
    mismatches = [(license_mismatch(s, user, catalogue), label) for s, label in sets_of(plan.add_sets, plan.add_groups)]
    plan.problems += [dict(kind="license", license_id=license, label=label) for license, label in mismatches if license]
    plan.problems += [dict(kind="group_failed", label="permission set group '%s'" % g["name"])
                      for g in plan.add_groups if g["status"] == GROUP_BROKEN]
    plan.wait_for = [g for g in plan.add_groups if g["status"] not in (GROUP_READY, GROUP_BROKEN)]


def psls_needed(found: dict, user: dict, catalogue: Catalogue) -> dict:
    """{PSL id: why} for every PSL the wanted sets and groups need, listed ones included."""
    needs = dict((p["id"], "it is listed in permission_set_licenses") for p in found["permission_set_licenses"])
    for permission_set, label in sets_of(found["permission_sets"], found["permission_set_groups"]):
        for psl_id in psls_needed_by_set(permission_set, user, catalogue):
            needs.setdefault(psl_id, "%s needs it" % label)
    return needs


def _plan_licenses(plan: Plan, found: dict, needs: dict, current: dict, catalogue: Catalogue,
                   auto_licenses: bool) -> None:
    """The PSLs to assign before the sets, those Salesforce adds itself, and whether they have seats."""
    held = set(current["permission_set_licenses"])
    explicit = set(needs) if auto_licenses else set(p["id"] for p in found["permission_set_licenses"])
    plan.add_psls = [dict(catalogue.psls_by_id[i], reason=needs[i]) for i in sorted(explicit - held)]
    # Without auto_licenses Salesforce still assigns the license of a PSL-licensed set itself (reference 3.4),
    # but not those a group's sets need: the user must hold them first (Help: perm_set_groups_assign).
    auto = set(s["license_id"] for s in plan.add_sets if s["license_id"] in catalogue.psls_by_id)
    plan.auto_psls = [dict(catalogue.psls_by_id[i], reason=needs.get(i)) for i in sorted(auto - held - explicit)]
    plan.problems += [dict(kind="seats", psl=psl) for psl in plan.add_psls + plan.auto_psls if psl["full"]]


def plan_absent(wanted: dict, user: dict, current: dict, catalogue: Catalogue) -> Plan:
    """Plan for state=absent: remove the listed assignments the user has."""
    plan = Plan()
    found = resolve(wanted, catalogue, plan)
    listed = dict((kind, set(i["id"] for i in found[kind])) for kind in KINDS)
    plan.remove = _removals(current, lambda kind, item: item["id"] in listed[kind])
    # A PSL cannot go while a set that stays is licensed by it (Salesforce refuses, reference 3.4).
    staying = [s for s in current["permission_sets"].values() if s["id"] not in listed["permission_sets"]]
    for psl_id in sorted(listed["permission_set_licenses"] & set(current["permission_set_licenses"])):
        plan.problems += [dict(kind="psl_in_use", psl=catalogue.psls_by_id[psl_id],
                               label="permission set '%s'" % permission_set["name"])
                          for permission_set in staying if permission_set["license_id"] == psl_id]
    return plan


def _removals(current: dict, selected: Callable[[str, dict], bool]) -> list[tuple[str, Any, str]]:
    """(kind, name, assignment id) of the selected assignments, sets and groups before PSLs."""
    out = []
    for kind in KINDS:
        items = sorted(current[kind].values(), key=lambda i: (i["name"] or "").lower())
        out += [(kind, item["name"], item["assignment_id"]) for item in items if selected(kind, item)]
    return out


# ---- messages -----------------------------------------------------------------------------------------


def unknown_messages(unknown: dict, candidates: dict) -> list[str]:
    """``no permission set named 'Marketo' (did you mean Marketo_Integration?)`` for every unknown name."""
    return ["no %s named '%s'%s" % (KIND_WORDS[kind], name, did_you_mean(name, candidates.get(kind) or []))
            for kind in KINDS for name in unknown[kind]]


def problem_message(problem: dict, user: dict, license_names: dict) -> str:
    """One sentence per problem found before writing, naming the set (the caller names the user)."""
    kind = problem["kind"]
    if kind == "license":
        license = license_names.get(problem["license_id"], problem["license_id"])
        return ("%s is licensed for the user license '%s', but the user has '%s'"
                % (problem["label"], license, user["license_name"]))
    if kind == "seats":
        psl = problem["psl"]
        return ("permission set license '%s' (%s) has no free seat (%s), and the user needs it: %s"
                % (psl["label"], psl["name"], psl["seats"], psl["reason"] or "it is listed"))
    if kind == "psl_in_use":
        psl = problem["psl"]
        return ("permission set license '%s' can't be removed: %s stays assigned and is licensed by it"
                % (psl["name"], problem["label"]))
    if kind == "group_failed":
        return "%s has Status Failed (Salesforce could not recalculate it; fix it in Setup)" % problem["label"]
    return "%s is owned by a profile or a permission set group and can't be assigned directly" % problem["label"]
