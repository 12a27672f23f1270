"""ca_path reaches metadata (zeep) calls as well as REST: zeep builds its own HTTP session
(reference 1.3/1.7), so the client swaps in one configured like the REST session."""
from __future__ import annotations

import pytest
from collection_path import ensure_collection_path
from harness import connection_args

ensure_collection_path()
from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient  # noqa: E402
from ansible_collections.sfops.integration.plugins.module_utils.errors import SalesforceError  # noqa: E402

LIST_QUERY = "ProfilePasswordPolicy"


def list_policies(client):
    return client.metadata(lambda md: md.list_metadata(md.ListMetadataQuery(type=LIST_QUERY)), action="list")


def test_metadata_call_trusts_ca_path(emulator, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    client = SalesforceClient(dict(connection_args(emulator, "org2", "soap"), retry_backoff=0.01))
    assert list_policies(client) == []
    assert client.api_requests == 2  # the login and the listMetadata call, both counted


def test_metadata_call_without_ca_path_fails_clearly(emulator, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    args = connection_args(emulator, "org2", "soap", retry_backoff=0.01)
    client = SalesforceClient(args)
    client.connect()  # log in while the CA is trusted, then drop it for the metadata session only
    client.params["ca_path"] = None
    with pytest.raises(SalesforceError) as caught:
        list_policies(client)
    assert "certificate" in str(caught.value).lower() or "tls" in str(caught.value).lower()
