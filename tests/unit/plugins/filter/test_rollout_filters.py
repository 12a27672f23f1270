"""The role's filters: argument_errors, rollout_org_record, rollout_report."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.filter.argument_errors import argument_errors
from ansible_collections.sfops.integration.plugins.filter.rollout_org_record import rollout_org_record
from ansible_collections.sfops.integration.plugins.module_utils.change import change_record, compare, describe, membership_record
from ansible_collections.sfops.integration.plugins.filter.rollout_report import rollout_report

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


@pytest.fixture(scope="module")
def spec():
    with open(os.path.join(REPO, "roles", "integration_users", "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def integration(**changes):
    value = dict(name="accounting", user=dict(username="acct@acme.example", email="ops@acme.example", last_name="Acct"),
                 permission_sets=[dict(name="Accounting_Integration",
                                       object_permissions=[dict(object="Invoice__c", access=["read", "edit"])],
                                       field_permissions=[dict(field="Invoice__c.Paid__c", access="edit")])])
    value.update(changes)
    return value


class TestArgumentErrors:

    def test_valid_input_has_no_errors(self, spec):
        values = dict(sf_integrations=[integration()], sf_integration_mfa_waiver="auto", sf_integration_exclusive=True,
                      sf_integration_password_policy=dict(password_expiration="never"), sf_rollout_serial=2)
        assert argument_errors(values, spec) == []

    def test_paths_name_each_bad_value_with_indexes(self, spec):
        bad = integration()
        bad["permission_sets"][0]["object_permissions"] += [
            dict(object="Lead", access=["read"]), dict(object="Lead", access=["reed", "edit"])]
        errors = argument_errors(dict(sf_integrations=[integration(), bad]), spec)
        assert errors == ["sf_integrations[1].permission_sets[0].object_permissions[2].access: 'reed' is not one of: "
                          "read, create, edit, delete, view_all_records, modify_all_records"]

    def test_required_unknown_and_type_errors(self, spec):
        bad = integration(state="gone", extra_permission_sets="Not_A_List")
        bad["user"] = dict(usernme="x@acme.example")
        errors = argument_errors(dict(sf_integrations=[bad], sf_integration_exclusive="maybe"), spec)
        assert "sf_integrations[0].state: 'gone' is not one of: present, absent" in errors
        assert "sf_integrations[0].extra_permission_sets: expected a list, got 'Not_A_List'" in errors
        assert "sf_integrations[0].user.username: required" in errors
        assert any(e.startswith("sf_integrations[0].user.usernme: unknown option (did you mean username?)") for e in errors)
        assert "sf_integration_exclusive: expected a boolean, got 'maybe'" in errors

    def test_secrets_are_not_echoed(self):
        with open(os.path.join(REPO, "roles", "org_login", "meta", "argument_specs.yml")) as handle:
            login_spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        errors = argument_errors(dict(sf_password=["s3cr3t"]), login_spec)
        assert errors == ["sf_password: expected a string, got a hidden value"]

    def test_numbers_are_accepted_where_ansible_converts_them(self, spec):
        values = dict(sf_integration_password_policy=dict(password_expiration=90, lockout_interval="30"))
        assert argument_errors(values, spec) == []
        values = dict(sf_integration_password_policy=dict(lockout_interval=45))
        assert argument_errors(values, spec) == ["sf_integration_password_policy.lockout_interval: 45 is not one of: 0, 15, 30, 60"]

    def test_refuses_what_is_not_a_dictionary(self, spec):
        with pytest.raises(AnsibleFilterError):
            argument_errors(["sf_integrations"], spec)


class TestCompare:

    def test_lists_and_nested_dictionaries(self):
        before = dict(system_permissions=["ApiEnabled"], object_permissions={"Lead": ["read"], "Contact": ["read"]},
                      label="Old")
        after = dict(system_permissions=["ApiEnabled", "ConvertLeads"], object_permissions={"Lead": ["read", "edit"]},
                     label="New")
        assert describe(compare(before, after)) == [
            "system_permissions: + ConvertLeads",
            "object_permissions.Lead: + edit",
            "object_permissions.Contact: - read",
            "label: Old -> New",
        ]

    def test_lists_of_dictionaries_are_matched_by_key(self):
        before = [dict(object="Lead", access=["read"]), dict(object="Case", access=["read"])]
        after = [dict(object="Lead", access=["read", "edit"]), dict(object="Account", access=["read"])]
        assert describe(compare(before, after)) == [
            ": + Account: read; - Case: read",
            "[Lead]: Lead: read -> Lead: read, edit",
        ]

    def test_equal_values_make_no_change(self):
        assert compare(dict(a=[1, 2]), dict(a=[1, 2])) == []


def user_result(action, before, after):
    """A registered sf_integration_user result: its change record, as the module builds it."""
    return dict(changed=True, api_requests=2, user=dict(username="acct@acme.example"), diff=dict(before=before, after=after),
                change=change_record("user", "acct@acme.example", action, before, after))


class TestOrgRecord:

    def test_changes_counts_and_requests(self):
        record = rollout_org_record(dict(
            org="acme_uat", check_mode=True, org_info=dict(org=dict(name="Acme UAT", id="00D1", is_sandbox=True)),
            steps=dict(
                session=dict(api_requests=1, access_token="never-kept"),
                users=[dict(results=[user_result("create", {}, dict(username="acct@acme.example",
                                                                    email="a@acme.example", active=True)),
                                     user_result("deactivate", dict(active=True), dict(active=False)),
                                     dict(skipped=True)])],
                permission_sets=dict(results=[dict(changed=False, api_requests=1, permission_set=dict(name="Same"),
                                                   change=change_record("permission_set", "Same", "none"))]),
                assignments=[dict(changed=True, api_requests=3, user=dict(username="acct@acme.example"),
                                  change=membership_record(
                                      "assignments", "acct@acme.example",
                                      dict(permission_sets=["Accounting_Integration"],
                                           permission_set_licenses=["SalesforceAPIIntegrationPsl"]),
                                      dict(permission_sets=["Old"], permission_set_groups=[])))],
                password_policy=dict(changed=True, api_requests=2, policy=dict(profile="Integration Only"),
                                     change=change_record("password_policy", "Integration Only", "update",
                                                          dict(password_expiration=90), dict(password_expiration="never"))),
            )))
        assert record["status"] == "changed" and record["org_name"] == "Acme UAT" and record["is_sandbox"] is True
        assert record["api_requests"] == 1 + 2 + 2 + 1 + 3 + 2
        assert [(c["kind"], c["action"]) for c in record["changes"]] == [
            ("user", "create"), ("user", "deactivate"), ("assignments", "update"), ("password_policy", "update")]
        added_only = membership_record("assignments", "u", dict(permission_sets=["A"]), {})
        assert rollout_org_record(dict(org="o", steps=dict(assignments=dict(changed=True, change=added_only))))[
            "changes"][0]["action"] == "add"
        assert record["changes"][0]["details"] == ["email: a@acme.example", "active: true"]
        assert record["changes"][2]["details"] == ["permission_set_licenses: + SalesforceAPIIntegrationPsl",
                                                   "permission_sets: + Accounting_Integration; - Old"]
        assert record["changes"][3] == dict(kind="password_policy", name="Integration Only", action="update",
                                            details=["password_expiration: 90 -> never"], added=0, removed=0)
        counts = record["counts"]
        assert (counts["users_created"], counts["users_deactivated"], counts["assignments_added"],
                counts["assignments_removed"], counts["password_policies_changed"]) == (1, 1, 2, 1, 1)
        assert "never-kept" not in repr(record)

    def test_a_result_without_a_change_record_only_counts_requests(self):
        record = rollout_org_record(dict(org="o", steps=dict(users=dict(changed=True, api_requests=4,
                                                                        diff=dict(before={}, after=dict(a=1))))))
        assert record["changes"] == [] and record["api_requests"] == 4

    def test_failure_and_reactivation(self):
        record = rollout_org_record(dict(org="acme_prod", failure=dict(task="Find the users", message="no seat"),
                                         steps=dict(users=user_result("reactivate", dict(active=False), dict(active=True)))))
        assert record["status"] == "failed" and record["failure"] == dict(task="Find the users", message="no seat")
        assert record["changes"][0]["action"] == "reactivate" and record["counts"]["users_reactivated"] == 1

    def test_unchanged(self):
        record = rollout_org_record(dict(org="acme_dev", steps=dict(users=dict(changed=False, api_requests=2))))
        assert record["status"] == "unchanged" and record["changes"] == [] and record["api_requests"] == 2

    def test_needs_an_org(self):
        with pytest.raises(AnsibleFilterError):
            rollout_org_record(dict(steps={}))

    def test_what_another_run_made_is_named_and_nothing_else_changes(self):
        found = dict(changed=False, change=dict(change_record("user", "acct@acme.example", "none"), concurrent=True))
        added = membership_record("assignments", "acct@acme.example", dict(permission_sets=["B"]), {})
        record = rollout_org_record(dict(org="o", steps=dict(users=found, assignments=dict(
            changed=True, change=dict(added, concurrent=True)))))
        assert record["concurrent"] == [dict(kind="user", name="acct@acme.example"),
                                        dict(kind="assignments", name="acct@acme.example")]
        assert record["changes"][0]["concurrent"] is True and record["counts"]["assignments_added"] == 1
        plain = rollout_org_record(dict(org="o", steps=dict(assignments=dict(changed=True, change=added))))
        assert "concurrent" not in plain and "concurrent" not in plain["changes"][0]


def record(org, status="unchanged", check_mode=False, **counts):
    base = rollout_org_record(dict(org=org, check_mode=check_mode, steps={}))
    base.update(status=status, api_requests=5)
    base["counts"].update(counts)
    if status == "failed":
        base["failure"] = dict(task="Log in once", message="INVALID_LOGIN | bad")
    if status == "changed":
        base["changes"] = [dict(kind="user", name="acct@acme.example", action="create", details=["email: a@b"],
                                added=0, removed=0)]
    return base


class TestReport:

    def test_data_totals_and_order(self):
        report = rollout_report([record("b", "changed", users_created=2), record("a"), record("c", "failed")],
                                "data", "2026-01-01 00:00:00 UTC")
        assert [r["org"] for r in report["orgs"]] == ["a", "b", "c"]
        assert report["mode"] == "apply" and report["generated"] == "2026-01-01 00:00:00 UTC"
        totals = report["totals"]
        assert (totals["orgs"], totals["changed"], totals["unchanged"], totals["failed"], totals["api_requests"],
                totals["users_created"]) == (3, 1, 1, 1, 15, 2)

    def test_markdown_plan(self):
        text = rollout_report([record("acme_uat", "changed", check_mode=True, users_created=1),
                               record("acme_prod", "failed", check_mode=True)], "markdown")
        assert text.startswith("# Salesforce integration users: Rollout plan (check mode: nothing was changed)")
        assert "| acme_uat | would change | 1 created | - | - | - | 5 |" in text
        assert "- User `acct@acme.example`: would create\n  - email: a@b" in text
        assert "**FAILED** at task `Log in once`:" in text and "INVALID_LOGIN \\| bad" not in text

    def test_markdown_notes_what_another_run_made(self):
        raced = record("acme_uat", "changed", users_created=1)
        raced["changes"][0]["concurrent"] = True
        raced["concurrent"] = [dict(kind="user", name="acct@acme.example"), dict(kind="assignments", name="acct@acme.example")]
        text = rollout_report([raced], "markdown")
        assert ("**Note:** found already made by another run at the same time (this run only checked it and wrote what "
                "was still missing): User `acct@acme.example`, Assignments of `acct@acme.example`.") in text
        assert "- User `acct@acme.example`: create (part of it was already made by another run at the same time)" in text
        assert rollout_report([raced], "data")["orgs"][0]["concurrent"] == raced["concurrent"]
        assert "another run" not in rollout_report([record("acme_uat", "changed", users_created=1)], "markdown")

    def test_table(self):
        lines = rollout_report([record("acme_uat", "changed", assignments_added=3, assignments_removed=1)], "table")
        assert lines[0].split() == ["Org", "Status", "Users", "Permission", "sets", "Assignments", "Password", "policy",
                                    "API", "requests"]
        assert lines[2].split() == ["acme_uat", "changed", "-", "-", "+3,", "-1", "-", "5"]
        assert lines[-1].startswith("total (1 orgs)")

    def test_bad_input(self):
        with pytest.raises(AnsibleFilterError):
            rollout_report("nope")
        with pytest.raises(AnsibleFilterError):
            rollout_report([], "html")


def test_an_unknown_report_format_names_the_formats_there_are():
    with pytest.raises(AnsibleFilterError) as error:
        rollout_report([], format="html")
    assert "rollout_report: format must be data, markdown or table, not 'html'" in str(error.value)
