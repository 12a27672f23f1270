"""sf_session and the connection layer, end to end through ansible-playbook against the emulator.

One playbook run at -vvvv covers every auth flow and failure case, so the same output is also
searched for leaked secrets.
"""
from __future__ import annotations

import socket

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness import connection_args, org_secrets, result_var, run_playbook

SESSION = "sfops.integration.sf_session"
ORG_INFO = "sfops.integration.sf_org_info"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unregistered_key(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "wrong-key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return str(path)


@pytest.fixture(scope="module")
def flows_run(emulator, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("flows")
    org = "org1"
    info = emulator.orgs[org]
    soap = connection_args(emulator, org, "soap")
    tasks = [
        {"name": "soap", SESSION: soap},
        {"name": "jwt", SESSION: connection_args(emulator, org, "jwt")},
        {"name": "client_credentials", SESSION: connection_args(emulator, org, "client_credentials")},
        {"name": "oauth_password", SESSION: connection_args(emulator, org, "oauth_password")},
        {"name": "direct", SESSION: dict(instance_url="{{ %s.instance_url }}" % result_var("soap"),
                                         access_token="{{ %s.access_token }}" % result_var("soap"),
                                         ca_path=emulator.ca_file)},
        {"name": "check_mode", SESSION: soap, "check_mode": True},
        {"name": "wrong_password", SESSION: dict(soap, password="not-the-password")},
        {"name": "wrong_key", SESSION: connection_args(emulator, org, "jwt",
                                                       private_key_file=unregistered_key(tmp_path))},
        {"name": "untrusted_certificate", SESSION: dict(soap, ca_path=None)},
        {"name": "no_validation", SESSION: dict(soap, ca_path=None, validate_certs=False)},
        {"name": "unreachable", SESSION: dict(soap, login_url="https://127.0.0.1:%d" % free_port(), timeout=5)},
        {"name": "wrong_mix", SESSION: dict(login_url=info["login_url"], username=info["username"],
                                            client_id=info["client_id"])},
        {"name": "token_without_url", SESSION: dict(access_token="x")},
    ]
    return run_playbook(tmp_path, tasks, verbosity=4)


FLOWS = [("soap", "soap_password"), ("jwt", "jwt_bearer"), ("client_credentials", "client_credentials"),
         ("oauth_password", "oauth_password"), ("direct", "access_token"), ("check_mode", "soap_password"),
         ("no_validation", "soap_password")]


@pytest.mark.parametrize("task, flow", FLOWS)
def test_every_flow_logs_in(flows_run, emulator, task, flow):
    result = flows_run[task]
    assert not result.get("failed"), result
    org = emulator.orgs["org1"]
    assert result["auth_flow"] == flow
    assert result["org_id"] == org["org_id"]
    assert result["instance_url"] == org["instance_url"].rstrip("/")
    assert result["api_version"] == "62.0"
    assert result["access_token"]
    assert result["changed"] is False
    if flow == "access_token":
        assert result["user_id"] is None
        assert result["api_requests"] == 1  # the query that proves the token works
    else:
        assert result["user_id"]
        assert result["api_requests"] >= 1


def test_direct_token_is_the_one_passed(flows_run):
    assert flows_run["direct"]["access_token"] == flows_run["soap"]["access_token"]


@pytest.mark.parametrize("task, words", [
    ("wrong_password", ["SOAP login as", "INVALID_LOGIN"]),
    ("wrong_key", ["OAuth jwt bearer login", "invalid_grant"]),
    ("untrusted_certificate", ["TLS failure", "ca_path"]),
    ("unreachable", ["Could not reach 127.0.0.1:"]),
    ("wrong_mix", ["do not form a login", "client_id, username", "Give one of"]),
    ("token_without_url", ["access_token needs instance_url"]),
])
def test_failures_are_clear(flows_run, task, words):
    result = flows_run[task]
    assert result["failed"] is True, result
    for word in words:
        assert word in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
    assert "api_requests" in result


def test_env_fallback_options(emulator, tmp_path):
    # Set on the ansible-playbook process, the way operators export SF_* variables (a task's
    # `environment:` keyword would be echoed by Ansible itself at -vvvv).
    info = emulator.orgs["org1"]
    env = dict(SF_LOGIN_URL=info["login_url"], SF_CA_PATH=emulator.ca_file, SF_CLIENT_ID=info["client_id"],
               SF_CLIENT_SECRET=info["client_secret"])
    run = run_playbook(tmp_path, [{"name": "env_fallback", SESSION: {}}], env=env, verbosity=4)
    result = run["env_fallback"]
    assert not result.get("failed"), result
    assert result["auth_flow"] == "client_credentials" and result["org_id"] == info["org_id"]
    assert info["client_secret"] not in run.output


def test_no_secret_in_verbose_output(flows_run, emulator):
    output = flows_run.output
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output or "censored" in output  # the run was verbose
    leaked = [s for s in org_secrets(emulator) if s in output]
    assert not leaked
    for task, _flow in FLOWS:
        assert flows_run[task]["access_token"] not in output


def test_session_expiry_relogs_in_once(emulator, tmp_path):
    org = "org3"
    emulator.clear_requests(org)
    creds = connection_args(emulator, org, "soap")
    login = result_var("login")
    tasks = [
        {"name": "login", SESSION: creds},
        {"name": "expire", "ansible.builtin.uri": dict(
            url=emulator.admin_url(org, "faults"), method="POST", body_format="json", ca_path=emulator.ca_file,
            body=dict(kind="expire_session", count=1))},
        # token + credentials: the expired token is replaced by one new login
        {"name": "with_credentials", ORG_INFO: dict(
            creds, instance_url="{{ %s.instance_url }}" % login, access_token="{{ %s.access_token }}" % login)},
        # token alone (the one the fault above expired): nothing to log in with, so a clear failure. No second
        # fault: it would never fire and would expire the next test's session on this shared org.
        {"name": "token_only", ORG_INFO: dict(
            ca_path=emulator.ca_file, instance_url="{{ %s.instance_url }}" % login,
            access_token="{{ %s.access_token }}" % login)},
    ]
    run = run_playbook(tmp_path, tasks)
    relogged = run["with_credentials"]
    assert not relogged.get("failed"), relogged
    assert relogged["org"]["id"] == emulator.orgs[org]["org_id"]
    # 401 + login + the repeated request + /limits
    assert relogged["api_requests"] == 4
    failed = run["token_only"]
    assert failed["failed"] is True
    assert "run sfops.integration.sf_session again" in failed["msg"]
    log = emulator.requests(org)
    logins = [r for r in log if "/services/Soap/u/" in r["path"] or "/oauth2/token" in r["path"]]
    assert len(logins) == 2  # sf_session's and the one re-login
    assert sum(1 for r in log if r["status"] == 401) == 2


def test_read_identity_reads_the_sessions_own_user_with_one_more_request(emulator, tmp_path):
    org = "org2"
    info = emulator.orgs[org]
    emulator.clear_requests(org)
    tasks = [{"name": flow, SESSION: connection_args(emulator, org, flow, read_identity=True)}
             for flow in ("jwt", "client_credentials")]
    run = run_playbook(tmp_path, tasks)
    for flow in ("jwt", "client_credentials"):
        result = run[flow]
        assert not result.get("failed"), result
        # The emulator's own app runs client credentials as the org's administrator, the JWT user.
        assert result["identity"] == dict(user_id=info["user_id"], username=info["username"],
                                          organization_id=info["org_id"]), result
        assert result["api_requests"] == 2  # the login and the identity
    userinfo = [r for r in emulator.requests(org) if r["path"].startswith("/services/oauth2/userinfo")]
    assert [(r["method"], r["status"]) for r in userinfo] == [("GET", 200)] * 2
