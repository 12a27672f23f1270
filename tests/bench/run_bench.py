"""`make bench`: API requests and wall time of scenario S1, against record by record and Ansible's floor.

Starts the emulator (150 ms per request by default) with one org for the apply and its no-op
re-run, a fresh one for check mode, one for the record-by-record script and ``--orgs`` fresh ones
for the rollout; counts each run's requests from the emulator's request log (see benchlib.py for
what a login, read and write are); times the rollout with ``--forks`` and the floor playbook built
from its trace (floor.py); audits an org of 2,000 users and 50,000 login-history rows with
playbooks/audit.yml (audit_bench.py; ``--skip-audit`` leaves it out, ``--audit-only`` runs only it);
times the modules' imports (importtime.py). Writes the results as JSON and docs/performance.md
(report.py). It asserts no time: a missed target is reported, not failed.
It fails only when a step cannot run (the playbook fails, the end state is wrong).

``--smoke``: no latency, one repeat of everything, and the rollout to one org is the apply itself
(unless --orgs says more); writes to a temporary directory unless --results/--doc say otherwise.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile

import ansible
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_bench  # noqa: E402
import floor  # noqa: E402
import importtime  # noqa: E402
import record_by_record  # noqa: E402
import report  # noqa: E402
from benchlib import (REPO, SCENARIO, BenchError, BenchEmulator, classify, ensure_collection_link, progress,  # noqa: E402
                      run_ansible_playbook, write_inventory)

PLAYBOOK = os.path.join(REPO, "playbooks", "integration_users.yml")
RESULTS = os.path.join(REPO, "tests", "bench", "results.json")
DOC = os.path.join(REPO, "docs", "performance.md")
STEPS = 8


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--orgs", type=int, default=None, help="orgs in the rollout (20; 1 with --smoke)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=None, help="emulator latency (150; 0 with --smoke)")
    parser.add_argument("--smoke", action="store_true", help="one org, no latency, one repeat: quick")
    parser.add_argument("--playbook", default=PLAYBOOK, help="the rollout playbook (default: %(default)s)")
    parser.add_argument("--scenario", default=SCENARIO, help="role variables of the scenario (S1)")
    parser.add_argument("--results", default=None, help="results JSON (default tests/bench/results.json)")
    parser.add_argument("--doc", default=None, help="Markdown page (default docs/performance.md)")
    parser.add_argument("--repeats", type=int, default=None, help="floor runs and import timings (3/7; 1 smoke)")
    parser.add_argument("--keep", action="store_true", help="keep the work files (logs, inventories, trace)")
    parser.add_argument("--skip-audit", action="store_true",
                        help="leave out the audit of a 2,000-user org (playbooks/audit.yml; about a minute)")
    parser.add_argument("--audit-only", action="store_true",
                        help="measure only the audit, on an emulator of its own, and add it to the results JSON and page")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: write the page again from the results JSON (e.g. after editing "
                             "EXPLANATIONS in report.py)")
    args = parser.parse_args(argv)
    if args.smoke:
        scratch = None if args.results and args.doc else tempfile.mkdtemp(prefix="sfops-bench-smoke-")
        defaults = dict(orgs=1, latency_ms=0, repeats=1, results=scratch and os.path.join(scratch, "results.json"),
                        doc=scratch and os.path.join(scratch, "performance.md"))
    else:
        defaults = dict(orgs=20, latency_ms=150, repeats=None, results=RESULTS, doc=DOC)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def check_run(run, label):
    if run.rc != 0:
        raise BenchError("%s: ansible-playbook exited %d (log %s):\n%s"
                         % (label, run.rc, run.log_path, run.output[-3000:]))


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="sfops-bench-")
        self.step = 0
        self.steps = STEPS + (0 if args.skip_audit else 1)
        self.results = dict(meta=self._meta(), requests={})

    def _meta(self):
        args = self.args
        return dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    cpu_count=os.cpu_count(), python=sys.version.split()[0], ansible_core=ansible.__version__,
                    latency_ms=args.latency_ms, mode="smoke" if args.smoke else "full", rollout_orgs=args.orgs,
                    forks=args.forks, playbook=os.path.relpath(args.playbook, REPO),
                    scenario=os.path.relpath(args.scenario, REPO))

    def say(self, message):
        self.step += 1
        progress("[%d/%d] %s" % (self.step, self.steps, message))

    def playbook(self, emulator, orgs, label, check=False, env_extra=None, scenario=None):
        """One run of the rollout playbook on ``orgs``: (request counts per org, PlaybookRun, emulator CPU s)."""
        inventory = write_inventory(emulator, orgs, os.path.join(self.workdir, "inventory-%s.json" % label))
        for org in orgs:
            emulator.clear_requests(org)
        command = ["-i", inventory, "-f", str(self.args.forks), "-e", "@" + (scenario or self.args.scenario),
                   "-e", "sf_integration_report_dir=%s" % os.path.join(self.workdir, "reports-" + label),
                   self.args.playbook]
        if check:
            command.append("--check")
        emulator_cpu = emulator.cpu_seconds()
        run = run_ansible_playbook(command, self.workdir, env_extra, label=label)
        check_run(run, label)
        if emulator_cpu is not None:
            emulator_cpu = round(emulator.cpu_seconds() - emulator_cpu, 1)
        return dict((org, classify(emulator.requests(org))) for org in orgs), run, emulator_cpu

    def single(self, emulator, key, org, label, check=False, env_extra=None, scenario=None):
        per_org, run, emulator_cpu = self.playbook(emulator, [org], key, check=check, env_extra=env_extra,
                                                   scenario=scenario)
        counts = dict(per_org[org], seconds=round(run.seconds, 2))
        self.results["requests"][key] = counts
        progress("  %s: %d requests (%d logins, %d reads, %d writes), %.1f s"
                 % (label, counts["total"], counts["logins"], counts["reads"], counts["writes"], run.seconds))
        return per_org, run, emulator_cpu

    def run(self):
        args = self.args
        if not os.path.exists(args.playbook):
            raise BenchError("%s does not exist (yet): the bench measures the role integration_users through it"
                             % os.path.relpath(args.playbook, REPO))
        ensure_collection_link()
        with open(args.scenario) as handle:
            scenario = yaml.safe_load(handle)
        # The smoke run's rollout to one org is the apply itself: one playbook run less.
        separate_rollout = not (args.smoke and args.orgs == 1)
        orgs = 4 + (args.orgs if separate_rollout else 0) + (0 if args.skip_audit else 1)  # the audit's org last
        progress("Starting the emulator: %d orgs, %d ms latency; work files in %s"
                 % (orgs, args.latency_ms, self.workdir))
        with BenchEmulator(orgs=orgs, latency_ms=args.latency_ms) as emulator:
            single, fresh_check, by_record, passwordless = emulator.org_names[:4]
            trace_file = os.path.join(self.workdir, "trace.json")
            self.say("S1 apply on fresh %s" % single)
            applied = self.single(emulator, "apply", single, "apply", env_extra=floor.trace_env(trace_file))
            self.say("S1 no-op re-run on %s" % single)
            self.single(emulator, "rerun", single, "re-run")
            self.say("S1 check mode on fresh %s" % fresh_check)
            self.single(emulator, "check", fresh_check, "check mode", check=True)
            self.say("S1 passwordless (JWT bearer and client credentials) on fresh %s: apply and re-run" % passwordless)
            self.passwordless(emulator, passwordless, scenario)
            self.say("S1 record by record on fresh %s" % by_record)
            counts = record_by_record.run(emulator, by_record, scenario)
            self.results["requests"]["record_by_record"] = counts
            apply_total = self.results["requests"]["apply"]["total"]
            self.results["ratio_vs_record_by_record"] = round(apply_total / float(counts["total"]), 3)
            progress("  record by record: %d requests (end state verified); apply / record by record = %.2f"
                     % (counts["total"], self.results["ratio_vs_record_by_record"]))
            if separate_rollout:
                rollout_orgs = emulator.org_names[4:4 + args.orgs]
                self.say("Rollout of S1 to %d fresh orgs with forks %d" % (len(rollout_orgs), args.forks))
                per_org, run, emulator_cpu = self.playbook(emulator, rollout_orgs, "rollout",
                                                           env_extra=floor.trace_env(trace_file))
            else:
                rollout_orgs = [single]
                self.say("Rollout to one org: the apply above")
                per_org, run, emulator_cpu = applied
            progress("  rollout: %.1f s, %d requests in all" % (run.seconds, sum(c["total"] for c in per_org.values())))
            self.results["rollout"] = dict(orgs=len(rollout_orgs), forks=args.forks, seconds=round(run.seconds, 2),
                                           cpu_seconds=round(run.cpu_seconds, 1), emulator_cpu_seconds=emulator_cpu,
                                           per_org=per_org)
            logins = [self.results["requests"][key]["logins"] for key in ("apply", "rerun", "check")]
            self.results["max_logins_per_org_run"] = max(logins + [c["logins"] for c in per_org.values()])
            self.say("Ansible's floor for the rollout's shape")
            self.floor(emulator, rollout_orgs, trace_file)
            if not args.skip_audit:
                self.say("Audit (playbooks/audit.yml) of a %d-user org with %d login-history rows, and of the S1 org"
                         % (audit_bench.USERS, audit_bench.LOGIN_ROWS))
                self.results["audit"] = audit_bench.run(emulator, emulator.org_names[-1], single, self.workdir)
        self.say("Import time of the modules")
        self.results["imports"] = importtime.measure(repeats=args.repeats or 7)
        for name, timing in sorted(self.results["imports"].items()):
            progress("  %s: %s ms" % (name, timing.get("median_ms", timing.get("error"))))

    def passwordless(self, emulator, org, scenario):
        """S1 with an External Client App per integration: JWT bearer (key made by the role) and client credentials."""
        variant = dict(scenario, sf_integrations=[dict(integration) for integration in scenario["sf_integrations"]],
                       sf_integration_login_check_delay=1)
        flows = (dict(flow="jwt", generate_key=os.path.join(self.workdir, "keys", "{{ inventory_hostname }}.key")),
                 dict(flow="client_credentials"))
        for integration, oauth in zip(variant["sf_integrations"], flows):
            integration["oauth"] = oauth
            integration["user"] = dict((k, v) for k, v in integration["user"].items() if k != "password")
        path = os.path.join(self.workdir, "scenario-passwordless.json")
        with open(path, "w") as handle:
            json.dump(variant, handle)
        emulator.settings(org, eca_client_secret_in_rest_api=True)  # the proof of client credentials needs it
        self.single(emulator, "apply_passwordless", org, "passwordless apply", scenario=path)
        self.single(emulator, "rerun_passwordless", org, "passwordless re-run", scenario=path)

    def floor(self, emulator, orgs, trace_file):
        with open(trace_file) as handle:
            trace = json.load(handle)
        plays, shape = floor.floor_playbook(trace)
        path = os.path.join(self.workdir, "floor.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(plays, handle, sort_keys=False)
        inventory = write_inventory(emulator, orgs, os.path.join(self.workdir, "inventory-floor.json"))
        floor_trace = os.path.join(self.workdir, "floor-trace.json")
        runs, cpu = [], []
        for _repeat in range(self.args.repeats or 3):
            run = run_ansible_playbook(["-i", inventory, "-f", str(self.args.forks), path], self.workdir,
                                       floor.trace_env(floor_trace), label="floor")
            check_run(run, "floor playbook")
            runs.append(round(run.seconds, 2))
            cpu.append(run.cpu_seconds)
        with open(floor_trace) as handle:
            slowest = floor.profile(trace, json.load(handle))
        rollout = self.results["rollout"]
        rollout.update(floor_runs=runs, floor_seconds=statistics.median(runs), shape=shape, slowest_tasks=slowest,
                       floor_cpu_seconds=round(statistics.median(cpu), 1),
                       ratio=round(rollout["seconds"] / statistics.median(runs), 2))
        progress("  floor: %s s (median %.1f s); rollout / floor = %.2f"
                 % (", ".join("%.1f" % r for r in runs), rollout["floor_seconds"], rollout["ratio"]))

    def write(self):
        self.results["targets"] = report.evaluate(self.results)
        with open(self.args.results, "w") as handle:
            json.dump(self.results, handle, indent=1, sort_keys=True)
            handle.write("\n")
        progress("Results: %s" % self.args.results)
        if self.results.get("error"):
            return
        with open(self.args.doc, "w") as handle:
            handle.write(report.render_markdown(self.results))
        progress("Table: %s" % self.args.doc)
        for target in self.results["targets"]:
            progress("  %-6s %s: %s (goal %s)" % (target["status"], target["label"], target["now"], target["goal"]))


def audit_only(args):
    """Only the audit step, on an emulator of its own (a fresh small org); merged into the results JSON and page."""
    results = {}
    if os.path.exists(args.results):
        with open(args.results) as handle:
            results = json.load(handle)
    ensure_collection_link()
    workdir = tempfile.mkdtemp(prefix="sfops-bench-audit-")
    progress("Audit only: 2 orgs, %d ms latency; work files in %s" % (args.latency_ms, workdir))
    with BenchEmulator(orgs=2, latency_ms=args.latency_ms) as emulator:
        results["audit"] = audit_bench.run(emulator, emulator.org_names[1], emulator.org_names[0], workdir)
    results["audit"]["meta"] = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                    latency_ms=args.latency_ms, small_org="a fresh org")
    results["targets"] = report.evaluate(results)
    with open(args.results, "w") as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
        handle.write("\n")
    with open(args.doc, "w") as handle:
        handle.write(report.render_markdown(results))
    progress("Results: %s; table: %s" % (args.results, args.doc))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None):
    args = parse_args(argv)
    if args.audit_only:
        audit_only(args)
        return
    if args.report_only:
        with open(args.results) as handle:
            results = json.load(handle)
        results["targets"] = report.evaluate(results)
        with open(args.doc, "w") as handle:
            handle.write(report.render_markdown(results))
        progress("Table: %s (from %s)" % (args.doc, args.results))
        return
    bench = Bench(args)
    try:
        bench.run()
    except BenchError as error:
        bench.results["error"] = str(error).splitlines()[0]
        bench.write()
        sys.exit("bench: %s\n(work files kept in %s)" % (error, bench.workdir))
    bench.write()
    if not bench.args.keep:
        shutil.rmtree(bench.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
