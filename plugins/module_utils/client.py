# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one client modules use to talk to Salesforce.

It logs in (connection.py), drives simple-salesforce in direct mode, retries transient failures
with jittered backoff, logs in again once when the session expires, maps every failure to
errors.py and counts every request it sends.
"""

from __future__ import annotations

import random
import time
import traceback
from urllib.parse import urlencode

from ansible_collections.sfops.integration.plugins.module_utils import connection
from ansible_collections.sfops.integration.plugins.module_utils.errors import (
    ApiError,
    OutcomeUnknownError,
    RetryableError,
    SalesforceConnectionError,
    SalesforceError,
    SessionExpiredError,
    classify_api_error,
    record_label,
)

try:
    from simple_salesforce import Salesforce, format_soql
    from simple_salesforce.exceptions import SalesforceError as LibrarySalesforceError
except ImportError:
    HAS_SIMPLE_SALESFORCE = False
    SIMPLE_SALESFORCE_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_SIMPLE_SALESFORCE = True
    SIMPLE_SALESFORCE_IMPORT_ERROR = None

try:
    import requests
    import urllib3.exceptions
except ImportError:
    pass  # reported through connection.HAS_REQUESTS

try:
    import zeep
    import zeep.exceptions
except ImportError:
    HAS_ZEEP = False
    ZEEP_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_ZEEP = True
    ZEEP_IMPORT_ERROR = None

COLLECTION_LIMIT = 200  # records per sObject Collections request
COMPOSITE_LIMIT = 25  # subrequests per composite request


def missing_libraries():
    """[(pip name, import traceback)] for every library the client needs but cannot import."""
    missing = []
    if not connection.HAS_REQUESTS:
        missing.append(("requests", connection.REQUESTS_IMPORT_ERROR))
    if not HAS_SIMPLE_SALESFORCE:
        missing.append(("simple-salesforce", SIMPLE_SALESFORCE_IMPORT_ERROR))
    if not HAS_ZEEP:
        missing.append(("zeep", ZEEP_IMPORT_ERROR))
    if not connection.HAS_JWT:
        missing.append(("pyjwt[crypto]", connection.JWT_IMPORT_ERROR))
    return missing


def soql(template, *args, **kwargs):
    """Build SOQL with values quoted by simple-salesforce's format_soql (never concatenate)."""
    return format_soql(template, *args, **kwargs)


