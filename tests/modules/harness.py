"""Reusable harness for module tests: the emulator, ansible-playbook runs and the request log.

Module tests drive real ``ansible-playbook`` subprocesses against the emulator. A test builds a
list of tasks; ``run_playbook`` registers each task's result (failures included) and returns
them by task name, so one playbook run can check many cases.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from xml.sax.saxutils import escape

import requests
import yaml

from collection_path import COLLECTIONS, REPO, ensure_collection_path

VENV_BIN = os.path.dirname(sys.executable)


def own_emulator(tmp_path_factory, name, orgs=1, **settings):
    """A module fixture's body (``yield from own_emulator(...)``): an emulator of the tests' own, whose
    org1 gets ``settings``, stopped after the last test that uses it."""
    emulator = EmulatorProcess(tmp_path_factory.mktemp(name), orgs=orgs)
    try:
        if settings:
            emulator.settings("org1", **settings)
        yield emulator
    finally:
        emulator.stop()


class EmulatorProcess:
    """One running ``python -m sf_emulator`` process and its admin API."""

    def __init__(self, workdir, orgs=3, timeout=60, latency_ms=0):
        self.workdir = str(workdir)
        info_file = os.path.join(self.workdir, "emu.json")
        self.log_path = os.path.join(self.workdir, "emulator.log")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sf_emulator", "--port", "0", "--orgs", str(orgs), "--info-file", info_file,
             "--latency-ms", str(latency_ms)],
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not os.path.exists(info_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(self.log_path, "rb") as handle:
                    raise RuntimeError("The emulator did not start:\n" + handle.read().decode(errors="replace")[-3000:])
            time.sleep(0.1)
        with open(info_file) as handle:
            self.info = json.load(handle)
        self.url = self.info["url"]
        self.ca_file = self.info["ca_file"]
        self.orgs = dict((org["name"], org) for org in self.info["orgs"])

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    # ---- admin API ------------------------------------------------------------------------

    def _admin(self, method, org, what, payload=None):
        response = requests.request(method, "%s/__emulator__/orgs/%s/%s" % (self.url, org, what), json=payload,
                                    verify=self.ca_file, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def requests(self, org):
        """[{method, path, status}] of every Salesforce request the org received, in order."""
        return self._admin("GET", org, "requests")["requests"]

    def clear_requests(self, org):
        self._admin("DELETE", org, "requests")

    def fault(self, org, **payload):
        """E.g. fault("org1", kind="expire_session", count=1)."""
        return self._admin("POST", org, "faults", payload)

    def clear_faults(self, org):
        self._admin("DELETE", org, "faults")

    def settings(self, org, **payload):
        return self._admin("POST", org, "settings", payload)

    def admin_url(self, org, what):
        """URL of an admin endpoint, for ansible.builtin.uri tasks inside a playbook."""
        return "%s/__emulator__/orgs/%s/%s" % (self.url, org, what)


def connection_args(emulator, org, flow="soap", **extra):
    """Module options that log in to ``org`` with one flow, trusting the emulator's CA."""
    info = emulator.orgs[org]
    args = dict(login_url=info["login_url"], ca_path=emulator.ca_file)
    if flow == "soap":
        args.update(username=info["username"], password=info["password"], security_token=info["security_token"])
    elif flow == "jwt":
        args.update(client_id=info["client_id"], username=info["username"], private_key_file=info["private_key_file"])
    elif flow == "client_credentials":
        args.update(client_id=info["client_id"], client_secret=info["client_secret"])
    elif flow == "oauth_password":
        args.update(client_id=info["client_id"], client_secret=info["client_secret"], username=info["username"],
                    password=info["password"], security_token=info["security_token"])
    else:
        raise ValueError(flow)
    args.update(extra)
    return args


def org_secrets(emulator):
    """Every secret value the emulator handed out, to look for in output."""
    values = []
    for org in emulator.orgs.values():
        values += [org["password"], org["security_token"], org["client_secret"]]
        with open(org["private_key_file"]) as handle:
            key_lines = [line for line in handle.read().splitlines() if line and "-----" not in line]
        values += key_lines[1:3]  # two full base64 lines of the key body
    return [v for v in values if v]


class PlaybookRun:
    def __init__(self, rc, stdout, stderr, results):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.results = results

    @property
    def output(self):
        return self.stdout + self.stderr

    def __getitem__(self, name):
        return self.results[name]

    def __repr__(self):
        return "PlaybookRun(rc=%s)\n%s\n%s" % (self.rc, self.stdout[-4000:], self.stderr[-2000:])


def _safe_name(name):
    return "r_" + "".join(c if c.isalnum() else "_" for c in name)


