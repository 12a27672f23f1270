"""SalesforceClient.read_identity (sf_session read_identity): what it sends and how it reads the answer, including the refusals the emulator never gives
after a login that worked (its playbook test covers the success against the emulator)."""
from __future__ import annotations

import pytest
import requests

from ansible_collections.sfops.integration.plugins.module_utils import connection
from ansible_collections.sfops.integration.plugins.module_utils.errors import AuthenticationError, SalesforceConnectionError
from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient

USERINFO = dict(sub="https://login.example/id/00D000000000001AAA/005000000000001AAA", user_id="005000000000001AAA",
                organization_id="00D000000000001AAA", preferred_username="int.marketo@acme.example")


class Answer:
    def __init__(self, status, body=None, text=""):
        self.status_code, self._body, self.text = status, body, text

    def json(self):
        if self._body is None:
            raise ValueError("not JSON")
        return self._body


class Http:
    def __init__(self, answer):
        self.answer, self.sent = answer, []

    def get(self, url, headers):
        self.sent.append((url, headers))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def session(flow=connection.FLOW_JWT):
    return connection.LoginResult("https://acme.my.example", "token-1", flow)


def Client(answer, flow=connection.FLOW_JWT):  # noqa: N802 - reads like the class it builds
    """The real client, already logged in with ``flow``, whose HTTP session answers ``answer``."""
    params = dict((name, option.get("default")) for name, option in connection.CONNECTION_ARGUMENT_SPEC.items())
    params.update(api_version="62.0", timeout=5, login_url="https://login.example", access_token="token-1",
                  instance_url="https://acme.my.example")
    client = SalesforceClient(params)
    client.http = Http(answer)
    client.login_result = session(flow)
    return client


def test_the_new_session_reads_its_own_user_on_the_login_host():
    client = Client(Answer(200, USERINFO))
    assert client.read_identity() == dict(
        user_id="005000000000001AAA", username="int.marketo@acme.example", organization_id="00D000000000001AAA")
    [(url, headers)] = client.http.sent
    assert url == "https://login.example/services/oauth2/userinfo" and headers["Authorization"] == "Bearer token-1"


def test_an_existing_session_is_read_on_its_instance():
    client = Client(Answer(200, USERINFO), connection.FLOW_ACCESS_TOKEN)
    client.read_identity()
    assert client.http.sent[0][0] == "https://acme.my.example/services/oauth2/userinfo"


@pytest.mark.parametrize("answer, words", [
    (Answer(403, text="Bad_OAuth_Token"), "HTTP 403 Bad_OAuth_Token"),
    (Answer(200, text="<html>"), "HTTP 200 <html>"),
    (Answer(200, dict(sub="x")), "HTTP 200"),
])
def test_no_identity_is_a_failure_that_says_why(answer, words):
    with pytest.raises(AuthenticationError) as raised:
        Client(answer).read_identity()
    assert "identity could not be read at https://login.example/services/oauth2/userinfo" in raised.value.message
    assert words in raised.value.message


def test_an_unreachable_host_is_a_connection_error():
    with pytest.raises(SalesforceConnectionError, match="read the session's identity"):
        Client(requests.exceptions.ConnectionError("refused")).read_identity()
