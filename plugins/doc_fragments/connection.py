# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # Connection options shared by every module (plugins/module_utils/connection.py).
    DOCUMENTATION = r"""
options:
  login_url:
    description:
      - Where to log in. V(https://login.salesforce.com) for production and Developer Edition,
        V(https://test.salesforce.com) for sandboxes, or the org's My Domain URL
        (required for client credentials).
      - Not used with O(access_token).
      - Falls back to the E(SF_LOGIN_URL) environment variable.
    type: str
    default: https://login.salesforce.com
  instance_url:
    description:
      - The org's own URL, for example V(https://acme.my.salesforce.com).
      - Required with O(access_token); the login flows learn it from the login answer.
      - Falls back to E(SF_INSTANCE_URL).
    type: str
  security_token:
    description:
      - The login user's security token, appended to the login password. Not needed from trusted IP ranges.
      - Falls back to E(SF_SECURITY_TOKEN).
    type: str
  client_id:
    description:
      - Consumer key of the connected app or external client app (JWT bearer, client
        credentials, password grant).
      - Falls back to E(SF_CLIENT_ID).
    type: str
  client_secret:
    description:
      - Consumer secret (client credentials, password grant).
      - Falls back to E(SF_CLIENT_SECRET).
    type: str
  private_key:
    description:
      - PEM text of the RSA private key whose certificate is registered on the app, for the
        JWT bearer flow. Mutually exclusive with O(private_key_file).
      - Falls back to E(SF_PRIVATE_KEY).
    type: str
  private_key_file:
    description:
      - Path to the PEM RSA private key for the JWT bearer flow.
      - Falls back to E(SF_PRIVATE_KEY_FILE).
    type: path
  access_token:
    description:
      - An existing session (access token or session id), for example RV(sfops.integration.sf_session#module:access_token).
        No login is made. Needs O(instance_url).
      - When credentials for a login flow are given as well, they are used to log in again if
        the token has expired.
      - Falls back to E(SF_ACCESS_TOKEN).
    type: str
  api_version:
    description:
      - REST, SOAP and Metadata API version, without a leading V(v).
      - Falls back to E(SF_API_VERSION).
    type: str
    default: "62.0"
  validate_certs:
    description:
      - Verify the server's TLS certificate. Only turn this off for a throw-away test org.
      - Falls back to E(SF_VALIDATE_CERTS).
    type: bool
    default: true
  ca_path:
    description:
      - PEM bundle of the certificate authorities to trust instead of the system ones
        (a TLS-inspecting proxy, a test server). Applies to REST and Metadata API calls.
      - Falls back to E(SF_CA_PATH).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request.
      - Falls back to E(SF_TIMEOUT).
    type: int
    default: 60
  max_retries:
    description:
      - How many times a transient failure (UNABLE_TO_LOCK_ROW, HTTP 503, REQUEST_LIMIT_EXCEEDED,
        a dropped connection) is retried, with exponential backoff and jitter.
      - A create whose outcome is unknown is only repeated after the record was looked up.
      - Falls back to E(SF_MAX_RETRIES).
    type: int
    default: 4
  retry_backoff:
    description:
      - Base delay in seconds of the backoff; retry N waits a random time up to
        O(retry_backoff) * 2^N seconds (at most 30).
      - Falls back to E(SF_RETRY_BACKOFF).
    type: float
    default: 1.0
requirements:
  - requests
  - pyjwt[crypto] (JWT bearer flow only)
  - simple-salesforce >= 1.12.10 and zeep (only modules that use the Metadata API)
notes:
  - The login flow is chosen from the options given. O(access_token) + O(instance_url) uses an
    existing session; O(client_id) + the login username + O(private_key) or O(private_key_file) is the OAuth
    JWT bearer flow; O(client_id) + O(client_secret) alone is the OAuth client credentials flow
    (needs the My Domain O(login_url)); a login username + password (+ O(security_token)) is the SOAP
    login; adding O(client_id) + O(client_secret) to that is the OAuth password grant.
  - Every module returns C(api_requests), the number of HTTP requests it sent (logins included).
  - Log in once per org with M(sfops.integration.sf_session) and pass its token to the other
    modules through C(module_defaults) with the group C(group/sfops.integration.salesforce).
"""

    # The login user's name and password, for modules that do not manage a user themselves.
    LOGIN = r"""
options:
  username:
    description:
      - Username to log in as (SOAP login, OAuth password grant, JWT bearer subject).
      - Falls back to E(SF_USERNAME).
    type: str
  password:
    description:
      - Password for the SOAP login or the OAuth password grant.
      - Falls back to E(SF_PASSWORD).
    type: str
"""

    # For modules whose own options are called username/password (the user they manage): their
    # login options are renamed login_username/login_password (module_utils/module.py).
    MANAGED_USER = r"""
options:
  login_username:
    description:
      - Username to log in as (SOAP login, OAuth password grant, JWT bearer subject). This module's
        own O(username) is the user it manages, so the login option has this name here (elsewhere it
        is O(sfops.integration.sf_session#module:username)).
      - Falls back to E(SF_USERNAME).
    type: str
  login_password:
    description:
      - Password to log in with (SOAP login or OAuth password grant).
      - Falls back to E(SF_PASSWORD).
    type: str
notes:
  - Prefer passing a session (O(access_token) and O(instance_url)) from M(sfops.integration.sf_session)
    through C(module_defaults); never put login credentials under the names C(username) or
    C(password) in C(module_defaults) for this module, they would be read as the managed user's.
"""

    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/sfops.integration.salesforce) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - sfops.integration.salesforce
"""
