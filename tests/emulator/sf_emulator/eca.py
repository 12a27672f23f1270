"""External Client Apps (ECA) and metadata ConnectedApps: Metadata CRUD rules, the Connect REST OAuth
credentials resources, and the OAuth clients these apps give the token endpoint.

Sources: shared/reference/salesforce_oauth_audit.md A.1 [MD-CA], A.2 [MD-ECA; WSDL63; CONNECT], A.3;
every rule and every UNVERIFIED choice is listed in docs/emulator.md, section "External Client Apps".
metadata.py parses the SOAP envelope and calls EcaStore.list_rows/read/save/delete; rest.py routes
/services/data/vXX.X/apps/... to connect_oauth(); server.py's find_app asks EcaStore.app_for_key().
"""
from __future__ import annotations

import re
import secrets
import threading
import weakref
from dataclasses import dataclass, field, fields
from typing import Callable, Optional, Union
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from cryptography import x509

from . import auth, history, rules
from .model import SalesforceError
from .seed import random_secret
from .store import ID_FACTORY, Org

APP = "ExternalClientApplication"
GLOBAL = "ExtlClntAppGlobalOauthSettings"
OAUTH = "ExtlClntAppOauthSettings"
POLICIES = "ExtlClntAppOauthConfigurablePolicies"
CONNECTED_APP = "ConnectedApp"
CHILD_TYPES = (GLOBAL, OAUTH, POLICIES)
ECA_TYPES = (APP,) + CHILD_TYPES
TYPES = ECA_TYPES + (CONNECTED_APP,)  # the metadata types this module serves

S, B, I, X = "string", "boolean", "int", "complex"
# Fields of each type in WSDL63 order (simple_salesforce/metadata.wsdl). A tuple is an enumeration's values;
# X is a nested type, kept as sent (only the fields the emulator acts on are read from it).
FIELDS: dict[str, dict[str, Union[str, tuple]]] = {
    APP: {"contactEmail": S, "contactPhone": S, "description": S,
          "distributionState": ("Local", "Packaged", "Managed", "AutoInstalled"), "iconUrl": S, "infoUrl": S,
          "isProtected": B, "label": S, "logoUrl": S, "managedType": ("Local", "Global"),
          "orgScopedExternalApp": S},
    GLOBAL: {"callbackUrl": S, "certificate": S, "consumerKey": S, "consumerSecret": S,
             "externalClientApplication": S, "idTokenConfig": X, "isClientCredentialsFlowEnabled": B,
             "isCodeCredFlowEnabled": B, "isCodeCredPostOnly": B, "isConsumerSecretOptional": B,
             "isDeviceFlowEnabled": B, "isIntrospectAllTokens": B, "isNamedUserJwtEnabled": B, "isPkceRequired": B,
             "isRefreshTokenRotationEnabled": B, "isSecretRequiredForRefreshToken": B,
             "isSecretRequiredForTokenExchange": B, "isTokenExchangeEnabled": B, "label": S,
             "shouldRotateConsumerKey": B, "shouldRotateConsumerSecret": B},
    OAUTH: {"areAttributesIncludedInAssetToken": B, "areCustomPermsIncludedInAssetToken": B,
            "assetTokenAudiences": S, "assetTokenSigningCertificate": S, "assetTokenValidity": I,
            "clientAssertionCertificate": S, "commaSeparatedCustomScopes": S, "commaSeparatedOauthScopes": S,
            "customAttributes": X, "externalClientApplication": S, "isFirstPartyAppEnabled": B, "label": S,
            "oauthLink": S, "singleLogoutUrl": S, "trustedIpRanges": X},
    POLICIES: {"apexHandler": S, "clientCredentialsFlowUser": S, "commaSeparatedCustomScopes": S,
               "commaSeparatedPermissionSet": S, "commaSeparatedProfile": S, "customAttributes": X,
               "executeHandlerAs": S, "externalClientApplication": S, "guestJwtTimeout": I,
               # xsd:string in WSDL63; the values are the doc's list [MD-ECA].
               "ipRelaxationPolicyType": ("Enforce", "Bypass", "Bypass_2factor", "Enforce_RelaxRefresh"),
               "isClientCredentialsFlowEnabled": B, "isGuestCodeCredFlowEnabled": B, "isNamedUserJwtEnabled": B,
               "isTokenExchangeFlowEnabled": B, "label": S, "namedUserJwtTimeout": I,
               "permittedUsersPolicyType": ("AllSelfAuthorized", "AdminApprovedPreAuthorized"),
               "policyAction": ("Block", "RaiseSessionLevel"),
               "refreshTokenPolicyType": ("Infinite", "Zero", "SpecificLifetime", "SpecificInactivity"),
               "refreshTokenValidityPeriod": I, "refreshTokenValidityUnit": S,
               "requiredSessionLevel": ("LOW", "STANDARD", "HIGH_ASSURANCE"), "sessionTimeoutInMinutes": I,
               "singleLogoutUrl": S, "startUrl": S},
    CONNECTED_APP: {"attributes": X, "canvas": X, "canvasConfig": X, "contactEmail": S, "contactPhone": S,
                    "description": S, "iconUrl": S, "infoUrl": S, "ipRanges": X, "label": S, "logoUrl": S,
                    "mobileAppConfig": X, "mobileStartUrl": S, "oauthConfig": X, "oauthPolicy": X,
                    "permissionSetName": S, "plugin": S, "pluginExecutionUser": S, "profileName": S,
                    "samlConfig": X, "sessionPolicy": X, "startUrl": S},
}
REPEATED = {"customAttributes", "trustedIpRanges", "attributes", "ipRanges", "permissionSetName", "profileName"}
# listMetadata fileName: folder and suffix of each type [MD-ECA], [MD-CA].
FILES = {APP: ("externalClientApps", "eca"), GLOBAL: ("extlClntAppGlobalOauthSets", "ecaGlblOauth"),
         OAUTH: ("extlClntAppOauthSettings", "ecaOauth"), POLICIES: ("extlClntAppOauthPolicies", "ecaOauthPlcy"),
         CONNECTED_APP: ("connectedApps", "connectedApp")}
