# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one client modules use to talk to Salesforce.

It logs in (connection.py), sends REST requests over its own requests session (rest.py), retries
transient failures with jittered backoff, logs in again once when the session expires, maps every
failure to errors.py and counts every request it sends.

Modules ask it for reads and writes; it owns the shapes of the requests: composite requests are
split to Salesforce's limits (25 subrequests, 5 of them queries or sObject Collections), sObject
Collections to 200 records, and failed subrequests and record results become one typed error
naming each failed record. In check mode (``read_only``) it refuses every write, so a module
that only plans in check mode cannot write by mistake.

simple-salesforce (and zeep under it) is imported only for the Metadata API, on first use.
"""

from __future__ import annotations

import random
import re
import sys
import time
import traceback
from typing import Any, Callable, Iterable, Optional
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

from ansible_collections.sfops.integration.plugins.module_utils import connection
from ansible_collections.sfops.integration.plugins.module_utils.errors import (
    ROLLED_BACK,
    ApiError,
    AuthenticationError,
    MissingLibraryError,
    OutcomeUnknownError,
    PermissionDeniedError,
    ReadDeniedError,
    RetryableError,
    SalesforceConnectionError,
    SalesforceError,
    SessionExpiredError,
    classify_api_error,
    combine,
    is_duplicate,
    is_halted,
    only_rolled_back,
    record_label,
)
from ansible_collections.sfops.integration.plugins.module_utils.rest import HttpError, RestApi

USERINFO_PATH = "/services/oauth2/userinfo"

try:
    import requests
    import urllib3.exceptions
except ImportError:
    pass  # reported through missing_libraries()

COLLECTION_LIMIT = 200  # records per sObject Collections request
COMPOSITE_LIMIT = 25  # subrequests per composite request
COMPOSITE_HEAVY_LIMIT = 5  # query and sObject Collections subrequests per composite request [RESTREF Composite]

# A composite reference to an earlier subrequest's answer: @{referenceId.path}.
REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
GONE = "ENTITY_IS_DELETED"
# A query of an sObject Salesforce does not know (``sObject type 'X' is not supported``, reference 2.3).
# The modules' queries name standard objects only: one unknown to the login is one the login cannot
# read (or the org does not have), so read_records reports it with the refusals for lack of access.
HIDDEN_OBJECT = "INVALID_TYPE"


def missing_libraries() -> list[tuple[str, Optional[str]]]:
    """[(pip name, import traceback)] of the libraries every module needs but cannot import.

    The others are imported where they are used and reported the same way (MissingLibraryError):
    PyJWT by a JWT bearer login, simple-salesforce and zeep by the first Metadata API call.
    """
    if not connection.HAS_REQUESTS:
        return [("requests", connection.REQUESTS_IMPORT_ERROR)]
    return []


def import_metadata_libraries() -> tuple[Any, Any]:
    """(simple_salesforce.Salesforce, zeep), imported on the first Metadata API call."""
    try:
        import zeep
    except ImportError:
        raise MissingLibraryError("zeep", traceback.format_exc())
    try:
        from simple_salesforce import Salesforce
    except ImportError:
        raise MissingLibraryError("simple-salesforce", traceback.format_exc())
    return Salesforce, zeep


class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    Attempt n (0-based) waits a random time in [0, min(max_delay, backoff * 2**n)].
    ``sleep`` and ``rand`` are injectable so tests run instantly.
    """

    def __init__(self, max_retries: int = 4, backoff: float = 1.0, max_delay: float = 30.0,
                 sleep: Callable[[float], Any] = time.sleep, rand: Callable[[], float] = random.random) -> None:
        self.max_retries = max(0, int(max_retries))
        self.backoff = max(0.0, float(backoff))
        self.max_delay = max_delay
        self.sleep = sleep
        self.rand = rand

    def delay(self, attempt: int) -> float:
        return self.rand() * min(self.max_delay, self.backoff * (2 ** attempt))

    def wait(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))


# ---- composite requests: limits, references and failures ---------------------------------------------


def is_heavy(sub: dict) -> bool:
    """A query or sObject Collections subrequest: at most five of them per composite request."""
    return "/composite/sobjects" in sub["url"] or "/query" in sub["url"]


def batches(subrequests: list[dict]) -> list[list[dict]]:
    """Subrequests in composite requests within Salesforce's limits, in order (one, unless very many)."""
    groups, current, heavy = [], [], 0
    for sub in subrequests:
        if current and (len(current) == COMPOSITE_LIMIT or (is_heavy(sub) and heavy == COMPOSITE_HEAVY_LIMIT)):
            groups.append(current)
            current, heavy = [], 0
        current.append(sub)
        heavy += is_heavy(sub)
    return groups + [current] if current else groups


