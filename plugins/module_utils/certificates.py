# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the PEM certificate of a JWT bearer login: one parser for sf_external_client_app and the role's
input check (filter certificate_problem), so both refuse the same files."""

from __future__ import annotations

import hashlib


def certificate_facts(pem: str) -> dict[str, str]:
    """(subject, sha256 fingerprint, not_after ISO) of a PEM certificate; ValueError when it is not one."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
    except ImportError:  # pragma: no cover - cryptography comes with pyjwt[crypto], a requirement
        raise ValueError("the Python library cryptography is needed to read certificates")
    try:
        cert = x509.load_pem_x509_certificate(pem.strip().encode())
    except (ValueError, TypeError):
        raise ValueError("not a PEM-encoded X.509 certificate")
    digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after
    return dict(subject=cert.subject.rfc4514_string(), fingerprint_sha256=digest,
                not_after=not_after.strftime("%Y-%m-%dT%H:%M:%SZ"))
