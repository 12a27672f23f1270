"""sf_permission_set: the access plan, how writes are split into composite requests, the change record, refusals."""
from __future__ import annotations

import pytest
from module_double import recording_client, salesforce_module, same_record

from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.module_utils.org import licenses
from ansible_collections.sfops.integration.plugins.module_utils.permissions import (
    FIELD_ACCESS_LEVELS,
    OBJECT_ACCESS_ORDER,
    SystemPermissionCatalogue,
)
from ansible_collections.sfops.integration.plugins.modules import sf_permission_set as module

ACTUAL = {"Lead": ("110A", ["read", "create", "edit"]), "Account": ("110B", ["read"])}


def test_access_plan_with_purge_sets_exactly_what_is_listed():
    plan = module.AccessPlan({"Lead": ["read"], "Invoice__c": ["read", "edit"]}, ACTUAL, True, OBJECT_ACCESS_ORDER)
    assert plan.after == {"Lead": ["read"], "Invoice__c": ["read", "edit"]}
    assert plan.creates == [("Invoice__c", ["read", "edit"])]
    assert sorted(plan.updates) == [("110A", "Lead", ["read"]), ("110B", "Account", [])]
    assert plan.added == {"Invoice__c": ["read", "edit"]}
    assert plan.removed == {"Lead": ["create", "edit"], "Account": ["read"]}


def test_access_plan_without_purge_only_adds():
    plan = module.AccessPlan({"lead": ["read", "delete"]}, ACTUAL, False, OBJECT_ACCESS_ORDER)
    assert plan.after == {"Lead": ["read", "create", "edit", "delete"], "Account": ["read"]}
    assert plan.updates == [("110A", "Lead", ["read", "create", "edit", "delete"])]
    assert plan.removed == {} and plan.added == {"Lead": ["delete"]}


def test_access_plan_unchanged():
    plan = module.AccessPlan({"Lead.Email": ["read", "edit"]}, {"Lead.Email": ("01kA", ["read", "edit"])}, True,
                             FIELD_ACCESS_LEVELS)
    assert plan.changed is False and plan.after == {"Lead.Email": ["read", "edit"]}


class FakeClient:
    """Records the writes; builds subrequests as the real client does."""

    def __init__(self):
        self.writes = []

    def sobject_subrequest(self, reference_id, method, sobject, record_id="", body=None):
        return dict(referenceId=reference_id, method=method, sobject=sobject, id=record_id, body=body)

    def collection_subrequests(self, prefix, method, records=None, ids=None):
        items = ids if method == "DELETE" else records
        return [dict(referenceId=prefix + "0", method=method, items=items)] if items else []

    def write(self, subrequests, action, find_existing=None):
        self.writes.append((action, subrequests))
        return dict((sub["referenceId"], {"body": {"id": "0PSNEW"}}) for sub in subrequests)


class Org:
    set = dict(Id="0PSOLD", Name="Old_Set", Label="Old", Description=None)
    assignments = [dict(Id="0PaA", AssigneeId="005A")]

    class catalogue:
        @staticmethod
        def field(name):
            return "Permissions" + name


class Plan:
    """What sf_permission_set.write needs of a plan: a license change recreates the set."""

    fresh = True
    params = dict(name="Old_Set", label=None, description=None)
    org = Org()
    license = type("License", (), dict(id="0PLNEW"))()
    system = type("System", (), dict(after=["ApiEnabled"]))()
    objects = module.AccessPlan({"Lead": ["read"]}, {}, True, OBJECT_ACCESS_ORDER)
    fields = module.AccessPlan({}, {}, True, FIELD_ACCESS_LEVELS)


def test_a_recreated_set_replaces_the_old_one_and_reassigns_in_one_write():
    client = FakeClient()
    assert module.write(client, Plan()) == "0PSNEW"
    [(action, subs)] = client.writes
    assert action == "create permission set Old_Set"
    assert [s["referenceId"] for s in subs] == ["oldAssignments0", "oldSet", "permissionSet", "objectCreates0",
                                                "assignments0"]
    assert subs[2]["body"] == dict(Name="Old_Set", Label="Old", LicenseId="0PLNEW", PermissionsApiEnabled=True)
    assert subs[3]["items"][0]["ParentId"] == subs[4]["items"][0]["PermissionSetId"] == "@{permissionSet.id}"


