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


def sub(ref, heavy):
    return dict(referenceId=ref, method="POST",
                url="/services/data/v62.0/%s" % ("composite/sobjects" if heavy else "sobjects/PermissionSet/"))


def test_batches_respect_the_composite_limits():
    subs = [sub("set", False)] + [sub("rows%d" % i, True) for i in range(7)]
    groups = module.batches(subs)
    assert [len(g) for g in groups] == [6, 2]
    assert sum(module.is_heavy(s) for s in groups[0]) == 5
    assert [len(g) for g in module.batches([sub("r%d" % i, False) for i in range(30)])] == [25, 5]


class FakeClient:
    def __init__(self):
        self.sent = []

    def composite_atomic(self, group, action):
        self.sent.append(group)
        return {"permissionSet": {"body": {"id": "0PSNEW"}}} if len(self.sent) == 1 else {}


def test_later_requests_get_the_new_id_instead_of_the_reference():
    rows = [dict(sub("rows%d" % i, True), body=dict(records=[dict(ParentId="@{permissionSet.id}")]))
            for i in range(6)]
    client = FakeClient()
    assert module.run_writes(client, [sub("permissionSet", False)] + rows, "create", new_set_ref="permissionSet") == "0PSNEW"
    assert len(client.sent) == 2
    assert client.sent[1][0]["body"]["records"][0]["ParentId"] == "0PSNEW"
    assert client.sent[0][1]["body"]["records"][0]["ParentId"] == "@{permissionSet.id}"
