"""python -m sf_emulator --port 0 --orgs 3 --info-file emu.json [--host 127.0.0.1] [--latency-ms 0]

Serves the orgs over HTTPS until SIGINT/SIGTERM, then exits 0. The info file (written atomically
once the server accepts connections) holds the URL, the CA to trust, and per org the seeded
administrator's credentials for every login flow. Everything is random per start.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading

from . import auth, tls
from .seed import random_secret
from .server import Emulator, serve


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sf_emulator", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    p.add_argument("--orgs", type=int, default=1, help="how many orgs to serve (org1, org2, ...)")
    p.add_argument("--info-file", required=True, help="where to write the JSON with URL, CA and credentials")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback by default)")
    p.add_argument("--latency-ms", type=int, default=0, help="delay added to every Salesforce request")
    p.add_argument("--seats", type=int, default=5, help="Salesforce Integration seats per org (5 in Enterprise)")
    args = p.parse_args(argv)
    if args.orgs < 1:
        p.error("--orgs must be at least 1")
    return args


def write_atomically(path: str, data: bytes, mode: int = 0o600) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="sf_emulator-")
    try:
        ca_key, ca_cert = tls.make_ca()
        key, cert = tls.make_server_cert(ca_key, ca_cert, args.host)
        ca_file = os.path.join(workdir, "ca.pem")
        write_atomically(ca_file, tls.pem_cert(ca_cert), 0o644)
        cert_file, key_file = os.path.join(workdir, "server.pem"), os.path.join(workdir, "server.key")
        write_atomically(cert_file, tls.pem_cert(cert))
        write_atomically(key_file, tls.pem_key(key))

        emulator = Emulator(args.orgs, host=args.host, latency_ms=args.latency_ms, seats=args.seats)
        httpd = serve(emulator, args.port, cert_file, key_file)
        orgs = []
        for name, rt in emulator.runtimes.items():
            jwt_key, jwt_cert = tls.make_jwt_keypair(name)
            key_path = os.path.join(workdir, f"{name}-jwt.key")
            write_atomically(key_path, tls.pem_key(jwt_key))
            rt.app = auth.ConnectedApp(org_id=rt.org.org_id, client_id="3MVG9" + random_secret(80),
                                       client_secret=random_secret(64).upper(), certificate_pem=tls.pem_cert(jwt_cert),
                                       run_as_username=rt.info["username"])
            orgs.append({"name": name, "org_id": rt.org.org_id, "login_url": emulator.base_url,
                         "instance_url": emulator.base_url, "username": rt.info["username"],
                         "password": rt.info["password"], "security_token": rt.info["security_token"],
                         "client_id": rt.app.client_id, "client_secret": rt.app.client_secret,
                         "private_key_file": key_path, "user_id": rt.info["user_id"]})
            rt.info.update(orgs[-1])

        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        info = {"url": emulator.base_url, "ca_file": ca_file, "orgs": orgs, "pid": os.getpid()}
        write_atomically(args.info_file, json.dumps(info, indent=2).encode())
        print(f"sf_emulator: {len(orgs)} org(s) at {emulator.base_url}; info in {args.info_file}", flush=True)
        stop.wait()
        httpd.shutdown()
        httpd.server_close()
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
