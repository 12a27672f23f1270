"""sf_profile_password_policy: value mapping, validation, names and matching, the change record."""
from __future__ import annotations

import pytest
from module_double import recording_client, salesforce_module, same_record

from ansible_collections.sfops.integration.plugins.module_utils import errors, metadata
from ansible_collections.sfops.integration.plugins.modules import sf_profile_password_policy as ppp

RECORD = dict(fullName="Integration_Only_profilePasswordPolicy1700000000000", forgotPasswordRedirect=None,
              lockoutInterval=30, maxLoginAttempts=10, minimumPasswordLength=16, minimumPasswordLifetime=True,
              obscure=None, passwordComplexity=4, passwordExpiration=0, passwordHistory=0, passwordQuestion=1,
              profile="integration only")


def params(**given):
    values = dict((option, None) for option in ppp.FIELDS)
    values.update(profile="Integration Only", state="present")
    values.update(given)
    return values


def test_record_to_readable_and_back():
    # The profile keeps the org's spelling (here lower case), so a write sends back what the org knows.
    policy = ppp.from_record(RECORD, "Integration Only")
    assert policy == dict(
        profile=RECORD["profile"], full_name=RECORD["fullName"], forgot_password_redirect=False, lockout_interval=30,
        max_login_attempts=10, minimum_password_length=16, minimum_password_lifetime=True, obscure=False,
        password_complexity="upper_lower_numeric_special", password_expiration="never", password_history=0,
        password_question="cannot_contain_password")
    record = ppp.to_record(policy)
    assert record == dict(RECORD, forgotPasswordRedirect=False, obscure=False)
    assert ppp.from_record(dict(RECORD, profile=None), "Integration Only")["profile"] == "Integration Only"


@pytest.mark.parametrize("value, name", list(enumerate(ppp.COMPLEXITY)))
def test_every_complexity_value_has_a_name(value, name):
    policy = ppp.from_record(dict(RECORD, passwordComplexity=value), "P")
    assert policy["password_complexity"] == name
    assert ppp.to_record(policy)["passwordComplexity"] == value


def test_unknown_values_from_the_org_are_kept():
    policy = ppp.from_record(dict(RECORD, passwordComplexity=7, passwordQuestion=2), "P")
    assert (policy["password_complexity"], policy["password_question"]) == (7, 2)
    assert ppp.to_record(policy)["passwordComplexity"] == 7


@pytest.mark.parametrize("value, expected", [
    ("never", "never"), ("Never", "never"), (0, "never"), ("0", "never"), (30, 30), ("90", 90), (180, 180),
    (365, 365),
])
def test_expiration_values(value, expected):
    assert ppp.parse_expiration(value) == expected


@pytest.mark.parametrize("value", [45, "45", "", "always", True, -30, 3650, "90 days"])
def test_expiration_rejects(value):
    with pytest.raises(ValueError):
        ppp.parse_expiration(value)


def test_expiration_is_written_as_zero_for_never():
    assert ppp.to_record(dict(ppp.CREATE_DEFAULTS, profile="P", full_name="n",
                              password_expiration="never"))["passwordExpiration"] == 0


@pytest.mark.parametrize("given, message", [
    (dict(password_expiration=45), "password_expiration must be never or one of 30, 60, 90, 180, 365 (days); got 45"),
    (dict(password_history=25), "password_history must be between 0 and 24; got 25"),
    (dict(password_history=-1), "password_history must be between 0 and 24; got -1"),
    (dict(minimum_password_length=4), "minimum_password_length must be between 5 and 50; got 4"),
    (dict(minimum_password_length=51), "minimum_password_length must be between 5 and 50; got 51"),
    (dict(password_history=0, password_expiration=90),
     "password_history 0 (no passwords remembered) requires password_expiration: never; got password_expiration: 90"),
])
def test_invalid_options(given, message):
    _desired, errors = ppp.desired_policy(params(**given))
    assert errors == [message]


def test_every_bad_option_is_named_at_once():
    _desired, errors = ppp.desired_policy(params(password_expiration="soon", minimum_password_length=3))
    assert [e.split()[0] for e in errors] == ["password_expiration", "minimum_password_length"]


