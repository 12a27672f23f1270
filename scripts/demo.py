"""`make demo`: start the emulator, write an inventory of its orgs, run the org facts playbook.

The emulator's credentials are random per start and exist only while it runs.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)


def main():
    workdir = tempfile.mkdtemp(prefix="sfops-demo-")
    info_file = os.path.join(workdir, "emu.json")
    emulator = subprocess.Popen([sys.executable, "-m", "sf_emulator", "--port", "0", "--orgs", "3",
                                 "--info-file", info_file],
                                stdout=open(os.path.join(workdir, "emulator.log"), "wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(info_file):
            if emulator.poll() is not None or time.monotonic() > deadline:
                sys.exit("The emulator did not start; see %s/emulator.log" % workdir)
            time.sleep(0.1)
        with open(info_file) as handle:
            info = json.load(handle)
        hosts = {}
        for org in info["orgs"]:
            hosts[org["name"]] = dict(
                sf_login_url=org["login_url"], sf_username=org["username"], sf_password=org["password"],
                sf_security_token=org["security_token"], sf_ca_path=info["ca_file"],
                ansible_python_interpreter=sys.executable)
        inventory = os.path.join(workdir, "inventory.json")
        with open(inventory, "w") as handle:
            json.dump({"all": {"hosts": hosts}}, handle)
        print("Emulator with %d orgs at %s" % (len(hosts), info["url"]), flush=True)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
                   ANSIBLE_LOCALHOST_WARNING="0")
        rc = subprocess.call([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory,
                              os.path.join(REPO, "playbooks", "org_facts.yml")], cwd=REPO, env=env)
    finally:
        emulator.send_signal(signal.SIGTERM)
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
    sys.exit(rc)


if __name__ == "__main__":
    main()
