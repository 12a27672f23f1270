"""certificate_problem: the role's check of a certificate file before any login, with the module's own parser."""
from __future__ import annotations

import os
import sys

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.filter.certificate_problem import FilterModule

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "modules"))
from test_sf_external_client_app import CERTIFICATE  # noqa: E402  (a real self-signed certificate)

certificate_problem = FilterModule().filters()["certificate_problem"]


def test_a_certificate_has_no_problem():
    assert certificate_problem(CERTIFICATE) == ""


@pytest.mark.parametrize("text", [
    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",  # the header, no certificate
    CERTIFICATE.replace("CERTIFICATE", "PUBLIC KEY"),
    "",
])
def test_anything_else_is_named(text):
    assert certificate_problem(text) == "not a PEM-encoded X.509 certificate"


def test_not_text_is_refused():
    with pytest.raises(AnsibleFilterError, match="expects the text"):
        certificate_problem(None)