# Ids the emulator makes up for listMetadata rows and Connect consumers: key prefixes UNVERIFIED (0H4 for
# connected apps is 3P, reference A.3); the app's own id is its ExternalClientApplication record's.
ID_PREFIX = {GLOBAL: "0xG", OAUTH: "0xO", POLICIES: "0xP", CONNECTED_APP: "0H4"}
CONSUMER_PREFIX = "0xC"
KEY_RE = re.compile(r"^[A-Za-z0-9]{8,256}$")  # [MD-CA] consumerKey/consumerSecret: alphanumeric, 8-256

SECRETS_SETTING = "Allow Access to OAuth Consumer Secrets via Metadata API"  # [MD-ECA] label in Setup
REST_SETTING = "Allow access to External Client App consumer secrets via REST API"
NO_CONNECTED_APPS = ("You can't create a connected app. To enable connected app creation, contact Salesforce "
                     "Customer Support.")  # [H-CA26], reference A.1 (3P captures of the deploy error)

Err = tuple[str, str]  # (statusCode, message) of a SaveResult error
Value = Union[str, dict, list]


@dataclass
class EcaSettings:
    """Org settings, switched by the admin API under these names (docs/emulator.md)."""

    external_client_apps_enabled: bool = True  # Setup "Opt in to External Client Apps" [MD-ECA]
    eca_consumer_secrets_in_metadata: bool = True  # "Allow Access to OAuth Consumer Secrets via Metadata API"
    eca_client_secret_in_rest_api: bool = False  # ExternalClientAppSettings.enableClientSecretInRestApiAccess
    connected_app_creation: bool = False  # "Allow creation of connected apps": Support only since Spring '26
    # Whether an app's policies name pre-authorised permission sets and profiles by API name instead of by id:
    # [MD-ECA] says ids, its own sample XML and 3P tools write names (docs/emulator.md). UNVERIFIED, switchable.
    eca_preauthorise_by_names: bool = False


SETTINGS = tuple(f.name for f in fields(EcaSettings))


