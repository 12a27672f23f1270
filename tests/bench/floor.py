"""Ansible's floor for a playbook run: the same shape, every task a no-op.

From the trace a real run leaves (callback_plugins/sfops_bench_trace.py), ``floor_playbook``
builds plays with the same hosts pattern, serial, fact gathering and strategy, and per task one
stand-in that runs on the same hosts, the same number of times (loop items, retries), with the
same run_once:

- a task whose action runs a module on the host (every module of the collection, copy, uri, ...)
  becomes ``ansible.builtin.ping``: a real module execution (AnsiballZ payload, a Python process)
  that does nothing;
- a task the controller carries out alone (debug, set_fact, assert, argument validation, ...)
  becomes ``ansible.builtin.debug``;
- includes and meta tasks are left out: the tasks they bring in are in the trace themselves.

Running the stand-in with the same inventory and forks measures what Ansible itself costs for that
shape; the rollout's wall time over it is what the collection adds.
"""
from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))
CALLBACK_DIR = os.path.join(HERE, "callback_plugins")
CALLBACK_NAME = "sfops_bench_trace"

CONTROLLER_ONLY = frozenset([
    "debug", "set_fact", "assert", "fail", "validate_argument_spec", "add_host", "group_by", "set_stats",
    "include_vars", "pause", "wait_for_connection",
])
# The play-level fact gathering is copied as the play's gather_facts, so its task is left out too.
LEFT_OUT = frozenset(["include_tasks", "include_role", "import_tasks", "import_role", "import_playbook", "meta",
                      "gather_facts"])


def short_action(action):
    """``ansible.builtin.debug`` / ``ansible.legacy.debug`` / ``debug`` -> ``debug``."""
    if action.startswith(("ansible.builtin.", "ansible.legacy.")):
        return action.split(".", 2)[2]
    return action


def trace_env(trace_file):
    """Environment that makes ansible-playbook write its trace to ``trace_file``."""
    return dict(ANSIBLE_CALLBACK_PLUGINS=CALLBACK_DIR, ANSIBLE_CALLBACKS_ENABLED=CALLBACK_NAME,
                SFOPS_BENCH_TRACE=trace_file)


def _stand_in(index, task):
    action = short_action(task["action"])
    if action in LEFT_OUT:
        return None
    ran = dict((host, entry["runs"]) for host, entry in sorted(task["hosts"].items())
               if entry["status"] != "skipped" and entry["runs"] > 0)
    name = "floor %03d for %s" % (index, task["action"])  # profile() finds the original by the number
    if action in CONTROLLER_ONLY:
        stand_in = {"name": name, "ansible.builtin.debug": {"msg": "floor"}}
    else:
        stand_in = {"name": name, "ansible.builtin.ping": {}}
    stand_in["vars"] = {"floor_runs": ran}
    stand_in["when"] = "inventory_hostname in floor_runs"
    if task["loop"] or any(runs > 1 for runs in ran.values()):
        stand_in["loop"] = "{{ range(floor_runs[inventory_hostname] | default(0)) | list }}"
    if task["run_once"]:
        stand_in["run_once"] = True
    return stand_in


def floor_playbook(trace):
    """(plays, summary) for a trace; summary counts module runs and controller-only runs per play."""
    plays, summary = [], []
    for play, task_list in _numbered(trace):
        tasks, modules, controller = [], 0, 0
        for index, task in task_list:
            stand_in = _stand_in(index, task)
            if stand_in is None:
                continue
            runs = sum(stand_in["vars"]["floor_runs"].values())
            if "ansible.builtin.ping" in stand_in:
                modules += runs
            else:
                controller += runs
            tasks.append(stand_in)
        gathered = any(short_action(task["action"]) == "gather_facts" for task in play["tasks"])
        floor = dict(name="Floor of: %s" % play["name"], hosts=play["hosts"], gather_facts=gathered, tasks=tasks)
        if play.get("serial"):
            floor["serial"] = play["serial"]
        if play.get("strategy") and play["strategy"] != "linear":
            floor["strategy"] = play["strategy"]
        plays.append(floor)
        summary.append(dict(play=play["name"], tasks=len(tasks), module_runs=modules, controller_runs=controller))
    return plays, summary


def _numbered(trace):
    """[(play, [(number, task)])]: tasks numbered across plays, as the stand-ins are named."""
    number, plays = 0, []
    for play in trace["plays"]:
        tasks = []
        for task in play["tasks"]:
            number += 1
            tasks.append((number, task))
        plays.append((play, tasks))
    return plays


def profile(trace, floor_trace, most=8):
    """The tasks whose time exceeds their stand-in's most: [{name, action, runs, seconds, floor_seconds}]."""
    floor_seconds = {}
    for play in floor_trace["plays"]:
        for task in play["tasks"]:
            if task["name"].startswith("floor "):
                floor_seconds[int(task["name"].split()[1])] = task.get("seconds", 0.0)
    rows = []
    for _play, tasks in _numbered(trace):
        for number, task in tasks:
            if number in floor_seconds:
                rows.append(dict(name=task["name"], action=task["action"], seconds=task.get("seconds", 0.0),
                                 floor_seconds=floor_seconds[number],
                                 runs=sum(host["runs"] for host in task["hosts"].values())))
    rows.sort(key=lambda row: row["floor_seconds"] - row["seconds"])
    return rows[:most]
