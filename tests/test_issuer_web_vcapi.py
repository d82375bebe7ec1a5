"""VC-API ``POST /credentials/issue``: every suite, every did:key type, VC 1.1, data-model refusals.

Each signed answer is checked with the verifier's own ``verify_credential`` (did:key resolves
locally; the default did:web issuer through the runtime's pinned DID document).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from issuer_web_support import WebIssuer, auth, web_issuer

from issuer.services.issuance import own_issuers
from issuer.vcdm import VC1_CONTEXT, VC2_CONTEXT
from keys.resolve import Resolver
from verifier.report import verify_credential

SUITE_KEY_TYPES = [
    ("eddsa-rdfc-2022", "Ed25519"),
    ("eddsa-jcs-2022", "Ed25519"),
    ("ecdsa-rdfc-2019", "P-256"),
    ("ecdsa-rdfc-2019", "P-384"),
    ("ecdsa-jcs-2019", "P-256"),
    ("ecdsa-jcs-2019", "P-384"),
]
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def vc2(**extra: Any) -> dict[str, Any]:
    """A minimal VC 2.0 credential without an issuer (the route fills it in)."""
    doc: dict[str, Any] = {
        "@context": [VC2_CONTEXT, EXAMPLES_V2],
        "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "alumniOf": {"id": "did:example:c276e12ec21ebfeb1f712ebc6f1", "name": "Example U"},
        },
    }
    doc.update(extra)
    return doc


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance")) as issuer:
        client = issuer.client()
        for suite, key_type in SUITE_KEY_TYPES:
            slug = _slug(suite, key_type)
            response = client.post(
                "/issuers",
                headers=auth(issuer.tokens["admin"]),
                json={
                    "slug": slug,
                    "name": f"did:key {key_type} issuer",
                    "url": "https://faculty.example.edu.my",
                    "email": "registrar@example.edu.my",
                    "didMethod": "key",
                    "cryptosuite": suite,
                    "keyType": key_type,
                },
            )
            assert response.status_code == 201, response.get_json()
        yield issuer


def _slug(suite: str, key_type: str) -> str:
    return f"{suite}-{key_type}".lower()


def _issue(web: WebIssuer, path: str, body: Any) -> Any:
    return web.client().post(path, headers=auth(web.tokens["issue"]), json=body)


def _did(web: WebIssuer, slug: str) -> str:
    response = web.client().get(f"/issuers/{slug}", headers=auth(web.tokens["admin"]))
    did: str = response.get_json()["did"]
    return did


@pytest.mark.parametrize(("suite", "key_type"), SUITE_KEY_TYPES)
def test_issue_with_did_key_issuer_of_each_suite_and_key_type(
    web: WebIssuer, suite: str, key_type: str
) -> None:
    slug = _slug(suite, key_type)
    response = _issue(
        web,
        f"/issuers/{slug}/credentials/issue",
        {"credential": vc2(), "options": {"cryptosuite": suite}},
    )
    assert response.status_code == 201, response.get_json()
    signed = response.get_json()["verifiableCredential"]
    assert signed["issuer"] == _did(web, slug)
    assert signed["issuer"].startswith("did:key:z")
    assert signed["proof"]["cryptosuite"] == suite
    assert signed["credentialSubject"] == vc2()["credentialSubject"]
    report = verify_credential(signed, resolver=Resolver(), trust=own_issuers(web.rt))
    assert report.verified, report.to_dict()
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"]["name"] = "Other U"
    assert not verify_credential(tampered, resolver=Resolver(), trust=own_issuers(web.rt)).verified


def test_issue_with_default_did_web_issuer_keeps_caller_fields(web: WebIssuer) -> None:
    issuer_did = _did(web, "default")
    credential = vc2(issuer={"id": issuer_did, "name": "Registrar"})
    response = _issue(web, "/credentials/issue", {"credential": credential})
    assert response.status_code == 201, response.get_json()
    signed = response.get_json()["verifiableCredential"]
    assert signed["issuer"] == {"id": issuer_did, "name": "Registrar"}
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert signed["proof"]["verificationMethod"].startswith(issuer_did + "#")
    assert verify_credential(signed, resolver=web.rt.resolver, trust=own_issuers(web.rt)).verified


def test_issue_vc_1_1_credential_gets_data_integrity_context(web: WebIssuer) -> None:
    credential = {
        "@context": [VC1_CONTEXT, {"@vocab": "https://example.org/vocab#"}],
        "type": ["VerifiableCredential"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abc", "degreeName": "BSc"},
    }
    slug = _slug("eddsa-rdfc-2022", "Ed25519")
    response = _issue(web, f"/issuers/{slug}/credentials/issue", {"credential": credential})
    assert response.status_code == 201, response.get_json()
    signed = response.get_json()["verifiableCredential"]
    assert signed["@context"][0] == VC1_CONTEXT
    assert "https://w3id.org/security/data-integrity/v2" in signed["@context"]
    assert verify_credential(signed, resolver=Resolver(), trust=own_issuers(web.rt)).verified


def test_issuer_mismatch_is_400(web: WebIssuer) -> None:
    response = _issue(web, "/credentials/issue", {"credential": vc2(issuer="did:example:someone")})
    assert response.status_code == 400
    assert response.get_json()["code"] == "ISSUER_MISMATCH"


def test_unknown_issuer_is_404(web: WebIssuer) -> None:
    response = _issue(web, "/issuers/nobody/credentials/issue", {"credential": vc2()})
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


def test_suite_that_does_not_fit_the_key_is_refused_without_500(web: WebIssuer) -> None:
    slug = _slug("ecdsa-rdfc-2019", "P-256")
    response = _issue(
        web,
        f"/issuers/{slug}/credentials/issue",
        {"credential": vc2(), "options": {"cryptosuite": "eddsa-rdfc-2022"}},
    )
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.mimetype == "application/problem+json"


INVALID = [
    ("context_not_first", vc2(**{"@context": [EXAMPLES_V2, VC2_CONTEXT]}), "/@context/0"),
    ("context_missing", {k: v for k, v in vc2().items() if k != "@context"}, "/@context"),
    ("type_lacks_vc", vc2(type=["ExampleAlumniCredential"]), "/type"),
    (
        "subject_missing",
        {k: v for k, v in vc2().items() if k != "credentialSubject"},
        "/credentialSubject",
    ),
    ("subject_empty", vc2(credentialSubject={}), "/credentialSubject"),
    ("issuer_not_url", vc2(issuer="not a url"), "/issuer"),
    ("issuer_object_without_id", vc2(issuer={"name": "x"}), "/issuer/id"),
    ("valid_from_without_timezone", vc2(validFrom="2026-01-01T00:00:00"), "/validFrom"),
    ("valid_until_before_valid_from", vc2(validUntil="2025-01-01T00:00:00Z"), "/validUntil"),
    ("id_not_url", vc2(id="just words"), "/id"),
    ("already_has_proof", vc2(proof={"type": "DataIntegrityProof"}), "/proof"),
    ("issuance_date_in_v2", vc2(issuanceDate="2026-01-01T00:00:00Z"), "/issuanceDate"),
    (
        "status_without_type",
        vc2(credentialStatus={"id": "https://x.example/s#1"}),
        "/credentialStatus/type",
    ),
]


@pytest.mark.parametrize(("name", "credential", "pointer"), INVALID, ids=[i[0] for i in INVALID])
def test_invalid_data_model_is_400_with_pointer(
    web: WebIssuer, name: str, credential: dict[str, Any], pointer: str
) -> None:
    response = _issue(web, "/credentials/issue", {"credential": credential})
    assert response.status_code == 400, (name, response.get_json())
    problem = response.get_json()
    assert problem["code"] == "MALFORMED_VALUE_ERROR"
    assert problem["pointer"] == pointer


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"credential": "a string"},
        {"credential": vc2(), "options": {"cryptosuite": "rsa-2048"}},
        {"credential": vc2(), "options": {"unknown": 1}},
        {"credential": vc2(), "extra": True},
        [],
    ],
    ids=[
        "no-credential",
        "credential-not-object",
        "unknown-suite",
        "unknown-option",
        "unknown-member",
        "array",
    ],
)
def test_malformed_issue_request_is_400(web: WebIssuer, body: Any) -> None:
    response = _issue(web, "/credentials/issue", body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] == "REQUEST_VALIDATION_ERROR"


def test_undefined_term_is_refused_not_signed(web: WebIssuer) -> None:
    credential = vc2(**{"@context": [VC2_CONTEXT]})  # alumniOf is not defined by VC 2.0 alone
    credential["credentialSubject"] = {"id": "did:example:abc", "notATerm": "x"}
    response = _issue(web, "/credentials/issue", {"credential": credential})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] == "DATA_LOSS_DETECTION_ERROR"
