from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.filter.export_yaml import export_yaml

ENTRY = dict(name="etl_sync", user=dict(username="etl@acme.example", email="ops@acme.example", last_name="Etl"),
             permission_sets=[dict(name="ETL_Leads", label="ETL Leads", description="", license="Salesforce API Integration",
                                   system_permissions=["ApiEnabled"],
                                   object_permissions=[dict(object="Lead", access=["read", "edit"])],
                                   field_permissions=[dict(field="Lead.Email", access="edit")])],
             extra_permission_sets=["Shared_Reporting"], permission_set_groups=["Sync_Group"])


def result(**overrides):
    base = dict(integrations=[ENTRY], profile="Minimum Access - API Only Integrations", message="Exported 1.",
                org=dict(name="Acme", id="00D000000000001"), left_out=[dict(username="old@acme.example", reason="inactive")],
                review=[dict(integration="etl_sync", username="etl@acme.example", note="permission set X is shared " * 8),
                        dict(integration=None, username=None, note="the users have different profiles")])
    base.update(overrides)
    return base


def test_the_entries_load_back_as_they_were_exported():
    text = export_yaml(result(), "prod", "2026-12-01 10:00 UTC")
    data = yaml.safe_load(text)
    assert data["sf_integrations"] == [ENTRY]
    assert data["sf_integration_profile"] == "Minimum Access - API Only Integrations"
    assert data["sf_integration_password_policy"] == {}  # left alone by the first rollout


def test_header_and_review_comments():
    text = export_yaml(result(), "prod", "2026-12-01 10:00 UTC")
    lines = text.splitlines()
    assert lines[0] == "# sf_integrations exported from prod (Acme, 00D000000000001) on 2026-12-01 10:00 UTC by"
    assert "#     ansible-playbook -i INVENTORY playbooks/integration_users.yml --limit prod -e @THIS_FILE --check --diff" \
        in lines  # a command to copy is never wrapped
    assert "# - the users have different profiles" in lines and "# - Not exported: old@acme.example (inactive)." in lines
    notes = [line for line in lines if line.startswith("  # ")]
    assert notes[0].startswith("  # review: permission set X is shared") and len(notes) == 3  # wrapped at 100
    assert all(len(line) <= 100 for line in lines if line.lstrip().startswith("#") and "ansible-playbook" not in line)
    assert lines.index(notes[-1]) + 1 == lines.index("  - name: etl_sync")  # right above its entry
    assert "      - {object: Lead, access: [read, edit]}" in lines and "    extra_permission_sets: [Shared_Reporting]" in lines


def test_no_integration_users():
    text = export_yaml(result(integrations=[], profile=None, review=[], left_out=[],
                              message="No integration users in this org."), "dev")
    assert yaml.safe_load(text) == dict(sf_integration_password_policy={}, sf_integrations=[])
    assert "# No integration users in this org." in text and "Review before adopting" not in text


def test_ansible_string_types_are_written_as_plain_text():
    class Tagged(str):
        """Like Ansible's unsafe text: str() gives back the object itself."""

        def __str__(self):  # pylint: disable=invalid-str-returned
            return self
    entry = dict(ENTRY, name=Tagged("etl_sync"))
    text = export_yaml(result(integrations=[entry], profile=Tagged("Integration Only")), Tagged("prod"))
    assert "!!python" not in text and "sf_integration_profile: Integration Only" in text


def test_refuses_what_is_not_an_export():
    with pytest.raises(AnsibleFilterError, match="sf_integration_export"):
        export_yaml(dict(findings=[]))
