"""sf_permission_set's pure parts: the access plan and how writes are split into composite requests."""
from __future__ import annotations

from ansible_collections.sfops.integration.plugins.module_utils.permissions import FIELD_ACCESS_LEVELS, OBJECT_ACCESS_ORDER
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