def _lookup(body: Any, path: str) -> Any:
    """``records[0].Id`` of a subresponse body; KeyError/IndexError/TypeError when it is not there."""
    value = body
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        value = value[int(index)] if index else value[name]
    return value


def with_references(item: Any, responses: dict) -> Any:
    """``item`` with references to subrequests answered in an earlier request replaced by their values.

    A composite request resolves references among its own subrequests only; when a batch is split,
    a later request gets the values instead. A reference that cannot be resolved is left for
    Salesforce to refuse.
    """
    if isinstance(item, dict):
        return dict((key, with_references(value, responses)) for key, value in item.items())
    if isinstance(item, list):
        return [with_references(value, responses) for value in item]
    if not isinstance(item, str) or "@{" not in item:
        return item

    def value(match: Any) -> str:
        answered = responses.get(match.group(1))
        if answered is None:
            return match.group(0)
        try:
            return str(_lookup(answered.get("body"), match.group(2)))
        except (KeyError, IndexError, TypeError):
            return match.group(0)
    return REFERENCE.sub(value, item)


def _subrequest_target(sub: dict) -> str:
    """What a subrequest works on, for messages: ``PermissionSet 'X'``, ``User 005...``, ``query``."""
    path = urlsplit(sub["url"]).path.split("/services/data/", 1)[-1].split("/", 1)[-1]
    parts = path.strip("/").split("/")
    if parts[0] == "sobjects" and len(parts) > 1:
        return record_label(parts[1], sub.get("body"), parts[2] if len(parts) > 2 else None)
    return parts[0] or sub["referenceId"]


def _collection_records(sub: dict) -> list[dict]:
    """The records a collections subrequest sends (for a DELETE, its ids as records)."""
    records = (sub.get("body") or {}).get("records")
    if records is not None:
        return records
    ids = (parse_qs(urlsplit(sub["url"]).query).get("ids") or [""])[0]
    return [dict(Id=record_id) for record_id in ids.split(",") if record_id]


def _record_type(record: dict) -> str:
    return (record.get("attributes") or {}).get("type") or "record"


def _is_save_results(body: Any) -> bool:
    return isinstance(body, list) and bool(body) and isinstance(body[0], dict) and "success" in body[0]


def record_failures(results: list[dict], records: list[dict], action: str,
                    labels: Optional[list[str]] = None) -> list[ApiError]:
    """One error per record Salesforce refused, skipping those that only report the rollback.

    A record is named by its label (the whole ``<action> <record>`` phrase), else by the action
    and what the record says it is.
    """
    failures = []
    for index, result in enumerate(results):
        if result.get("success", True) or only_rolled_back(result):
            continue
        record = records[index] if index < len(records) else {}
        what = labels[index] if labels and index < len(labels) else None
        failures.append(classify_api_error(None, result.get("errors") or [], action=action, sobject=_record_type(record),
                                           record=record, record_id=result.get("id"), what=what))
    if not failures and any(not result.get("success", True) for result in results):
        failures.append(ApiError("Salesforce rolled back the %s of %d records without naming a failed record"
                                 % (action, len(records))))
    return failures


def composite_failures(responses: dict, subrequests: list[dict], action: str,
                       labels: Optional[dict] = None) -> list[ApiError]:
    """One error per failed part of an all-or-none composite request (not the parts it halted).

    A subrequest is named by ``labels[referenceId]`` (the whole phrase), else as
    ``<action> (<what it works on>)``, and so is each record of a collections subrequest.
    """
    labels = labels or {}
    failures = []
    for sub in subrequests:
        item = responses.get(sub["referenceId"])
        if item is None:
            continue
        status, body = item.get("httpStatusCode") or 0, item.get("body")
        what = labels.get(sub["referenceId"]) or "%s (%s)" % (action, _subrequest_target(sub))
        if status >= 300 and not is_halted(body):
            failures.append(classify_api_error(status, body, what=what))
        elif status < 300 and _is_save_results(body):
            records = _collection_records(sub)
            failures += record_failures(body, records, action, ["%s (%s)" % (action, record_label(_record_type(r), r))
                                                                for r in records])
    if not failures and any((item.get("httpStatusCode") or 0) >= 300 for item in responses.values()):
        failures.append(ApiError("Salesforce rolled back the composite request to %s without naming the failed part"
                                 % action))
    return failures