def test_valid_options_become_readable_values():
    desired, errors = ppp.desired_policy(params(password_expiration="0", password_history=0, lockout_interval=30))
    assert errors == []
    assert desired["password_expiration"] == "never"
    assert desired["lockout_interval"] == 30
    assert desired["obscure"] is None  # not given: kept as it is


def test_history_rule_against_the_current_policy():
    current = dict(ppp.CREATE_DEFAULTS, profile="P", password_expiration=90)
    error = ppp.history_rule_error(dict(current, password_history=0), dict(password_history=0))
    assert "password_history 0" in error and "set password_expiration: never too" in error
    current = dict(ppp.CREATE_DEFAULTS, profile="P", password_expiration="never", password_history=0)
    error = ppp.history_rule_error(dict(current, password_expiration=30), dict(password_expiration=30))
    assert error.startswith("password_expiration 30 needs password_history above 0")
    assert ppp.history_rule_error(dict(current, password_history=5, password_expiration=30),
                                  dict(password_history=5, password_expiration=30)) is None


def test_create_defaults_are_valid_and_complete():
    assert set(ppp.CREATE_DEFAULTS) == set(ppp.FIELDS)
    _desired, errors = ppp.desired_policy(params(**ppp.CREATE_DEFAULTS))
    assert errors == []


@pytest.mark.parametrize("profile, stem", [
    ("Integration Only", "Integration_Only"),
    ("E-Bikes Profile", "E_Bikes_Profile"),
    ("Minimum Access - API Only Integrations", "Minimum_Access_API_Only_Integrations"),
    ("  Ünïcode (EU) ", "n_code_EU"),
    ("2024 Integrations", "Profile_2024_Integrations"),
    ("---", "Profile"),
])
def test_new_full_name(profile, stem):
    assert ppp.new_full_name(profile, millis=1672084508523) == stem + "_profilePasswordPolicy1672084508523"


def test_new_full_name_uses_the_clock():
    assert ppp.GENERATED_NAME.match(ppp.new_full_name("P"))


def test_candidates_put_other_profiles_last():
    names = ["Integration_Only_profilePasswordPolicy1", "integration_only_profilePasswordPolicy2",
             "Integration%20Only_profilePasswordPolicy3", "Sales_profilePasswordPolicy4", "deployed_policy"]
    likely, rest = ppp.split_candidates(names, "Integration Only")
    assert likely == names[:3] + ["deployed_policy"]
    assert rest == ["Sales_profilePasswordPolicy4"]


def test_policy_matched_without_case_or_encoding():
    records = [dict(RECORD, profile="Sales"), dict(RECORD, profile="INTEGRATION%20ONLY", fullName="x")]
    assert ppp.match_policy(records, "Integration Only")["fullName"] == "x"
    assert ppp.match_policy([dict(RECORD, profile=None)], "Integration Only") is None


def test_diff_view_leaves_out_the_generated_name():
    assert ppp.diff_view(dict(full_name="n", obscure=False)) == dict(obscure=False)
    assert ppp.diff_view(None) == {}


# ---- module_utils/metadata.py ----------------------------------------------------------------------

def test_save_errors_parsed_from_simple_salesforce_text():
    text = ("\nP_profilePasswordPolicy1: (DUPLICATE_VALUE, A password policy with this profile already exists.), "
            "\nP_profilePasswordPolicy1: (FIELD_INTEGRITY_EXCEPTION, passwordHistory: bad (value), x), ")
    assert metadata.parse_save_errors(text) == [
        dict(statusCode="DUPLICATE_VALUE", message="A password policy with this profile already exists.",
             fullName="P_profilePasswordPolicy1"),
        dict(statusCode="FIELD_INTEGRITY_EXCEPTION", message="passwordHistory: bad (value), x",
             fullName="P_profilePasswordPolicy1"),
    ]
    assert metadata.parse_save_errors("something else") == []


def test_chunks_of_ten():
    assert [len(c) for c in metadata.chunks(range(23))] == [10, 10, 3]
    assert metadata.chunks([]) == []


