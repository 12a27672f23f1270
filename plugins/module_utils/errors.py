# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One exception taxonomy for everything that can go wrong talking to Salesforce.

Each error knows the keyword arguments it gives to ``fail_json``. Messages name the record and
the field when Salesforce tells us which, and never carry request headers or bodies (they can
hold tokens and passwords).

Answers are classified by their code first: ``errorCode`` in REST error bodies, ``statusCode``
in record results and Metadata API answers. The message text is read only where one code is
shared by different situations (see ``_by_text``), then the HTTP status decides.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ansible.module_utils.basic import missing_required_lib

# Error codes by meaning [ERRCODES, StatusCode enum of the WSDL].
LOCK_CODES = frozenset(["UNABLE_TO_LOCK_ROW"])
LIMIT_CODES = frozenset(["REQUEST_LIMIT_EXCEEDED"])
SESSION_CODES = frozenset(["INVALID_SESSION_ID"])
DUPLICATE_CODES = frozenset(["DUPLICATE_VALUE", "DUPLICATE_USERNAME", "DUPLICATE_COMM_NICKNAME", "DUPLICATE_DEVELOPER_NAME",
                             "DUPLICATE_MASTER_LABEL"])
NOT_FOUND_CODES = frozenset(["NOT_FOUND", "ENTITY_IS_DELETED"])
LICENSE_CODES = frozenset(["LICENSE_LIMIT_EXCEEDED"])
ACCESS_CODES = frozenset(["INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY"])

# A record that only reports the rollback another record caused (sObject Collections, allOrNone).
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
# A composite subrequest that only reports the rollback another subrequest caused.
PROCESSING_HALTED = "PROCESSING_HALTED"


