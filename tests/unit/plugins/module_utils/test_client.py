from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
import urllib3.exceptions

from module_double import recording_client, soql_of

from ansible_collections.sfops.integration.plugins.module_utils import client as client_mod
from ansible_collections.sfops.integration.plugins.module_utils import connection, errors
from ansible_collections.sfops.integration.plugins.module_utils.rest import HttpError

INSTANCE = "https://acme.my.salesforce.com"


def lock_error():
    return HttpError(400, [{"message": "unable to obtain exclusive access to this record",
                            "errorCode": "UNABLE_TO_LOCK_ROW"}], "sobjects")


def expired():
    return HttpError(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], "query")


def dropped():
    return requests.exceptions.ConnectionError("Connection aborted. RemoteDisconnected")


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def make_client(relogin=True, max_retries=3, read_only=False, **extra):
    params = dict((name, None) for name in connection.CONNECTION_ARGUMENT_SPEC)
    params.update(api_version="62.0", validate_certs=True, timeout=5, access_token="TOKEN", instance_url=INSTANCE,
                  login_url="https://login.salesforce.com")
    if relogin:
        params.update(username="admin@acme.com", password="pw")
    params.update(extra)
    sleeps = Sleeps()
    policy = client_mod.RetryPolicy(max_retries=max_retries, backoff=1.0, sleep=sleeps, rand=lambda: 1.0)
    client = client_mod.SalesforceClient(params, retry_policy=policy, read_only=read_only)
    client.connect()
    client._rest = object()  # never used for real: every call below passes a fake function
    client.logins = 0

    def fake_login(flow):
        client.logins += 1
        client.login_result = connection.LoginResult(INSTANCE, "NEW", flow)
        client._rest = object()
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
        HttpError(503, "Service Unavailable", "query"),
        HttpError(403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}], "query"),
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
        bad = HttpError(400, [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]",
                               "fields": ["LastName"]}], "sobjects/User")
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


def duplicate():
    return HttpError(400, [{"message": "Duplicate Username.", "errorCode": "DUPLICATE_USERNAME", "fields": ["Username"]}],
                     "sobjects/User")


class TestDuplicatesTakeTheSamePath:
    """"It already exists" is answered like a dropped create: the re-read by natural key decides."""

    def test_duplicate_found_by_the_hook_is_the_outcome_and_is_noted(self):
        client, sleeps = make_client()
        func = failing(duplicate(), "never")
        result = client.call(func, action="create", sobject="User", record={"Username": "a@b.c"}, safe_to_repeat=False,
                             find_existing=lambda: {"Id": "005OTHER"})
        assert result == {"Id": "005OTHER"} and len(func.calls) == 1 and sleeps == []
        assert client.done_elsewhere == ["User 'a@b.c'"]

    def test_duplicate_the_hook_cannot_explain_is_raised_as_is(self):
        client = make_client()[0]
        with pytest.raises(errors.DuplicateError, match="DUPLICATE_USERNAME"):
            client.call(failing(duplicate(), "never"), action="create", sobject="User", safe_to_repeat=False,
                        find_existing=lambda: None)
        with pytest.raises(errors.DuplicateError):
            client.call(failing(duplicate(), "never"), action="create", sobject="User", safe_to_repeat=False)
        assert client.done_elsewhere == []

    def test_a_found_create_after_a_drop_is_not_someone_elses(self):
        client = make_client()[0]
        assert client.call(failing(dropped()), action="create", safe_to_repeat=False, find_existing=lambda: {"id": "1"})
        assert client.done_elsewhere == []

    def test_duplicate_on_an_update_is_a_refusal(self):
        client = make_client()[0]
        with pytest.raises(errors.DuplicateError):
            client.call(failing(duplicate()), action="update", find_existing=lambda: {"Id": "005"})


