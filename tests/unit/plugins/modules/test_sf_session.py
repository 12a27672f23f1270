from __future__ import annotations

from types import SimpleNamespace

from module_stubs import INSTANCE, StubClient, fake_module

from ansible_collections.sfops.integration.plugins.module_utils.connection import LoginResult
from ansible_collections.sfops.integration.plugins.modules import sf_session

ORG_ID = "00D000000000001AAA"
USER_ID = "005000000000001AAA"


def test_the_change_record_says_nothing_changes():
    """Logging in changes nothing in the org: a read-only record, as every read-only module gives."""
    client = StubClient(lambda sub: (500, None))
    client.login_result = LoginResult(INSTANCE, "TOKEN", "jwt_bearer", org_id=ORG_ID, user_id=USER_ID)  # logged in
    module = fake_module(dict(read_identity=False), client)
    module.ansible = SimpleNamespace(no_log_values={"TOKEN"})
    result = sf_session.run(module)
    assert result["change"] == dict(kind="session", name=INSTANCE, action="none", details=[], added=0, removed=0,
                                    attributes=[])
    assert result["changed"] is False and result["diff"] == dict(before={}, after={})
    assert result["org_id"] == ORG_ID and result["access_token"] == "TOKEN" and client.composites == []