class EcaFault(Exception):
    """Refuses a whole Metadata call (metadata.py answers with a SOAP fault)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Every store of the process: consumer keys are unique across all orgs ("Consumer keys must be globally
# unique" [MD-CA]), and rest.py finds an org's store from its Org. _KEY_LOCK serialises saves across orgs
# so two orgs cannot take the same key at once.
_STORES: "weakref.WeakKeyDictionary[Org, EcaStore]" = weakref.WeakKeyDictionary()
_KEY_LOCK = threading.RLock()


def store_of(org: Org) -> Optional["EcaStore"]:
    return _STORES.get(org)


@dataclass
class EcaStore:
    """One org's External Client App and ConnectedApp components (type -> fullName -> values).

    Values are the fields as sent (strings, nested dicts, lists for repeated elements), booleans as
    "true"/"false"; keys starting with "_" are the emulator's own (ids), never rendered.
    """

    settings: EcaSettings = field(default_factory=EcaSettings)
    components: dict[str, dict[str, dict]] = field(default_factory=lambda: {t: {} for t in TYPES})
    org: Optional[Org] = None
    seeded_app: Callable[[], Optional[auth.ConnectedApp]] = lambda: None  # the org's seeded app (server)

    def bind(self, org: Org, seeded_app: Callable[[], Optional[auth.ConnectedApp]]) -> None:
        self.org = org
        self.seeded_app = seeded_app
        _STORES[org] = self

    # -- Metadata calls ------------------------------------------------------------------------------
    def gate(self, type_: str) -> Optional[str]:
        """Why this org refuses every call on the type, or None."""
        if type_ in ECA_TYPES and not self.settings.external_client_apps_enabled:
            # [MD-ECA] the type needs "Opt in to External Client Apps"; text UNVERIFIED.
            return ("External Client Apps are not enabled in this org: turn on the External Client Apps setting "
                    "Opt in to External Client Apps.")
        if type_ in (GLOBAL, OAUTH) and not self.settings.eca_consumer_secrets_in_metadata:
            # [MD-ECA] "Special Access Rules" of both OAuth types; text UNVERIFIED.
            return f"Access to {type_} needs the org setting {SECRETS_SETTING}, which is turned off."
        return None

    def list_rows(self, type_: str) -> list[tuple[str, str, str]]:
        """(fullName, id, fileName) of every component of the type."""
        with self.org.lock:
            self._fault_if_gated(type_)
            folder, suffix = FILES[type_]
            return [(n, v["_id"], f"{folder}/{n}.{suffix}") for n, v in sorted(self.components[type_].items())]

    def read(self, type_: str, name: str) -> Optional[str]:
        """The component's fields as XML (in WSDL order, secrets left out), or None when there is none."""
        with self.org.lock:
            self._fault_if_gated(type_)
            values = self.components[type_].get(name)
            if values is None:
                return None
            shown = dict(values)
            if type_ == GLOBAL:
                # Never returned: [MD-CA] says so of ConnectedApp; a real org's retrieved global settings carry the
                # generated consumerKey and no consumerSecret (3P, docs/emulator.md).
                shown.pop("consumerSecret", None)
            if type_ == CONNECTED_APP and isinstance(shown.get("oauthConfig"), dict):
                shown["oauthConfig"] = {k: v for k, v in shown["oauthConfig"].items() if k != "consumerSecret"}
            return render(shown, list(FIELDS[type_]))

    def save(self, op: str, type_: str, item: ET.Element) -> tuple[str, list[Err], Optional[bool], int]:
        """createMetadata/updateMetadata/upsertMetadata of one component: (fullName, errors, created, writes)."""
        values = {k: v for k, v in parse(item).items() if v != ""}
        full_name = values.pop("fullName", "")
        if not isinstance(full_name, str) or not full_name:
            return "", [("REQUIRED_FIELD_MISSING", "Required field is missing: fullName")], None, 0
        with _KEY_LOCK, self.org.lock:
            gate = self.gate(type_)
            if gate:
                return full_name, [("INSUFFICIENT_ACCESS_OR_READONLY", gate)], None, 0  # code UNVERIFIED
            existing = self.components[type_].get(full_name)
            if op == "createMetadata" and existing is not None:
                return full_name, [("DUPLICATE_VALUE", f"There is already a {type_} named {full_name}")], None, 0
            if op == "updateMetadata" and existing is None:
                return full_name, [("INVALID_CROSS_REFERENCE_KEY", f"no {type_} named {full_name} found")], None, 0
            if type_ == CONNECTED_APP and existing is None and not self.settings.connected_app_creation:
                # [H-CA26]: creation through any API is blocked; edits of existing apps are not. Code UNVERIFIED.
                return full_name, [("INSUFFICIENT_ACCESS_OR_READONLY", NO_CONNECTED_APPS)], None, 0
            errors = check_types(type_, values) or self._validate(type_, full_name, values, existing)
            if errors:
                return full_name, errors, None, 0
            try:
                self._store(type_, full_name, values, existing)
            except SalesforceError as err:  # the app's record refused it, e.g. STRING_TOO_LONG for a label
                return full_name, [(err.error_code, err.message)], None, 0
            history.eca_changed(self.org, "create" if existing is None else "update", type_, full_name, values)
            return full_name, [], existing is None, 1

    def delete(self, type_: str, name: str) -> tuple[list[Err], int]:
        """deleteMetadata of one component: (errors, components removed)."""
        with self.org.lock:
            gate = self.gate(type_)
            if gate:
                return [("INSUFFICIENT_ACCESS_OR_READONLY", gate)], 0
            values = self.components[type_].pop(name, None)
            if values is None:
                return [("INVALID_CROSS_REFERENCE_KEY", f"In field: fullName - no {type_} named {name} found")], 0
            removed = 1
            if type_ == APP:
                # The app's components go with it, and so does its ExternalClientApplication record: in a real
                # org's describe the record's OAuth settings, policy and consumer children are cascade-deleted,
                # not restricting (docs/emulator.md).
                for child in CHILD_TYPES:
                    for n in [n for n, v in self.components[child].items() if v["externalClientApplication"] == name]:
                        del self.components[child][n]
                        removed += 1
                self.org.tables[APP].pop(values["_id"], None)
            history.eca_changed(self.org, "delete", type_, name, values)
            return [], removed

    def _fault_if_gated(self, type_: str) -> None:
        gate = self.gate(type_)
        if gate:
            raise EcaFault("INSUFFICIENT_ACCESS", gate)  # code UNVERIFIED

    # -- validation ------------------------------------------------------------------------------------
    def _validate(self, type_: str, name: str, values: dict, existing: Optional[dict]) -> list[Err]:
        """Type-specific rules; fills in what the platform generates. values is changed only on success."""
        if type_ == APP:
            return self._validate_app(name, values, existing)
        if type_ == CONNECTED_APP:
            return self._validate_connected_app(values, existing)
        app = values.get("externalClientApplication")
        if not app:
            return [("REQUIRED_FIELD_MISSING", "Required field is missing: externalClientApplication")]  # WSDL63
        if app not in self.components[APP]:
            # The child names its app, which must exist: the Metadata API's answer to a reference naming no
            # component, as a real org gave it (3P amp-labs/connectors permissions-of-unknown-field.xml).
            return [("INVALID_CROSS_REFERENCE_KEY",
                     f"In field: externalClientApplication - no ExternalClientApplication named {app} found")]
        other = next((n for n, v in self.components[type_].items()
                      if n != name and v["externalClientApplication"] == app), None)
        if other:
            # One component of each type per app (the app has one OAuth plugin); code and text UNVERIFIED.
            return [("DUPLICATE_VALUE", f"The external client app {app} already has a {type_}: {other}")]
        if type_ == GLOBAL:
            errors = self._check_certificate(values)
            return errors or self._key_and_secret(values, existing)
        if type_ == POLICIES:
            return self._validate_policies(values)
        return []

    def _validate_app(self, name: str, values: dict, existing: Optional[dict]) -> list[Err]:
        if not rules.DEVELOPER_NAME_RE.match(name):
            # API-name rule of developer names; applying it to ECA fullNames, code and text are UNVERIFIED.
            return [("FIELD_INTEGRITY_EXCEPTION", f"fullName: {name} is not a valid API name: use letters, digits "
                                                  "and single underscores, starting with a letter")]
        # [MD-ECA] marks no field required; label and contactEmail are required as for ConnectedApp [MD-CA]
        # (UNVERIFIED for ECAs, the strict choice).
        missing = [f for f in ("label", "contactEmail") if not values.get(f)]
        if missing:
            return [("REQUIRED_FIELD_MISSING", f"Required field is missing: {m}") for m in missing]
        # "Defaulted on create" [OBJREF ExternalClientApplication]; the default is Local (a real org's describe:
        # DistributionState defaultValue "Local", docs/emulator.md).
        values.setdefault("distributionState", "Local")
        # [MD-ECA]: "[orgId]:[ECA name]", developer-defined or generated on first deploy; kept afterwards.
        if not values.get("orgScopedExternalApp"):
            values["orgScopedExternalApp"] = (existing or {}).get("orgScopedExternalApp") or \
                f"{self.org.org_id}:{name}"
        return []

    def _validate_policies(self, values: dict) -> list[Err]:
        errors: list[Err] = []
        username = values.get("clientCredentialsFlowUser")
        if username:
            # [MD-ECA] "This user must have the API Only permission." Codes and texts UNVERIFIED.
            user = self.org.find_one("User", Username=username)
            if user is None:
                errors.append(("FIELD_INTEGRITY_EXCEPTION", f"clientCredentialsFlowUser: no user with username "
                                                            f"{username}"))
            elif "ApiUserOnly" not in user_permissions(self.org, user["Id"]):
                errors.append(("FIELD_INTEGRITY_EXCEPTION", f"clientCredentialsFlowUser: the user {username} must "
                                                            "have the API Only User permission"))
        # [MD-ECA] commaSeparatedPermissionSet: permission set IDs. commaSeparatedProfile: profile IDs as well
        # (UNVERIFIED, by analogy); names with the setting eca_preauthorise_by_names. A value that is no record
        # is refused: code and text UNVERIFIED.
        by_names = self.settings.eca_preauthorise_by_names
        for name, obj in (("commaSeparatedPermissionSet", "PermissionSet"), ("commaSeparatedProfile", "Profile")):
            for value in split_ids(values.get(name)):
                if self._preauthorised(obj, value) is None:
                    what = "named" if by_names else "with id"
                    errors.append(("INVALID_CROSS_REFERENCE_KEY", f"{name}: no {obj} {what} {value}"))
        return errors

    def _preauthorised(self, obj: str, value: str) -> Optional[dict]:
        """The permission set or profile a policy value names: by id, or by name (eca_preauthorise_by_names)."""
        if self.settings.eca_preauthorise_by_names:
            return self.org.find_one(obj, Name=value)
        return self.org.record(obj, value)

    def _validate_connected_app(self, values: dict, existing: Optional[dict]) -> list[Err]:
        # [MD-CA]: contactEmail and label required; ConnectedAppOauthConfig.callbackUrl required (WSDL63).
        missing = [f for f in ("label", "contactEmail") if not values.get(f)]
        oauth = values.get("oauthConfig")
        if isinstance(oauth, dict) and not oauth.get("callbackUrl"):
            missing.append("oauthConfig.callbackUrl")
        if missing:
            return [("REQUIRED_FIELD_MISSING", f"Required field is missing: {m}") for m in missing]
        if not isinstance(oauth, dict):
            return []
        old = (existing or {}).get("oauthConfig")
        errors = self._check_certificate(oauth) or self._key_and_secret(oauth, old if isinstance(old, dict) else None)
        username = oauth.get("oauthClientCredentialUser")
        if not errors and isinstance(username, str) and username:
            user = self.org.find_one("User", Username=username)
            if user is None or "ApiUserOnly" not in user_permissions(self.org, user["Id"]):
                # [MD-CA] "This user must have the API Only permission."; code and text UNVERIFIED.
                errors.append(("FIELD_INTEGRITY_EXCEPTION", f"oauthClientCredentialUser: {username} must be a user "
                                                            "with the API Only User permission"))
        return errors

    @staticmethod
    def _check_certificate(values: dict) -> list[Err]:
        cert = values.get("certificate")
        if cert is None or is_pem_certificate(cert):
            return []
        # [MD-ECA] "the PEM-encoded certificate string"; the refusal's code and text are UNVERIFIED.
        return [("FIELD_INTEGRITY_EXCEPTION", "certificate: not a PEM-encoded X.509 certificate")]

    def _key_and_secret(self, values: dict, existing: Optional[dict]) -> list[Err]:
        """consumerKey/consumerSecret: generated when not given (for ECA global settings a real org generated the
        key, docs/emulator.md), set only on create [MD-CA: v32+], the key unique across every org; the rest applied
        to ECA global settings by analogy (UNVERIFIED)."""
        errors: list[Err] = []
        for name in ("consumerKey", "consumerSecret"):
            given = values.get(name)
            if existing is not None:
                if given is not None and given != existing.get(name):
                    errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: can't be changed after the app is "
                                                                "created"))  # code and text UNVERIFIED
                continue
            if given is not None and not (isinstance(given, str) and KEY_RE.match(given)):
                errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: use 8 to 256 letters and digits"))
            elif name == "consumerKey" and given is not None and key_taken(given):
                # The text a real deploy gave for a taken key (3P forcedotcom/devops-center-feedback#256).
                errors.append(("DUPLICATE_VALUE", "The consumer key is already taken."))
        if errors:
            return errors
        if existing is not None:  # create-only values are kept (readMetadata never returns the secret)
            values["consumerKey"], values["consumerSecret"] = existing["consumerKey"], existing["consumerSecret"]
        else:
            values.setdefault("consumerKey", new_consumer_key())
            values.setdefault("consumerSecret", new_consumer_secret())
        return []

    # -- storing ---------------------------------------------------------------------------------------
    def _store(self, type_: str, name: str, values: dict, existing: Optional[dict]) -> None:
        if existing is not None:
            values.update({k: v for k, v in existing.items() if k.startswith("_")})
        if type_ == APP:
            if existing is None:
                values["_id"] = self.org.insert(APP, {"DeveloperName": name, "MasterLabel": values["label"]},
                                                system=True)
            else:
                self.org.update(APP, values["_id"], {"MasterLabel": values["label"]}, system=True)
        elif existing is None:
            values["_id"] = ID_FACTORY.new(ID_PREFIX[type_])
            if type_ == GLOBAL:
                values["_consumerId"] = ID_FACTORY.new(CONSUMER_PREFIX)
        self.components[type_][name] = values

    # -- the token endpoint's view (server.find_app) -----------------------------------------------
    def app_for_key(self, client_id: str) -> Optional[auth.ConnectedApp]:
        """The OAuth client whose consumer key this is: an ECA (global settings + OAuth settings) or a
        ConnectedApp created through the Metadata API."""
        if not client_id or self.org is None:
            return None
        with self.org.lock:
            for glob in self.components[GLOBAL].values():
                if glob.get("consumerKey") == client_id:
                    return self._eca_client(glob)
            for name, app in self.components[CONNECTED_APP].items():
                oauth = app.get("oauthConfig")
                if isinstance(oauth, dict) and oauth.get("consumerKey") == client_id:
                    return self._connected_app_client(name, oauth, app)
        return None

    def _child(self, type_: str, app: str) -> Optional[dict]:
        return next((v for v in self.components[type_].values() if v["externalClientApplication"] == app), None)

    def _eca_client(self, glob: dict) -> Optional[auth.ConnectedApp]:
        app = glob["externalClientApplication"]
        if self._child(OAUTH, app) is None:
            return None  # no ExtlClntAppOauthSettings: the app's OAuth plugin is not set up
        policies = self._child(POLICIES, app) or {}
        return auth.ConnectedApp(
            org_id=self.org.org_id, client_id=glob["consumerKey"], client_secret=glob["consumerSecret"],
            certificate_pem=(glob.get("certificate") or "").encode(),
            run_as_username=policies.get("clientCredentialsFlowUser") or "", name=app, kind="external_client_app",
            # Both flags exist (global settings and policies); which one gates the flow is UNVERIFIED
            # (reference A.2): both must be on.
            client_credentials_enabled=is_on(glob.get("isClientCredentialsFlowEnabled"))
            and is_on(policies.get("isClientCredentialsFlowEnabled")),
            admin_approved_only=policies.get("permittedUsersPolicyType") == "AdminApprovedPreAuthorized",
            permission_set_ids=self._ids("PermissionSet", split_ids(policies.get("commaSeparatedPermissionSet"))),
            profile_ids=self._ids("Profile", split_ids(policies.get("commaSeparatedProfile"))))

    def _connected_app_client(self, name: str, oauth: dict, app: dict) -> auth.ConnectedApp:
        # [MD-CA]: isAdminApproved with permissionSetName/profileName (names), isClientCredentialEnabled with
        # oauthClientCredentialUser.
        sets = [r["Id"] for n in as_list(app.get("permissionSetName")) for r in [self.org.find_one(
            "PermissionSet", Name=n)] if r]
        profiles = [r["Id"] for n in as_list(app.get("profileName")) for r in [self.org.find_one("Profile", Name=n)]
                    if r]
        return auth.ConnectedApp(
            org_id=self.org.org_id, client_id=oauth["consumerKey"], client_secret=oauth["consumerSecret"],
            certificate_pem=(oauth.get("certificate") or "").encode(),
            run_as_username=oauth.get("oauthClientCredentialUser") or "", name=name, kind="connected_app",
            client_credentials_enabled=is_on(oauth.get("isClientCredentialEnabled")),
            admin_approved_only=is_on(oauth.get("isAdminApproved")), permission_set_ids=frozenset(sets),
            profile_ids=frozenset(profiles))

    def _ids(self, obj: str, values: list[str]) -> frozenset:
        """18-character ids of the records the policy values name that still exist."""
        return frozenset(r["Id"] for r in (self._preauthorised(obj, v) for v in values) if r)

    # -- Connect REST: OAuth credentials [CONNECT] ------------------------------------------------------
    def credentials(self, version: str, parts: list[str], params: dict) -> dict:
        """GET credentials/{appId} and credentials/{appId}/{consumerId}?part=... (the caller holds org.lock)."""
        row = self.org.record(APP, parts[0]) if len(parts[0]) in (15, 18) else None
        if row is None:
            raise not_found()
        glob = self._child(GLOBAL, row["DeveloperName"])
        base = f"/services/data/v{version}/apps/oauth/credentials/{row['Id']}"
        if len(parts) == 1:
            # "App Oauth Credentials Collection": consumers[] with id and url (shape 3P, reference A.2).
            return {"consumers": [{"id": glob["_consumerId"], "url": f"{base}/{glob['_consumerId']}"}] if glob
                    else []}
        if glob is None or parts[1] not in (glob["_consumerId"], glob["_consumerId"][:15]):
            raise not_found()
        part = params.get("part", "key").lower()  # default when omitted: UNVERIFIED
        if part not in ("key", "secret", "keyandsecret"):
            raise SalesforceError(400, "INVALID_PARAMETER_VALUE", f"part: invalid value {params.get('part')}; use "
                                                                  "key, secret or keyandsecret")  # UNVERIFIED
        # "App Oauth Credentials": key, secret, id; "The secret value is returned only when specified in
        # this parameter" [CONNECT]. What is not asked for is null (UNVERIFIED).
        return {"id": glob["_consumerId"], "key": glob["consumerKey"] if part != "secret" else None,
                "secret": glob["consumerSecret"] if part != "key" else None}


