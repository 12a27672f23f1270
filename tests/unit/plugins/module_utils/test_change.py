"""The change record every module returns (module_utils/change.py) and how modules choose its action."""
from __future__ import annotations

from ansible_collections.sfops.integration.plugins.module_utils.change import (
    NO_CHANGE,
    change_record,
    membership_record,
)
from ansible_collections.sfops.integration.plugins.modules.sf_integration_user import user_action


class Plan:
    def __init__(self, changed):
        self.changed = changed


def test_create_lists_what_the_new_resource_gets_without_its_name():
    record = change_record("permission_set", "Marketo_Integration", "create", {},
                           dict(name="Marketo_Integration", label="Marketo", system_permissions=["ApiEnabled"],
                                object_permissions={"Lead": ["read", "edit"]}))
    assert record["kind"] == "permission_set" and record["action"] == "create"
    assert record["details"] == ["label: Marketo", "system_permissions: ApiEnabled", "object_permissions.Lead: read, edit"]
    assert (record["added"], record["removed"]) == (0, 0)


def test_update_names_each_attribute_and_counts_list_items():
    before = dict(label="Old", system_permissions=["ApiEnabled", "ViewSetup"], run_as_user=None)
    after = dict(label="New", system_permissions=["ApiEnabled", "ConvertLeads"], run_as_user="int@acme.example")
    record = change_record("external_client_app", "Marketo", "update", before, after)
    assert record["details"] == ["label: Old -> New", "system_permissions: + ConvertLeads; - ViewSetup",
                                 "run_as_user: int@acme.example"]
    assert (record["added"], record["removed"]) == (1, 1)
    assert record["attributes"][0] == dict(path="label", added=[], removed=[], before="Old", after="New")


def test_no_change_has_no_details_even_when_states_are_given():
    record = change_record("profile", "Integration Only", NO_CHANGE, dict(a=1), dict(a=2))
    assert record["action"] == NO_CHANGE and record["details"] == [] and record["attributes"] == []


def test_membership_actions():
    assert membership_record("assignments", "u", dict(permission_sets=["A"]), {})["action"] == "add"
    assert membership_record("assignments", "u", {}, dict(permission_sets=["A"]))["action"] == "remove"
    both = membership_record("assignments", "u", dict(permission_sets=["A"]), dict(permission_set_groups=["G"]))
    assert both["action"] == "update" and both["details"] == ["permission_set_groups: - G", "permission_sets: + A"]
    assert membership_record("assignments", "u", dict(permission_sets=[]), {})["action"] == NO_CHANGE


def test_user_actions_follow_the_plan_and_the_active_flag():
    assert user_action(Plan(False), dict(active=True), dict(active=False)) == NO_CHANGE
    assert user_action(Plan(True), {}, dict(active=True)) == "create"
    assert user_action(Plan(True), dict(active=True), dict(active=False)) == "deactivate"
    assert user_action(Plan(True), dict(active=False), dict(active=True)) == "reactivate"
    assert user_action(Plan(True), dict(active=True, email="a"), dict(active=True, email="b")) == "update"