class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    Attempt n (0-based) waits a random time in [0, min(max_delay, backoff * 2**n)].
    ``sleep`` and ``rand`` are injectable so tests run instantly.
    """

    def __init__(self, max_retries=4, backoff=1.0, max_delay=30.0, sleep=time.sleep, rand=random.random):
        self.max_retries = max(0, int(max_retries))
        self.backoff = max(0.0, float(backoff))
        self.max_delay = max_delay
        self.sleep = sleep
        self.rand = rand

    def delay(self, attempt):
        return self.rand() * min(self.max_delay, self.backoff * (2 ** attempt))

    def wait(self, attempt):
        self.sleep(self.delay(attempt))


class SalesforceClient:
    """REST, composite, collections and metadata calls against one org.

    Nothing touches the network until the first call (or ``connect()``).
    """

    def __init__(self, params, retry_policy=None):
        self.params = connection.normalise_params(params)
        self.flow, self.relogin_flow = connection.choose_flow(self.params)
        self.counter = connection.RequestCounter()
        self.http = connection.new_http_session(self.params, self.counter)
        self.retry = retry_policy or RetryPolicy(
            max_retries=self.params.get("max_retries", 4), backoff=self.params.get("retry_backoff", 1.0))
        self.login_result = None
        self._sf = None
        self._mdapi = None
        self._describe_cache = {}

    # ---- session -------------------------------------------------------------------------

    @property
    def api_requests(self):
        return self.counter.count

    @property
    def api_version(self):
        return self.params["api_version"]

    def connect(self):
        """Log in once (no request at all for an access token) and return the LoginResult."""
        if self.login_result is None:
            if self.flow == connection.FLOW_ACCESS_TOKEN:
                self.login_result = connection.LoginResult(
                    self.params["instance_url"], self.params["access_token"], connection.FLOW_ACCESS_TOKEN)
            else:
                self._login(self.flow)
        return self.login_result

    def _login(self, flow):
        self.login_result = connection.login(self.http, self.params, flow)
        self._sf = None
        self._mdapi = None

    @property
    def sf(self):
        """simple-salesforce in direct mode over our counting, TLS-configured session."""
        if self._sf is None:
            result = self.connect()
            self._sf = Salesforce(instance_url=result.instance_url, session_id=result.access_token,
                                  version=self.api_version, session=self.http)
        return self._sf

    def _relogin(self):
        if self.relogin_flow is None:
            return False
        self._login(self.relogin_flow)
        return True

    def rest_path(self, path):
        """Server-relative URL of a REST resource, as composite subrequests need it."""
        return "/services/data/v%s/%s" % (self.api_version, path.lstrip("/"))

    # ---- the one call wrapper ------------------------------------------------------------

    def call(self, func, action="call", sobject=None, record=None, record_id=None, resource=None,
             safe_to_repeat=True, find_existing=None):
        """Run ``func(sf)`` with retries, one re-login and error mapping.

        safe_to_repeat=False marks a create: after a dropped connection its outcome is unknown,
        so it is only repeated when ``find_existing()`` (a re-read by natural key) finds nothing;
        without that hook OutcomeUnknownError is raised. Answered errors (lock, 503, limits)
        created nothing and are retried as usual.
        """
        context = dict(action=action, sobject=sobject, record=record, record_id=record_id, resource=resource)
        relogged = False
        attempt = 0
        while True:
            sf = self.sf  # logs in when needed; a failed login is final, never retried here
            try:
                return func(sf)
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
            if isinstance(error, SalesforceConnectionError) and sent and not safe_to_repeat:
                if find_existing is None:
                    raise OutcomeUnknownError(
                        "The connection dropped while trying to %s %s; it may or may not have been created. "
                        "Re-read it by its natural key before trying again." % (action, record_label(sobject, record)),
                        sobject=sobject)
                existing = find_existing()
                if existing:
                    return existing
                retryable = True
            if not retryable or attempt >= self.retry.max_retries:
                raise error
            self.retry.wait(attempt)
            attempt += 1

    def _translate(self, exc, context):
        """(SalesforceError, whether the request may have reached Salesforce)."""
        target = record_label(context["sobject"], context["record"], context["record_id"]) if context["sobject"] \
            else (context["resource"] or "Salesforce")
        if HAS_SIMPLE_SALESFORCE and isinstance(exc, LibrarySalesforceError):
            return classify_api_error(exc.status, exc.content, **context), True
        if isinstance(exc, requests.exceptions.SSLError):
            return connection.transport_error(exc, self.login_result.instance_url, "%s %s" % (context["action"], target)), False
        if isinstance(exc, requests.exceptions.RequestException):
            error = connection.transport_error(exc, self.login_result.instance_url, "%s %s" % (context["action"], target))
            error.retryable = True
            return error, not _never_sent(exc)
        if HAS_ZEEP and isinstance(exc, zeep.exceptions.Fault):
            code = (exc.code or "").split(":")[-1] or None
            status = 401 if code == "INVALID_SESSION_ID" else 500
            return classify_api_error(status, [dict(errorCode=code, message=exc.message)], **context), True
        if HAS_ZEEP and isinstance(exc, zeep.exceptions.TransportError):
            return classify_api_error(exc.status_code, exc.message, **context), True
        return ApiError("Unexpected failure trying to %s %s: %s: %s"
                        % (context["action"], target, type(exc).__name__, str(exc)[:300])), True

    # ---- queries ---------------------------------------------------------------------------

    def query(self, soql_text, include_deleted=False):
        """Every record the query matches, following nextRecordsUrl across batches."""
        page = self.call(lambda sf: sf.query(soql_text, include_deleted=include_deleted), action="query",
                         resource="records")
        return self.more_records(page)

    def query_all(self, soql_text):
        """Like query(), through queryAll: deleted and archived rows too."""
        return self.query(soql_text, include_deleted=True)

    def query_one(self, soql_text):
        """The first matching record or None."""
        records = self.query(soql_text)
        return records[0] if records else None

    def more_records(self, page):
        """Records of a query result plus all later batches (also for results found in composite)."""
        records = list(page.get("records") or [])
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            next_url = page["nextRecordsUrl"]
            page = self.call(lambda sf: sf.query_more(next_url, identifier_is_url=True), action="query",
                             resource="records")
            records.extend(page.get("records") or [])
        return records

    def describe(self, sobject):
        """Describe an sObject once per run."""
        if sobject not in self._describe_cache:
            self._describe_cache[sobject] = self.call(
                lambda sf: sf.restful("sobjects/%s/describe" % sobject), action="describe", resource=sobject)
        return self._describe_cache[sobject]

    def limits(self):
        return self.call(lambda sf: sf.restful("limits/"), action="read", resource="org limits")

    # ---- single records ----------------------------------------------------------------------

    def get(self, sobject, record_id, fields=None):
        params = {"fields": ",".join(fields)} if fields else None
        return self.call(lambda sf: sf.restful("sobjects/%s/%s" % (sobject, record_id), params=params),
                         action="read", sobject=sobject, record_id=record_id)

    def create(self, sobject, data, find_existing=None):
        """Create one record; returns its id. See call() for find_existing."""
        result = self.call(lambda sf: sf.restful("sobjects/%s/" % sobject, method="POST", json=data),
                           action="create", sobject=sobject, record=data, safe_to_repeat=False,
                           find_existing=find_existing)
        return result.get("id") if isinstance(result, dict) else result

    def update(self, sobject, record_id, data):
        self.call(lambda sf: sf.restful("sobjects/%s/%s" % (sobject, record_id), method="PATCH", json=data),
                  action="update", sobject=sobject, record=data, record_id=record_id)

    def delete(self, sobject, record_id):
        self.call(lambda sf: sf.restful("sobjects/%s/%s" % (sobject, record_id), method="DELETE"),
                  action="delete", sobject=sobject, record_id=record_id)

    # ---- batches -------------------------------------------------------------------------------

    def composite(self, subrequests, all_or_none=False, find_existing=None):
        """One composite request (up to 25 subrequests); returns {referenceId: subresponse}.

        Subresponses keep their own httpStatusCode: use composite_body() to read one.
        A composite containing a POST is treated like a create (see call()).
        """
        if len(subrequests) > COMPOSITE_LIMIT:
            raise ApiError("A composite request takes at most %d subrequests, got %d" % (COMPOSITE_LIMIT, len(subrequests)))
        body = dict(allOrNone=all_or_none, compositeRequest=subrequests)
        creates = any(sub.get("method", "GET").upper() == "POST" for sub in subrequests)
        result = self.call(lambda sf: sf.restful("composite", method="POST", json=body), action="run",
                           resource="composite request", safe_to_repeat=not creates, find_existing=find_existing)
        return dict((item["referenceId"], item) for item in (result or {}).get("compositeResponse", []))

    def composite_query(self, reference_id, soql_text):
        """A composite subrequest running a query."""
        return dict(method="GET", referenceId=reference_id,
                    url=self.rest_path("query/?%s" % urlencode({"q": soql_text})))

    def composite_body(self, responses, reference_id, action="read", sobject=None, resource=None):
        """The body of one composite subresponse; raises the mapped error when it failed."""
        item = responses.get(reference_id)
        if item is None:
            raise ApiError("The composite response has no result for %s" % reference_id)
        status = item.get("httpStatusCode")
        if status is not None and status >= 300:
            raise classify_api_error(status, item.get("body"), action=action, sobject=sobject,
                                     resource=resource or reference_id)
        return item.get("body")

    def composite_describe(self, reference_id, sobject):
        """A composite subrequest describing an sObject (many describes cost one request this way)."""
        return dict(method="GET", referenceId=reference_id, url=self.rest_path("sobjects/%s/describe" % sobject))

    def composite_records(self, responses, reference_id):
        """Every record of a composite query subresponse (later batches fetched); raises when it failed."""
        return self.more_records(self.composite_body(responses, reference_id, action="query", resource=reference_id))

    def sobject_subrequest(self, reference_id, method, sobject, record_id="", body=None):
        """A composite subrequest on one record: POST creates; PATCH and DELETE need record_id."""
        sub = dict(method=method, referenceId=reference_id, url=self.rest_path("sobjects/%s/%s" % (sobject, record_id)))
        if body is not None:
            sub["body"] = body
        return sub

    def collection_subrequest(self, reference_id, method, records=None, ids=None):
        """A composite subrequest for sObject Collections: POST/PATCH ``records`` or DELETE ``ids``."""
        if method == "DELETE":
            query = urlencode({"ids": ",".join(ids), "allOrNone": "true"})
            return dict(method="DELETE", referenceId=reference_id, url=self.rest_path("composite/sobjects?" + query))
        return dict(method=method, referenceId=reference_id, url=self.rest_path("composite/sobjects"),
                    body=dict(allOrNone=True, records=records))

    def composite_atomic(self, subrequests, action="save", find_existing=None):
        """Run writes in one all-or-none composite request; raise the failure that rolled it back."""
        responses = self.composite(subrequests, all_or_none=True, find_existing=find_existing)
        raise_for_composite(responses, subrequests, action)
        return responses

    def _collection(self, method, path, records, action, all_or_none, raise_on_error, find_existing=None):
        results = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start:start + COLLECTION_LIMIT]
            body = dict(allOrNone=all_or_none, records=chunk)
            answer = self.call(lambda sf: sf.restful(path, method=method, json=body), action=action,
                               resource="%d records" % len(chunk), safe_to_repeat=(method != "POST"),
                               find_existing=find_existing)
            results.extend(answer or [])
        if raise_on_error:
            raise_for_results(results, records, action)
        return results

    def create_records(self, records, all_or_none=True, raise_on_error=True, find_existing=None):
        """sObject Collections create; each record carries attributes.type. Returns the SaveResults."""
        return self._collection("POST", "composite/sobjects", records, "create", all_or_none, raise_on_error, find_existing)

    def update_records(self, records, all_or_none=True, raise_on_error=True):
        """sObject Collections update; each record carries attributes.type and Id."""
        return self._collection("PATCH", "composite/sobjects", records, "update", all_or_none, raise_on_error)

    def delete_records(self, ids, all_or_none=True, raise_on_error=True, sobject=None):
        """sObject Collections delete by id (up to 200 per request)."""
        results = []
        for start in range(0, len(ids), COLLECTION_LIMIT):
            chunk = ids[start:start + COLLECTION_LIMIT]
            params = {"ids": ",".join(chunk), "allOrNone": "true" if all_or_none else "false"}
            answer = self.call(lambda sf: sf.restful("composite/sobjects", params=params, method="DELETE"),
                               action="delete", resource="%d records" % len(chunk))
            results.extend(answer or [])
        if raise_on_error:
            raise_for_results(results, [dict(attributes=dict(type=sobject or "record"), Id=i) for i in ids], "delete")
        return results

    # ---- metadata ------------------------------------------------------------------------------

    @property
    def mdapi(self):
        """simple-salesforce's Metadata API client, with TLS, timeout and counting applied.

        zeep builds its own requests.Session; we swap in a transport over a session configured
        exactly like the REST one, so ca_path/validate_certs reach metadata calls too.
        """
        if self._mdapi is None:
            mdapi = self.sf.mdapi
            mdapi._client.transport = zeep.Transport(
                session=connection.new_http_session(self.params, self.counter),
                timeout=self.params.get("timeout"), operation_timeout=self.params.get("timeout"))
            self._mdapi = mdapi
        return self._mdapi

    def metadata(self, func, action="call", resource="metadata", safe_to_repeat=True, find_existing=None):
        """Run ``func(mdapi)`` with the same retries and error mapping as REST calls."""
        return self.call(lambda sf: func(self.mdapi), action=action, resource=resource,
                         safe_to_repeat=safe_to_repeat, find_existing=find_existing)


def _never_sent(exc):
    """True when the request cannot have reached Salesforce (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def raise_for_results(results, records, action):
    """Raise one ApiError naming every record whose SaveResult/DeleteResult failed."""
    failures = []
    for index, result in enumerate(results):
        if result.get("success", True):
            continue
        errors = result.get("errors") or []
        # With allOrNone the healthy siblings only report the rollback; name the real culprits.
        if errors and all(e.get("statusCode") == "ALL_OR_NONE_OPERATION_ROLLED_BACK" for e in errors):
            continue
        record = records[index] if index < len(records) else {}
        sobject = (record.get("attributes") or {}).get("type")
        failures.append(classify_api_error(None, errors, action=action, sobject=sobject, record=record,
                                           record_id=result.get("id")))
    if not failures:
        if any(not r.get("success", True) for r in results):
            raise ApiError("Salesforce rolled back the %s of %d records without naming a failed record" % (action, len(records)))
        return
    if len(failures) == 1:
        raise failures[0]
    first = failures[0]
    raise type(first)("; ".join(f.message for f in failures), status=first.status, error_code=first.error_code,
                      fields=first.fields, sobject=first.sobject, record=first.record)


def composite_succeeded(responses, reference_id):
    """Whether a composite subrequest succeeded (for optional ones, such as a lookup that may find nothing)."""
    item = responses.get(reference_id) or {}
    return (item.get("httpStatusCode") or 500) < 300


def is_halted(body):
    """True for a subrequest body that only reports the rollback another one caused (PROCESSING_HALTED)."""
    errors = body if isinstance(body, list) else [body]
    return bool(errors) and all(
        isinstance(e, dict) and (e.get("errorCode") or e.get("statusCode")) == "PROCESSING_HALTED" for e in errors)


def raise_for_composite(responses, subrequests, action):
    """Raise the mapped error of the subrequest (or collection record) that failed an all-or-none composite."""
    for sub in subrequests:
        item = responses.get(sub["referenceId"]) or {}
        status, body = item.get("httpStatusCode") or 0, item.get("body")
        if status >= 300 and not is_halted(body):
            raise classify_api_error(status, body, action=action, resource="(step %s)" % sub["referenceId"])
        if isinstance(body, list) and body and isinstance(body[0], dict) and "success" in body[0]:
            records = (sub.get("body") or {}).get("records") or []
            raise_for_results(body, records, action)
    if any((item.get("httpStatusCode") or 0) >= 300 for item in responses.values()):
        raise ApiError("Salesforce rolled back the composite request without naming the failed part")
