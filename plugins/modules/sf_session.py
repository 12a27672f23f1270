#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_session
short_description: Log in to a Salesforce org once and return a session for the other modules
version_added: 0.1.0
description:
  - Logs in to one Salesforce org with the flow the connection options describe and returns the
    instance URL and access token, so later tasks reuse that session through C(module_defaults)
    instead of logging in again.
  - With O(access_token) it checks that the session still works (one query) and returns it.
  - With O(read_identity) it also reads, with the new session, whose session it is (one request to
    the OpenID Connect UserInfo endpoint) and returns it as RV(identity). That is the proof that a
    login works, as the role C(integration_users) gives it for each passwordless integration.
  - Writes nothing, so it also runs in check mode.
  - The task result is hidden from the output, as if C(no_log) were set, because it holds the
    access token; register it and read single values such as C(session.org_id) with
    M(ansible.builtin.debug). Failures are shown.
options:
  read_identity:
    description:
      - After the login, read the session's own user from the UserInfo endpoint
        (C(/services/oauth2/userinfo)) of the login host (O(login_url); with O(access_token), O(instance_url)),
        sending the new access token. One more request.
      - When Salesforce does not answer with an identity, the task fails and says why.
    type: bool
    default: false
    version_added: 0.2.0
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
attributes:
  check_mode:
    description: Runs in check mode too; it only reads.
    support: full
  diff_mode:
    description: Nothing to compare; no diff is returned.
    support: none
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_org_info
"""

EXAMPLES = r"""
- name: Log in with the JWT bearer flow
  sfops.integration.sf_session:
    login_url: "{{ sf_login_url }}"
    client_id: "{{ sf_client_id }}"
    username: "{{ sf_admin_username }}"
    private_key_file: "{{ sf_private_key_file }}"
  register: sf

- name: Use the session for every module of the collection
  module_defaults:
    group/sfops.integration.salesforce:
      instance_url: "{{ sf.instance_url }}"
      access_token: "{{ sf.access_token }}"
  block:
    - name: Read the org facts
      sfops.integration.sf_org_info:
      register: org

- name: Client credentials against the My Domain host
  sfops.integration.sf_session:
    login_url: https://acme.my.salesforce.com
    client_id: "{{ vault_sf_client_id }}"
    client_secret: "{{ vault_sf_client_secret }}"
  register: sf

- name: Log in as an integration user and read whose session it is
  sfops.integration.sf_session:
    login_url: "{{ sf_login_url }}"
    client_id: "{{ integration_consumer_key }}"
    username: marketo.integration@acme.example
    private_key_file: ~/.salesforce/keys/marketo.key
    read_identity: true
  register: marketo_login

- name: SOAP login, credentials from SF_USERNAME, SF_PASSWORD and SF_SECURITY_TOKEN
  sfops.integration.sf_session:
    login_url: https://test.salesforce.com
  register: sf

- name: Show one value of the hidden result
  ansible.builtin.debug:
    var: sf.org_id

# set_fact prints its facts with -v: hide that task too.
- name: Keep the session for later plays
  ansible.builtin.set_fact:
    sf_access_token: "{{ sf.access_token }}"
    sf_instance_url: "{{ sf.instance_url }}"
  no_log: true
"""

RETURN = r"""
instance_url:
  description: The org's URL; pass it as O(instance_url) with O(access_token).
  returned: success
  type: str
  sample: https://acme.my.salesforce.com
access_token:
  description:
    - The session's bearer token. Treat it like a password. It is never shown in task output;
      other modules mask it because their O(access_token) option is C(no_log).
  returned: success
  type: str
  sample: 00D5g000004XXXX!AQ0AQ...
api_version:
  description: The API version the session is used with.
  returned: success
  type: str
  sample: "62.0"
org_id:
  description: The 18-character organization id.
  returned: success
  type: str
  sample: 00D5g000004XXXXEAA
user_id:
  description: The id of the logged-in user; V(null) when an existing O(access_token) was passed.
  returned: success
  type: str
  sample: 0055g00000AbCdEAAR
auth_flow:
  description: The login flow used.
  returned: success
  type: str
  sample: jwt_bearer
identity:
  description:
    - Whose session it is, as the UserInfo endpoint answered with the session itself.
  returned: when O(read_identity=true)
  type: dict
  contains:
    user_id:
      description: The 18-character id of the session's user.
      type: str
      sample: 0055g00000AbCdEAAR
    username:
      description: The session user's username (C(preferred_username)).
      type: str
      sample: marketo.integration@acme.example
    organization_id:
      description: The 18-character id of the session's org.
      type: str
      sample: 00D5g000004XXXXEAA
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 1
change:
  description: The change record (kind V(session), the org's URL as name); its action is always V(none).
  returned: success
  type: dict
"""

from ansible_collections.sfops.integration.plugins.module_utils.change import NO_CHANGE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule


def run(module):
    client = module.client
    session = client.connect()
    org_id = session.org_id
    if not org_id:
        # An access token says nothing about its org; one cheap query proves it still works.
        organization = client.query_one("SELECT Id FROM Organization")
        org_id = organization["Id"] if organization else None
    # A token passed in is a no_log option value, and AnsibleModule masks such values in results.
    # Returning it is the point of this module; the action plugin hides the whole result instead.
    module.ansible.no_log_values.discard(session.access_token)
    identity = client.read_identity() if module.params["read_identity"] else None
    return module.finish(
        change_record("session", session.instance_url, NO_CHANGE), {}, {},
        instance_url=session.instance_url,
        access_token=session.access_token,
        api_version=client.api_version,
        org_id=org_id,
        user_id=session.user_id,
        auth_flow=session.flow,
        **(dict(identity=identity) if identity else {})
    )


def main():
    SalesforceModule(argument_spec=dict(read_identity=dict(type="bool", default=False)), supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
