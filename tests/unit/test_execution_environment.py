"""meta/execution-environment.yml: `ansible-builder create` makes a build context that holds the collection
and its Python requirements, and what the image build would do with them works here, without a container:
the collection installs from the context (the galaxy stage) and ansible-builder's introspection of the
installed collection finds its requirements (the builder stage)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from collection_path import REPO

BIN = os.path.dirname(sys.executable)
DEFINITION = os.path.join(REPO, "meta", "execution-environment.yml")
# What an execution environment does not need of what ansible-galaxy collection build ships.
NOT_IN_THE_IMAGE = {"tests", "requirements-dev.txt", "requirements-lint.txt", "requirements-oldest.txt", ".ansible-lint"}


def run(*command, cwd=None):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "PYTHONPATH"):  # where make test finds the collection already
        env.pop(name, None)
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def requirement_lines(path):
    """Requirement lines of a pip requirements file, following -r like pip and ansible-builder do."""
    lines = []
    with open(path) as handle:
        for line in handle:
            line = line.split("#")[0].strip()
            if line.startswith("-r "):
                lines += requirement_lines(os.path.join(os.path.dirname(path), line[3:].strip()))
            elif line:
                lines.append(line)
    return lines


def pins(path):
    return dict(line.split("==") for line in requirement_lines(path) if "==" in line)


def installed_collection(root):
    path = os.path.join(str(root), "ansible_collections", "sfops", "integration")
    assert os.path.isfile(os.path.join(path, "MANIFEST.json")), os.listdir(str(root))
    return path


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    path = tmp_path_factory.mktemp("ee") / "context"
    run(os.path.join(BIN, "ansible-builder"), "create", "-f", DEFINITION, "--context", str(path),
        "--output-filename", "Containerfile", cwd=REPO)
    return path


def test_the_definition_pins_what_make_test_runs():
    with open(DEFINITION) as handle:
        definition = yaml.safe_load(handle)
    dev = pins(os.path.join(REPO, "requirements-dev.txt"))
    assert definition["version"] == 3
    assert definition["dependencies"]["ansible_core"]["package_pip"] == "ansible-core==" + dev["ansible-core"]
    assert definition["dependencies"]["ansible_runner"]["package_pip"] == "ansible-runner==" + dev["ansible-runner"]
    # ansible-builder reads dependencies.python relative to this file in `create`, relative to the collection
    # root when the collection is installed: both must be the collection's requirements.
    python = definition["dependencies"]["python"]
    assert requirement_lines(os.path.join(REPO, "meta", python)) == requirement_lines(os.path.join(REPO, python))


def test_the_context_has_the_python_requirements(context):
    assert requirement_lines(str(context / "_build" / "requirements.txt")) == \
        requirement_lines(os.path.join(REPO, "requirements.txt"))
    containerfile = (context / "Containerfile").read_text()
    assert "introspect --user-pip=requirements.txt" in containerfile
    with open(DEFINITION) as handle:
        refs = [value["package_pip"] for key, value in yaml.safe_load(handle)["dependencies"].items()
                if key in ("ansible_core", "ansible_runner")]
    assert 'ARG ANSIBLE_INSTALL_REFS="%s"' % " ".join(refs) in containerfile


def test_the_context_has_the_collection(context, tmp_path):
    build = context / "_build"
    with open(str(build / "requirements.yml")) as handle:
        [collection] = yaml.safe_load(handle)["collections"]
    with open(str(build / collection["name"] / "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert (galaxy["namespace"], galaxy["name"]) == ("sfops", "integration")
    assert "ansible-galaxy collection install" in (context / "Containerfile").read_text()

    # The galaxy stage, here: install from the context as the image build does (working directory _build).
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
        "-p", str(tmp_path / "image"), cwd=str(build))
    image = installed_collection(tmp_path / "image")
    # Nothing of the collection is left out: the same content as the collection installed from the checkout.
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", REPO, "-p", str(tmp_path / "checkout"))
    checkout = installed_collection(tmp_path / "checkout")
    assert sorted(os.listdir(image)) == sorted(set(os.listdir(checkout)) - NOT_IN_THE_IMAGE)
    for folder in ("plugins", "roles", "playbooks", "meta"):
        for root, _dirs, files in os.walk(os.path.join(checkout, folder)):
            relative = os.path.relpath(root, checkout)
            assert sorted(os.listdir(os.path.join(image, relative))) == sorted(files + _dirs), relative

    # The builder stage, here: ansible-builder's introspection of the installed collection finds its
    # requirements through its meta/execution-environment.yml, relative to the collection root.
    found = yaml.safe_load(run(os.path.join(BIN, "ansible-builder"), "introspect", str(tmp_path / "image")))
    collection_lines = [line.split("#")[0].strip() for line in found["python"] if "from collection sfops.integration" in line]
    assert collection_lines == requirement_lines(os.path.join(REPO, "requirements.txt"))
