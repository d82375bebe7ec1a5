"""Everything sijil issues, checked by software that is not sijil's.

One real issuer (SQLite, the demo seeded, status lists on) issues every award type (COC, COA,
MMS with its embedded COAs, exported with ``awards export``). Then the other issue paths run: the
default issuer's key is rotated; a COC is revoked and re-issued; a COA is revoked and replaced
and the MMS embedding it superseded; a new learner with a DID progresses through
``POST /progress``, another through a CSV import; VC 2.0 (Open Badges) and VC 1.1 credentials
are signed through VC-API ``POST /credentials/issue`` by did:key issuers of each key type and
suite, the default did:web issuer and a second did:web issuer whose DID has a path, some then
revoked through ``POST /credentials/status``; an issuer that opted into suspension signs,
revokes and suspends. Every credential, and every status list credential they name, is then
checked

- by the Digital Bazaar ``@digitalbazaar/vc`` Data Integrity stack and by
  ``@digitalcredentials/verifier-core`` (the Learner Credential Wallet's library), offline, given
  only published contexts and the issuers' DID documents (``tests/interop``, one Node process);
  verifier-core verifies only eddsa-rdfc-2022 (and Ed25519Signature2020) proofs by Ed25519
  did:key or did:web keys, so it is asked only about those;
- against the unmodified official OB 3.0 / CLR 2.0 JSON Schemas with ``jsonschema`` directly
  and with Ajv (formats checked);
- for naming only published contexts, at most one status entry, no ``validFrom`` after signing.

Revoked credentials must read revoked in both verifiers, everything else valid.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pytest
from interop_support import (
    OB_ACHIEVEMENT_SCHEMA,
    computed_once,
    issuable_contexts,
    named_contexts,
    node_verifiers,
    schema_errors,
    schema_for,
)
from issuer_web_support import BASE_URL, WebIssuer, auth, web_issuer
from PIL import Image, PngImagePlugin

from issuer.exports.formats import export_award_files
from issuer.services.demo import seed_demo
from issuer.services.issuers import rotate_key
from issuer.services.status import install_status_lists

VC2 = "https://www.w3.org/ns/credentials/v2"
VC1 = "https://www.w3.org/2018/credentials/v1"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SIJIL_CONTEXT = "https://w3id.org/sijil/v1"
VERIFIERS = ("digitalbazaar", "verifierCore")
# (suite, key type) of the did:key issuers; verifier-core reads only the first.
DID_KEY_ISSUERS = (
    ("eddsa-rdfc-2022", "Ed25519"),
    ("ecdsa-rdfc-2019", "P-256"),
    ("ecdsa-rdfc-2019", "P-384"),
    ("eddsa-jcs-2022", "Ed25519"),
    ("ecdsa-jcs-2019", "P-256"),
)
VC_VERSIONS = ("2.0", "1.1")
AWARD_KINDS = ("COC", "COA", "MMS", "MMS-embedded-COA")
PATH_DID_WEB_ISSUER = "faculty"  # a second did:web issuer: its DID has a path
# Canonicalization edge cases (RDFC-1.0 literal escapes, JCS UTF-16 code units): quotes,
# backslash, tab, newline, carriage return, other C0 controls, DEL, astral-plane characters.
TRICKY_TEXT = (
    'Signed "through" the VC-API\\n\tto be checked\r\nby other software \x01\x1f\x7f 𝔘𝔫𝔦 🎓.'
)
SUSPENDING_ISSUER = "interop-suspension"
LEARNER_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@dataclasses.dataclass
class Issued:
    """Every credential the issuer produced, by name, and what the checkers said.

    ``kinds``: name -> COC | COA | MMS | MMS-embedded-COA | vcapi | status; ``revoked``: ids of
    the credentials revoked; ``failures``: name -> why it could not be issued or revoked.
    """

    credentials: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    kinds: dict[str, str] = dataclasses.field(default_factory=dict)
    revoked: set[str] = dataclasses.field(default_factory=set)
    suspended: set[str] = dataclasses.field(default_factory=set)
    documents: dict[str, Any] = dataclasses.field(default_factory=dict)
    verdicts: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    refused: list[str] = dataclasses.field(default_factory=list)
    failures: dict[str, str] = dataclasses.field(default_factory=dict)
    baked: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def add(self, name: str, kind: str, credential: dict[str, Any]) -> None:
        self.credentials[name] = credential
        self.kinds[name] = kind

    def named(self, kind: str) -> list[str]:
        return sorted(n for n, k in self.kinds.items() if k == kind)

    def to_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "revoked": sorted(self.revoked),
            "suspended": sorted(self.suspended),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Issued:
        return cls(**{**data, "revoked": set(data["revoked"]), "suspended": set(data["suspended"])})


@contextmanager
def _demo_issuer(instance: Path) -> Iterator[WebIssuer]:
    """The demo with status lists on, as ``sijil-issuer demo`` and the servers run it."""
    with web_issuer(instance) as web:
        install_status_lists(web.rt)
        seed_demo(web.rt)
        yield web


def _slug(suite: str, key_type: str) -> str:
    return f"interop-{suite}-{key_type}".lower()


def _vcapi_name(version: str, suite: str, key_type: str) -> str:
    return f"vcapi-vc{version}-{suite}-{key_type}"


def _ob_credential(issuer: dict[str, Any], name: str) -> dict[str, Any]:
    """A VC 2.0 OpenBadgeCredential as a third party would send it to be signed."""
    return {
        "@context": [VC2, OB3],
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Lencana kebolehoperasian · 互操作性徽章 · இயங்குதன்மை 🎓",
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "achievement": {
                "id": f"{BASE_URL}/achievements/INTEROP/coc",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": "Interoperability",
                "description": TRICKY_TEXT,
                "criteria": {"narrative": "Issued by the interoperability tests."},
            },
        },
    }


def _vc1_credential(issuer_did: str, name: str) -> dict[str, Any]:
    """A VC 1.1 credential (only the VC 1.1 context) as a third party would send it."""
    return {
        "@context": [VC1],
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
        "type": ["VerifiableCredential"],
        "issuer": issuer_did,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21"},
    }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _serve(web: WebIssuer, url: str) -> Any:
    """What the issuer serves at ``url`` (one of its own URLs), parsed."""
    assert url.startswith(BASE_URL + "/"), url
    response = web.client().get(_path(url))
    assert response.status_code == 200, (url, response.status_code)
    return json.loads(response.get_data())


def _unbaked_png(path: Path) -> str:
    """OB 3.0 "Baking": the iTXt chunk with keyword ``openbadgecredential`` (read by Pillow)."""
    with Image.open(path) as image:
        text = image.text.get("openbadgecredential")  # type: ignore[attr-defined]
    if not isinstance(text, PngImagePlugin.iTXt):
        return f"no iTXt openbadgecredential chunk: {type(text).__name__}"
    return str(text)


def _unbaked_svg(path: Path) -> str:
    """OB 3.0 "Baking": ``<openbadges:credential>``, OB 3.0 namespace (read by ElementTree)."""
    root = ElementTree.fromstring(path.read_bytes())  # noqa: S314 - our own export
    element = root.find("{https://purl.imsglobal.org/ob/v3p0}credential")
    return "no openbadges:credential element" if element is None else (element.text or "")


def _issue_awards(web: WebIssuer, issued: Issued, export_dir: Path) -> None:
    """``awards export`` in JSON and as baked PNG and SVG badges."""
    paths = export_award_files(web.rt, export_dir, ["json", "png", "svg"], verifier_url=BASE_URL)
    for path in sorted(p for p in paths if p.suffix == ".json"):
        credential = json.loads(path.read_bytes())
        award_type = path.name.split("-", 1)[0].upper()
        issued.add(path.stem, award_type, credential)
        issued.baked[path.stem] = {
            "png": _unbaked_png(path.with_suffix(".png")),
            "svg": _unbaked_svg(path.with_suffix(".svg")),
        }
        if award_type == "MMS":
            embedded = credential["credentialSubject"].get("verifiableCredential", [])
            for i, coa in enumerate(embedded if isinstance(embedded, list) else [embedded]):
                issued.add(f"{path.stem}-embedded-{i}", "MMS-embedded-COA", coa)


def _admin_post(web: WebIssuer, path: str, body: dict[str, Any]) -> Any:
    response = web.client().post(path, headers=auth(web.tokens["admin"]), json=body)
    assert response.status_code in (200, 201), (path, response.get_json())
    return response.get_json()


def _award_id(web: WebIssuer, learner: str, award_type: str, code: str) -> str:
    response = web.client().get(f"/awards?learner={learner}", headers=auth(web.tokens["admin"]))
    assert response.status_code == 200, response.get_json()
    (award,) = [
        a
        for a in response.get_json()["items"]
        if a["awardType"] == award_type and a["achievement"] == code and a["status"] == "active"
    ]
    return str(award["id"])


def _revoke_award(web: WebIssuer, issued: Issued, award_id: str) -> None:
    _admin_post(web, f"/awards/{award_id}/revoke", {"reason": "interoperability test"})
    issued.revoked.add(f"{BASE_URL}/credentials/{award_id}")


def _add_award(web: WebIssuer, issued: Issued, name: str, award: dict[str, Any]) -> None:
    """Fetch an award as the public serves it (verbatim) and add it (and its embedded COAs)."""
    credential = _serve(web, award["credentialId"])
    issued.add(name, award["awardType"], credential)
    if award["awardType"] == "MMS":
        for i, coa in enumerate(credential["credentialSubject"]["verifiableCredential"]):
            issued.add(f"{name}-embedded-{i}", "MMS-embedded-COA", coa)


def _revoke_and_reissue(web: WebIssuer, issued: Issued) -> None:
    """Issue paths after the demo: re-issue a revoked COC; replace a revoked COA and supersede
    the MMS that embeds it; progress through the web API for a new learner with a DID and
    through a CSV import for another."""
    coc = _award_id(web, "S1002", "COC", "DAF101")
    _revoke_award(web, issued, coc)
    reason = {"reason": "interoperability test"}
    _add_award(web, issued, "reissued-coc", _admin_post(web, f"/awards/{coc}/reissue", reason))
    coa = _award_id(web, "S1001", "COA", "DAF101")
    mms = _award_id(web, "S1001", "MMS", "PCDA")
    _revoke_award(web, issued, coa)
    _add_award(web, issued, "reissued-coa", _admin_post(web, f"/awards/{coa}/reissue", reason))
    superseding = _admin_post(web, f"/awards/{mms}/reissue", reason)
    issued.revoked.add(f"{BASE_URL}/credentials/{mms}")
    _add_award(web, issued, "superseding-mms", superseding)
    events = [
        {
            "learner": "S2001",
            "microCredential": "ESG201",
            "type": "materialCompleted",
            "item": f"ESG201-M{i}",
            "learnerEmail": "nurul.ain@student.example.edu.my",
            "learnerName": "Nurul Ain binti Hassan",
            "learnerDid": LEARNER_DID,
        }
        for i in (1, 2)
    ]
    response = web.client().post(
        "/progress", headers=auth(web.tokens["issue"]), json={"events": events}
    )
    assert response.status_code == 200, response.get_json()
    (award,) = response.get_json()["issued"]
    _add_award(web, issued, "progress-coc-with-learner-did", award)
    csv = (
        "learner_id,micro_credential,event,item,learner_email,learner_name\n"
        "S2002,ESG201,material_completed,ESG201-M1,lim.mei@student.example.edu.my,Lim Mei Ling\n"
        "S2002,ESG201,material_completed,ESG201-M2,lim.mei@student.example.edu.my,Lim Mei Ling\n"
    )
    imported = web.client().post(
        "/progress/import",
        headers={**auth(web.tokens["issue"]), "Content-Type": "text/csv"},
        data=csv.encode(),
    )
    assert imported.status_code == 200, imported.get_json()
    awards = web.client().get("/awards?learner=S2002", headers=auth(web.tokens["admin"]))
    (award,) = awards.get_json()["items"]
    _add_award(web, issued, "csv-import-coc", award)


def _sign_vcapi(
    web: WebIssuer, issued: Issued, name: str, path: str, unsigned: dict[str, Any], suite: str
) -> None:
    response = web.client().post(
        path,
        headers=auth(web.tokens["issue"]),
        json={"credential": unsigned, "options": {"cryptosuite": suite}},
    )
    if response.status_code == 201:
        issued.add(name, "vcapi", response.get_json()["verifiableCredential"])
    else:
        issued.failures[name] = json.dumps(response.get_json())


def _unsigned(version: str, issuer_did: str, name: str) -> dict[str, Any]:
    if version == "2.0":
        return _ob_credential({"id": issuer_did, "type": ["Profile"], "name": "Interop"}, name)
    return _vc1_credential(issuer_did, name)


def _revoke_vcapi(web: WebIssuer, issued: Issued, name: str, purpose: str = "revocation") -> None:
    """Revoke (or suspend) ``name`` through VC-API ``POST /credentials/status``."""
    if name not in issued.credentials:
        return
    response = web.client().post(
        "/credentials/status",
        headers=auth(web.tokens["issue"]),
        json={
            "credentialId": issued.credentials[name]["id"],
            "credentialStatus": [
                {"type": "BitstringStatusListEntry", "status": True, "statusPurpose": purpose}
            ],
        },
    )
    if response.status_code != 200:
        issued.failures[f"{purpose} {name}"] = json.dumps(response.get_json())
    elif purpose == "revocation":
        issued.revoked.add(issued.credentials[name]["id"])
    else:
        issued.suspended.add(issued.credentials[name]["id"])


def _issue_with_suspension(web: WebIssuer, issued: Issued) -> None:
    """An issuer that opted into suspension (two status entries; breaks the OB schemas): one
    credential revoked, one suspended, one untouched."""
    created = web.client().post(
        "/issuers",
        headers=auth(web.tokens["admin"]),
        json={
            "slug": SUSPENDING_ISSUER,
            "name": "Interop issuer with suspension",
            "url": "https://faculty.example.edu.my",
            "email": "registrar@example.edu.my",
            "didMethod": "key",
        },
    )
    assert created.status_code == 201, created.get_json()
    did = created.get_json()["did"]
    switched = web.client().patch(
        f"/issuers/{SUSPENDING_ISSUER}",
        headers=auth(web.tokens["admin"]),
        json={"suspensionEnabled": True},
    )
    assert switched.status_code == 200, switched.get_json()
    path = f"/issuers/{SUSPENDING_ISSUER}/credentials/issue"
    for state in ("active", "revoked", "suspended"):
        name = f"suspension-issuer-{state}"
        _sign_vcapi(web, issued, name, path, _unsigned("2.0", did, name), "eddsa-rdfc-2022")
        issued.kinds[name] = "suspension"
    _revoke_vcapi(web, issued, "suspension-issuer-revoked")
    _revoke_vcapi(web, issued, "suspension-issuer-suspended", "suspension")


def _issue_vcapi(web: WebIssuer, issued: Issued) -> None:
    admin = auth(web.tokens["admin"])
    for suite, key_type in DID_KEY_ISSUERS:
        slug = _slug(suite, key_type)
        created = web.client().post(
            "/issuers",
            headers=admin,
            json={
                "slug": slug,
                "name": f"Interop {key_type} issuer",
                "url": "https://faculty.example.edu.my",
                "email": "registrar@example.edu.my",
                "didMethod": "key",
                "cryptosuite": suite,
                "keyType": key_type,
            },
        )
        assert created.status_code == 201, created.get_json()
        did = created.get_json()["did"]
        for version in VC_VERSIONS:
            name = _vcapi_name(version, suite, key_type)
            path = f"/issuers/{slug}/credentials/issue"
            _sign_vcapi(web, issued, name, path, _unsigned(version, did, name), suite)
            revoked = f"revoked-{name}"
            _sign_vcapi(web, issued, revoked, path, _unsigned(version, did, revoked), suite)
            _revoke_vcapi(web, issued, revoked)
    default = web.client().get("/issuers/default", headers=admin).get_json()
    for version in VC_VERSIONS:
        name = f"vcapi-vc{version}-default-did-web"
        unsigned = _unsigned(version, default["did"], name)
        _sign_vcapi(web, issued, name, "/credentials/issue", unsigned, "eddsa-rdfc-2022")
    created = web.client().post(
        "/issuers",
        headers=admin,
        json={
            "slug": PATH_DID_WEB_ISSUER,
            "name": "Faculty of Computing",
            "url": "https://faculty.example.edu.my",
            "email": "registrar@example.edu.my",
            "didMethod": "web",
        },
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["did"].startswith("did:web:issuer.test.example:")
    for version in VC_VERSIONS:
        name = f"vcapi-vc{version}-path-did-web"
        unsigned = _unsigned(version, created.get_json()["did"], name)
        path = f"/issuers/{PATH_DID_WEB_ISSUER}/credentials/issue"
        _sign_vcapi(web, issued, name, path, unsigned, "eddsa-rdfc-2022")


def _status_entries(credential: dict[str, Any]) -> list[dict[str, Any]]:
    status = credential.get("credentialStatus", [])
    return status if isinstance(status, list) else [status]


def _did_web_url(did: str) -> str:
    """did:web method spec, "Read (Resolve)": the HTTPS URL of the DID document."""
    host, *path = [unquote(part) for part in did.removeprefix("did:web:").split(":")]
    return (
        f"https://{host}/{'/'.join(path)}/did.json"
        if path
        else f"https://{host}/.well-known/did.json"
    )


def _proof_methods(credential: dict[str, Any]) -> list[str]:
    proofs = credential.get("proof", [])
    return [
        str(p.get("verificationMethod")) for p in (proofs if isinstance(proofs, list) else [proofs])
    ]


def _collect_documents(web: WebIssuer, issued: Issued) -> None:
    """What the issuer serves that a verifier fetches: DID documents and status lists."""
    dids = {
        vm.split("#")[0]
        for credential in issued.credentials.values()
        for vm in _proof_methods(credential)
        if vm.startswith("did:web:")
    }
    for did in sorted(dids):
        issued.documents[_did_web_url(did)] = _serve(web, _did_web_url(did))
    lists: set[str] = set()
    for credential in issued.credentials.values():
        lists.update(e["statusListCredential"] for e in _status_entries(credential))
    for url in sorted(lists):
        status_list = _serve(web, url)
        issued.documents[url] = status_list
        issued.add(f"status-list-{_path(url).strip('/').replace('/', '-')}", "status", status_list)


def _is_verifier_core_suite(credential: dict[str, Any]) -> bool:
    proofs = credential.get("proof", [])
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if proof.get("cryptosuite") != "eddsa-rdfc-2022":
            return False
        if not str(proof.get("verificationMethod", "")).startswith(("did:key:z6Mk", "did:web:")):
            return False
    return True


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    data = computed_once(
        tmp_path_factory, "interop-issued", lambda: _issue_and_verify(tmp_path_factory).to_json()
    )
    return Issued.from_json(data)


def _issue_and_verify(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    verifiers = node_verifiers()  # skips (locally) or fails (CI) before any work without node
    result = Issued()
    with _demo_issuer(tmp_path_factory.mktemp("instance")) as web:
        _issue_awards(web, result, tmp_path_factory.mktemp("export"))
        # A new signing key from now on: the awards above keep the old one, the status lists
        # (re-signed on revocation) and the VC-API credentials below use the new one.
        rotate_key(web.rt, actor="test", activate=True)
        _revoke_and_reissue(web, result)
        _issue_vcapi(web, result)
        _issue_with_suspension(web, result)
        _collect_documents(web, result)
    only = {
        name: ("digitalbazaar", "ajv")
        for name, credential in result.credentials.items()
        if not _is_verifier_core_suite(credential)
    }
    # One Node process for everything, the negative controls included.
    batch = sorted(result.credentials.items()) + sorted(_negatives(result).items())
    answer = verifiers.verify(batch, result.documents, verifiers=only)
    result.verdicts, result.refused = answer.results, answer.refused
    return result


def _negatives(issued: Issued) -> dict[str, dict[str, Any]]:
    """Controls that must fail: a changed award, and one that names the sijil context."""
    tampered = copy.deepcopy(issued.credentials[issued.named("COA")[0]])
    achievement = tampered["credentialSubject"]["achievement"]
    achievement["name"] = achievement["name"] + " (forged)"
    unpublished = copy.deepcopy(issued.credentials[issued.named("COC")[0]])
    unpublished["@context"] = [*unpublished["@context"], SIJIL_CONTEXT]
    return {"negative-tampered": tampered, "negative-sijil-context": unpublished}


def _expected(issued: Issued, name: str) -> str:
    ident = issued.credentials[name].get("id")
    if ident in issued.revoked:
        return "revoked"
    return "suspended" if ident in issued.suspended else "valid"


def _disagreements(issued: Issued, names: list[str], verifier: str) -> dict[str, Any]:
    wrong: dict[str, Any] = {}
    for name in names:
        verdict = issued.verdicts[name].get(verifier)
        if verdict is None:
            continue
        if verdict["verdict"] != _expected(issued, name):
            wrong[name] = {"verdict": verdict["verdict"], "errors": verdict["errors"][:8]}
    return wrong


@pytest.mark.parametrize("verifier", VERIFIERS)
@pytest.mark.parametrize("kind", AWARD_KINDS)
def test_every_award_verifies_independently(issued: Issued, kind: str, verifier: str) -> None:
    names = issued.named(kind)
    assert names, f"the demo issued no {kind}"
    checked = [n for n in names if verifier in issued.verdicts[n]]
    assert checked, f"{verifier} checked no {kind}"
    assert _disagreements(issued, names, verifier) == {}


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_status_list_credentials_verify_independently(issued: Issued, verifier: str) -> None:
    names = issued.named("status")
    assert names, "no status list credential was referenced"
    assert _disagreements(issued, names, verifier) == {}


def test_revoked_awards_read_revoked_in_both_verifiers(issued: Issued) -> None:
    """The revoked COC, the replaced COA (also inside the superseded MMS) and that MMS."""
    names = [n for n in issued.credentials if _expected(issued, n) == "revoked"]
    kinds = {issued.kinds[n] for n in names}
    assert {"COC", "COA", "MMS", "MMS-embedded-COA"} <= kinds, names
    for name in names:
        for verifier, verdict in issued.verdicts[name].items():
            if verifier in VERIFIERS:
                assert verdict["verdict"] == "revoked", (name, verifier, verdict)


@pytest.mark.parametrize(
    "name",
    [
        "reissued-coc",
        "reissued-coa",
        "superseding-mms",
        "progress-coc-with-learner-did",
        "csv-import-coc",
    ],
)
def test_awards_issued_after_the_demo_verify_independently(issued: Issued, name: str) -> None:
    assert _expected(issued, name) == "valid"
    for verifier in VERIFIERS:
        assert issued.verdicts[name][verifier]["verdict"] == "valid", issued.verdicts[name]


def test_learner_did_is_the_credential_subject(issued: Issued) -> None:
    subject = issued.credentials["progress-coc-with-learner-did"]["credentialSubject"]
    assert subject["id"] == LEARNER_DID


@pytest.mark.parametrize("version", VC_VERSIONS)
@pytest.mark.parametrize(("suite", "key_type"), DID_KEY_ISSUERS)
def test_vcapi_credential_revoked_through_status_endpoint_reads_revoked_independently(
    issued: Issued, version: str, suite: str, key_type: str
) -> None:
    name = f"revoked-{_vcapi_name(version, suite, key_type)}"
    assert name in issued.credentials, issued.failures.get(name)
    assert _expected(issued, name) == "revoked", issued.failures.get(f"revoke {name}")
    for verifier, verdict in issued.verdicts[name].items():
        if verifier in VERIFIERS:
            assert verdict["verdict"] == "revoked", (verifier, verdict)


@pytest.mark.parametrize("version", VC_VERSIONS)
@pytest.mark.parametrize(("suite", "key_type"), DID_KEY_ISSUERS)
def test_vcapi_credential_from_did_key_issuer_verifies_independently(
    issued: Issued, version: str, suite: str, key_type: str
) -> None:
    name = _vcapi_name(version, suite, key_type)
    assert name in issued.credentials, issued.failures.get(name)
    verifiers = issued.verdicts[name]
    assert verifiers["digitalbazaar"]["verdict"] == "valid", verifiers
    if suite == "eddsa-rdfc-2022":
        assert verifiers["verifierCore"]["verdict"] == "valid", verifiers


def test_vcapi_signs_the_text_it_was_given(issued: Issued) -> None:
    """Control characters, quotes and astral-plane characters arrive signed, unchanged."""
    texts = {
        name: issued.credentials[name]["credentialSubject"]["achievement"]["description"]
        for name in issued.named("vcapi")
        if "vc2.0" in name
    }
    assert texts
    assert {n: t for n, t in texts.items() if t != TRICKY_TEXT} == {}


@pytest.mark.parametrize("version", VC_VERSIONS)
@pytest.mark.parametrize("issuer", ["default", "path"])
def test_vcapi_credential_from_did_web_issuer_verifies_independently(
    issued: Issued, version: str, issuer: str
) -> None:
    name = f"vcapi-vc{version}-{issuer}-did-web"
    assert name in issued.credentials, issued.failures.get(name)
    for verifier in VERIFIERS:
        assert issued.verdicts[name][verifier]["verdict"] == "valid", issued.verdicts[name]


def test_key_rotation_keeps_old_and_new_signatures_verifiable(issued: Issued) -> None:
    """Demo awards (signed before the rotation) and re-issued ones (after) name different keys
    of the same DID; both verified above against the one published DID document."""
    before = {
        vm
        for n in issued.named("COC")
        if n.startswith("coc-")
        for vm in _proof_methods(issued.credentials[n])
    }
    after = set(_proof_methods(issued.credentials["reissued-coc"]))
    assert len(before) == 1
    assert len(after) == 1
    assert before != after
    assert {vm.split("#")[0] for vm in before} == {vm.split("#")[0] for vm in after}
    for name in ("reissued-coc", issued.named("COC")[0]):
        assert issued.verdicts[name]["digitalbazaar"]["verdict"] in ("valid", "revoked")


def test_no_credential_is_valid_from_later_than_it_was_signed(issued: Issued) -> None:
    """The wallet library fails a validFrom even a second in the future: none may be later
    than its proof's ``created``."""
    late: dict[str, tuple[str, str]] = {}
    for name, credential in issued.credentials.items():
        start = str(credential.get("validFrom", credential.get("issuanceDate")))
        proofs = credential.get("proof", [])
        for proof in proofs if isinstance(proofs, list) else [proofs]:
            if "created" in proof and datetime.fromisoformat(start) > datetime.fromisoformat(
                proof["created"]
            ):
                late[name] = (start, proof["created"])
    assert late == {}


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_baked_badges_carry_the_verified_credential(issued: Issued, fmt: str) -> None:
    """Every exported award's baked badge holds the same credential the verifiers accepted."""
    assert issued.baked
    differing = {
        name: formats[fmt][:120]
        for name, formats in issued.baked.items()
        if _parsed(formats[fmt]) != issued.credentials[name]
    }
    assert differing == {}


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def test_every_issued_credential_has_at_most_one_status_entry(issued: Issued) -> None:
    """Except from the issuer that opted into suspension."""
    many = {
        name: len(_status_entries(c))
        for name, c in issued.credentials.items()
        if len(_status_entries(c)) > 1 and issued.kinds[name] != "suspension"
    }
    assert many == {}


