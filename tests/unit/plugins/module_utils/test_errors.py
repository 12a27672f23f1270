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


# A duplicate PermissionSetAssignment as a real org answers it (15-character ids, two spaces after the first period).
REAL_DUPLICATE_ASSIGNMENT = dict(
    statusCode="DUPLICATE_VALUE", fields=["AssigneeId", "PermissionSetId"],
    message="Duplicate PermissionSetAssignment.  Assignee: 0055g00000AbCdE; Permission Set: 0PS5g000000XyZa")
# Help KB 000390162's text for a permission set license without free seats.
PSL_SEATS_TEXT = ("All Salesforce API Integration permission set licenses are in use. For more licenses, contact your "
                  "salesforce.com representative.")


class TestCodeFirst:
    """The code decides; the text only where a code is shared by different situations (errors._by_text)."""

    def test_duplicate_assignment_in_a_real_org_s_words(self):
        error = errors.classify_api_error(None, [REAL_DUPLICATE_ASSIGNMENT], action="assign",
                                          sobject="PermissionSetAssignment")
        assert isinstance(error, errors.DuplicateError)
        assert error.fields == ["AssigneeId", "PermissionSetId"]
        assert "DUPLICATE_VALUE on AssigneeId, PermissionSetId: Duplicate PermissionSetAssignment.  Assignee" \
            in error.message

    def test_duplicate_value_in_other_words_is_still_a_duplicate(self):
        other = dict(REAL_DUPLICATE_ASSIGNMENT, message="This user already has this permission set.")
        assert isinstance(errors.classify_api_error(None, [other]), errors.DuplicateError)

    def test_duplicate_wording_under_a_shared_code(self):
        # The code of a duplicate permission set license assignment is inferred; its text is not.
        text = "duplicate value found: <unknown> duplicates value on record with id: <unknown>"
        assert isinstance(errors.classify_api_error(400, [dict(errorCode="FIELD_INTEGRITY_EXCEPTION", message=text)]),
                          errors.DuplicateError)
        assert errors.classify_api_error(400, [dict(errorCode="FIELD_INTEGRITY_EXCEPTION",
                                                    message="Duplicate of nothing in particular")]).__class__ \
            is errors.ApiError

    def test_words_do_not_override_a_code_that_says_it_alone(self):
        locked = dict(errorCode="UNABLE_TO_LOCK_ROW", message="duplicate value found: but locked")
        assert isinstance(errors.classify_api_error(400, [locked]), errors.RecordLockedError)
        # The lock's text without its code is no lock.
        assert errors.classify_api_error(400, [dict(errorCode="FIELD_INTEGRITY_EXCEPTION", message=(
            "unable to obtain exclusive access to this record"))]).__class__ is errors.ApiError

    @pytest.mark.parametrize("code", ["LICENSE_LIMIT_EXCEEDED", "INSUFFICIENT_ACCESS_OR_READONLY", None])
    def test_psl_seats_in_the_documented_words_under_any_code(self, code):
        assert isinstance(errors.classify_api_error(400, [dict(errorCode=code, message=PSL_SEATS_TEXT)]),
                          errors.LicenseLimitError)

    def test_psl_seats_in_other_words(self):
        # LICENSE_LIMIT_EXCEEDED says it alone; the shared access code in other words is an access refusal.
        assert isinstance(errors.classify_api_error(400, [dict(errorCode="LICENSE_LIMIT_EXCEEDED", message=(
            "No more seats on Salesforce API Integration"))]), errors.LicenseLimitError)
        assert isinstance(errors.classify_api_error(400, [dict(errorCode="INSUFFICIENT_ACCESS_OR_READONLY", message=(
            "insufficient access rights on object id"))]), errors.PermissionDeniedError)

    def test_a_taken_permission_set_label_and_name(self):
        # A real org's answer to a permission set whose label and API name are both taken (3P CumulusCI#3045).
        error = errors.classify_api_error(400, [
            dict(message="The label you entered is in use. Enter a unique label.", errorCode="DUPLICATE_MASTER_LABEL",
                 fields=["Label"]),
            dict(message="The API name you entered is already in use. Enter a unique API name.",
                 errorCode="DUPLICATE_DEVELOPER_NAME", fields=["Name"])], action="create", sobject="PermissionSet")
        assert isinstance(error, errors.DuplicateError)

    def test_metadata_answers_are_classified_by_status_code(self):
        error = errors.classify_api_error(None, [dict(statusCode="DUPLICATE_DEVELOPER_NAME", message="taken",
                                                      fullName="Marketo_Integration")], action="create",
                                          sobject="ExternalClientApplication")
        assert isinstance(error, errors.DuplicateError)

    def test_status_decides_without_a_known_code(self):
        assert isinstance(errors.classify_api_error(403, [dict(errorCode="API_DISABLED_FOR_ORG", message="x")]),
                          errors.PermissionDeniedError)
        assert isinstance(errors.classify_api_error(502, "Bad Gateway"), errors.ServiceUnavailableError)
        assert isinstance(errors.classify_api_error(403, [dict(errorCode="REQUEST_LIMIT_EXCEEDED",
                                                               message="ConcurrentRequests")]), errors.RequestLimitError)


def test_missing_library_fails_like_missing_required_lib():
    kwargs = errors.MissingLibraryError("zeep", "Traceback ...").fail_kwargs()
    assert "zeep" in kwargs["msg"] and kwargs["exception"] == "Traceback ..."