# ---- the change record, from the module's own plan -------------------------------------------------------

PSL_ID = "0PL000000000001AAA"
DESCRIBE = dict(fields=[dict(name="Permissions" + name, label=label, type="boolean") for name, label in (
    ("ApiEnabled", "API Enabled"), ("ConvertLeads", "Convert Leads"), ("ModifyAllData", "Modify All Data"),
    ("EditHtmlTemplates", "Edit HTML Templates"))])
LEAD = dict(name="Lead", fields=[dict(name="Email", permissionable=True), dict(name="CreatedDate", permissionable=False)])


def org(existing=None, object_rows=(), field_rows=(), assignments=(), **permissions):
    """The org as OrgState reads it: the set ``existing`` (or none), the API Integration PSL, Lead and Account."""
    state = module.OrgState.__new__(module.OrgState)
    state.set = existing
    state.record = dict(("Permissions" + name, on) for name, on in permissions.items())
    state.object_rows, state.field_rows, state.assignments = list(object_rows), list(field_rows), list(assignments)
    state.catalogue = SystemPermissionCatalogue(DESCRIBE)
    state.permissionable_objects = ["Account", "Lead"]
    state.licenses = licenses([], [dict(Id=PSL_ID, DeveloperName="SalesforceAPIIntegrationPsl",
                                        MasterLabel="Salesforce API Integration")])
    state.wanted_license_record = dict(MaximumPermissionsApiEnabled=True, MaximumPermissionsConvertLeads=True,
                                       MaximumPermissionsModifyAllData=True, MaximumPermissionsEditHtmlTemplates=False)
    state.describes = dict(lead=LEAD)
    return state


def existing_set(**fields):
    return dict(dict(Id="0PS000000000001AAA", Name="Marketo_Integration", Label="Marketo", Description=None,
                     LicenseId=PSL_ID), **fields)


LEAD_READ = dict(Id="110A", SobjectType="Lead", PermissionsRead=True, PermissionsCreate=False, PermissionsEdit=False,
                 PermissionsDelete=False, PermissionsViewAllRecords=False, PermissionsModifyAllRecords=False)


def present(check_mode, state, **options):
    client = recording_client(check_mode)
    options.setdefault("name", "Marketo_Integration")
    result = module.ensure_present(salesforce_module(module.ARGUMENT_SPEC, client, check_mode, **options), state)
    assert bool(client.sent) == (result["changed"] and not check_mode), "writes only when changed and not in check mode"
    return result


def test_record_of_a_new_set_lists_what_it_gets():
    result = same_record(present, org())
    assert result["change"]["action"] == "create" and result["change"]["kind"] == "permission_set"
    assert result["change"]["name"] == "Marketo_Integration"
    assert result["change"]["details"] == ["label: Marketo_Integration", "license: Salesforce API Integration",
                                           "system_permissions: ApiEnabled"]
    result = same_record(lambda check, state: present(check, state, system_permissions=["ConvertLeads"],
                                                      object_permissions=[dict(object="lead", access=["edit"])],
                                                      field_permissions=[dict(field="Lead.Email", access="edit")]),
                         org())
    assert result["change"]["details"][-3:] == ["system_permissions: ApiEnabled, ConvertLeads",
                                                "object_permissions.Lead: read, edit", "field_permissions.Lead.Email: edit"]


def test_record_of_an_update_names_what_is_added_removed_and_changed():
    def run(check, state):
        return present(check, state, label="Marketo Sync", system_permissions=["ConvertLeads"],
                       object_permissions=[dict(object="Account", access=["read"])])
    state = org(existing_set(), object_rows=[LEAD_READ], ApiEnabled=True)
    change = same_record(run, state)["change"]
    assert change["action"] == "update"
    assert change["details"] == ["label: Marketo -> Marketo Sync", "system_permissions: + ConvertLeads",
                                 "object_permissions.Lead: - read", "object_permissions.Account: + read"]
    assert change["added"] == 2 and change["removed"] == 1


