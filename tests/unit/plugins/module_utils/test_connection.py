from __future__ import annotations

import pytest

from ansible_collections.sfops.integration.plugins.module_utils import connection
from ansible_collections.sfops.integration.plugins.module_utils import errors
from ansible_collections.sfops.integration.plugins.module_utils.errors import ConfigurationError


def params(**given):
    base = dict((name, None) for name in connection.CONNECTION_ARGUMENT_SPEC)
    base.update(login_url="https://login.salesforce.com", api_version="62.0", validate_certs=True, timeout=60)
    base.update(given)
    return base


class TestChooseFlow:
    @pytest.mark.parametrize("given, flow", [
        (dict(username="u@x.com", password="p"), connection.FLOW_PASSWORD),
        (dict(username="u@x.com", password="p", security_token="t"), connection.FLOW_PASSWORD),
        (dict(client_id="c", username="u@x.com", private_key_file="/k.pem"), connection.FLOW_JWT),
        (dict(client_id="c", username="u@x.com", private_key="PEM"), connection.FLOW_JWT),
        (dict(client_id="c", client_secret="s"), connection.FLOW_CLIENT_CREDENTIALS),
        (dict(client_id="c", client_secret="s", username="u@x.com", password="p"), connection.FLOW_OAUTH_PASSWORD),
    ])
    def test_login_flows(self, given, flow):
        assert connection.choose_flow(params(**given)) == (flow, flow)

    def test_access_token_without_credentials_cannot_relogin(self):
        assert connection.choose_flow(params(access_token="T", instance_url="https://a.my.salesforce.com")) == (
            connection.FLOW_ACCESS_TOKEN, None)

    def test_access_token_with_credentials_relogs_in_with_them(self):
        flow = connection.choose_flow(params(access_token="T", instance_url="https://a.my.salesforce.com",
                                             username="u@x.com", password="p"))
        assert flow == (connection.FLOW_ACCESS_TOKEN, connection.FLOW_PASSWORD)

    def test_empty_strings_count_as_not_given(self):
        assert connection.choose_flow(params(username="u@x.com", password="p", security_token=""))[0] == \
            connection.FLOW_PASSWORD

    @pytest.mark.parametrize("given, words", [
        (dict(), ["No Salesforce credentials"]),
        (dict(access_token="T"), ["access_token needs instance_url"]),
        (dict(username="u@x.com"), ["username", "needs both username and password"]),
        (dict(password="p"), ["needs both username and password"]),
        (dict(security_token="t", username="u@x.com"), ["security_token"]),
        (dict(client_id="c"), ["client_id alone"]),
        (dict(client_secret="s"), ["client credentials needs both"]),
        (dict(client_id="c", private_key_file="/k"), ["JWT bearer also needs username"]),
        (dict(username="u", private_key_file="/k"), ["JWT bearer also needs client_id"]),
        (dict(client_id="c", username="u", password="p", private_key_file="/k"), ["without password"]),
        (dict(client_id="c", username="u", private_key="K", private_key_file="/k"), ["mutually exclusive"]),
        (dict(client_id="c", username="u", password="p"), ["needs both client_id and client_secret"]),
    ])
    def test_wrong_mixes_name_the_options(self, given, words):
        with pytest.raises(ConfigurationError) as info:
            connection.choose_flow(params(**given))
        for word in words:
            assert word in info.value.message
        if given:
            # every message also says which options go together
            assert "Give one of" in info.value.message


class TestNormaliseParams:
    def test_trailing_slash_and_v_prefix(self):
        result = connection.normalise_params(params(login_url="https://test.salesforce.com/", api_version="v61.0"))
        assert result["login_url"] == "https://test.salesforce.com"
        assert result["api_version"] == "61.0"

    @pytest.mark.parametrize("url", ["http://login.salesforce.com", "login.salesforce.com",
                                     "https://acme.my.salesforce.com/services"])
    def test_bad_urls(self, url):
        with pytest.raises(ConfigurationError, match="login_url must be an https:// URL"):
            connection.normalise_params(params(login_url=url))

    def test_bad_version(self):
        with pytest.raises(ConfigurationError, match="api_version"):
            connection.normalise_params(params(api_version="62"))

    def test_port_is_kept(self):
        assert connection.normalise_params(params(instance_url="https://127.0.0.1:8443"))["instance_url"] == \
            "https://127.0.0.1:8443"


class TestHttpSession:
    def test_ca_path_and_validate_certs(self):
        counter = connection.RequestCounter()
        assert connection.new_http_session(params(ca_path="/ca.pem"), counter).verify == "/ca.pem"
        assert connection.new_http_session(params(validate_certs=False, ca_path="/ca.pem"), counter).verify is False
        assert connection.new_http_session(params(), counter).verify is True

    def test_environment_bundle_does_not_override_options(self, monkeypatch):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/elsewhere.pem")
        session = connection.new_http_session(params(validate_certs=False), connection.RequestCounter())
        settings = session.merge_environment_settings("https://x.my.salesforce.com", {}, None, None, None)
        assert settings["verify"] is False


@pytest.fixture(scope="module")
def key_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode()


class TestJwt:

    def test_claims(self, key_pem):
        import jwt
        key, pem = key_pem
        token = connection.build_jwt_assertion(
            params(client_id="CID", username="u@x.com", private_key=pem, login_url="https://127.0.0.1:9"), now=1000)
        claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="https://127.0.0.1:9",
                            options=dict(verify_exp=False))
        assert claims == dict(iss="CID", sub="u@x.com", aud="https://127.0.0.1:9", exp=1180)
        assert jwt.get_unverified_header(token)["alg"] == "RS256"

    @pytest.mark.parametrize("login_url, aud", [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
    ])
    def test_audience(self, login_url, aud):
        assert connection.jwt_audience(login_url) == aud

    def test_unusable_key(self, tmp_path):
        bad = tmp_path / "key.pem"
        bad.write_text("not a key")
        with pytest.raises(ConfigurationError, match="not a usable RSA private key"):
            connection.build_jwt_assertion(params(client_id="c", username="u", private_key_file=str(bad)))

    def test_missing_key_file(self, tmp_path):
        with pytest.raises(ConfigurationError, match="Cannot read private_key_file"):
            connection.build_jwt_assertion(params(client_id="c", username="u",
                                                  private_key_file=str(tmp_path / "nope.pem")))


def test_jwt_is_imported_only_for_a_jwt_login_and_reported_when_missing(uninstalled):
    uninstalled("jwt")
    with pytest.raises(errors.MissingLibraryError) as info:
        connection.build_jwt_assertion(params(client_id="c", username="u", private_key="placeholder, never read"))
    assert "pyjwt[crypto]" in info.value.message