def connect_oauth(org: Org, version: str, method: str, parts: list[str], params: dict) -> tuple[int, dict]:
    """/services/data/vXX.X/apps/<parts> (rest.py): the Connect OAuth credentials resources, v60+ [CONNECT].
    Staged credentials (v65) and /apps/oauth/usage are not modelled (404)."""
    store = store_of(org)
    if (store is None or float(version) < 60 or parts[:2] != ["oauth", "credentials"]
            or len(parts) not in (3, 4)):
        raise not_found()
    if method not in ("GET", "HEAD"):
        # [CONNECT] both resources list only GET; a method a resource lacks gets the platform's 405, which names
        # HEAD with GET (reference 2.3, real bodies in omniphx/forrest #191).
        raise SalesforceError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are HEAD,GET")
    if not store.settings.eca_client_secret_in_rest_api:
        # Reference A.2: needs ExternalClientAppSettings.enableClientSecretInRestApiAccess. Code UNVERIFIED.
        raise SalesforceError(403, "INSUFFICIENT_ACCESS", f"The org setting {REST_SETTING} is turned off.")
    return 200, store.credentials(version, parts[2:], params)


# -- helpers ------------------------------------------------------------------------------------------
def parse(el: ET.Element) -> dict[str, Value]:
    """An element's children by local name: text, a dict for nested elements, a list when repeated."""
    out: dict[str, Value] = {}
    for child in el:
        name = child.tag.split("}")[-1]
        value: Value = parse(child) if len(child) else (child.text or "")
        if name in out:
            previous = out[name]
            out[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            out[name] = value
    return out


def render(values: dict, order: Optional[list[str]] = None) -> str:
    """The inverse of parse(), in the given order (WSDL order at the top, as sent below)."""
    out = []
    for name in (order if order is not None else list(values)):
        if name.startswith("_") or name not in values:
            continue
        for item in as_list(values[name]):
            out.append(f"<{name}>{render(item) if isinstance(item, dict) else escape(str(item))}</{name}>")
    return "".join(out)


def check_types(type_: str, values: dict) -> list[Err]:
    """Each field must exist in the type (WSDL63) and fit its type; enumerations are checked against their
    values. Codes and texts UNVERIFIED (FIELD_INTEGRITY_EXCEPTION as for ProfilePasswordPolicy values)."""
    errors: list[Err] = []
    spec = FIELDS[type_]
    for name, value in values.items():
        kind = spec.get(name)
        if kind is None:
            errors.append(("INVALID_FIELD", f"{type_} has no field {name}"))
            continue
        if isinstance(value, list) and name not in REPEATED:
            errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: only one value is allowed"))
            continue
        items = as_list(value)
        if kind == X:
            if not all(isinstance(i, dict) for i in items):
                errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: expected nested elements"))
        elif not all(isinstance(i, str) for i in items):
            errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: expected a value, not nested elements"))
        elif kind == B:
            normal = {"true": "true", "1": "true", "false": "false", "0": "false"}.get(value.strip().lower())
            if normal is None:
                errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: invalid boolean {value}"))
            else:
                values[name] = normal
        elif kind == I:
            if not re.fullmatch(r"-?\d+", value.strip()):
                errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: invalid number {value}"))
        elif isinstance(kind, tuple) and value not in kind:
            errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{name}: invalid value {value}; valid values are "
                                                        f"{', '.join(kind)}"))
    return errors


