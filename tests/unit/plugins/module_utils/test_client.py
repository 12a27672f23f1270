from __future__ import annotations

import pytest
import requests
import urllib3.exceptions
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceGeneralError, SalesforceMalformedRequest

from ansible_collections.sfops.integration.plugins.module_utils import client as client_mod
from ansible_collections.sfops.integration.plugins.module_utils import connection, errors

INSTANCE = "https://acme.my.salesforce.com"


def lock_error():
    return SalesforceMalformedRequest(INSTANCE, 400, "sobjects", [
        {"message": "unable to obtain exclusive access to this record", "errorCode": "UNABLE_TO_LOCK_ROW"}])


def expired():
    return SalesforceExpiredSession(INSTANCE, 401, "query", [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


def dropped():
    return requests.exceptions.ConnectionError("Connection aborted. RemoteDisconnected")


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def make_client(relogin=True, max_retries=3, **extra):
    params = dict((name, None) for name in connection.CONNECTION_ARGUMENT_SPEC)
    params.update(api_version="62.0", validate_certs=True, timeout=5, access_token="TOKEN", instance_url=INSTANCE,
                  login_url="https://login.salesforce.com")
    if relogin:
        params.update(username="admin@acme.com", password="pw")
    params.update(extra)
    sleeps = Sleeps()
    policy = client_mod.RetryPolicy(max_retries=max_retries, backoff=1.0, sleep=sleeps, rand=lambda: 1.0)
    client = client_mod.SalesforceClient(params, retry_policy=policy)
    client.connect()
    client._sf = object()  # never used for real: every call below passes a fake function
    client.logins = 0

    def fake_login(flow):
        client.logins += 1
        client.login_result = connection.LoginResult(INSTANCE, "NEW", flow)
        client._sf = object()
    client._login = fake_login
    return client, sleeps


def failing(*outcomes):
    """A call function that raises/returns the given outcomes in order."""
    outcomes = list(outcomes)
    calls = []

    def func(sf):
        calls.append(sf)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    func.calls = calls
    return func


class TestRetryPolicy:
    def test_full_jitter_is_bounded(self):
        policy = client_mod.RetryPolicy(backoff=0.5, max_delay=3, rand=lambda: 1.0)
        assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3, 3]
        policy = client_mod.RetryPolicy(backoff=0.5, rand=lambda: 0.25)
        assert policy.delay(2) == 0.5

    def test_retries_lock_then_succeeds(self):
        client, sleeps = make_client()
        func = failing(lock_error(), lock_error(), "ok")
        assert client.call(func, action="update", sobject="User") == "ok"
        assert sleeps == [1.0, 2.0]

    @pytest.mark.parametrize("exc", [
        SalesforceGeneralError(INSTANCE, 503, "query", "Service Unavailable"),
        SalesforceGeneralError(INSTANCE, 403, "query", [{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                                                         "message": "TotalRequests Limit exceeded."}]),
        dropped(),
    ])
    def test_transient_failures_are_retried(self, exc):
        client, sleeps = make_client()
        assert client.call(failing(exc, "ok")) == "ok"
        assert len(sleeps) == 1

    def test_gives_up_after_max_retries(self):
        client, sleeps = make_client(max_retries=2)
        with pytest.raises(errors.RecordLockedError):
            client.call(failing(lock_error(), lock_error(), lock_error(), "never"))
        assert len(sleeps) == 2

    def test_validation_errors_are_not_retried(self):
        client, sleeps = make_client()
        bad = SalesforceMalformedRequest(INSTANCE, 400, "sobjects/User", [
            {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]",
             "fields": ["LastName"]}])
        with pytest.raises(errors.ApiError) as info:
            client.call(failing(bad), action="create", sobject="User", record={"Username": "a@b.c"})
        assert "User 'a@b.c'" in info.value.message and "LastName" in info.value.message
        assert sleeps == []

    def test_tls_failures_are_not_retried(self):
        client, sleeps = make_client()
        with pytest.raises(errors.SalesforceConnectionError, match="ca_path"):
            client.call(failing(requests.exceptions.SSLError("certificate verify failed")))
        assert sleeps == []


class TestSessionExpiry:
    def test_logs_in_again_once(self):
        client, sleeps = make_client()
        assert client.call(failing(expired(), "ok")) == "ok"
        assert client.logins == 1 and sleeps == []

    def test_second_expiry_fails(self):
        client = make_client()[0]
        with pytest.raises(errors.SessionExpiredError):
            client.call(failing(expired(), expired(), "never"))
        assert client.logins == 1

    def test_token_without_credentials_says_what_to_do(self):
        client = make_client(relogin=False)[0]
        with pytest.raises(errors.SessionExpiredError, match="run sfops.integration.sf_session again"):
            client.call(failing(expired()))
        assert client.logins == 0