class SalesforceError(Exception):
    """Base of every error raised by module_utils; modules catch only this."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def fail_kwargs(self) -> dict:
        """Keyword arguments for AnsibleModule.fail_json."""
        kwargs = dict(msg=self.message)
        kwargs.update(self.details)
        return kwargs


class InputError(SalesforceError):
    """The task's input cannot be carried out; nothing was written.

    ``problems`` lists every problem found together, each naming the option and the value, so
    that one run reports them all. Module code and module_utils raise it; only the module base
    turns it into ``fail_json``.
    """

    def __init__(self, problems: Any, prefix: Optional[str] = None, **details: Any) -> None:
        problems = [problems] if isinstance(problems, str) else [p for p in problems if p]
        message = "; ".join(problems)
        if prefix:
            message = "%s: %s" % (prefix, message)
        super().__init__(message, **details)
        self.problems = problems


class ConfigurationError(InputError):
    """The connection options do not make sense together (nothing was sent)."""


class MissingLibraryError(SalesforceError):
    """A Python library the task needs cannot be imported; reported like missing_required_lib, never raised raw."""

    def __init__(self, library: str, import_traceback: Optional[str] = None) -> None:
        super().__init__(missing_required_lib(library), exception=import_traceback)
        self.library = library


class LocalFileError(SalesforceError):
    """A file on the controller could not be written (disk full, a file system that refuses); named, never a traceback."""


def refuse(problems: Optional[Iterable[Optional[str]]], prefix: Optional[str] = None) -> None:
    """Raise InputError when ``problems`` (a list of messages; None entries are no problem) has one."""
    problems = [problem for problem in problems or [] if problem]
    if problems:
        raise InputError(problems, prefix=prefix)


class AuthenticationError(SalesforceError):
    """The login endpoint refused the credentials."""


class SalesforceConnectionError(SalesforceError):
    """No HTTP answer: DNS, refused connection, TLS failure, timeout or a dropped connection."""

    retryable = False  # the client sets it for transient transport failures (not TLS)


class OutcomeUnknownError(SalesforceConnectionError):
    """A create was sent but the connection dropped before the answer: it may or may not exist.

    The caller must look the record up by its natural key before trying again.
    """


class ApiError(SalesforceError):
    """Salesforce answered with an error status or a failed record result."""

    def __init__(self, message: str, status: Optional[int] = None, error_code: Optional[str] = None,
                 fields: Optional[list] = None, sobject: Optional[str] = None, record: Optional[str] = None,
                 errors: Optional[list] = None) -> None:
        super().__init__(message, status=status, error_code=error_code, fields=fields or None,
                         sobject=sobject, record=record, errors=errors)
        self.status = status
        self.error_code = error_code
        self.fields = list(fields or [])
        self.sobject = sobject
        self.record = record


class SessionExpiredError(ApiError):
    """INVALID_SESSION_ID / 401: the token is no longer valid."""


class RetryableError(ApiError):
    """A transient failure worth retrying with backoff."""


class RecordLockedError(RetryableError):
    """UNABLE_TO_LOCK_ROW: another transaction holds the row."""


class RequestLimitError(RetryableError):
    """REQUEST_LIMIT_EXCEEDED (403): daily or concurrent API limit."""


class ServiceUnavailableError(RetryableError):
    """503 (or another 5xx): overloaded or in maintenance."""


class NotFoundError(ApiError):
    """The record or resource does not exist."""


class DuplicateError(ApiError):
    """The record already exists (unique name, username or assignment)."""


class LicenseLimitError(ApiError):
    """No seats left on a user license or permission set license."""


class PermissionDeniedError(ApiError):
    """The logged-in user may not do this."""


class ReadDeniedError(PermissionDeniedError):
    """Reads refused for lack of access (client.read_records): ``denied`` is {referenceId: error}, in request order,
    so that a module can name what it needs to read for each."""

    def __init__(self, denied: dict) -> None:
        first = next(iter(denied.values()))
        super().__init__("; ".join(error.message for error in denied.values()), status=first.status,
                         error_code=first.error_code)
        self.denied = denied


CLASS_OF_CODE = dict(
    [(code, SessionExpiredError) for code in SESSION_CODES]
    + [(code, RecordLockedError) for code in LOCK_CODES]
    + [(code, RequestLimitError) for code in LIMIT_CODES]
    + [(code, LicenseLimitError) for code in LICENSE_CODES]
    + [(code, DuplicateError) for code in DUPLICATE_CODES]
    + [(code, NotFoundError) for code in NOT_FOUND_CODES]
    + [(code, PermissionDeniedError) for code in ACCESS_CODES]
)


def record_label(sobject: Optional[str], record: Optional[dict] = None, record_id: Optional[str] = None) -> str:
    """A human name for a record: ``User 'int.marketo@acme.com'`` or ``PermissionSet 0PS...``."""
    record = record or {}
    for key in ("Username", "Name", "DeveloperName", "fullName", "MasterLabel", "Field", "SobjectType"):
        value = record.get(key)
        if value:
            return "%s '%s'" % (sobject, value)
    ident = record_id or record.get("Id") or record.get("id")
    if ident:
        return "%s %s" % (sobject, ident)
    return sobject or "request"


def _normalise_errors(content: Any) -> list[dict]:
    """Salesforce error bodies are a list of {message, errorCode|statusCode, fields}."""
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return [dict(code=None, message=str(content or "").strip()[:500], fields=[])]
    errors = []
    for item in content:
        if not isinstance(item, dict):
            errors.append(dict(code=None, message=str(item)[:500], fields=[]))
            continue
        errors.append(dict(
            code=item.get("errorCode") or item.get("statusCode"),
            message=item.get("message") or "",
            fields=list(item.get("fields") or []),
        ))
    return errors


# Codes that do not say on their own what happened: the message text is read too (see _by_text).
SHARED_CODES = ACCESS_CODES


def _by_text(text: str) -> Optional[type]:
    """The class of an answer whose code is shared by different situations, or unknown, from its text.

    - Permission set license out of seats: Salesforce documents the text (Help KB 000390162,
      ``All <PSL> permission set licenses are in use. ...``) but not the code. LICENSE_LIMIT_EXCEEDED
      is likely (and classified by code); one report gives INSUFFICIENT_ACCESS_OR_READONLY, which a
      plain access refusal shares, so there the text decides.
    - Duplicate permission set license assignment: only the start of the text, ``duplicate value
      found``, is known from a real org (Salesforce's own CLI treats that prefix as "already
      assigned"); the code that comes with it is inferred. DUPLICATE_VALUE is classified by code;
      under any other code (FIELD_INTEGRITY_EXCEPTION covers many refusals) the prefix decides.
    """
    if "permission set licenses are in use" in text:
        return LicenseLimitError
    if text.startswith("duplicate value found"):
        return DuplicateError
    return None


def _by_status(status: Optional[int]) -> type:
    if status == 401:
        return SessionExpiredError
    if status is not None and status >= 500:
        return ServiceUnavailableError
    if status == 404:
        return NotFoundError
    if status == 403:
        return PermissionDeniedError
    return ApiError


def error_class(status: Optional[int], code: Optional[str], message: Optional[str]) -> type:
    """The ApiError subclass of an answer: by its code; by its text where the code is shared or unknown; by its status."""
    by_code = CLASS_OF_CODE.get(code)
    if by_code is not None and code not in SHARED_CODES:
        return by_code
    return _by_text((message or "").lower()) or by_code or _by_status(status)


def classify_api_error(status: Optional[int], content: Any, action: str = "call", sobject: Optional[str] = None,
                       record: Optional[dict] = None, record_id: Optional[str] = None,
                       resource: Optional[str] = None, what: Optional[str] = None) -> ApiError:
    """Turn an HTTP error answer (or failed record result) into the matching ApiError subclass.

    The message reads ``Salesforce refused to <what>``; ``what`` defaults to the action and the
    record (or resource) it was done to.
    """
    errors = _normalise_errors(content)
    first = errors[0] if errors else dict(code=None, message="", fields=[])
    cls = error_class(status, first["code"], first["message"])
    if what is None:
        what = "%s %s" % (action, record_label(sobject, record, record_id) if sobject else (resource or "Salesforce"))
    parts = []
    for err in errors:
        text = err["code"] or "error"
        if err["fields"]:
            text += " on %s" % ", ".join(err["fields"])
        if err["message"]:
            text += ": %s" % err["message"]
        parts.append(text)
    status_text = " (HTTP %s)" % status if status else ""
    message = "Salesforce refused to %s%s: %s" % (what, status_text, "; ".join(parts) or "no details")
    return cls(
        message,
        status=status,
        error_code=first["code"],
        fields=first["fields"],
        sobject=sobject,
        record=record_label(sobject, record, record_id) if sobject else None,
        errors=errors if len(errors) > 1 else None,
    )


def combine(failures: list[ApiError]) -> ApiError:
    """One error naming every failure (of the class of the first): what a batch of writes raises."""
    if len(failures) == 1:
        return failures[0]
    first = failures[0]
    combined = type(first)("; ".join(f.message for f in failures), status=first.status, error_code=first.error_code,
                           fields=first.fields, sobject=first.sobject, record=first.record)
    combined.failures = list(failures)
    return combined


def is_duplicate(error: Exception) -> bool:
    """True when every refusal the error stands for says "it already exists" (by its code: DUPLICATE_CODES)."""
    return all(isinstance(part, DuplicateError) for part in getattr(error, "failures", None) or [error])


def is_halted(body: Any) -> bool:
    """True for a subrequest body that only reports the rollback another one caused (PROCESSING_HALTED)."""
    errors = body if isinstance(body, list) else [body]
    return bool(errors) and all(
        isinstance(e, dict) and (e.get("errorCode") or e.get("statusCode")) == PROCESSING_HALTED for e in errors)


def only_rolled_back(result: dict) -> bool:
    """True for a failed record result that only reports the rollback another record caused."""
    errors = result.get("errors") or []
    return bool(errors) and all(e.get("statusCode") == ROLLED_BACK for e in errors)
