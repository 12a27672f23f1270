"""What the benchmark's parts share: the emulator process, S1, request-log accounting, Ansible runs.

Request accounting (used for every number in the report): the emulator logs each Salesforce
request of an org with ``kind`` (login, rest, metadata, fault) and ``writes`` (records or
metadata components it changed). Here a request is

- a **login** when ``kind`` is ``login``;
- a **write** when it changed something (``writes > 0``), or is a REST call with a writing
  method (POST, PATCH, PUT, DELETE) to an endpoint that writes, so that a refused write attempt
  still counts. The POST endpoints that only read (a ``/composite`` batch, the sObject Collections
  retrieve, ``/query``) count as writes only when they changed records. Metadata SOAP calls are
  all POSTs and the log does not name the operation: one is a write when it changed a component;
- a **read** otherwise (queries, describes, GETs, metadata list/read, composite reads).

``records_written`` is the sum of ``writes``: the zero-write targets check both numbers.
"""
from __future__ import annotations

import collections
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(REPO, "build", "collections")
VENV_BIN = os.path.dirname(sys.executable)
SCENARIO = os.path.join(HERE, "s1.yml")

sys.path[:0] = [os.path.join(REPO, "tests"), os.path.join(REPO, "tests", "modules")]
import harness  # noqa: E402  (tests/modules/harness.py: the emulator process and its admin API)

WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
# REST POSTs that only read: a composite batch (counted as a write only if it changed records)
# and the sObject Collections retrieve by POST (/composite/sobjects/<Type> with ids).
READ_ONLY_POSTS = (re.compile(r"/composite/?$"), re.compile(r"/composite/sobjects/[^/]+/?$"),
                   re.compile(r"/query/?$"))


class BenchError(RuntimeError):
    """A step of the benchmark could not run; the message says which and why."""


def progress(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


class BenchEmulator(harness.EmulatorProcess):
    """The tests' emulator (admin API, stop) started with ``--latency-ms`` and a scratch directory."""

    def __init__(self, orgs, latency_ms=0, timeout=60):
        try:
            super().__init__(tempfile.mkdtemp(prefix="sfops-bench-emu-"), orgs=orgs, timeout=timeout,
                             latency_ms=latency_ms)
        except RuntimeError as error:
            raise BenchError(str(error)) from None
        self.org_names = [org["name"] for org in self.info["orgs"]]

    def cpu_seconds(self):
        """User and system CPU time the emulator process has used so far (Linux /proc), or None."""
        try:
            with open("/proc/%d/stat" % self.process.pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def is_write(entry):
    if entry.get("writes", 0) > 0:
        return True
    if entry.get("kind") != "rest" or entry.get("method") not in WRITE_METHODS:
        return False
    path = entry.get("path", "")
    return not (entry["method"] == "POST" and any(p.search(path) for p in READ_ONLY_POSTS))


def classify(log):
    """{total, logins, reads, writes, records_written} of one org's request log."""
    counts = dict(total=len(log), logins=0, reads=0, writes=0, records_written=0)
    for entry in log:
        counts["records_written"] += entry.get("writes", 0)
        if entry.get("kind") == "login":
            counts["logins"] += 1
        elif is_write(entry):
            counts["writes"] += 1
        else:
            counts["reads"] += 1
    return counts


def add_counts(many):
    total = dict(total=0, logins=0, reads=0, writes=0, records_written=0)
    for counts in many:
        for key in total:
            total[key] += counts[key]
    return total


def load_scenario(path=SCENARIO):
    with open(path) as handle:
        return yaml.safe_load(handle)


def render_for_org(value, org_name):
    """S1 as the role sees it on one host: only ``{{ inventory_hostname }}`` is templated."""
    if isinstance(value, dict):
        return dict((k, render_for_org(v, org_name)) for k, v in value.items())
    if isinstance(value, list):
        return [render_for_org(v, org_name) for v in value]
    if isinstance(value, str):
        value = re.sub(r"\{\{\s*inventory_hostname\s*\}\}", org_name, value)
        if "{{" in value:
            raise BenchError("record_by_record renders only {{ inventory_hostname }}: %r" % value)
    return value


def write_inventory(emulator, org_names, path):
    """Per-org connection variables named as issue 8 says, with the emulator's CA."""
    hosts = {}
    for name in org_names:
        org = emulator.orgs[name]
        hosts[name] = dict(sf_login_url=org["login_url"], sf_username=org["username"], sf_password=org["password"],
                           sf_security_token=org["security_token"], sf_ca_path=emulator.ca_file,
                           ansible_connection="local", ansible_python_interpreter=sys.executable)
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": hosts}}, handle, indent=1)
    return path


def ansible_env(workdir, extra=None):
    """The caller's environment without SF_* connection fallbacks, with the collection and a scratch tmp."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "ansible-tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", PATH=VENV_BIN + os.pathsep + env.get("PATH", ""))
    env.update(extra or {})
    return env


def ensure_collection_link():
    link = os.path.join(COLLECTIONS, "ansible_collections", "sfops", "integration")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)


PlaybookRun = collections.namedtuple("PlaybookRun", "rc seconds cpu_seconds output log_path")


def run_ansible_playbook(args, workdir, env_extra=None, label="ansible-playbook", timeout=3600, heartbeat=30):
    """Run ansible-playbook, saying every ``heartbeat`` s that it still runs; returns a PlaybookRun.

    ``cpu_seconds`` is the user and system time of ansible-playbook and every process under it
    (forks, modules), from the rusage of reaped children.
    """
    command = [os.path.join(VENV_BIN, "ansible-playbook")] + list(args)
    log_path = os.path.join(workdir, "ansible-%d.log" % time.monotonic_ns())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log_path, "w") as log:
        log.write(" ".join(command) + "\n\n")
        log.flush()
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=REPO, env=ansible_env(workdir, env_extra), stdout=log,
                                stderr=subprocess.STDOUT)
        while True:
            try:
                proc.wait(heartbeat)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                if elapsed > timeout:
                    proc.kill()
                    proc.wait()
                    break
                progress("  %s still running (%.0f s)" % (label, elapsed))
        seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(log_path) as handle:
        output = handle.read()
    return PlaybookRun(proc.returncode, seconds, cpu, output, log_path)
