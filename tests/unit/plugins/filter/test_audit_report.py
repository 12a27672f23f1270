from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.filter.audit_report import audit_report


def finding(severity, check="password_login", user="u@x.com", title="User u@x.com | logs in with a password"):
    return dict(id="%s:%s" % (check, user), check=check, severity=severity, user=user, title=title,
                evidence=dict(soap_logins=3, by_status={"Invalid Password": 2}, applications=["A", "B"],
                              changes=[dict(time="2026-03-01T00:00:00Z", action="PermSetAssign",
                                            display="Permission set X: assigned to user u@x.com", by="jane@x.com")]),
                remedy="Move to JWT.")


def records():
    return [
        dict(org="prod", status="ok", findings=[finding("high"), finding("low", "setup_changes")],
             summary=dict(high=1, medium=0, low=1, info=0, total=2), api_requests=3, org_name="Acme", is_sandbox=False,
             seats=[dict(license="Salesforce Integration", total=5, used=5, available=0)],
             window=dict(days=30, since="2026-02-13T00:00:00Z"), counts=dict(users=10), excluded_users=["robot@x.com"],
             warnings=["something partial"]),
        dict(org="dev", status="ok", findings=[], summary=dict(high=0, medium=0, low=0, info=0, total=0), api_requests=3),
        dict(org="uat", status="failed", failure=dict(task="Log in once", message="INVALID_LOGIN"), api_requests=1),
    ]


def test_data_totals_and_order():
    report = audit_report(records(), "data", "now")
    assert [r["org"] for r in report["orgs"]] == ["dev", "prod", "uat"]
    assert report["totals"] == dict(orgs=3, failed=1, total=2, api_requests=7, high=1, medium=0, low=1, info=0)
    assert report["generated"] == "now"


def test_markdown():
    text = audit_report(records(), "markdown", "now")
    assert text.startswith("# Salesforce API access audit\n")
    assert "| prod | ok | 1 | 0 | 1 | 0 | 3 |" in text and "| uat | FAILED | - | - | - | - | 1 |" in text
    assert "### HIGH User u@x.com \\| logs in with a password" in text
    assert text.index("### HIGH") < text.index("### LOW")
    assert "  - by_status: 2 Invalid Password" in text
    assert "    - 2026-03-01T00:00:00Z PermSetAssign: Permission set X: assigned to user u@x.com (by jane@x.com)" in text
    assert "**Could not be audited** (task `Log in once`)" in text and "INVALID_LOGIN" in text
    assert "Seats: Salesforce Integration 5 of 5 used, 0 free." in text
    assert "Left out (exclude_users): robot@x.com." in text and "**Warning:** something partial" in text
    assert "No findings." in text


def test_table():
    lines = audit_report(records(), "table")
    assert lines[0].split() == ["Org", "Status", "High", "Medium", "Low", "Info", "API", "requests"]
    assert lines[-1].split()[:4] == ["total", "(3", "orgs)", "1"]


@pytest.mark.parametrize("fail_on, expected", [
    ("none", []), ("", []),
    ("high", ["prod: 1 high", "uat could not be audited"]),
    ("medium", ["prod: 1 high", "uat could not be audited"]),
    ("LOW", ["prod: 1 high, 1 low", "uat could not be audited"]),
])
def test_gate(fail_on, expected):
    assert audit_report(records(), "gate", fail_on=fail_on) == expected


def test_bad_input():
    with pytest.raises(AnsibleFilterError):
        audit_report("x")
    with pytest.raises(AnsibleFilterError):
        audit_report(records(), "gate", fail_on="urgent")
    with pytest.raises(AnsibleFilterError):
        audit_report(records(), "pdf")
