"""The rollout under ansible-runner, as platform teams run it: a private data directory, the CLI for the
plan and the Python API for the apply, against two emulated orgs.

The private data directory holds what ansible-runner reads by convention: ``inventory/hosts.yml`` (one
host per org, its login and the integrations), ``env/envvars`` and ``env/extravars``. The playbook is
the collection's own, named by its FQCN (``sfops.integration.integration_users``), so nothing is copied
into ``project/``. Both runs leave their artifacts (rc, status, stdout, job events) under
``artifacts/<ident>/`` and the rollout report in the report directory given as an extra var.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import ansible_runner
import pytest
import yaml

from collection_path import COLLECTIONS, ensure_collection_path
from harness import VENV_BIN, own_emulator

PLAYBOOK = "sfops.integration.integration_users"
PERMISSION_SET = "Runner_Sync_Integration"
INTEGRATIONS = [
    dict(name="runner_sync",
         user=dict(username="runner.sync@acme.example.{{ inventory_hostname }}", email="sf-ops@acme.example",
                   last_name="Runner Sync Integration"),
         permission_sets=[dict(name=PERMISSION_SET, object_permissions=[dict(object="Account", access=["read"])])]),
]


@pytest.fixture(scope="module")
def orgs(tmp_path_factory):
    """Two orgs of this module's own."""
    yield from own_emulator(tmp_path_factory, "runner-emulator", orgs=2)


def private_data_dir(path, emulator):
    """An ansible-runner private data directory for a rollout to every org of ``emulator``."""
    ensure_collection_path()
    hosts = dict((name, dict(sf_login_url=org["login_url"], sf_username=org["username"], sf_password=org["password"],
                             sf_security_token=org["security_token"], sf_ca_path=emulator.ca_file))
                 for name, org in sorted(emulator.orgs.items()))
    inventory = {"all": {"hosts": hosts, "vars": dict(ansible_python_interpreter=sys.executable,
                                                      sf_integrations=INTEGRATIONS)}}
    envvars = dict(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCAL_TEMP=str(path / "ansible-tmp"), SF_RETRY_BACKOFF="0.01",
                   # the ansible-playbook of this virtualenv, whatever PATH the test runs with
                   PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    files = {"inventory/hosts.yml": inventory, "env/envvars": envvars,
             "env/extravars": dict(sf_integration_report_dir=str(path / "reports"))}
    for name, content in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(yaml.safe_dump(content))
    return path


def report(path):
    with open(os.path.join(str(path), "reports", "rollout-report.json")) as handle:
        return dict((record["org"], record) for record in json.load(handle)["orgs"])


def writes(emulator, org):
    return sum(entry.get("writes", 0) for entry in emulator.requests(org))


def test_rollout_under_ansible_runner(orgs, tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("SF_"):  # ansible-runner passes its own environment on
            monkeypatch.delenv(name)
    data = private_data_dir(tmp_path / "runner", orgs)

    # The plan, with the CLI: check mode writes nothing; its report is the plan. Without --omit-env-files
    # the CLI saves --cmdline in env/cmdline, and every later run of the directory would be check mode too.
    cli = subprocess.run([os.path.join(VENV_BIN, "ansible-runner"), "run", str(data), "-p", PLAYBOOK, "--ident", "plan",
                          "--cmdline", "--check --diff", "--omit-env-files", "-q"],
                         capture_output=True, text=True, timeout=600, check=False)
    artifacts = data / "artifacts" / "plan"
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else cli.stdout + cli.stderr
    assert cli.returncode == 0, stdout[-4000:]
    assert (artifacts / "rc").read_text() == "0" and (artifacts / "status").read_text() == "successful"
    assert "PLAY [Roll out the integration users]" in stdout
    assert not (data / "env" / "cmdline").exists()
    plan = report(data)
    for org in ("org1", "org2"):
        assert plan[org]["status"] == "changed" and plan[org]["check_mode"], plan[org]
        assert plan[org]["counts"]["users_created"] == 1, plan[org]
        assert writes(orgs, org) == 0

    # The apply, with the Python API: the same private data directory, runner's events and stats.
    run = ansible_runner.run(private_data_dir=str(data), playbook=PLAYBOOK, ident="apply", quiet=True)
    assert (run.status, run.rc) == ("successful", 0), run.stdout.read()[-4000:]
    assert sorted(run.stats["ok"]) == ["org1", "org2"] and not run.stats["failures"], run.stats
    assert sorted(run.stats["changed"]) == ["org1", "org2"], run.stats
    events = list(run.events)
    ran = set(e["event_data"]["task"] for e in events if e["event"] == "runner_on_ok")
    assert "Build one report from every org's record" in ran, sorted(ran)
    assert events[-1]["event"] == "playbook_on_stats"
    assert (data / "artifacts" / "apply" / "job_events").is_dir()
    applied = report(data)
    for org in ("org1", "org2"):
        assert applied[org]["status"] == "changed" and not applied[org]["check_mode"], applied[org]
        assert applied[org]["counts"]["users_created"] == 1, applied[org]
        assert writes(orgs, org) > 0
