"""sf_profile: the change record from the module's own plan, and one refusal naming every problem."""
from __future__ import annotations

import pytest
from module_double import recording_client, salesforce_module, same_record

from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.module_utils.org import licenses
from ansible_collections.sfops.integration.plugins.module_utils.permissions import SystemPermissionCatalogue
from ansible_collections.sfops.integration.plugins.modules import sf_profile as module

INTEGRATION_LICENSE = "100000000000001AAA"
DESCRIBE = dict(fields=[dict(name="Permissions" + name, label=label, type="boolean") for name, label in (
    ("ApiEnabled", "API Enabled"), ("ApiUserOnly", "API Only User"), ("PasswordNeverExpires", "Password Never Expires"),
    ("ManageUsers", "Manage Users"))])
PROFILE = dict(Id="00e000000000001AAA", Name="Integration Only", Description="API only", UserLicenseId=INTEGRATION_LICENSE)


def org(profile=None, custom=True, users=0, **permissions):
    """The org as ProfileState reads it: the profile (or none) with ``permissions`` and the user licenses."""
    state = module.ProfileState.__new__(module.ProfileState)
    state.profile = profile
    state.record = dict(("Permissions" + name, on) for name, on in permissions.items()) if profile else {}
    state.custom = custom
    state.users = users
    state.licenses = licenses([dict(Id=INTEGRATION_LICENSE, Name="Salesforce Integration"),
                               dict(Id="100000000000002AAA", Name="Salesforce")])
    state.catalogue = SystemPermissionCatalogue(DESCRIBE)
    return state


def salesforce(check_mode, options, created=None):
    client = recording_client(check_mode, created=created or {})
    return salesforce_module(module.ARGUMENT_SPEC, client, check_mode, **dict(dict(name="Integration Only"), **options))


def present(check_mode, state, created=None, **options):
    return module.ensure_present(salesforce(check_mode, options, created), state)


def absent(check_mode, state):
    return module.ensure_absent(salesforce(check_mode, dict(state="absent")), state)


def test_record_of_a_new_profile_lists_its_license_and_permissions():
    # Salesforce gives back the new profile with what was asked for (its license may switch on more).
    created = dict(Id="00eNEW", PermissionsApiEnabled=True, PermissionsApiUserOnly=True)
    result = same_record(lambda check, state: present(check, state, created, license="salesforce integration",
                                                      system_permissions=["ApiEnabled", "apiuseronly"]), org())
    assert result["change"]["action"] == "create" and result["change"]["kind"] == "profile"
    assert result["change"]["name"] == "Integration Only"
    assert result["change"]["details"] == ["license: Salesforce Integration", "system_permissions: ApiEnabled, ApiUserOnly"]
    assert result["profile"]["id"] == "00eNEW"


def test_record_of_an_update_names_what_is_added_removed_and_changed():
    state = org(PROFILE, ApiEnabled=True, PasswordNeverExpires=True)
    change = same_record(lambda check, s: present(check, s, description="Marketo sync only",
                                                  system_permissions=["ApiEnabled", "ApiUserOnly"]), state)["change"]
    assert change["action"] == "update"
    assert change["details"] == ["description: API only -> Marketo sync only",
                                 "system_permissions: + ApiUserOnly; - PasswordNeverExpires"]
    assert change["added"] == 1 and change["removed"] == 1


def test_record_of_an_unchanged_profile_says_none_and_nothing_is_written():
    state = org(PROFILE, ApiEnabled=True)
    client = recording_client()
    result = module.ensure_present(salesforce_module(module.ARGUMENT_SPEC, client, name="Integration Only",
                                                     system_permissions=["ApiEnabled"]), state)
    assert result["change"] == dict(kind="profile", name="Integration Only", action="none", details=[], added=0,
                                    removed=0, attributes=[])
    assert result["changed"] is False and client.sent == []


def test_record_of_a_delete():
    change = same_record(absent, org(PROFILE, ApiEnabled=True))["change"]
    assert change["action"] == "delete" and change["removed"] == 1
    assert change["details"] == ["name: Integration Only -> none", "license: Salesforce Integration -> none",
                                 "description: API only -> none", "system_permissions: - ApiEnabled"]
    assert same_record(absent, org())["change"]["action"] == "none"


def test_check_mode_writes_nothing():
    client = recording_client(True)
    module.ensure_present(salesforce_module(module.ARGUMENT_SPEC, client, True, name="Integration Only",
                                            license="Salesforce Integration"), org())
    assert client.sent == []


# ---- one refusal naming every problem ------------------------------------------------------------------------


def refusal(state, **options):
    with pytest.raises(InputError) as error:
        present(False, state, **options)
    return error.value.message


def test_option_problems_need_no_org():
    assert module.option_problems(dict(name=" ", state="present")) == ["name must not be empty: it is the profile's Name"]
    assert module.option_problems(dict(name="Integration Only", state="present")) == []
    assert module.option_problems(dict(name="", state="absent")) == []


def test_a_new_profile_gets_its_permission_and_license_problems_in_one_refusal():
    message = refusal(org(), system_permissions=["ApiEnable", "ManageUsers"])
    assert message == ("profile Integration Only: unknown system permission 'ApiEnable' (did you mean ApiEnabled, "
                       "ApiUserOnly?); "
                       "refusing to grant privileged access in profile Integration Only: ManageUsers (Manage Users). "
                       "An integration user should not have these (an integration needs only the access of its job); "
                       "set allow_privileged: true to grant them anyway.; profile 'Integration Only' does not exist; "
                       "give license (for example Salesforce Integration) to create it")
    assert "unknown user license 'Salesforce Integraton'" in refusal(org(), license="Salesforce Integraton",
                                                                     system_permissions=["ApiEnable"])


def test_an_existing_profile_gets_its_license_and_standard_problems_in_one_refusal():
    message = refusal(org(PROFILE, custom=False), license="Salesforce", system_permissions=["ManageUsers"])
    for words in ("refusing to grant privileged access in profile Integration Only: ManageUsers (Manage Users)",
                  "profile Integration Only is on the user license 'Salesforce Integration'; Salesforce sets",
                  "profile Integration Only is a standard profile"):
        assert words in message, (words, message)


def test_each_problem_alone_reads_as_before():
    assert refusal(org(), system_permissions=["ApiEnabled"]) == (
        "profile 'Integration Only' does not exist; give license (for example Salesforce Integration) to create it")
    assert refusal(org(), license="Salesforce", system_permissions=["ManageUsers"]).startswith(
        "refusing to grant privileged access in profile Integration Only: ManageUsers (Manage Users)")


def test_a_standard_profile_with_users_is_refused_once_for_both():
    with pytest.raises(InputError) as refused:
        absent(False, org(PROFILE, custom=False, users=2))
    assert refused.value.problems == [
        "profile Integration Only is a standard profile; Salesforce does not delete standard profiles",
        "profile Integration Only has 2 user(s); Salesforce deletes a profile only when no user has it. Move them to "
        "another profile first."]