@pytest.mark.parametrize("state", ["active", "revoked", "suspended"])
def test_issuer_with_suspension_states_read_independently(issued: Issued, state: str) -> None:
    """Both entries are read by the Digital Bazaar stack. verifier-core reads only the first
    entry (so it never sees a suspension), so revocation must come first for a wallet to see
    it."""
    name = f"suspension-issuer-{state}"
    assert name in issued.credentials, issued.failures.get(name)
    assert [e["statusPurpose"] for e in _status_entries(issued.credentials[name])] == [
        "revocation",
        "suspension",
    ]
    assert _expected(issued, name) == state.replace("active", "valid"), issued.failures
    verdicts = issued.verdicts[name]
    assert verdicts["digitalbazaar"]["verdict"] == _expected(issued, name), verdicts
    # verifier-core: signature and revocation as expected; its OB schema check fails the
    # second entry (documented: suspension breaks OB 3.0 schema validity).
    log = verdicts["verifierCore"]["log"]
    assert log["valid_signature"] == {"valid": True}, verdicts
    assert log["revocation_status"] == {"valid": state != "revoked"}, verdicts


def test_every_issued_credential_names_only_published_contexts(issued: Issued) -> None:
    allowed = issuable_contexts()
    outside = {
        name: sorted(named_contexts(c) - allowed)
        for name, c in issued.credentials.items()
        if named_contexts(c) - allowed
    }
    assert outside == {}


