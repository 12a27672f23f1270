# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One exception taxonomy for everything that can go wrong talking to Salesforce.

Each error knows the keyword arguments it gives to ``fail_json``. Messages name the record and
the field when Salesforce tells us which, and never carry request headers or bodies (they can
hold tokens and passwords).
"""

from __future__ import annotations

# Error codes matched by meaning. Where the reference marks a code UNVERIFIED, the message
# text is matched too (see classify_api_error).
LOCK_CODES = frozenset(["UNABLE_TO_LOCK_ROW"])
LIMIT_CODES = frozenset(["REQUEST_LIMIT_EXCEEDED"])
SESSION_CODES = frozenset(["INVALID_SESSION_ID"])
DUPLICATE_CODES = frozenset(["DUPLICATE_VALUE", "DUPLICATE_USERNAME", "DUPLICATE_COMM_NICKNAME", "DUPLICATE_DEVELOPER_NAME"])
NOT_FOUND_CODES = frozenset(["NOT_FOUND", "ENTITY_IS_DELETED"])
LICENSE_CODES = frozenset(["LICENSE_LIMIT_EXCEEDED"])
ACCESS_CODES = frozenset(["INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY"])


class SalesforceError(Exception):
    """Base of every error raised by module_utils; modules catch only this."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def fail_kwargs(self):
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

    def __init__(self, problems, prefix=None, **details):
        problems = [problems] if isinstance(problems, str) else [p for p in problems if p]
        message = "; ".join(problems)
        if prefix:
            message = "%s: %s" % (prefix, message)
        super().__init__(message, **details)
        self.problems = problems


class ConfigurationError(InputError):
    """The connection options do not make sense together (nothing was sent)."""


def refuse(problems, prefix=None):
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

    def __init__(self, message, status=None, error_code=None, fields=None, sobject=None, record=None, errors=None):
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
    """No seats left on a user licence or permission set licence."""


class PermissionDeniedError(ApiError):
    """The logged-in user may not do this."""


def record_label(sobject, record=None, record_id=None):
    """A human name for a record: ``User 'int.marketo@acme.com'`` or ``PermissionSet 0PS...``."""
    record = record or {}
    for key in ("Username", "Name", "DeveloperName", "fullName", "MasterLabel"):
        value = record.get(key)
        if value:
            return "%s '%s'" % (sobject, value)
    ident = record_id or record.get("Id") or record.get("id")
    if ident:
        return "%s %s" % (sobject, ident)
    return sobject or "request"


def _normalise_errors(content):
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


def _error_class(status, code, message):
    text = (message or "").lower()
    if code in SESSION_CODES or status == 401:
        return SessionExpiredError
    if code in LOCK_CODES or "unable to obtain exclusive access" in text:
        return RecordLockedError
    if code in LIMIT_CODES or (status == 403 and "limit exceeded" in text):
        return RequestLimitError
    if status is not None and status >= 500:
        return ServiceUnavailableError
    # LICENSE_LIMIT_EXCEEDED for users; PSL seats are UNVERIFIED, matched on the documented text.
    if code in LICENSE_CODES or "licenses are in use" in text or "license limit exceeded" in text:
        return LicenseLimitError
    # PSL duplicates: only the message prefix is verified ("duplicate value found").
    if code in DUPLICATE_CODES or text.startswith("duplicate value found") or text.startswith("duplicate "):
        return DuplicateError
    if code in NOT_FOUND_CODES or status == 404:
        return NotFoundError
    if code in ACCESS_CODES or status == 403:
        return PermissionDeniedError
    return ApiError


def classify_api_error(status, content, action="call", sobject=None, record=None, record_id=None, resource=None):
    """Turn an HTTP error answer (or failed record result) into the matching ApiError subclass."""
    errors = _normalise_errors(content)
    first = errors[0] if errors else dict(code=None, message="", fields=[])
    cls = _error_class(status, first["code"], first["message"])
    target = record_label(sobject, record, record_id) if sobject else (resource or "Salesforce")
    parts = []
    for err in errors:
        text = err["code"] or "error"
        if err["fields"]:
            text += " on %s" % ", ".join(err["fields"])
        if err["message"]:
            text += ": %s" % err["message"]
        parts.append(text)
    status_text = " (HTTP %s)" % status if status else ""
    message = "Salesforce refused to %s %s%s: %s" % (action, target, status_text, "; ".join(parts) or "no details")
    return cls(
        message,
        status=status,
        error_code=first["code"],
        fields=first["fields"],
        sobject=sobject,
        record=record_label(sobject, record, record_id) if sobject else None,
        errors=errors if len(errors) > 1 else None,
    )
