"""The SOQL engine on its own (no HTTP): one seeded org, the query forms the modules use.

Grammar and semantics from the SOQL and SOSL Reference; result shapes from reference 2.4; error codes
from reference 2.3 (see docs/emulator.md, SOQL section).
"""
from __future__ import annotations

import pytest

from sf_emulator import soql
from sf_emulator.model import SalesforceError
from sf_emulator.schema import build_schema
from sf_emulator.seed import seed_org
from sf_emulator.store import Org


@pytest.fixture(scope="module")
def org():
    org = Org("soql", build_schema())
    seed_org(org, 1)
    return org


def rows(org, text):
    return soql.execute(text, org).records


def names(records, key="Name"):
    return [r[key] for r in records]


def test_parent_paths_and_case_insensitive_names(org):
    records = rows(org, "select id, PROFILE.name, profile.userlicense.NAME from user")
    admin = records[0]
    assert admin["Profile"]["Name"] == "System Administrator"
    assert admin["Profile"]["UserLicense"]["Name"] == "Salesforce"
    assert admin["attributes"]["type"] == "User"
    assert admin["attributes"]["url"].endswith("/sobjects/User/" + admin["Id"])


def test_child_subquery_is_null_when_empty_and_nested_when_not(org):
    records = rows(org, "SELECT Name, (SELECT Id FROM Assignments), (SELECT Id FROM FieldPerms) "
                        "FROM PermissionSet WHERE IsOwnedByProfile = true ORDER BY Name")
    assert all(r["FieldPerms"] is None for r in records)  # no field permissions seeded
    with_users = [r for r in records if r["Assignments"]]
    assert len(with_users) == 1  # only the administrator's profile has a user
    assert with_users[0]["Assignments"]["totalSize"] == 1 and with_users[0]["Assignments"]["done"] is True


def test_where_operators(org):
    profiles = "SELECT Name FROM Profile WHERE "
    assert names(rows(org, profiles + "Name = 'read only'")) == ["Read Only"]  # text compares without case
    assert "Read Only" not in names(rows(org, profiles + "Name != 'Read Only'"))
    assert names(rows(org, profiles + "Name IN ('Read Only', 'Standard User') ORDER BY Name")) == [
        "Read Only", "Standard User"]
    assert len(rows(org, profiles + "Name NOT IN ('Read Only')")) == 4
    assert names(rows(org, profiles + "Name LIKE 'Minimum Access%' ORDER BY Name DESC")) == [
        "Minimum Access - Salesforce", "Minimum Access - API Only Integrations"]
    both = profiles + "(Name LIKE '%User' OR Name = 'Read Only') AND NOT Name = 'Standard User'"
    assert names(rows(org, both)) == ["Read Only"]
    assert names(rows(org, profiles + "PermissionsApiUserOnly = true")) == ["Minimum Access - API Only Integrations"]
    assert len(rows(org, profiles + "Description = null")) == 5


def test_semi_join_date_literal_and_count(org):
    semi = rows(org, "SELECT Username FROM User WHERE ProfileId IN "
                     "(SELECT Id FROM Profile WHERE Name = 'System Administrator')")
    assert len(semi) == 1
    assert len(rows(org, "SELECT Id FROM User WHERE CreatedDate > 2000-01-01T00:00:00Z")) == 1
    assert rows(org, "SELECT Id FROM User WHERE CreatedDate < 2000-01-01T00:00:00Z") == []
    counted = soql.execute("SELECT COUNT() FROM Profile", org)
    assert counted.records == [] and counted.total_size == 5


def test_order_limit_offset_and_nulls(org):
    ordered = names(rows(org, "SELECT Name FROM Profile ORDER BY Name"))
    assert ordered == sorted(ordered, key=str.lower)
    assert names(rows(org, "SELECT Name FROM Profile ORDER BY Name LIMIT 2 OFFSET 1")) == ordered[1:3]
    roles = rows(org, "SELECT Name FROM UserRole ORDER BY ParentRoleId NULLS FIRST")
    assert roles[0]["Name"] == "CEO"  # the top role has no parent
    roles = rows(org, "SELECT Name FROM UserRole ORDER BY ParentRoleId ASC NULLS LAST")
    assert roles[-1]["Name"] == "CEO"


@pytest.mark.parametrize("text, code, offender, column", [
    ("SELECT Id, Foo FROM User", "INVALID_FIELD", "No such column 'Foo' on entity 'User'", 12),
    ("SELECT Id FROM Nope__c", "INVALID_TYPE", "sObject type 'Nope__c' is not supported", 16),
    ("SELECT Id FROM User WHERE", "MALFORMED_QUERY", "unexpected token", None),
    ("SELECT Id FROM User LIMIT x", "MALFORMED_QUERY", "unexpected token: 'x'", 27),
    ("SELECT Id, (SELECT Id FROM Nothings) FROM User", "INVALID_TYPE", "Didn't understand relationship 'Nothings'",
     28),
])
def test_errors_carry_code_and_location(org, text, code, offender, column):
    with pytest.raises(SalesforceError) as caught:
        soql.execute(text, org)
    error = caught.value
    assert error.status == 400 and error.error_code == code
    assert offender in error.message
    if column is not None:
        # Salesforce prefixes the offending line, a caret under it and the row/column (reference 2.3).
        lines = error.message.split("\n")
        assert lines[1] == text
        assert lines[2] == " " * (column - 1) + "^"
        assert lines[3] == "ERROR at Row:1:Column:%d" % column


def test_location_on_a_later_line(org):
    with pytest.raises(SalesforceError) as caught:
        soql.execute("SELECT Id\nFROM User\nWHERE Bogus = 1", org)
    assert "\nWHERE Bogus = 1\n      ^\nERROR at Row:3:Column:7\nNo such column 'Bogus'" in caught.value.message


def test_string_escapes(org):
    assert rows(org, "SELECT Id FROM Profile WHERE Name = 'O\\'Brien'") == []
