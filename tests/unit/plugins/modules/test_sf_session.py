from __future__ import annotations

from module_double import INSTANCE, recording_client, salesforce_module

from ansible_collections.sfops.integration.plugins.module_utils.connection import LoginResult
from ansible_collections.sfops.integration.plugins.modules import sf_session

ORG_ID = "00D000000000001AAA"
USER_ID = "005000000000001AAA"


def test_the_change_record_says_nothing_changes():
    """Logging in changes nothing in the org: a read-only record, as every read-only module gives."""
    client = recording_client(answer=lambda sub: (500, None))
    client.login_result = LoginResult(INSTANCE, "TOKEN", "jwt_bearer", org_id=ORG_ID, user_id=USER_ID)  # logged in
    module = salesforce_module(dict(read_identity=dict(type="bool", default=False)), client)
    result = sf_session.run(module)
    assert result["change"] == dict(kind="session", name=INSTANCE, action="none", details=[], added=0, removed=0,
                                    attributes=[])
    assert result["changed"] is False and result["diff"] == dict(before={}, after={})
    assert result["org_id"] == ORG_ID and result["access_token"] == "TOKEN"
    assert "TOKEN" not in module.ansible.no_log_values  # returning the token is the point of this module
    assert client.sent == [] and client.api_requests == 0