@pytest.mark.parametrize("kind", [*AWARD_KINDS, "vcapi"])
def test_every_issued_credential_validates_against_official_schema(
    issued: Issued, kind: str
) -> None:
    checked = 0
    errors: dict[str, list[str]] = {}
    for name in issued.named(kind):
        schema_id = schema_for(issued.credentials[name])
        if schema_id is None:
            continue
        checked += 1
        found = schema_errors(issued.credentials[name], schema_id)
        if found:
            errors[name] = found[:8]
    assert checked, f"no {kind} credential has an OB/CLR schema"
    assert errors == {}


@pytest.mark.parametrize("kind", [*AWARD_KINDS, "vcapi"])
def test_every_issued_credential_validates_in_ajv_with_formats(issued: Issued, kind: str) -> None:
    """The official schemas again, in Ajv (draft 2019-09, ajv-formats: date-time, uri, ...)."""
    results = {
        name: issued.verdicts[name]["ajv"]
        for name in issued.named(kind)
        if schema_for(issued.credentials[name]) is not None
    }
    assert results, f"no {kind} credential has an OB/CLR schema"
    assert {n: r for n, r in results.items() if r["verdict"] != "valid"} == {}


def test_independent_verifiers_needed_nothing_beyond_published_and_served_documents(
    issued: Issued,
) -> None:
    """Only the negative control (sijil's own context) asked for anything else."""
    assert issued.refused == [SIJIL_CONTEXT]