def raise_failures(failures: list[ApiError]) -> None:
    """Raise one error naming every failure, if there is one."""
    if failures:
        raise combine(failures)


def _error_codes(result: dict) -> set:
    return set(e.get("statusCode") for e in result.get("errors") or []) if not result.get("success", True) else set()


class SalesforceClient:
    """REST, composite, collections and metadata calls against one org.

    Nothing touches the network until the first call (or ``connect()``). With ``read_only`` (check
    mode) every write is refused before it is sent.
    """

    def __init__(self, params: dict, retry_policy: Optional[RetryPolicy] = None, read_only: bool = False) -> None:
        self.params = connection.normalise_params(params)
        self.flow, self.relogin_flow = connection.choose_flow(self.params)
        self.counter = connection.RequestCounter()
        self.http = connection.new_http_session(self.params, self.counter)
        self.retry = retry_policy or RetryPolicy(
            max_retries=self.params.get("max_retries", 4), backoff=self.params.get("retry_backoff", 1.0))
        self.read_only = read_only
        self.login_result: Optional[connection.LoginResult] = None
        self._rest: Optional[RestApi] = None
        self._mdapi: Any = None
        self._describe_cache: dict = {}
        # What a write found already done by another writer (a duplicate answer its re-read explained, or
        # what a module found so); module.finish marks the change record ``concurrent``.
        self.done_elsewhere: list[str] = []

    # ---- session -------------------------------------------------------------------------

    @property
    def api_requests(self) -> int:
        return self.counter.count

    @property
    def api_version(self) -> str:
        return self.params["api_version"]

    def connect(self) -> connection.LoginResult:
        """Log in once (no request at all for an access token) and return the LoginResult."""
        if self.login_result is None:
            if self.flow == connection.FLOW_ACCESS_TOKEN:
                self.login_result = connection.LoginResult(
                    self.params["instance_url"], self.params["access_token"], connection.FLOW_ACCESS_TOKEN)
            else:
                self._login(self.flow)
        return self.login_result

    def read_identity(self) -> dict[str, Any]:
        """The session's own user, from one GET of the UserInfo endpoint with the session's token.

        Help "Query for User Information" (remoteaccess_using_userinfo_endpoint.htm): the endpoint lives on
        the login host and answers for the access token's own user only, which is what proves a login.
        """
        session = self.connect()
        host = session.instance_url if session.flow == connection.FLOW_ACCESS_TOKEN else self.params["login_url"]
        url = host + USERINFO_PATH
        try:
            response = self.http.get(url, headers={"Authorization": "Bearer %s" % session.access_token,
                                                   "Accept": "application/json"})
        except connection.requests.exceptions.RequestException as exc:
            raise connection.transport_error(exc, url, "read the session's identity")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("user_id"):
            raise AuthenticationError(
                "The login worked but its identity could not be read at %s: HTTP %s %s"
                % (url, response.status_code, (response.text or "").strip()[:200]), status=response.status_code)
        return dict(user_id=body["user_id"], username=body.get("preferred_username"),
                    organization_id=body.get("organization_id"))

    def _login(self, flow: str) -> None:
        self.login_result = connection.login(self.http, self.params, flow)
        self._rest = None
        self._mdapi = None

    @property
    def rest(self) -> RestApi:
        """The org's REST API over our counting, TLS-configured session."""
        if self._rest is None:
            result = self.connect()
            self._rest = RestApi(self.http, result.instance_url, result.access_token, self.api_version)
        return self._rest

    def _relogin(self) -> bool:
        if self.relogin_flow is None:
            return False
        self._login(self.relogin_flow)
        return True

    def rest_path(self, path: str) -> str:
        """Server-relative URL of a REST resource, as composite subrequests need it."""
        return "/services/data/v%s/%s" % (self.api_version, path.lstrip("/"))

    def _writing(self, what: str) -> None:
        """Refuse a write in check mode: modules plan in check mode and never write."""
        if self.read_only:
            raise SalesforceError("Check mode: refusing to %s; nothing was written. A module must not write in "
                                  "check mode: please report this." % what)

    # ---- the one call wrapper ------------------------------------------------------------

    def call(self, func: Callable[[RestApi], Any], action: str = "call", sobject: Optional[str] = None,
             record: Optional[dict] = None, record_id: Optional[str] = None, resource: Optional[str] = None,
             safe_to_repeat: bool = True, find_existing: Optional[Callable[[], Any]] = None) -> Any:
        """Run ``func(rest)`` with retries, one re-login and error mapping.

        safe_to_repeat=False marks a create: after a dropped connection its outcome is unknown,
        so it is only repeated when ``find_existing()`` (a re-read by natural key) finds nothing;
        without that hook OutcomeUnknownError is raised. Answered errors (lock, 503, limits)
        created nothing and are retried as usual.
        """
        context = dict(action=action, sobject=sobject, record=record, record_id=record_id, resource=resource)
        relogged = False
        attempt = 0
        while True:
            rest = self.rest  # logs in when needed; a failed login is final, never retried here
            try:
                return func(rest)
            except SalesforceError as exc:
                error, sent = exc, True
            except Exception as exc:  # library exceptions are translated, never re-raised raw
                error, sent = self._translate(exc, context)
            if isinstance(error, SessionExpiredError) and not relogged:
                relogged = True
                if self._relogin():
                    continue
                error = SessionExpiredError(
                    "The Salesforce session (access_token) is expired or invalid and no credentials were "
                    "given to log in again; run sfops.integration.sf_session again or pass credentials.",
                    status=401, error_code="INVALID_SESSION_ID")
            retryable = isinstance(error, RetryableError) or getattr(error, "retryable", False)
            dropped = isinstance(error, SalesforceConnectionError) and sent
            if not safe_to_repeat and (dropped or is_duplicate(error)):
                existing = self._recheck(error, dropped, find_existing, action, sobject, record)
                if existing:
                    return existing
                retryable = True  # a dropped create that left nothing behind is sent again
            if not retryable or attempt >= self.retry.max_retries:
                raise error
            self.retry.wait(attempt)
            attempt += 1

    def _recheck(self, error: SalesforceError, dropped: bool, find_existing: Optional[Callable[[], Any]],
                 action: str, sobject: Optional[str], record: Optional[dict]) -> Any:
        """What a create whose outcome is not its own answer left behind: ``find_existing()``'s re-read.

        Two answers lead here, one path for both: the connection dropped after the create was sent
        (it may have been carried out), or Salesforce answered that it already exists (DUPLICATE_VALUE,
        DUPLICATE_USERNAME, ...: another writer, such as a second run of the same rollout, made it
        between our read and our write). Either way the caller's re-read by natural key decides: what
        it finds is the outcome (a duplicate found this way is noted in ``done_elsewhere``); when it
        finds nothing, a dropped create is sent again and a duplicate is a real refusal, raised as is.
        """
        if find_existing is None:
            if not dropped:
                raise error
            raise OutcomeUnknownError(
                "The connection dropped while trying to %s %s; it may or may not have been created. "
                "Re-read it by its natural key before trying again." % (action, record_label(sobject, record)),
                sobject=sobject)
        existing = find_existing()
        if not existing and not dropped:
            raise error
        if existing and not dropped:
            self.done_elsewhere.append(getattr(error, "record", None) or error.message)
        return existing

    def _translate(self, exc: Exception, context: dict) -> tuple[SalesforceError, bool]:
        """(SalesforceError, whether the request may have reached Salesforce)."""
        target = record_label(context["sobject"], context["record"], context["record_id"]) if context["sobject"] \
            else (context["resource"] or "Salesforce")
        if isinstance(exc, HttpError):
            return classify_api_error(exc.status, exc.content, **context), True
        if isinstance(exc, requests.exceptions.SSLError):
            return connection.transport_error(exc, self.login_result.instance_url, "%s %s" % (context["action"], target)), False
        if isinstance(exc, requests.exceptions.RequestException):
            error = connection.transport_error(exc, self.login_result.instance_url, "%s %s" % (context["action"], target))
            error.retryable = True
            return error, not _never_sent(exc)
        # zeep is imported only by the Metadata API client: an exception can only be zeep's when it was.
        zeep_exceptions = sys.modules.get("zeep.exceptions")
        if zeep_exceptions is not None and isinstance(exc, zeep_exceptions.Fault):
            code = (exc.code or "").split(":")[-1] or None
            status = 401 if code == "INVALID_SESSION_ID" else 500
            return classify_api_error(status, [dict(errorCode=code, message=exc.message)], **context), True
        if zeep_exceptions is not None and isinstance(exc, zeep_exceptions.TransportError):
            return classify_api_error(exc.status_code, exc.message, **context), True
        return ApiError("Unexpected failure trying to %s %s: %s: %s"
                        % (context["action"], target, type(exc).__name__, str(exc)[:300])), True

    # ---- queries ---------------------------------------------------------------------------

    def query(self, soql_text: str, include_deleted: bool = False) -> list[dict]:
        """Every record the query matches, following nextRecordsUrl across batches."""
        page = self.call(lambda rest: rest.query(soql_text, include_deleted=include_deleted), action="query",
                         resource="records")
        return self.more_records(page)

    def query_all(self, soql_text: str) -> list[dict]:
        """Like query(), through queryAll: deleted and archived rows too."""
        return self.query(soql_text, include_deleted=True)

    def query_one(self, soql_text: str) -> Optional[dict]:
        """The first matching record or None."""
        records = self.query(soql_text)
        return records[0] if records else None

    def more_records(self, page: Optional[dict]) -> list[dict]:
        """Records of a query result plus all later batches (also for results found in composite)."""
        page = page or {}
        records = list(page.get("records") or [])
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            next_url = page["nextRecordsUrl"]
            page = self.call(lambda rest: rest.query_more(next_url), action="query", resource="records") or {}
            records.extend(page.get("records") or [])
        return records

    def describe(self, sobject: str) -> dict:
        """Describe an sObject once per run."""
        if sobject not in self._describe_cache:
            self._describe_cache[sobject] = self.call(
                lambda rest: rest.restful("sobjects/%s/describe" % sobject), action="describe", resource=sobject)
        return self._describe_cache[sobject]

    def limits(self) -> dict:
        return self.call(lambda rest: rest.restful("limits/"), action="read", resource="org limits")

    # ---- single records ----------------------------------------------------------------------

    def get(self, sobject: str, record_id: str, fields: Optional[list[str]] = None) -> dict:
        params = {"fields": ",".join(fields)} if fields else None
        return self.call(lambda rest: rest.restful("sobjects/%s/%s" % (sobject, record_id), params=params),
                         action="read", sobject=sobject, record_id=record_id)

    def create(self, sobject: str, data: dict, find_existing: Optional[Callable[[], Any]] = None) -> Optional[str]:
        """Create one record; returns its id. See call() for find_existing."""
        self._writing("create %s" % record_label(sobject, data))
        result = self.call(lambda rest: rest.restful("sobjects/%s/" % sobject, method="POST", json=data),
                           action="create", sobject=sobject, record=data, safe_to_repeat=False,
                           find_existing=find_existing)
        return result.get("id") if isinstance(result, dict) else result

    def update(self, sobject: str, record_id: str, data: dict) -> None:
        self._writing("update %s" % record_label(sobject, data, record_id))
        self.call(lambda rest: rest.restful("sobjects/%s/%s" % (sobject, record_id), method="PATCH", json=data),
                  action="update", sobject=sobject, record=data, record_id=record_id)

    def delete(self, sobject: str, record_id: str) -> None:
        self._writing("delete %s" % record_label(sobject, None, record_id))
        self.call(lambda rest: rest.restful("sobjects/%s/%s" % (sobject, record_id), method="DELETE"),
                  action="delete", sobject=sobject, record_id=record_id)

    # ---- recorded exchanges ------------------------------------------------------------------

    def exchange(self, method: str, path: str, params: Optional[dict] = None, body: Any = None) -> tuple[int, Any]:
        """(status, decoded body) of one REST request; what Salesforce refused is returned, not raised.

        For a caller that records the org's answers as they come (the org probe). Logging in again
        after an expired session and retrying transient failures (503, a locked row, the request
        limit) still apply; in check mode only GET is sent.
        """
        method = method.upper()
        if method != "GET":
            self._writing("%s %s" % (method, path))

        def send(rest: RestApi) -> tuple[int, Any]:
            status, content = rest.exchange(path, params, method, body)
            if status >= 300 and isinstance(classify_api_error(status, content), (RetryableError, SessionExpiredError)):
                raise HttpError(status, content, path)
            return status, content
        return self.call(send, action=method.lower(), resource=path, safe_to_repeat=method != "POST")

    # ---- composite ---------------------------------------------------------------------------

    def composite(self, subrequests: list[dict], all_or_none: bool = False,
                  find_existing: Optional[Callable[[], Any]] = None,
                  check: Optional[Callable[[dict], None]] = None) -> dict:
        """One composite request (up to 25 subrequests); returns {referenceId: subresponse}.

        Subresponses keep their own httpStatusCode: use composite_body() to read one. read() and
        write() split larger batches. ``check(responses)`` raises the failures of an all-or-none
        write, so that a lock is retried and a duplicate re-read like any other answer (see call()).
        A composite containing a POST is treated like a create (see call()); when ``find_existing``
        found its outcome, no subresponse is returned.
        """
        if len(subrequests) > COMPOSITE_LIMIT:
            raise ApiError("A composite request takes at most %d subrequests, got %d" % (COMPOSITE_LIMIT, len(subrequests)))
        methods = set(sub.get("method", "GET").upper() for sub in subrequests)
        if methods - {"GET"}:
            self._writing("send a composite request with %s subrequests" % "/".join(sorted(methods)))
        body = dict(allOrNone=all_or_none, compositeRequest=subrequests)

        def send(rest: RestApi) -> dict:
            answer = rest.restful("composite", method="POST", json=body) or {}
            responses = dict((item["referenceId"], item) for item in answer.get("compositeResponse", []))
            if check is not None:
                check(responses)
            return responses

        found: list = []

        def recheck() -> Any:
            found.append(find_existing())
            return found[-1]
        responses = self.call(send, action="run", resource="composite request", safe_to_repeat="POST" not in methods,
                              find_existing=recheck if find_existing else None)
        return {} if found and found[-1] else responses

    def read(self, subrequests: list[dict]) -> dict:
        """Read subrequests in as few composite requests as the limits allow; {referenceId: subresponse}.

        Nothing is raised for a failed subrequest: read its body with composite_body() (raises the
        mapped error) or optional_body() (None when it failed).
        """
        responses: dict = {}
        for group in batches(subrequests):
            responses.update(self.composite(with_references(group, responses)))
        return responses

    def read_records(self, queries: dict[str, str], subrequests: Iterable[dict] = ()) -> dict[str, Any]:
        """Run ``queries`` ({referenceId: SOQL}) and other read ``subrequests`` (describes, record GETs) in as few
        composite requests as the limits allow: {referenceId: every record of the query (later pages fetched)},
        and the body of each other subrequest.

        What Salesforce refused for lack of access, all of it at once, raises one ReadDeniedError whose ``denied``
        names each refused referenceId (a module wraps it with what it needs to read); any other failure raises
        its mapped error.
        """
        subs = [self.composite_query(ref, text) for ref, text in queries.items()] + list(subrequests)
        responses = self.read(subs)
        denied = {}
        for sub in subs:
            ref = sub["referenceId"]
            item = responses.get(ref) or {}
            status = item.get("httpStatusCode") or 0
            if status >= 300:
                error = classify_api_error(status, item.get("body"), action="read", resource=ref)
                if isinstance(error, PermissionDeniedError) or (ref in queries and error.error_code == HIDDEN_OBJECT):
                    denied[ref] = error
        if denied:
            raise ReadDeniedError(denied)
        found = {}
        for ref in (sub["referenceId"] for sub in subs):
            found[ref] = self.composite_records(responses, ref) if ref in queries else self.composite_body(responses, ref)
        return found

    def write(self, subrequests: list[dict], action: str, labels: Optional[dict] = None,
              find_existing: Optional[Callable[[], Any]] = None) -> dict:
        """Write in all-or-none composite requests (one, unless the batch exceeds the limits).

        Raises one error naming every failed subrequest and record (see composite_failures;
        ``labels`` names subrequests in whole phrases, ``action`` is the whole write, as in
        ``update permission set Marketo``). A later request gets the ids earlier ones created in
        place of their references. Returns {referenceId: subresponse}. With ``find_existing`` (a
        re-read by natural key) a write whose outcome is unknown or answered as a duplicate stops
        where ``find_existing`` found what it was to make (see call()): the subresponses of that
        request and later ones are missing, and the caller reads again and plans what is left.
        """
        responses: dict = {}
        for group in batches(subrequests):
            group = with_references(group, responses)
            answered = self.composite(group, all_or_none=True, find_existing=find_existing,
                                      check=lambda answer, group=group: raise_failures(
                                          composite_failures(answer, group, action, labels)))
            if not answered:
                return responses
            responses.update(answered)
        return responses

    def composite_query(self, reference_id: str, soql_text: str, references: bool = False) -> dict:
        """A composite subrequest running a query; with ``references`` its ``@{...}`` parts stay readable to Salesforce."""
        query = ("q=" + quote_plus(soql_text, safe="@{}'")) if references else urlencode({"q": soql_text})
        return dict(method="GET", referenceId=reference_id, url=self.rest_path("query/?%s" % query))

    def composite_describe(self, reference_id: str, sobject: str) -> dict:
        """A composite subrequest describing an sObject (many describes cost one request this way)."""
        return dict(method="GET", referenceId=reference_id, url=self.rest_path("sobjects/%s/describe" % sobject))

    def rest_subrequest(self, reference_id: str, method: str, path: str, body: Any = None) -> dict:
        """A composite subrequest on any REST resource (``sobjects/User/005.../password``)."""
        sub = dict(method=method, referenceId=reference_id, url=self.rest_path(path))
        if body is not None:
            sub["body"] = body
        return sub

    def sobject_subrequest(self, reference_id: str, method: str, sobject: str, record_id: str = "",
                           body: Optional[dict] = None) -> dict:
        """A composite subrequest on one record: POST creates; GET, PATCH and DELETE need record_id."""
        return self.rest_subrequest(reference_id, method, "sobjects/%s/%s" % (sobject, record_id), body)

    def collection_subrequests(self, prefix: str, method: str, records: Optional[list[dict]] = None,
                               ids: Optional[list[str]] = None) -> list[dict]:
        """sObject Collections subrequests (``<prefix>0``, ``<prefix>1``, ...) of up to 200 records each.

        POST and PATCH send ``records`` (each with attributes.type), DELETE sends ``ids``.
        """
        items = ids if method == "DELETE" else records
        subs = []
        for index, start in enumerate(range(0, len(items or []), COLLECTION_LIMIT)):
            chunk = items[start:start + COLLECTION_LIMIT]
            reference_id = "%s%d" % (prefix, index)
            if method == "DELETE":
                query = urlencode({"ids": ",".join(chunk), "allOrNone": "true"})
                subs.append(self.rest_subrequest(reference_id, "DELETE", "composite/sobjects?" + query))
            else:
                subs.append(self.rest_subrequest(reference_id, method, "composite/sobjects",
                                                 dict(allOrNone=True, records=chunk)))
        return subs

    def composite_body(self, responses: dict, reference_id: str, action: str = "read", sobject: Optional[str] = None,
                       resource: Optional[str] = None) -> Any:
        """The body of one composite subresponse; raises the mapped error when it failed."""
        item = responses.get(reference_id)
        if item is None:
            raise ApiError("The composite response has no result for %s" % reference_id)
        status = item.get("httpStatusCode")
        if status is not None and status >= 300:
            raise classify_api_error(status, item.get("body"), action=action, sobject=sobject,
                                     resource=resource or reference_id)
        return item.get("body")

    def optional_body(self, responses: dict, reference_id: str) -> Any:
        """The body of a subresponse that may fail (a lookup that finds nothing), else None."""
        item = responses.get(reference_id) or {}
        return item.get("body") if (item.get("httpStatusCode") or 500) < 300 else None

    def composite_records(self, responses: dict, reference_id: str) -> list[dict]:
        """Every record of a composite query subresponse (later batches fetched); raises when it failed."""
        return self.more_records(self.composite_body(responses, reference_id, action="query", resource=reference_id))

    # ---- sObject Collections ---------------------------------------------------------------------

    def _collection(self, method: str, records: list[dict], action: str, labels: Optional[list[str]] = None,
                    find_existing: Optional[Callable[[], Any]] = None) -> list[dict]:
        """One all-or-none sObject Collections request (at most 200 records, or ids for DELETE).

        A create or update raises the records' failures itself, so that call() retries a lock and
        re-reads after a duplicate; a delete's answer is returned as it is (see _without_gone).
        """
        self._writing("%s %d records" % (action, len(records)))

        def send(rest: RestApi) -> Any:
            if method == "DELETE":
                params = {"ids": ",".join(r["Id"] for r in records), "allOrNone": "true"}
                return rest.restful("composite/sobjects", params=params, method="DELETE")
            answer = rest.restful("composite/sobjects", method=method, json=dict(allOrNone=True, records=records))
            raise_failures(record_failures(answer or [], records, action, labels))
            return answer
        return self.call(send, action=action, resource="%d records" % len(records),
                         safe_to_repeat=(method != "POST"), find_existing=find_existing) or []

    def _save(self, method: str, records: list[dict], labels: Optional[list[str]], action: str,
              find_existing: Optional[Callable[[list[dict]], list]] = None, missing_ok: bool = False) -> list[dict]:
        results = []
        labels = labels or []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start:start + COLLECTION_LIMIT]
            chunk_labels = labels[start:start + COLLECTION_LIMIT]
            recheck = None
            if find_existing is not None:
                def recheck(chunk: list[dict] = chunk, chunk_labels: list[str] = chunk_labels) -> Optional[list[dict]]:
                    return self._create_missing(chunk, chunk_labels, action, find_existing)
            answer = self._collection(method, chunk, action, chunk_labels, recheck)
            if missing_ok:
                chunk, chunk_labels, answer = self._without_gone(chunk, chunk_labels, answer, action)
            raise_failures(record_failures(answer, chunk, action, chunk_labels))
            results.extend(answer)
        return results

    def _without_gone(self, records: list[dict], labels: list[str], answer: list[dict],
                      action: str) -> tuple[list[dict], list[str], list[dict]]:
        """A delete whose only refusals are records already deleted: delete the others again, once.

        All or none, one record deleted meanwhile rolls back the others; gone is what a delete wants.
        """
        gone = [i for i, result in enumerate(answer) if _error_codes(result) == {GONE}]
        refused = [i for i, result in enumerate(answer) if _error_codes(result) - {GONE, ROLLED_BACK}]
        if not gone or refused:
            return records, labels, answer
        keep = [i for i in range(len(records)) if i not in gone]
        records = [records[i] for i in keep]
        labels = [labels[i] for i in keep if i < len(labels)]
        return records, labels, self._collection("DELETE", records, action) if records else []

    def create_records(self, records: list[dict], labels: Optional[list[str]] = None, action: str = "create",
                       find_existing: Optional[Callable[[list[dict]], list]] = None) -> list[dict]:
        """Create records (each with attributes.type), 200 per all-or-none request; returns the SaveResults.

        Raises one error naming every record refused: by its label in ``labels`` (the whole phrase,
        ``assign permission set 'X' to user 'u'``), else as ``<action> <record>``.

        ``find_existing(records)`` re-reads records by their natural key: for each, its id (or True)
        when it exists, else None. After a dropped connection or a duplicate answer (see call()) the
        records that exist count as done, their SaveResult marked ``found``, and only the others are
        created (all or none, a duplicate rolls back the whole request: the rest is still to write).
        """
        return self._save("POST", records, labels, action, find_existing)

    def _create_missing(self, records: list[dict], labels: list[str], action: str,
                        find_existing: Callable[[list[dict]], list]) -> Optional[list[dict]]:
        """SaveResults of records a re-read found (partly) there, the others created now; None when none is there."""
        there = find_existing(records)
        if not any(there):
            return None
        missing = [index for index, found in enumerate(there) if not found]
        created = iter(self.create_records([records[i] for i in missing], [labels[i] for i in missing if i < len(labels)],
                                           action, find_existing) if missing else [])
        return [dict(id=found if isinstance(found, str) else None, success=True, errors=[], found=True) if found
                else next(created) for found in there]

    def update_records(self, records: list[dict], labels: Optional[list[str]] = None, action: str = "update") -> list[dict]:
        """Update records (each with attributes.type and Id), 200 per all-or-none request."""
        return self._save("PATCH", records, labels, action)

    def delete_records(self, ids: list[str], labels: Optional[list[str]] = None, action: str = "delete",
                       sobject: Optional[str] = None, missing_ok: bool = False) -> list[dict]:
        """Delete records by id, 200 per all-or-none request.

        With ``missing_ok`` a record that is already deleted is no failure (see _without_gone).
        """
        records = [dict(attributes=dict(type=sobject or "record"), Id=record_id) for record_id in ids]
        return self._save("DELETE", records, labels, action, missing_ok=missing_ok)

    # ---- metadata ------------------------------------------------------------------------------

    @property
    def mdapi(self) -> Any:
        """simple-salesforce's Metadata API client, with TLS, timeout and counting applied.

        zeep builds its own requests.Session; we swap in a transport over a session configured
        exactly like the REST one, so ca_path/validate_certs reach metadata calls too.
        """
        if self._mdapi is None:
            salesforce_class, zeep = import_metadata_libraries()
            result = self.connect()
            sf = salesforce_class(instance_url=result.instance_url, session_id=result.access_token,
                                  version=self.api_version, session=self.http)
            mdapi = sf.mdapi
            mdapi._client.transport = zeep.Transport(
                session=connection.new_http_session(self.params, self.counter),
                timeout=self.params.get("timeout"), operation_timeout=self.params.get("timeout"))
            self._mdapi = mdapi
        return self._mdapi

    def metadata(self, func: Callable[[Any], Any], action: str = "call", resource: str = "metadata",
                 safe_to_repeat: bool = True, find_existing: Optional[Callable[[], Any]] = None,
                 write: bool = False) -> Any:
        """Run ``func(mdapi)`` with the same retries and error mapping as REST calls (``write``: it changes metadata)."""
        if write:
            self._writing("%s %s" % (action, resource))
        return self.call(lambda rest: func(self.mdapi), action=action, resource=resource,
                         safe_to_repeat=safe_to_repeat, find_existing=find_existing)


def _never_sent(exc: Exception) -> bool:
    """True when the request cannot have reached Salesforce (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)
