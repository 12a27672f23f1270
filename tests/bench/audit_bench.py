"""The audit step of `make bench`: playbooks/audit.yml on an org of 2,000 users and 50,000 login-history rows.

The org is seeded through the emulator's admin API (tests/emulator/sf_emulator/bulk_load.py) with a mix
a platform team meets: people who use the user interface, people and administrators whose users
systems log in as, integration users with OAuth apps, SOAP password logins, failed logins, users who
stopped logging in, and setup changes. Then the audit playbook runs on that org alone, and on a small
org (the one the S1 apply set up) for the small-org budget; requests come from the emulator's request
log, wall time from the ansible-playbook run. Issue 19's budgets: at most 10 requests for a small org,
at most 40 for this one.
"""
from __future__ import annotations

import json
import os
import time

from benchlib import REPO, BenchError, classify, progress, run_ansible_playbook, write_inventory

PLAYBOOK = os.path.join(REPO, "playbooks", "audit.yml")
USERS = 2000
LOGIN_ROWS = 50000
WINDOW_DAYS = 30
SETUP_CHANGES = 1000
DOMAIN = "bench-audit.example"


def population(users=USERS):
    """(user entries for the seeding API, {username: kind}) of an org of ``users`` users."""
    integrations = users // 20  # 100 integration users in 2,000
    admins = users // 200  # 10 administrators
    people = users - integrations - admins
    entries = [
        dict(username="person{n}@" + DOMAIN, profile="Standard User", count=people, created_days_ago=400,
             password_changed_days_ago=60),
        dict(username="admin{n}@" + DOMAIN, profile="System Administrator", count=admins, created_days_ago=900,
             password_changed_days_ago=200),
        dict(username="integration{n}@" + DOMAIN, profile="Minimum Access - API Only Integrations", count=integrations,
             created_days_ago=500, password_changed_days_ago=300),
    ]
    return entries, dict(people=people, admins=admins, integrations=integrations)


def login_rows(sizes, rows=LOGIN_ROWS, window=WINDOW_DAYS):
    """Login history entries adding up to ``rows``, spread over the window."""
    span = [window - 0.5, 0.1]
    entries = []
    integrations = sizes["integrations"]
    # Integration users: most through their own app; every fifth also by SOAP login(); a few fail.
    per_integration = 200
    for n in range(1, integrations + 1):
        who = "integration%d@%s" % (n, DOMAIN)
        if n % 10 == 0:
            continue  # stopped logging in
        entries.append(dict(username=who, count=per_integration - 20, days_ago=span, application="App_%d" % (n % 7)))
        if n % 5 == 0:
            entries.append(dict(username=who, count=15, days_ago=span, login_type="Partner Product", api_version="58.0"))
        else:
            entries.append(dict(username=who, count=15, days_ago=span, application="App_%d" % (n % 7)))
        entries.append(dict(username=who, count=5, days_ago=span, login_type="Partner Product",
                            status="Invalid Password" if n % 2 else "Failed: API security token required"))
    # Administrators: one in two also used by a data loader through the API.
    for n in range(1, sizes["admins"] + 1):
        who = "admin%d@%s" % (n, DOMAIN)
        entries.append(dict(username=who, count=20, days_ago=span, login_type="Application", application="Browser"))
        if n % 2:
            entries.append(dict(username=who, count=20, days_ago=span, application="DataLoader"))
    # People: the user interface; one in fifty is used by a system through the API.
    used = sum(e["count"] for e in entries)
    people = sizes["people"]
    per_person, extra = divmod(rows - used, people)
    for n in range(1, people + 1):
        who = "person%d@%s" % (n, DOMAIN)
        count = per_person + (1 if n <= extra else 0)
        if n % 50 == 0:
            entries.append(dict(username=who, count=count, days_ago=span, application="Zapier"))
        else:
            entries.append(dict(username=who, count=count, days_ago=span, login_type="Application", application="Browser"))
    assert sum(e["count"] for e in entries) == rows, "login rows do not add up"
    return entries


def setup_changes(sizes, count=SETUP_CHANGES):
    return [dict(action="PermSetAssign", section="Manage Users", days_ago=[WINDOW_DAYS - 1, 0], count=count // 2,
                 by="admin1@" + DOMAIN, display="Permission set App 3: assigned to user integration3@" + DOMAIN),
            dict(action="changeduser", section="Manage Users", days_ago=[WINDOW_DAYS - 1, 0], count=count - count // 2,
                 by="admin2@" + DOMAIN, display="Changed user person7@%s: Email" % DOMAIN)]


def seed(emulator, org):
    """Seed the big org; returns {users, login_rows, setup_changes, seconds}."""
    started = time.monotonic()
    entries, sizes = population()
    created = emulator._admin("POST", org, "users", dict(users=entries))["inserted"]
    rows = emulator._admin("POST", org, "login_history", dict(rows=login_rows(sizes)))["inserted"]
    changes = emulator._admin("POST", org, "setup_audit_trail", dict(rows=setup_changes(sizes)))["inserted"]
    if (created, rows) != (USERS, LOGIN_ROWS):
        raise BenchError("seeding the audit org gave %d users and %d login rows" % (created, rows))
    return dict(users=created + 1, login_rows=rows, setup_changes=changes, seconds=round(time.monotonic() - started, 1))


def audit(emulator, org, workdir, label):
    """playbooks/audit.yml on one org: request counts, wall time, what it found."""
    inventory = write_inventory(emulator, [org], os.path.join(workdir, "inventory-%s.json" % label))
    emulator.clear_requests(org)
    reports = os.path.join(workdir, "reports-" + label)
    run = run_ansible_playbook(["-i", inventory, "-e", "sf_audit_report_dir=%s" % reports, PLAYBOOK], workdir,
                               label=label)
    if run.rc != 0:
        raise BenchError("%s: ansible-playbook exited %d (log %s):\n%s" % (label, run.rc, run.log_path, run.output[-3000:]))
    with open(os.path.join(reports, "audit-report.json")) as handle:
        record = json.load(handle)["orgs"][0]
    if record["status"] != "ok":
        raise BenchError("%s: the audit failed: %s" % (label, record.get("failure")))
    counts = classify(emulator.requests(org))
    counts.update(seconds=round(run.seconds, 2), findings=record["summary"], counts=record["counts"])
    return counts


def run(emulator, big_org, small_org, workdir):
    """The audit step: {big: {...}, small: {...}, seeded: {...}}."""
    progress("  seeding %s: %d users, %d login-history rows, %d setup changes" % (big_org, USERS, LOGIN_ROWS,
                                                                                  SETUP_CHANGES))
    seeded = seed(emulator, big_org)
    progress("  seeded in %.1f s" % seeded["seconds"])
    big = audit(emulator, big_org, workdir, "audit-big")
    progress("  audit of %d users and %d login rows: %d requests (%d logins, %d reads, %d writes), %.1f s, %s findings"
             % (seeded["users"], seeded["login_rows"], big["total"], big["logins"], big["reads"], big["writes"],
                big["seconds"], big["findings"]["total"]))
    small = audit(emulator, small_org, workdir, "audit-small")
    progress("  audit of the small org %s: %d requests, %.1f s" % (small_org, small["total"], small["seconds"]))
    return dict(big=big, small=small, seeded=seeded)