@pytest.mark.parametrize("kind", ["COC", "COA", "MMS-embedded-COA", "vcapi"])
def test_wallet_library_validated_open_badges_against_official_schema(
    issued: Issued, kind: str
) -> None:
    """verifier-core picks the OB 3.0 schema itself (from the context and type) and validates."""
    checked: dict[str, list[Any]] = {}
    for name in issued.named(kind):
        result = issued.verdicts[name].get("verifierCore")
        if result is None or schema_for(issued.credentials[name]) is None:
            continue
        checked[name] = [(s["schema"], s["valid"]) for s in result.get("schema", [])]
    assert checked, f"verifier-core checked no {kind} OpenBadgeCredential"
    wrong = {n: s for n, s in checked.items() if s != [(OB_ACHIEVEMENT_SCHEMA, True)]}
    assert wrong == {}


def test_tampered_award_is_rejected_by_both_verifiers(issued: Issued) -> None:
    """The harness can fail: one changed name breaks the proof."""
    verdicts = issued.verdicts["negative-tampered"]
    assert verdicts["digitalbazaar"]["verdict"] == "invalid", verdicts
    assert verdicts["verifierCore"]["verdict"] == "invalid", verdicts


def test_credential_naming_sijil_context_is_refused_by_independent_loader(issued: Issued) -> None:
    """The loader knows only published contexts: the unpublished sijil one cannot load."""
    result = issued.verdicts["negative-sijil-context"]["digitalbazaar"]
    assert result["verdict"] == "invalid"
    assert any(SIJIL_CONTEXT in line for line in result["errors"]), result