def test_record_of_an_unchanged_set_says_none():
    state = org(existing_set(), object_rows=[LEAD_READ], ApiEnabled=True)
    result = same_record(lambda check, s: present(check, s, label="Marketo",
                                                  object_permissions=[dict(object="Lead", access=["read"])]), state)
    assert result["change"] == dict(kind="permission_set", name="Marketo_Integration", action="none", details=[],
                                    added=0, removed=0, attributes=[])
    assert result["changed"] is False


def test_record_of_a_delete():
    def absent(check_mode, state):
        client = recording_client(check_mode)
        options = dict(name="Marketo_Integration", state="absent", remove_assignments=True)
        return module.ensure_absent(salesforce_module(module.ARGUMENT_SPEC, client, check_mode, **options), state)
    state = org(existing_set(), assignments=[dict(Id="0PaA", AssigneeId="005A", Assignee=dict(Username="int@acme.com"))])
    change = same_record(absent, state)["change"]
    assert change["action"] == "delete" and change["removed"] == 1
    assert change["details"] == ["name: Marketo_Integration -> none", "label: Marketo -> none", "assignees: - int@acme.com"]
    assert same_record(absent, org())["change"]["action"] == "none"


# ---- one refusal naming every problem ------------------------------------------------------------------------


def refusal(state, **options):
    options.setdefault("name", "Marketo_Integration")
    with pytest.raises(InputError) as error:
        module.validate(salesforce_module(module.ARGUMENT_SPEC, recording_client(), **options), state)
    return error.value.message


def test_option_problems_need_no_org():
    assert module.option_problems(dict(name="Bad Name__", state="present")) == [module.name_error("Bad Name__")]
    assert "name 'Bad Name__' is not a valid API name" in module.name_error("Bad Name__")
    assert module.option_problems(dict(name="Bad Name__", state="absent")) == []
    assert module.option_problems(dict(name="Marketo_Integration", state="present")) == []


def test_every_problem_the_org_shows_comes_in_one_refusal_with_the_privileged_grants():
    message = refusal(org(), system_permissions=["ApiEnable", "ModifyAllData", "EditHtmlTemplates"],
                      object_permissions=[dict(object="Leed", access=["read"]),
                                          dict(object="Lead", access=["modify_all_records"])],
                      field_permissions=[dict(field="LeadEmail", access="read")])
    assert message.startswith("permission set Marketo_Integration: ")
    for words in ("system permission 'ApiEnable' (did you mean ApiEnabled", "object 'Leed' (did you mean Lead",
                  "'LeadEmail' must be written Object.Field",
                  "license 'Salesforce API Integration' does not allow the system permission(s) EditHtmlTemplates",
                  "refusing to grant privileged access in permission set Marketo_Integration: ModifyAllData "
                  "(Modify All Data); Lead: view_all_records, modify_all_records"):
        assert words in message, (words, message)


def test_privileged_grants_alone_are_refused_as_before_and_allowed_with_a_warning():
    message = refusal(org(), license="none", system_permissions=["ModifyAllData"])
    assert message.startswith("refusing to grant privileged access in permission set Marketo_Integration: "
                              "ModifyAllData (Modify All Data)") and "allow_privileged" in message
    allowed = salesforce_module(module.ARGUMENT_SPEC, recording_client(), name="Marketo_Integration", license="none",
                                system_permissions=["ModifyAllData"], allow_privileged=True)
    desired, _wanted, recreate = module.validate(allowed, org())
    assert desired.system == ["ModifyAllData"] and recreate is False


def test_a_license_change_is_refused_with_the_other_problems_or_recreates_the_set():
    state = org(existing_set(LicenseId=None), assignments=[dict(Id="0PaA", AssigneeId="005A")])
    message = refusal(state, system_permissions=["ApiEnable"])
    assert message.startswith("permission set Marketo_Integration: unknown system permission 'ApiEnable'")
    assert "; permission set Marketo_Integration has the license 'none' and Salesforce cannot change the license" in message
    assert "its 1 assignee(s) are assigned again" in message
    recreated = same_record(lambda check, s: present(check, s, recreate_on_license_change=True), state)
    assert recreated["recreated"] is True and recreated["change"]["action"] == "update"
    assert recreated["change"]["details"] == ["license: Salesforce API Integration",
                                              "system_permissions: + ApiEnabled"]
