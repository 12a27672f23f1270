from __future__ import annotations

import pytest

from ansible_collections.sfops.integration.plugins.module_utils import errors


class TestClassify:
    @pytest.mark.parametrize("status, body, cls", [
        (401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], errors.SessionExpiredError),
        (400, [{"message": "unable to obtain exclusive access to this record", "errorCode": "UNABLE_TO_LOCK_ROW"}],
         errors.RecordLockedError),
        # one 3P fixture used 500 for the lock; the code decides
        (500, [{"message": "unable to obtain exclusive access to this record", "errorCode": "UNABLE_TO_LOCK_ROW"}],
         errors.RecordLockedError),
        (403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
         errors.RequestLimitError),
        (503, "Service Unavailable", errors.ServiceUnavailableError),
        (404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}], errors.NotFoundError),
        (400, [{"message": "duplicate value found: <unknown> duplicates value on record with id: <unknown>",
                "errorCode": "DUPLICATE_VALUE"}], errors.DuplicateError),
        # PSL seats: the code is UNVERIFIED, the text is documented
        (400, [{"message": "All Salesforce API Integration permission set licenses are in use. For more licenses, "
                           "contact your salesforce.com representative.", "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY"}],
         errors.LicenseLimitError),
        (400, [{"message": "License Limit Exceeded - Salesforce Integration", "errorCode": "LICENSE_LIMIT_EXCEEDED"}],
         errors.LicenseLimitError),
        (403, [{"message": "You do not have permission to view this record.", "errorCode": "INSUFFICIENT_ACCESS"}],
         errors.PermissionDeniedError),
        (400, [{"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING",
                "fields": ["LastName"]}], errors.ApiError),
    ])
    def test_class_follows_meaning(self, status, body, cls):
        assert errors.classify_api_error(status, body).__class__ is cls

    def test_message_names_record_and_field(self):
        error = errors.classify_api_error(
            400, [{"message": "Alias: data value too large: marketoint1 (max length=8)", "errorCode": "STRING_TOO_LONG",
                   "fields": ["Alias"]}],
            action="create", sobject="User", record={"Username": "marketo@acme.com", "Alias": "marketoint1"})
        assert error.message == ("Salesforce refused to create User 'marketo@acme.com' (HTTP 400): STRING_TOO_LONG on "
                                 "Alias: Alias: data value too large: marketoint1 (max length=8)")
        kwargs = error.fail_kwargs()
        assert kwargs["error_code"] == "STRING_TOO_LONG"
        assert kwargs["fields"] == ["Alias"]
        assert kwargs["record"] == "User 'marketo@acme.com'"

    def test_save_result_errors_use_status_code(self):
        error = errors.classify_api_error(None, [{"statusCode": "DUPLICATE_USERNAME", "message": "Duplicate Username.",
                                                  "fields": ["Username"]}],
                                          action="create", sobject="User", record={"Username": "a@b.c"})
        assert isinstance(error, errors.DuplicateError)
        assert "DUPLICATE_USERNAME on Username" in error.message

    def test_record_label_falls_back_to_id(self):
        assert errors.record_label("PermissionSet", {}, "0PS000") == "PermissionSet 0PS000"
        assert errors.record_label("PermissionSet", {"Name": "Marketo_API"}) == "PermissionSet 'Marketo_API'"

    def test_non_json_body_is_truncated(self):
        error = errors.classify_api_error(502, "x" * 2000, resource="query")
        assert len(error.message) < 700