class FakeType:
    """sf.mdapi.<Type>: builds records, and its create/delete fail like simple-salesforce."""

    def __init__(self, failure):
        self.failure = failure

    def __call__(self, **fields):
        return fields

    def create(self, records):
        raise self.failure

    delete = create


class FakeClient:
    def __init__(self, failure):
        self.md = type("MD", (), {"ProfilePasswordPolicy": FakeType(failure)})()
        self.calls = []

    def metadata(self, func, **context):
        self.calls.append(context)
        return func(self.md)


def test_failed_save_becomes_an_api_error_naming_the_policy():
    client = FakeClient(Exception("\nP_1: (DUPLICATE_VALUE, A password policy with this profile already exists.), "))
    with pytest.raises(errors.DuplicateError) as caught:
        metadata.save(client, "ProfilePasswordPolicy", "create", dict(fullName="P_1", profile="P"))
    assert caught.value.message == ("Salesforce refused to create ProfilePasswordPolicy 'P_1': DUPLICATE_VALUE: "
                                    "A password policy with this profile already exists.")
    assert client.calls == [dict(action="create", resource="ProfilePasswordPolicy metadata", safe_to_repeat=False,
                                 find_existing=None, write=True)]


def test_other_failures_reach_the_client_untouched():
    client = FakeClient(ValueError("zeep validation"))
    with pytest.raises(ValueError):
        metadata.delete(client, "ProfilePasswordPolicy", ["P_1"])


# ---- the change record, from the module's own plan -------------------------------------------------------------


def policy_module(check_mode, client, **given):
    options = dict((option, value) for option, value in params(**given).items() if value is not None)
    return salesforce_module(ppp.ARGUMENT_SPEC, client, check_mode, **options)


def present(check_mode, current, **given):
    client = recording_client(check_mode)
    module = policy_module(check_mode, client, **given)
    result = ppp.present(module, "Integration Only", current, ppp.desired_policy(module.params)[0])
    assert bool(client.sent) == (result["changed"] and not check_mode), client.sent
    return result


def absent(check_mode, current):
    client = recording_client(check_mode)
    result = ppp.absent(policy_module(check_mode, client, state="absent"), current)
    assert bool(client.sent) == (result["changed"] and not check_mode), client.sent
    return result


CURRENT = ppp.from_record(RECORD, "Integration Only")


def test_record_of_a_new_policy_lists_every_value_it_gets():
    result = same_record(lambda check, current: present(check, current, minimum_password_length=16), None)
    change = result["change"]
    assert change["kind"] == "password_policy" and change["name"] == "Integration Only" and change["action"] == "create"
    assert "minimum_password_length: 16" in change["details"] and "password_expiration: 90" in change["details"]
    assert "profile: Integration Only" in change["details"] and not any("full_name" in d for d in change["details"])
    assert result["policy"]["full_name"].startswith("Integration_Only_profilePasswordPolicy")


def test_record_of_an_update_names_each_value_that_changes():
    change = same_record(lambda check, current: present(check, current, lockout_interval=60, minimum_password_length=20),
                         CURRENT)["change"]
    assert change["action"] == "update"
    assert change["details"] == ["lockout_interval: 30 -> 60", "minimum_password_length: 16 -> 20"]


def test_record_of_an_unchanged_policy_says_none():
    result = same_record(lambda check, current: present(check, current, minimum_password_length=16), CURRENT)
    assert result["change"]["action"] == "none" and result["change"]["details"] == [] and result["changed"] is False


def test_record_of_a_delete():
    change = same_record(absent, CURRENT)["change"]
    assert change["action"] == "delete" and "minimum_password_length: 16 -> none" in change["details"]
    assert same_record(absent, None)["change"]["action"] == "none"


def test_bad_options_are_refused_together_before_any_request():
    client = recording_client()
    with pytest.raises(errors.InputError) as refused:
        ppp.run(policy_module(False, client, password_expiration="soon", password_history=30, minimum_password_length=3))
    assert refused.value.problems == [
        "password_expiration must be never or one of 30, 60, 90, 180, 365 (days); got 'soon'",
        "password_history must be between 0 and 24; got 30",
        "minimum_password_length must be between 5 and 50; got 3",
    ]
    assert client.sent == [] and client.api_requests == 0