class ScriptedRest:
    """Answers REST calls in order with the given bodies (raising HttpErrors); records what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def restful(self, path, params=None, method="GET", json=None):
        self.sent.append(json)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def subresponse(ref, status, body):
    return dict(referenceId=ref, httpStatusCode=status, body=body)


class TestWritesRaceLikeAnyAnswer:
    def test_composite_duplicate_stops_where_the_hook_found_the_record(self):
        client = make_client()[0]
        taken = [dict(errorCode="DUPLICATE_USERNAME", message="Duplicate Username.", fields=["Username"])]
        halted = [dict(errorCode="PROCESSING_HALTED", message="rolled back")]
        client._rest = ScriptedRest(dict(compositeResponse=[subresponse("user", 400, taken),
                                                            subresponse("password", 400, halted)]))
        subs = [client.sobject_subrequest("user", "POST", "User", body=dict(Username="a@b.c")),
                client.rest_subrequest("password", "POST", "sobjects/User/@{user.id}/password", dict(NewPassword="x"))]
        assert client.write(subs, "save user a@b.c", find_existing=lambda: {"Id": "005OTHER"}) == {}
        [noted] = client.done_elsewhere
        assert "(User 'a@b.c')" in noted and "DUPLICATE_USERNAME" in noted

    def test_composite_lock_is_retried_all_or_none(self):
        client, sleeps = make_client()
        locked = [dict(errorCode="UNABLE_TO_LOCK_ROW", message="unable to obtain exclusive access", fields=[])]
        client._rest = ScriptedRest(dict(compositeResponse=[subresponse("set", 400, locked)]),
                                    dict(compositeResponse=[subresponse("set", 204, None)]))
        subs = [client.sobject_subrequest("set", "PATCH", "PermissionSet", "0PS1", dict(Label="L"))]
        assert client.write(subs, "update permission set X")["set"]["httpStatusCode"] == 204
        assert len(client._rest.sent) == 2 and len(sleeps) == 1

    def test_collection_create_writes_only_what_is_still_missing(self):
        client = make_client()[0]
        duplicate_row = dict(success=False, errors=[dict(statusCode="DUPLICATE_VALUE", message="Duplicate",
                                                         fields=["Name"])])
        rolled_back = dict(success=False, errors=[dict(statusCode="ALL_OR_NONE_OPERATION_ROLLED_BACK", message="")])
        client._rest = ScriptedRest([rolled_back, duplicate_row, rolled_back],
                                    [dict(id="0PSA", success=True, errors=[]), dict(id="0PSC", success=True, errors=[])])
        records = [dict(attributes=dict(type="PermissionSet"), Name=name) for name in "ABC"]
        results = client.create_records(records, find_existing=lambda rows: ["0PSB" if r["Name"] == "B" else None
                                                                             for r in rows])
        assert [r["id"] for r in results] == ["0PSA", "0PSB", "0PSC"]
        assert [bool(r.get("found")) for r in results] == [False, True, False]
        assert [[r["Name"] for r in sent["records"]] for sent in client._rest.sent] == [["A", "B", "C"], ["A", "C"]]
        assert client.done_elsewhere == ["PermissionSet 'B'"]

    def test_collection_duplicate_nothing_explains_is_refused(self):
        client = make_client()[0]
        duplicate_row = dict(success=False, errors=[dict(statusCode="DUPLICATE_VALUE", message="Duplicate")])
        client._rest = ScriptedRest([duplicate_row])
        with pytest.raises(errors.DuplicateError, match="create PermissionSet 'A'"):
            client.create_records([dict(attributes=dict(type="PermissionSet"), Name="A")],
                                  find_existing=lambda rows: [None for _row in rows])
        assert client.done_elsewhere == []


class FakeSf:
    def __init__(self, pages):
        self.pages = pages
        self.calls = []

    def query(self, soql, include_deleted=False):
        self.calls.append(("query", soql, include_deleted))
        return self.pages[0]

    def query_more(self, url):
        self.calls.append(("more", url))
        return self.pages[int(url.rsplit("-", 1)[1])]


class TestQuery:
    def test_follows_next_records_url(self):
        client = make_client()[0]
        base = "/services/data/v62.0/query/01g-"
        client._rest = FakeSf([
            dict(done=False, records=[{"Id": 1}], nextRecordsUrl=base + "1"),
            dict(done=False, records=[{"Id": 2}], nextRecordsUrl=base + "2"),
            dict(done=True, records=[{"Id": 3}]),
        ])
        assert [r["Id"] for r in client.query("SELECT Id FROM User")] == [1, 2, 3]
        assert client._rest.calls[1] == ("more", base + "1")

    def test_query_all_includes_deleted(self):
        client = make_client()[0]
        client._rest = FakeSf([dict(done=True, records=[])])
        assert client.query_all("SELECT Id FROM User") == []
        assert client._rest.calls == [("query", "SELECT Id FROM User", True)]


class TestComposite:
    def test_composite_query_url_is_encoded(self):
        client = make_client()[0]
        sub = client.composite_query("ref", "SELECT Id FROM User WHERE Name = 'A B'")
        assert sub["url"] == "/services/data/v62.0/query/?q=SELECT+Id+FROM+User+WHERE+Name+%3D+%27A+B%27"

    def test_composite_query_keeps_references_readable(self):
        client = make_client()[0]
        sub = client.composite_query("login", "SELECT Id FROM UserLogin WHERE UserId = '@{user.id}'", references=True)
        assert sub["url"].endswith("?q=SELECT+Id+FROM+UserLogin+WHERE+UserId+%3D+'@{user.id}'")

    def test_batches_respect_the_composite_limits(self):
        client = make_client()[0]
        subs = [client.sobject_subrequest("set", "POST", "PermissionSet", body={})]
        subs += client.collection_subrequests("rows", "POST", records=[{}] * (7 * client_mod.COLLECTION_LIMIT))
        groups = client_mod.batches(subs)
        assert [len(g) for g in groups] == [6, 2]
        assert sum(client_mod.is_heavy(s) for s in groups[0]) == client_mod.COMPOSITE_HEAVY_LIMIT
        reads = [client.composite_describe("d%d" % i, "Lead") for i in range(30)]
        assert [len(g) for g in client_mod.batches(reads)] == [25, 5]

    def test_collection_subrequests_are_chunked(self):
        client = make_client()[0]
        subs = client.collection_subrequests("gone", "DELETE", ids=["a%d" % i for i in range(201)])
        assert [s["referenceId"] for s in subs] == ["gone0", "gone1"]
        assert subs[1]["url"] == "/services/data/v62.0/composite/sobjects?ids=a200&allOrNone=true"
        assert client.collection_subrequests("none", "POST", records=[]) == []

    def test_later_requests_get_the_values_of_earlier_ones(self):
        responses = {"permissionSet": {"body": {"id": "0PSNEW"}},
                     "found": {"body": {"records": [{"Id": "005A"}]}}}
        sub = dict(url="/x/@{found.records[0].Id}", body=dict(records=[dict(ParentId="@{permissionSet.id}")]))
        same = dict(url="/x/@{notYet.id}/@{found.records[1].Id}")
        assert client_mod.with_references(sub, responses) == dict(url="/x/005A", body=dict(records=[dict(
            ParentId="0PSNEW")]))
        assert client_mod.with_references(same, responses) == same

    def test_write_splits_and_carries_the_new_id(self):
        client = make_client()[0]
        sent = []

        def answer(sub):
            if sub["referenceId"] == "permissionSet":
                return dict(referenceId="permissionSet", httpStatusCode=201, body={"id": "0PSNEW"})
            return dict(referenceId=sub["referenceId"], httpStatusCode=200, body=[dict(success=True, id="110", errors=[])])

        def composite(group, all_or_none=False, find_existing=None, check=None):
            sent.append(group)
            assert all_or_none is True
            return dict((sub["referenceId"], answer(sub)) for sub in group)
        client.composite = composite
        rows = [dict(attributes=dict(type="ObjectPermissions"), ParentId="@{permissionSet.id}")] * 1200
        subs = [client.sobject_subrequest("permissionSet", "POST", "PermissionSet", body=dict(Name="X"))]
        subs += client.collection_subrequests("rows", "POST", records=rows)
        responses = client.write(subs, "create permission set X")
        assert responses["permissionSet"]["body"]["id"] == "0PSNEW" and len(sent) == 2
        assert sent[0][1]["body"]["records"][0]["ParentId"] == "@{permissionSet.id}"
        assert sent[1][0]["body"]["records"][0]["ParentId"] == "0PSNEW"


class TestFailures:
    def test_names_the_failed_record_not_the_rolled_back_ones(self):
        records = [dict(attributes=dict(type="PermissionSet"), Name="Good"),
                   dict(attributes=dict(type="PermissionSet"), Name="Bad")]
        results = [
            dict(success=False, errors=[dict(statusCode="ALL_OR_NONE_OPERATION_ROLLED_BACK", message="rolled back")]),
            dict(success=False, errors=[dict(statusCode="DUPLICATE_VALUE", message="duplicate value found: Name",
                                             fields=["Name"])]),
        ]
        with pytest.raises(errors.DuplicateError) as info:
            client_mod.raise_failures(client_mod.record_failures(results, records, "create"))
        assert "create PermissionSet 'Bad'" in info.value.message and "Good" not in info.value.message

    def test_labels_name_records_in_whole_phrases(self):
        results = [dict(success=False, errors=[dict(statusCode="FIELD_INTEGRITY_EXCEPTION", message="no")]),
                   dict(success=False, errors=[dict(statusCode="DUPLICATE_VALUE", message="again")])]
        failures = client_mod.record_failures(results, [{}, {}], "assign", ["assign A to user 'u'", "assign B to user 'u'"])
        error = errors.combine(failures)
        assert error.message == ("Salesforce refused to assign A to user 'u': FIELD_INTEGRITY_EXCEPTION: no; "
                                 "Salesforce refused to assign B to user 'u': DUPLICATE_VALUE: again")

    def test_success_passes(self):
        assert client_mod.record_failures([dict(success=True, id="0PS1", errors=[])], [{}], "create") == []

    def test_rollback_without_a_culprit_is_still_a_failure(self):
        rolled = dict(success=False, errors=[dict(statusCode="ALL_OR_NONE_OPERATION_ROLLED_BACK", message="")])
        [failure] = client_mod.record_failures([rolled], [{}], "remove")
        assert "without naming a failed record" in failure.message

    def test_composite_names_the_failed_subrequest_not_the_halted_ones(self):
        client = make_client()[0]
        subs = [client.sobject_subrequest("setUpdate", "PATCH", "PermissionSet", "0PS1", dict(Label="L")),
                client.collection_subrequests("objectCreates", "POST", records=[
                    dict(attributes=dict(type="ObjectPermissions"), SobjectType="Lead")])[0]]
        halted = [dict(errorCode="PROCESSING_HALTED", message="rolled back")]
        responses = dict(setUpdate=dict(httpStatusCode=400, body=halted), objectCreates0=dict(httpStatusCode=200, body=[
            dict(success=False, errors=[dict(statusCode="FIELD_INTEGRITY_EXCEPTION", fields=["SobjectType"],
                                             message="The user license doesn't allow the permission: Read Lead")])]))
        [failure] = client_mod.composite_failures(responses, subs, "update permission set X")
        assert failure.message.startswith("Salesforce refused to update permission set X (ObjectPermissions 'Lead'): "
                                          "FIELD_INTEGRITY_EXCEPTION on SobjectType")
        responses["objectCreates0"] = dict(httpStatusCode=400, body=[dict(errorCode="INVALID_FIELD", message="bad")])
        [failure] = client_mod.composite_failures(responses, subs, "update permission set X",
                                                  labels=dict(objectCreates0="add object access"))
        assert failure.message == "Salesforce refused to add object access (HTTP 400): INVALID_FIELD: bad"
        responses["setUpdate"] = dict(httpStatusCode=400, body=[dict(errorCode="INVALID_FIELD", message="Label")])
        assert "update permission set X (PermissionSet 0PS1)" in client_mod.composite_failures(
            responses, subs, "update permission set X")[0].message

    def test_composite_body_raises_for_failed_subrequest(self):
        client = make_client()[0]
        responses = {"org": dict(referenceId="org", httpStatusCode=400,
                                 body=[dict(errorCode="INVALID_FIELD", message="No such column 'Foo'")])}
        with pytest.raises(errors.ApiError, match="INVALID_FIELD"):
            client.composite_body(responses, "org")
        assert client.optional_body(responses, "org") is None


class TestReadRecords:
    """read_records: queries and other reads in as few composite requests as the limits allow; refusals named together."""

    QUERIES = dict(("q%d" % i, "SELECT Id FROM User LIMIT %d" % (i + 1)) for i in range(7))
    NEXT = "/services/data/v62.0/query/01gNEXT-2000"

    @classmethod
    def client(cls, refused=None, more=False):
        refused = refused or {}
        later = {cls.NEXT: dict(done=True, records=[dict(Id="later")])}  # the page nextRecordsUrl points at

        def answer(sub):
            ref = sub["referenceId"]
            if ref in refused:
                status, code = refused[ref]
                return status, [dict(errorCode=code, message="refused")]
            if soql_of(sub) is None:
                return 200, dict(name=ref)
            return 200, dict(done=not more, records=[dict(Id=ref)], nextRecordsUrl=cls.NEXT if more else None)
        return recording_client(answer=answer, **later)

    def test_queries_and_describes_in_two_composite_requests(self):
        client = self.client()
        found = client.read_records(self.QUERIES, [client.composite_describe("d", "User")])
        assert [len(group) for group in client.sent] == [5, 3]  # at most five queries a request, in order
        assert found["q6"] == [dict(Id="q6")] and found["d"] == dict(name="d") and list(found)[:7] == list(self.QUERIES)

    def test_later_pages_are_fetched(self):
        client = self.client(more=True)
        assert client.read_records(dict(q="SELECT Id FROM User")) == dict(q=[dict(Id="q"), dict(Id="later")])
        assert len(client.sent) == 1 and client.api_requests == 2  # the composite request, then the later page

    def test_every_read_refused_for_lack_of_access_is_named_at_once(self):
        client = self.client(refused=dict(q1=(403, "INSUFFICIENT_ACCESS"), q4=(400, "INVALID_TYPE"),
                                          d=(403, "INSUFFICIENT_ACCESS_OR_READONLY")))
        with pytest.raises(errors.ReadDeniedError) as caught:
            client.read_records(self.QUERIES, [client.composite_describe("d", "User")])
        assert list(caught.value.denied) == ["q1", "q4", "d"]
        assert isinstance(caught.value, errors.PermissionDeniedError) and caught.value.error_code == "INSUFFICIENT_ACCESS"
        assert "Salesforce refused to read q1 (HTTP 403): INSUFFICIENT_ACCESS: refused" in caught.value.message

    def test_other_failures_raise_their_own_error(self):
        client = self.client(refused=dict(q2=(400, "INVALID_FIELD")))
        with pytest.raises(errors.ApiError) as caught:
            client.read_records(self.QUERIES)
        assert not isinstance(caught.value, errors.PermissionDeniedError) and "INVALID_FIELD" in caught.value.message

    def test_an_unknown_type_in_a_describe_is_no_access_question(self):
        client = self.client(refused=dict(d=(404, "NOT_FOUND")))
        with pytest.raises(errors.NotFoundError):
            client.read_records({}, [client.composite_describe("d", "Nope__c")])


class CollectionsApi:
    """Answers sObject Collections deletes: ids in ``gone`` are already deleted; all or none rolls back the rest."""

    def __init__(self, gone=()):
        self.gone = set(gone)
        self.calls = []

    def restful(self, path, params=None, method="GET", json=None):
        ids = params["ids"].split(",")
        self.calls.append(ids)
        if not self.gone.intersection(ids):
            return [dict(id=i, success=True, errors=[]) for i in ids]
        return [dict(success=False, errors=[dict(
            statusCode="ENTITY_IS_DELETED" if i in self.gone else "ALL_OR_NONE_OPERATION_ROLLED_BACK", message="x")])
            for i in ids]


class TestCollections:
    def test_a_record_already_gone_is_not_a_failure_with_missing_ok(self):
        client = make_client()[0]
        client._rest = api = CollectionsApi(gone=["2LA1"])
        client.delete_records(["0Pa1", "2LA1"], labels=["remove G", "remove P"], action="remove", missing_ok=True)
        assert api.calls == [["0Pa1", "2LA1"], ["0Pa1"]]

    def test_without_missing_ok_it_is(self):
        client = make_client()[0]
        client._rest = CollectionsApi(gone=["2LA1"])
        with pytest.raises(errors.NotFoundError, match="Salesforce refused to remove P: ENTITY_IS_DELETED"):
            client.delete_records(["0Pa1", "2LA1"], labels=["remove G", "remove P"], action="remove")


class TestCheckMode:
    def test_writes_are_refused_before_they_are_sent(self):
        client = make_client(read_only=True)[0]
        for write in (lambda: client.create("User", {"Username": "a@b.c"}), lambda: client.update("User", "005", {}),
                      lambda: client.delete_records(["005"]),
                      lambda: client.write([client.sobject_subrequest("u", "PATCH", "User", "005", {})], "save"),
                      lambda: client.metadata(lambda md: None, action="create", write=True)):
            with pytest.raises(errors.SalesforceError, match="Check mode: refusing to"):
                write()
        assert client.api_requests == 0

    def test_reads_are_not(self):
        client = make_client(read_only=True)[0]
        client._rest = type("Rest", (), dict(restful=lambda self, *args, **kwargs: dict(
            compositeResponse=[dict(referenceId="d", httpStatusCode=200, body={})])))()
        assert client.read([client.composite_describe("d", "User")])["d"]["body"] == {}


class TestLibraries:
    def test_only_requests_is_needed_up_front(self):
        assert client_mod.missing_libraries() == []

    def test_rest_path_imports_neither_simple_salesforce_nor_zeep_nor_jwt(self):
        code = ("import sys; from ansible_collections.sfops.integration.plugins.module_utils import module, client; "
                "print(sorted(m for m in ('simple_salesforce', 'zeep', 'jwt') if m in sys.modules))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
        assert out.stdout.strip() == "[]"

    def test_missing_metadata_library_is_reported_by_its_pip_name(self, uninstalled):
        uninstalled("zeep")
        with pytest.raises(errors.MissingLibraryError) as info:
            client_mod.import_metadata_libraries()
        assert "zeep" in info.value.message and info.value.fail_kwargs()["exception"].startswith("Traceback")