def user_permissions(org: Org, user_id: str) -> set[str]:
    """System permissions the user holds through the profile's set, assigned sets and set groups."""
    perms: set[str] = set()
    for psa in org.find("PermissionSetAssignment", AssigneeId=user_id):
        set_ids = [psa["PermissionSetId"]] if psa.get("PermissionSetId") else [
            c["PermissionSetId"] for c in org.find("PermissionSetGroupComponent",
                                                   PermissionSetGroupId=psa.get("PermissionSetGroupId") or "")]
        for set_id in set_ids:
            ps = org.record("PermissionSet", set_id or "")
            if ps:
                perms |= rules.system_perms(ps)
    return perms


def split_ids(value: Optional[Value]) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else []


def as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def is_on(value: Optional[Value]) -> bool:
    return value == "true"


def is_pem_certificate(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        x509.load_pem_x509_certificate(text.strip().encode())
    except ValueError:
        return False
    return True


def key_taken(key: str) -> bool:
    """Whether any org of the process has an app (ECA, metadata ConnectedApp or the seeded app) with this key."""
    for store in list(_STORES.values()):
        seeded = store.seeded_app()
        if seeded is not None and seeded.client_id == key:
            return True
        if any(g.get("consumerKey") == key for g in list(store.components[GLOBAL].values())):
            return True
        if any(isinstance(a.get("oauthConfig"), dict) and a["oauthConfig"].get("consumerKey") == key
               for a in list(store.components[CONNECTED_APP].values())):
            return True
    return False


def new_consumer_key() -> str:
    """85 characters, 3MVG9 then letters and digits with two dots inside, as a key a real org generated for an ECA
    (3P chrzasz/sf-th-eca-via-metadata, docs/emulator.md); unique."""
    while True:
        body = list(random_secret(80))
        for i in secrets.SystemRandom().sample(range(1, 79), 2):
            body[i] = "."
        key = "3MVG9" + "".join(body)
        if not key_taken(key):
            return key


def new_consumer_secret() -> str:
    return random_secret(64).upper()  # alphanumeric, as the seeded app's


def not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
