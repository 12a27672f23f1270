"""simple-salesforce 1.12.10 itself, unchanged, against the emulator (reference 1 and checklist 7).

Direct mode (session_id + instance_url) with REQUESTS_CA_BUNDLE pointing at the emulator's CA, which
both requests (REST) and zeep (sf.mdapi) honour (reference 1.3).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

simple_salesforce = pytest.importorskip("simple_salesforce")


def run_with_ca(emulator, org, code: str) -> str:
    """Run code in a fresh interpreter so REQUESTS_CA_BUNDLE applies to every session it creates."""
    env = dict(os.environ, REQUESTS_CA_BUNDLE=emulator["ca_file"], SF_URL=emulator["url"], SF_TOKEN=org.token)
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_direct_mode_query_all_and_restful(emulator, org1):
    for i in range(3):
        org1.create("Lead", {"LastName": f"SSF {i}", "Company": "Acme"})
    out = run_with_ca(emulator, org1, """
        import os
        from simple_salesforce import Salesforce
        sf = Salesforce(session_id=os.environ["SF_TOKEN"], instance_url=os.environ["SF_URL"], version="62.0")
        rows = sf.query_all("SELECT Id, LastName FROM Lead WHERE LastName LIKE 'SSF %' ORDER BY LastName")
        print(rows["totalSize"], [r["LastName"] for r in rows["records"]])
        print(sf.restful("limits")["DailyApiRequests"]["Max"] > 0)
        print(sf.Lead.describe()["name"])
        created = sf.Account.create({"Name": "via ssf"})
        print(created["success"])
        print(sf.api_usage["api-usage"].total > 0)
    """)
    lines = out.splitlines()
    assert lines[0] == "3 ['SSF 0', 'SSF 1', 'SSF 2']"
    assert lines[1:] == ["True", "Lead", "True", "True"]


def test_mdapi_profile_password_policy_end_to_end(emulator, org1):
    out = run_with_ca(emulator, org1, """
        import os
        from simple_salesforce import Salesforce
        sf = Salesforce(session_id=os.environ["SF_TOKEN"], instance_url=os.environ["SF_URL"], version="62.0")
        md = sf.mdapi
        before = [r.fullName for r in md.list_metadata(md.ListMetadataQuery(type="ProfilePasswordPolicy"))]
        print(before)
        policy = md.ProfilePasswordPolicy(fullName="Read_Only_profilePasswordPolicy1700000000000",
                                          lockoutInterval=30, maxLoginAttempts=10, minimumPasswordLength=16,
                                          passwordComplexity=4, passwordExpiration=0, passwordHistory=0,
                                          passwordQuestion=1, profile="Read Only")
        md.ProfilePasswordPolicy.create([policy])
        rows = md.list_metadata(md.ListMetadataQuery(type="ProfilePasswordPolicy"))
        print(sorted(set(r.fullName for r in rows) - set(before)))
        got = md.ProfilePasswordPolicy.read("Read_Only_profilePasswordPolicy1700000000000")
        print(got.profile, got.minimumPasswordLength, got.passwordExpiration)
        got.minimumPasswordLength = 20
        md.ProfilePasswordPolicy.update([got])
        print(md.ProfilePasswordPolicy.read(got.fullName).minimumPasswordLength)
        print(md.ProfilePasswordPolicy.read("No_such_policy").fullName)
        try:
            md.ProfilePasswordPolicy.create([md.ProfilePasswordPolicy(
                fullName="Second", lockoutInterval=30, maxLoginAttempts=10, minimumPasswordLength=16,
                passwordComplexity=4, passwordExpiration=0, passwordHistory=0, passwordQuestion=1,
                profile="Read Only")])
        except Exception as exc:
            print("refused:", "already exists" in str(exc))
        md.ProfilePasswordPolicy.delete([got.fullName])
        print([r.fullName for r in md.list_metadata(md.ListMetadataQuery(type="ProfilePasswordPolicy"))] == before)
    """)
    lines = out.splitlines()
    # Other tests may have left policies of their own profiles: compare with what was there before.
    assert "Read_Only_profilePasswordPolicy1700000000000" not in lines[0]
    assert lines[1] == "['Read_Only_profilePasswordPolicy1700000000000']"
    assert lines[2] == "Read Only 16 0"
    assert lines[3] == "20"
    assert lines[4] == "None"
    assert lines[5] == "refused: True"
    assert lines[6] == "True"
