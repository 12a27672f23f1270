"""The versions the collection claims are the ones make test runs: meta/runtime.yml, the two test
virtualenvs' pins, the collection's own requirements and the README's support matrix agree."""
from __future__ import annotations

import os
import re

import yaml
from ansible.release import __version__ as ansible_core_version
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from collection_path import REPO


def read(path):
    """A file of the repository, ``path`` relative to its root."""
    with open(os.path.join(REPO, path)) as handle:
        return handle.read()


def requirements(path):
    """Requirement objects of a pip requirements file, following -r."""
    found = []
    for line in read(path).splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found += requirements(os.path.join(os.path.dirname(path), line[3:].strip()))
        elif line:
            found.append(Requirement(line))
    return found


def pinned(path):
    return dict((r.name.lower(), Version(str(r.specifier).lstrip("="))) for r in requirements(path))


def claimed():
    return SpecifierSet(yaml.safe_load(read("meta/runtime.yml"))["requires_ansible"])


def test_the_oldest_pin_is_the_oldest_release_claimed():
    oldest = pinned("requirements-oldest.txt")["ansible-core"]
    lower = [Version(s.version) for s in claimed() if s.operator == ">="]
    assert lower and oldest.release[:2] == lower[0].release[:2], (oldest, claimed())
    assert oldest in claimed()


def test_the_newest_pin_is_claimed_and_newer():
    newest = pinned("requirements-dev.txt")["ansible-core"]
    assert newest in claimed() and newest > pinned("requirements-oldest.txt")["ansible-core"]


def test_this_test_run_is_on_a_version_claimed():
    assert Version(ansible_core_version) in claimed()


def test_the_dev_pins_satisfy_the_collection_requirements():
    dev = pinned("requirements-dev.txt")
    for requirement in requirements("requirements.txt"):
        name = requirement.name.lower()
        assert name in dev, "requirements-dev.txt pins no %s" % name
        assert dev[name] in requirement.specifier, (requirement, dev[name])


def test_the_readme_names_the_versions_tested():
    section = re.search(r"^## Supported versions\n(.*?)(?=^## |\Z)", read("README.md"), re.S | re.M)
    assert section, "README.md has no 'Supported versions' section"
    for path in ("requirements-oldest.txt", "requirements-dev.txt"):
        assert str(pinned(path)["ansible-core"]) in section.group(1), path