class TestCreatesAreNeverRetriedBlindly:
    def test_dropped_create_without_hook_is_outcome_unknown(self):
        client, sleeps = make_client()
        func = failing(dropped(), "never")
        with pytest.raises(errors.OutcomeUnknownError, match="Re-read it by its natural key"):
            client.call(func, action="create", sobject="User", record={"Username": "a@b.c"}, safe_to_repeat=False)
        assert len(func.calls) == 1 and sleeps == []

    def test_hook_finds_the_record(self):
        client = make_client()[0]
        func = failing(dropped(), "never")
        result = client.call(func, action="create", safe_to_repeat=False, find_existing=lambda: {"id": "005X"})
        assert result == {"id": "005X"} and len(func.calls) == 1

    def test_hook_finds_nothing_so_create_is_repeated(self):
        client = make_client()[0]
        func = failing(dropped(), {"id": "005Y"})
        assert client.call(func, action="create", safe_to_repeat=False, find_existing=lambda: None) == {"id": "005Y"}
        assert len(func.calls) == 2

    def test_refused_connection_never_reached_salesforce(self):
        client = make_client()[0]
        refused = requests.exceptions.ConnectionError(
            urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.NewConnectionError(None, "refused")))
        func = failing(refused, {"id": "005Z"})
        assert client.call(func, action="create", safe_to_repeat=False) == {"id": "005Z"}

    def test_answered_errors_on_create_are_retried(self):
        client = make_client()[0]
        func = failing(lock_error(), {"id": "005W"})
        assert client.call(func, action="create", safe_to_repeat=False) == {"id": "005W"}


class FakeSf:
    def __init__(self, pages):
        self.pages = pages
        self.calls = []

    def query(self, soql, include_deleted=False):
        self.calls.append(("query", soql, include_deleted))
        return self.pages[0]

    def query_more(self, url, identifier_is_url=False):
        self.calls.append(("more", url, identifier_is_url))
        return self.pages[int(url.rsplit("-", 1)[1])]


class TestQuery:
    def test_follows_next_records_url(self):
        client = make_client()[0]
        base = "/services/data/v62.0/query/01g-"
        client._sf = FakeSf([
            dict(done=False, records=[{"Id": 1}], nextRecordsUrl=base + "1"),
            dict(done=False, records=[{"Id": 2}], nextRecordsUrl=base + "2"),
            dict(done=True, records=[{"Id": 3}]),
        ])
        assert [r["Id"] for r in client.query("SELECT Id FROM User")] == [1, 2, 3]
        assert client._sf.calls[1] == ("more", base + "1", True)

    def test_query_all_includes_deleted(self):
        client = make_client()[0]
        client._sf = FakeSf([dict(done=True, records=[])])
        assert client.query_all("SELECT Id FROM User") == []
        assert client._sf.calls == [("query", "SELECT Id FROM User", True)]


class TestSoql:
    def test_values_are_quoted(self):
        assert client_mod.soql("SELECT Id FROM User WHERE Username = {}", "o'brien@acme.com") == \
            "SELECT Id FROM User WHERE Username = 'o\\'brien@acme.com'"

    def test_lists_and_booleans(self):
        assert client_mod.soql("SELECT Id FROM PermissionSet WHERE Name IN {names} AND IsCustom = {custom}",
                               names=["A", "B"], custom=True) == \
            "SELECT Id FROM PermissionSet WHERE Name IN ('A','B') AND IsCustom = true"

    def test_composite_query_url_is_encoded(self):
        client = make_client()[0]
        sub = client.composite_query("ref", "SELECT Id FROM User WHERE Name = 'A B'")
        assert sub["url"] == "/services/data/v62.0/query/?q=SELECT+Id+FROM+User+WHERE+Name+%3D+%27A+B%27"


class TestResults:
    def test_names_the_failed_record_not_the_rolled_back_ones(self):
        records = [dict(attributes=dict(type="PermissionSet"), Name="Good"),
                   dict(attributes=dict(type="PermissionSet"), Name="Bad")]
        results = [
            dict(success=False, errors=[dict(statusCode="ALL_OR_NONE_OPERATION_ROLLED_BACK", message="rolled back")]),
            dict(success=False, errors=[dict(statusCode="DUPLICATE_VALUE", message="duplicate value found: Name",
                                             fields=["Name"])]),
        ]
        with pytest.raises(errors.DuplicateError) as info:
            client_mod.raise_for_results(results, records, "create")
        assert "PermissionSet 'Bad'" in info.value.message and "Good" not in info.value.message

    def test_success_passes(self):
        client_mod.raise_for_results([dict(success=True, id="0PS1", errors=[])], [{}], "create")

    def test_composite_body_raises_for_failed_subrequest(self):
        client = make_client()[0]
        responses = {"org": dict(referenceId="org", httpStatusCode=400,
                                 body=[dict(errorCode="INVALID_FIELD", message="No such column 'Foo'")])}
        with pytest.raises(errors.ApiError, match="INVALID_FIELD"):
            client.composite_body(responses, "org")
