"""`make demo`: roll out integration users to three emulated Salesforce orgs, plan first.

Starts the emulator (a local stand-in for Salesforce) with three orgs, writes an inventory for them
(two sandboxes and production, with the integrations of playbooks/inventory: Marketo and an
accounting system, both passwordless), then runs playbooks/integration_users.yml three times: in
check mode (the plan; the emulator's request log proves nothing was written), for real (each
integration gets its External Client App and logs in once through it, JWT bearer and client
credentials), and again (nothing left to change). The rollout itself logs in to each org with JWT
bearer, as recommended (playbooks/inventory/README.md): the emulator makes a throwaway key and app
per org at start. The full Ansible output of each run goes to a log file; the screen shows the
report. The emulator's credentials are random per start and exist only while it runs; the
integration keys are made in the demo's temporary directory.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")
VENV_BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(REPO, "playbooks", "integration_users.yml")
EXAMPLE_INTEGRATIONS = os.path.join(REPO, "playbooks", "inventory", "group_vars", "all", "integrations.yml")
# Inventory name, group and username suffix of each emulated org, in rollout order.
ORGS = (("org1", "acme_dev", "sandboxes", ".dev"), ("org2", "acme_uat", "sandboxes", ".uat"),
        ("org3", "acme_prod", "production", ""))

sys.path[:0] = [COLLECTIONS, os.path.join(REPO, "tests"), os.path.join(REPO, "tests", "modules")]
from ansible_collections.sfops.integration.plugins.filter.rollout_report import rollout_report  # noqa: E402
from harness import EmulatorProcess  # noqa: E402  (the tests' emulator runner: start, admin API, stop)


def say(text=""):
    print(text, flush=True)


def banner(text):
    say()
    say("=" * 100)
    say(text)
    say("=" * 100)


def write_inventory(emulator, workdir):
    inventory = os.path.join(workdir, "inventory")
    os.makedirs(os.path.join(inventory, "group_vars", "all"))
    groups = {}
    for org, host, group, suffix in ORGS:
        info = emulator.orgs[org]
        # JWT bearer, no password: the emulator's app for the org holds the certificate of this throwaway key.
        groups.setdefault(group, {"hosts": {}})["hosts"][host] = dict(
            sf_login_url=info["login_url"], sf_client_id=info["client_id"], sf_username=info["username"],
            sf_private_key_file=info["private_key_file"], acme_username_suffix=".demo%s" % suffix)
    with open(os.path.join(inventory, "hosts.yml"), "w") as handle:
        yaml.safe_dump({"all": {"children": groups}}, handle, sort_keys=False)
    with open(os.path.join(inventory, "group_vars", "all", "connection.yml"), "w") as handle:
        yaml.safe_dump(dict(ansible_connection="local", ansible_python_interpreter=sys.executable,
                            sf_ca_path=emulator.ca_file, acme_integration_key_dir=os.path.join(workdir, "keys"),
                            sf_integration_login_check_delay=2), handle)
    shutil.copy(EXAMPLE_INTEGRATIONS, os.path.join(inventory, "group_vars", "all", "integrations.yml"))
    return inventory


def rollout(workdir, inventory, label, *options):
    """One run of the rollout playbook; its output goes to a log file. Returns (rc, report, log)."""
    reports = os.path.join(workdir, "reports")
    log = os.path.join(workdir, "%s.log" % label)
    command = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, PLAYBOOK,
               "-e", "sf_integration_report_dir=%s" % reports] + list(options)
    say("$ ansible-playbook -i inventory playbooks/integration_users.yml %s" % " ".join(options))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    started = time.monotonic()
    with open(log, "w") as handle:
        rc = subprocess.call(command, cwd=workdir, env=env, stdout=handle, stderr=subprocess.STDOUT)
    say("  finished in %.0f s (exit code %d); full Ansible output: %s" % (time.monotonic() - started, rc, log))
    with open(os.path.join(reports, "rollout-report.json")) as handle:
        report = json.load(handle)
    say()
    for line in rollout_report(report["orgs"], "table"):
        say("  " + line)
    return rc, report, log


def plan_of(markdown, org):
    """The section of one org in the Markdown report, without the field list of each new user."""
    section = markdown.split("\n## %s\n" % org, 1)[1].split("\n## ", 1)[0].strip()
    lines, in_user = [], False
    for line in section.splitlines():
        if line.startswith("- "):
            in_user = line.startswith("- User ")
        if not (in_user and line.startswith("  - ")):
            lines.append(line)
    return "\n".join(lines)


def main():
    workdir = tempfile.mkdtemp(prefix="sfops-demo-")
    banner("sfops.integration demo: dedicated integration users in three Salesforce orgs")
    say("Starting the Salesforce emulator (a local stand-in for real orgs) with three orgs...")
    try:
        emulator = EmulatorProcess(workdir, orgs=len(ORGS))
    except RuntimeError as error:
        sys.exit(str(error))
    failures = []
    try:
        # One org requires MFA for API logins (passwordless logins are not subject to it: no waiver).
        emulator.settings("org3", mfa_for_api_logins=True)
        for org, _host, group, _suffix in ORGS:
            # Every org lets the rollout read a client credentials app's secret, to prove its login.
            emulator.settings(org, is_sandbox=group == "sandboxes", eca_client_secret_in_rest_api=True)
        inventory = write_inventory(emulator, workdir)
        say("Emulator at %s. Inventory: %s" % (emulator.url, inventory))
        say("  sandboxes: acme_dev, acme_uat; production: acme_prod (requires MFA for API logins)")
        say("  the rollout logs in to each org with JWT bearer (an app and a key per org, no password)")
        say("  integrations (from playbooks/inventory/group_vars/all/integrations.yml):")
        say("    marketo     own user (marketing user), permission set Marketo_Integration: leads, contacts, campaigns;")
        say("                logs in with JWT bearer (a key made per org on the controller)")
        say("    accounting  own user, permission set Accounting_Integration: read/edit Invoice__c, edit Invoice__c.Paid__c;")
        say("                logs in with client credentials")
        say("  each user: Salesforce Integration license, profile 'Minimum Access - API Only Integrations', no")
        say("  password; permission sets on the Salesforce API Integration license; an External Client App per")
        say("  integration that only the users of its permission set may use.")

        banner("1/3  The plan: check mode writes nothing, the report says what would change")
        for org in emulator.orgs:
            emulator.clear_requests(org)
        rc, report, _log = rollout(workdir, inventory, "1-check", "--check", "--diff")
        written = dict((org, sum(r.get("writes", 0) for r in emulator.requests(org))) for org in emulator.orgs)
        say()
        say("  Writes the orgs received during the check (emulator request log): %s"
            % ", ".join("%s %d" % (host, written[org]) for org, host, _g, _s in ORGS))
        if rc or any(written.values()) or report["mode"] != "check":
            failures.append("the check run")
        with open(os.path.join(workdir, "reports", "rollout-report.md")) as handle:
            say()
            say("  The plan for acme_prod, from reports/rollout-report.md:")
            say()
            for line in plan_of(handle.read(), "acme_prod").splitlines():
                say("    " + line)

        banner("2/3  Apply: the same playbook without --check, then each integration logs in once")
        rc, report, _log = rollout(workdir, inventory, "2-apply")
        if rc or report["totals"]["changed"] != len(ORGS):
            failures.append("the apply run")
        say()
        say("  Passwordless logins, proven by logging in as each integration user through its own app and")
        say("  reading the identity of the new session:")
        for record in report["orgs"]:
            for login in record.get("logins") or []:
                say("    %-9s  %-10s  %-18s  %-22s  %s" % (
                    record["org"], login["integration"], login["method"], login["app"] or "-",
                    "proven: the session is %s" % login.get("session_user") if login["verified"]
                    else "NOT proven: %s" % login["note"]))
                if not login["verified"]:
                    failures.append("the login of %s in %s" % (login["integration"], record["org"]))

        banner("3/3  Run again: everything is already as described, nothing changes")
        rc, report, _log = rollout(workdir, inventory, "3-rerun")
        if rc or report["totals"]["unchanged"] != len(ORGS):
            failures.append("the re-run")

        banner("Done" if not failures else "Something went wrong: " + ", ".join(failures))
        say("Report of the last run (Markdown for people, JSON for machines):")
        say("  %s" % os.path.join(workdir, "reports", "rollout-report.md"))
        say("  %s" % os.path.join(workdir, "reports", "rollout-report.json"))
        say("Against real orgs: see playbooks/inventory/README.md (JWT login, Ansible Vault).")
    finally:
        emulator.stop()
        say("Emulator stopped.")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
