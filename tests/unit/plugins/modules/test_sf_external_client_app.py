"""Pure logic of sf_external_client_app: input checks, the app's readable view, what to write, the change record."""
from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from module_double import recording_client, salesforce_module, same_record

from ansible_collections.sfops.integration.plugins.module_utils.change import change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.modules import sf_external_client_app as mod


def certificate(name="marketo"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


CERTIFICATE = certificate()
PREAUTHORISED = dict(commaSeparatedPermissionSet="0PS000000000001AAA", commaSeparatedProfile=None)


def params(**given):
    values = dict((name, None) for name in mod.ARGUMENT_SPEC)
    values.update(state="present", return_consumer_secret=False, name="Marketo_Integration")
    values.update(given)
    return values


class Names:
    """OrgNames stand-in: permission set and profile ids by name."""

    def names_of(self, comma_separated):
        return sorted({"0PS000000000001": "Marketo_Sync"}.get(i[:15], i) for i in mod._split(comma_separated))


def parts(**policies):
    """The four components of an existing JWT app, as readMetadata gives them back after the module wrote them."""
    app = "Marketo_Integration"
    return {
        mod.APP: dict(fullName=app, label=app, contactEmail="ops@acme.example", distributionState="Local"),
        mod.GLOBAL: dict(fullName=app + "_glbloauth", label=app, externalClientApplication=app, certificate=CERTIFICATE,
                         callbackUrl=mod.DEFAULT_CALLBACK, consumerKey="3MVG9key", isClientCredentialsFlowEnabled=False),
        mod.OAUTH: dict(fullName=app + "_oauth", label=app, externalClientApplication=app, commaSeparatedOauthScopes="Api"),
        mod.POLICIES: dict(dict(fullName=app + "_oauthPlcy", label=app, externalClientApplication=app,
                                permittedUsersPolicyType=mod.ADMIN_APPROVED, commaSeparatedPermissionSet="0PS000000000001AAA",
                                isClientCredentialsFlowEnabled=False, ipRelaxationPolicyType="Enforce",
                                refreshTokenPolicyType="Zero"), **policies),
    }


@pytest.mark.parametrize("name", ["2bad", "bad__name", "bad_", "with space", "x" * 81])
def test_bad_api_names_are_refused(name):
    assert any("is not a valid API name" in p for p in mod.option_problems(params(name=name)))


def test_every_problem_is_named_together():
    problems = mod.option_problems(params(flows=["jwt", "client_credentials"], certificate="MIIB", scopes=["api", "nope"],
                                          contact_email="not-an-email", session_timeout=-1))
    assert problems == [
        "contact_email 'not-an-email' is not an email address",
        "certificate is not a PEM-encoded X.509 certificate (it must start with -----BEGIN CERTIFICATE-----)",
        "flows: client_credentials needs run_as_user (the integration user's username)",
        "unknown scope(s) 'nope'; scopes are " + ", ".join(mod.SCOPES),
        "session_timeout must be 0 or more minutes; got -1",
    ]


def test_jwt_needs_a_certificate_and_absent_needs_nothing_else():
    assert mod.option_problems(params(flows=["jwt"])) == [
        "flows: jwt needs certificate (the PEM certificate of the integration's key)"]
    assert mod.option_problems(params(state="absent", flows=[], certificate="x")) == []


@pytest.mark.parametrize("given, expected", [("api", "Api"), ("refresh_token", "RefreshToken"), ("OpenID", "OpenID"),
                                             ("chatter_api", "Chatter"), ("id", "Basic"), ("full", "Full")])
def test_scopes_by_either_name(given, expected):
    assert mod.scope_name(given) == expected


def test_view_of_an_app_reads_flows_names_and_the_certificate_fingerprint():
    view = mod.view(parts(), Names())
    assert view["flows"] == ["jwt"] and view["permission_sets"] == ["Marketo_Sync"]
    assert view["permitted_users"] == "admin_approved" and view["ip_relaxation"] == "enforce"
    assert view["certificate"]["subject"] == "CN=marketo" and len(view["certificate"]["fingerprint_sha256"]) == 64
    assert CERTIFICATE not in repr(view)


def test_a_new_app_needs_a_contact_and_a_flow():
    with pytest.raises(InputError, match="contact_email is required"):
        mod.desired_view(params(flows=["jwt"], certificate=CERTIFICATE), {})
    with pytest.raises(InputError, match="flows is required"):
        mod.desired_view(params(contact_email="ops@acme.example"), {})


def test_options_not_given_keep_the_app_as_it_is_and_nothing_is_written():
    current = mod.view(parts(), Names())
    after = mod.desired_view(params(), current)
    assert after == dict(current, permitted_users="admin_approved")
    assert mod.components(params(), after, parts(), PREAUTHORISED) == {}
    record = change_record("external_client_app", "Marketo_Integration", "none", current, after)
    assert record["action"] == "none" and record["details"] == []


def test_a_policy_change_writes_the_policies_only_and_says_what_changed():
    current = mod.view(parts(), Names())
    after = mod.desired_view(params(ip_relaxation="bypass"), current)
    writes = mod.components(params(ip_relaxation="bypass"), after, parts(), PREAUTHORISED)
    assert list(writes) == [mod.POLICIES] and writes[mod.POLICIES]["ipRelaxationPolicyType"] == "Bypass"
    assert writes[mod.POLICIES]["commaSeparatedPermissionSet"] == "0PS000000000001AAA"
    record = change_record("external_client_app", "Marketo_Integration", "update", mod.compared(current),
                           mod.compared(after))
    assert record["details"] == ["ip_relaxation: enforce -> bypass"]


def test_switching_to_client_credentials_sets_both_switches_and_the_run_as_user():
    current = mod.view(parts(), Names())
    given = params(flows=["client_credentials"], run_as_user="Int.Marketo@Acme.example")
    after = mod.desired_view(given, current)
    assert after["flows"] == ["client_credentials"] and after["certificate"] is None
    assert after["run_as_user"] == "int.marketo@acme.example"
    writes = mod.components(given, after, parts(), PREAUTHORISED)
    assert "certificate" not in writes[mod.GLOBAL] and writes[mod.GLOBAL]["isClientCredentialsFlowEnabled"] is True
    assert writes[mod.POLICIES]["isClientCredentialsFlowEnabled"] is True
    assert writes[mod.POLICIES]["clientCredentialsFlowUser"] == "int.marketo@acme.example"
    assert writes[mod.GLOBAL]["consumerKey"] == "3MVG9key", "the consumer key is sent back as it is (create-only)"


def test_the_form_of_pre_authorisation_is_learnt_from_what_the_policies_hold():
    assert mod.held_by_name({}) is None
    assert mod.held_by_name(dict(commaSeparatedPermissionSet="0PS000000000001AAA", commaSeparatedProfile="00e000000000001")) is False
    assert mod.held_by_name(dict(commaSeparatedPermissionSet="Marketo_Sync")) is True
    records = dict(permission_sets=[dict(Id="0PS000000000001AAA", Name="Marketo_Sync")], profiles=[])
    assert mod.preauthorisation(records, False) == PREAUTHORISED
    assert mod.preauthorisation(records, True) == dict(commaSeparatedPermissionSet="Marketo_Sync", commaSeparatedProfile=None)


def test_policies_that_let_in_the_wanted_sets_keep_them_as_the_org_spells_them():
    held = parts(commaSeparatedPermissionSet="Marketo_Sync")
    current = mod.view(held, Names())
    after = mod.desired_view(params(ip_relaxation="bypass"), current)
    writes = mod.components(params(ip_relaxation="bypass"), after, held, PREAUTHORISED, same_preauthorisation=True)
    assert writes[mod.POLICIES]["commaSeparatedPermissionSet"] == "Marketo_Sync"
    assert mod.components(params(), mod.desired_view(params(), current), held, PREAUTHORISED, True) == {}


# ---- the change record of a whole run, in check mode and not ------------------------------------------------

MARKETO_SYNC = dict(done=True, totalSize=1, records=[dict(Id="0PS000000000001AAA", Name="Marketo_Sync")])


def app_run(check_mode, existing=None, **given):
    """mod.run against an org holding the app's components ``existing`` (or none) and the set Marketo_Sync."""
    components = dict((md_type, {part["fullName"]: dict(part)}) for md_type, part in (existing or {}).items())
    client = recording_client(check_mode, components, sets=MARKETO_SYNC, current_sets=MARKETO_SYNC,
                              **{"SELECT Name FROM PermissionSet": MARKETO_SYNC})
    options = dict((name, value) for name, value in params(**given).items() if value is not None)
    result = mod.run(salesforce_module(mod.ARGUMENT_SPEC, client, check_mode, **options))
    writes = [sub for request in client.sent for sub in request if sub["method"] != "GET"]
    assert bool(writes) == (result["changed"] and not check_mode), writes
    return result


NEW_APP = dict(contact_email="ops@acme.example", flows=["jwt"], certificate=CERTIFICATE, permission_sets=["Marketo_Sync"])


def test_record_of_a_new_app_lists_what_it_gets():
    change = same_record(lambda check: app_run(check, **NEW_APP))["change"]
    assert change["kind"] == "external_client_app" and change["name"] == "Marketo_Integration"
    assert change["action"] == "create"
    for line in ("contact_email: ops@acme.example", "flows: jwt", "permission_sets: Marketo_Sync", "scopes: Api",
                 "permitted_users: admin_approved"):
        assert line in change["details"], (line, change["details"])
    assert not any(line.startswith("consumer_key") for line in change["details"])


def test_record_of_an_update_names_what_changed():
    change = same_record(lambda check: app_run(check, parts(), ip_relaxation="bypass", scopes=["api", "refresh_token"]))
    assert change["change"]["action"] == "update"
    assert change["change"]["details"] == ["scopes: + RefreshToken", "ip_relaxation: enforce -> bypass"]


def test_record_of_an_unchanged_app_says_none():
    result = same_record(lambda check: app_run(check, parts(), permission_sets=["Marketo_Sync"]))
    assert result["change"]["action"] == "none" and result["change"]["details"] == [] and result["changed"] is False


def test_record_of_a_delete():
    change = same_record(lambda check: app_run(check, parts(), state="absent"))["change"]
    assert change["action"] == "delete" and "name: Marketo_Integration -> none" in change["details"]
    assert same_record(lambda check: app_run(check, None, state="absent"))["change"]["action"] == "none"


def test_what_a_new_app_lacks_and_unknown_names_come_in_one_refusal():
    with pytest.raises(InputError) as refused:
        app_run(False, permission_sets=["Marketo_Sinc"])
    assert refused.value.problems == [
        "contact_email is required to create External Client App Marketo_Integration",
        "flows is required to create External Client App Marketo_Integration (jwt, client_credentials or both)",
        "External Client App Marketo_Integration: permission_sets: 'Marketo_Sinc' does not exist in this org "
        "(did you mean Marketo_Sync?)",
    ]