def run_playbook(tmp_path, tasks, verbosity=0, check=False, diff=False, module_defaults=None, env=None,
                 play_vars=None, timeout=600):
    """Run ``tasks`` in one play on localhost; return a PlaybookRun with results by task name.

    Each task dict needs a unique ``name``. Tasks are registered and get ``ignore_errors`` so
    that failures are results to assert on; a task may set ``ignore_errors: false`` itself.
    Values may use Jinja to read earlier results: ``{{ r_<name> }}`` (see result_var()).
    """
    ensure_collection_path()
    names = [task["name"] for task in tasks]
    assert len(set(names)) == len(names), "task names must be unique"
    results_file = os.path.join(str(tmp_path), "results-%d.json" % time.monotonic_ns())
    play_tasks = []
    for task in tasks:
        task = dict(task)
        task.setdefault("register", _safe_name(task["name"]))
        task.setdefault("ignore_errors", True)
        play_tasks.append(task)
    collected = "{ %s }" % ", ".join("%s: %s | default(None)" % (json.dumps(name), _safe_name(name)) for name in names)
    play_tasks.append({
        "name": "Save the registered results",
        "ansible.builtin.copy": {"content": "{{ %s | to_json }}" % collected, "dest": results_file, "mode": "0600"},
        "check_mode": False,
        "diff": False,
    })
    play = dict(hosts="localhost", connection="local", gather_facts=False,
                vars=dict(ansible_python_interpreter=sys.executable, **(play_vars or {})),
                tasks=play_tasks)
    if module_defaults:
        play["module_defaults"] = module_defaults
    playbook = os.path.join(str(tmp_path), "playbook-%d.yml" % time.monotonic_ns())
    with open(playbook, "w") as handle:
        yaml.safe_dump([play], handle, sort_keys=False)

    run_env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    run_env.update(
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_LOCAL_TEMP=os.path.join(str(tmp_path), "ansible-tmp"),
        SF_RETRY_BACKOFF="0.01",  # keep retries fast; the policy itself is unit-tested
        PATH=VENV_BIN + os.pathsep + run_env.get("PATH", ""),
    )
    run_env.update(env or {})
    command = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", playbook]
    if verbosity:
        command.append("-" + "v" * verbosity)
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    proc = subprocess.run(command, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    results = {}
    if os.path.exists(results_file):
        with open(results_file) as handle:
            results = json.load(handle)
    run = PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)
    if not results:
        raise AssertionError("The playbook did not finish: %r" % run)
    return run


class RawOrg:
    """Raw REST calls to one emulated org (SOAP login), for changes made behind the module's back."""

    def __init__(self, emulator, org):
        info = emulator.orgs[org]
        self.user_id = info["user_id"]
        self.http = requests.Session()
        self.ca_file = emulator.ca_file  # passed per request: REQUESTS_CA_BUNDLE would override a session's verify
        envelope = ('<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
                    '<n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>%s</n1:username>'
                    '<n1:password>%s</n1:password></n1:login></env:Body></env:Envelope>'
                    % (escape(info["username"]), escape(info["password"] + info["security_token"])))
        answer = self.http.post("%s/services/Soap/u/62.0" % info["login_url"], data=envelope,
                                headers={"Content-Type": "text/xml", "SOAPAction": "login"}, timeout=30,
                                verify=self.ca_file)
        answer.raise_for_status()
        token = answer.text.split("<sessionId>")[1].split("</sessionId>")[0]
        self.http.headers["Authorization"] = "Bearer " + token
        self.base = "%s/services/data/v62.0/" % info["instance_url"]

    def call(self, method, path, **kwargs):
        answer = self.http.request(method, self.base + path, timeout=30, verify=self.ca_file, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def query(self, soql):
        return self.call("GET", "query", params={"q": soql})["records"]

    def create(self, sobject, values):
        return self.call("POST", "sobjects/%s/" % sobject, json=values)["id"]


def log_snapshot(emulator, name, org="org1"):
    """A task that records the org's request log at this point of the playbook."""
    return {"name": name, "ansible.builtin.uri": {"url": emulator.admin_url(org, "requests"),
                                                  "ca_path": emulator.ca_file, "return_content": True},
            "check_mode": False}


def writes_between(run, first, second):
    """Records written by the Salesforce requests sent between two log snapshots."""
    start = len(run[first]["json"]["requests"])
    return sum(entry["writes"] for entry in run[second]["json"]["requests"][start:])


def merged(base, **overrides):
    """Module options: ``base`` with some changed (a copy)."""
    options = dict(base)
    options.update(overrides)
    return options


def failure(run, name):
    result = run[name]
    assert result.get("failed") is True, result
    assert "Traceback" not in result["msg"]
    return result["msg"]


def result_var(name):
    """Jinja name of a task's registered result, e.g. '{{ %s.access_token }}' % result_var('login')."""
    return _safe_name(name)


def run_repo_playbook(workdir, playbook, inventory, *args):
    """(rc, output) of ``ansible-playbook -i inventory playbooks/<playbook> args`` run in ``workdir``."""
    ensure_collection_path()
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=os.path.join(str(workdir), "ansible-tmp"), SF_RETRY_BACKOFF="0.01")
    command = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, os.path.join(REPO, "playbooks", playbook)]
    proc = subprocess.run(command + list(args), cwd=str(workdir), env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


def emulator_inventory(path, emulator, orgs, **host_vars):
    """An inventory file with the emulator's ``orgs`` as hosts, logging in as their administrators (SOAP)."""
    hosts = dict((name, dict(sf_login_url=emulator.orgs[name]["login_url"], sf_username=emulator.orgs[name]["username"],
                             sf_password=emulator.orgs[name]["password"],
                             sf_security_token=emulator.orgs[name]["security_token"], sf_ca_path=emulator.ca_file,
                             **host_vars)) for name in orgs)
    with open(str(path), "w") as handle:
        play_vars = dict(ansible_connection="local", ansible_python_interpreter=sys.executable)
        yaml.safe_dump({"all": {"hosts": hosts, "vars": play_vars}}, handle)
    return str(path)
