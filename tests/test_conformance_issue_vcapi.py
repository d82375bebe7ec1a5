"""VC-API issue and status conformance, through the real app with status lists on.

VC 1.1 and VC 2.0 issue for Ed25519, P-256 and P-384 did:key issuers verify with the verifier's
own ``verify_credential`` (status lists fetched through the public route); VC Data Model rules
at issue (any status type, a past ``validUntil``); a foreign status entry pointing into our
lists is refused; ``POST /credentials/status`` revokes and suspends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance_issue_support import (
    PUBLISHED_CONTEXTS,
    Issuer,
    contexts_named,
    issuer_app,
    schema_errors,
    verify,
)

from issuer.services.issuers import IssuerSpec, create_issuer
from issuer.services.status import set_suspension_enabled
from issuer.vcdm import VC1_CONTEXT, VC2_CONTEXT
from keys.keypair import KeyType

KEY_SUITES: list[tuple[KeyType, str]] = [
    ("Ed25519", "eddsa-rdfc-2022"),
    ("Ed25519", "eddsa-jcs-2022"),
    ("P-256", "ecdsa-rdfc-2019"),
    ("P-256", "ecdsa-jcs-2019"),
    ("P-384", "ecdsa-rdfc-2019"),
    ("P-384", "ecdsa-jcs-2019"),
]
BSL_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"


@pytest.fixture
def issuer(instance: Path) -> Iterator[Issuer]:
    with issuer_app(instance) as app:
        yield app


def _credential(version: str, ident: str, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [VC2_CONTEXT] if version == "2.0" else [VC1_CONTEXT],
        "id": ident,
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21"},
    }
    if version == "1.1":
        doc["issuanceDate"] = "2026-01-01T00:00:00Z"
    doc.update(extra)
    return doc


def _issue(issuer: Issuer, credential: dict[str, Any], path: str = "/credentials/issue") -> Any:
    return issuer.client().post(path, headers=issuer.auth(), json={"credential": credential})


def _signed(issuer: Issuer, credential: dict[str, Any], path: str = "/credentials/issue") -> Any:
    answer = _issue(issuer, credential, path)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["verifiableCredential"]


@pytest.mark.parametrize("version", ["1.1", "2.0"])
@pytest.mark.parametrize(("key_type", "suite"), KEY_SUITES)
def test_vc_issue_verifies_for_each_key_type_and_suite(
    issuer: Issuer, key_type: KeyType, suite: str, version: str
) -> None:
    slug = f"{key_type}-{suite}".lower().replace("-", "")[:30]
    create_issuer(
        issuer.rt,
        IssuerSpec(
            slug,
            f"{key_type} issuer",
            "https://faculty.example",
            "r@faculty.example",
            did_method="key",
            key_type=key_type,
            cryptosuite=suite,
        ),
        actor="test",
    )
    credential = _credential(version, f"urn:uuid:{slug}-{version}")
    signed = _signed(issuer, credential, f"/issuers/{slug}/credentials/issue")
    assert signed["proof"]["cryptosuite"] == suite
    status = signed["credentialStatus"]
    assert isinstance(status, dict)
    assert status["type"] == "BitstringStatusListEntry"
    assert contexts_named(signed) <= PUBLISHED_CONTEXTS
    if version == "1.1":
        assert BSL_CONTEXT in signed["@context"]
    report = verify(issuer, signed)
    assert report.verified, report.error_codes
    assert report.checks["status"].status == "passed"


def test_status_of_a_type_sijil_does_not_manage_is_accepted(issuer: Issuer) -> None:
    foreign = {
        "id": "https://status.other.example/lists/7#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": "https://status.other.example/lists/7",
    }
    signed = _signed(issuer, _credential("2.0", "urn:uuid:foreign-1", credentialStatus=foreign))
    assert signed["credentialStatus"] == foreign
    # A type no pinned context defines must still be an IRI (safe mode): name it in full.
    other_type = {
        "id": "https://status.other.example/x/1",
        "type": "https://status.other.example/vocab#ExampleStatusEntry",
    }
    answer = _issue(issuer, _credential("2.0", "urn:uuid:foreign-2", credentialStatus=other_type))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["verifiableCredential"]["credentialStatus"] == other_type


def test_valid_until_in_the_past_is_accepted_at_issue(issuer: Issuer) -> None:
    credential = _credential(
        "2.0",
        "urn:uuid:expired-1",
        validFrom="2020-01-01T00:00:00Z",
        validUntil="2021-01-01T00:00:00Z",
    )
    signed = _signed(issuer, credential)
    assert signed["validUntil"] == "2021-01-01T00:00:00Z"
    assert verify(issuer, signed).error_codes == ("CREDENTIAL_EXPIRED",)


@pytest.mark.parametrize(
    "related",
    [
        [{"digestSRI": "sha384-" + "A" * 64}],
        [
            {"id": "https://example.com/a.png", "digestMultibase": "uEiA" + "A" * 40},
            {"id": "https://example.com/a.png", "digestMultibase": "uEiA" + "A" * 40},
        ],
        [{"id": "https://example.com/b.png"}],
    ],
    ids=["related_resource_without_id", "duplicate_related_resource", "no_digest"],
)
def test_malformed_related_resource_is_refused_at_issue(
    issuer: Issuer, related: list[dict[str, str]]
) -> None:
    credential = _credential("2.0", "urn:uuid:related-1", relatedResource=related)
    answer = _issue(issuer, credential)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["code"] == "MALFORMED_VALUE_ERROR"
    assert answer.get_json()["pointer"].startswith("/relatedResource")


def test_foreign_status_pointing_into_our_lists_is_refused(issuer: Issuer) -> None:
    ours = _signed(issuer, _credential("2.0", "urn:uuid:ours-1"))["credentialStatus"]
    stolen = dict(ours)
    answer = _issue(issuer, _credential("2.0", "urn:uuid:thief-1", credentialStatus=stolen))
    assert answer.status_code == 400
    problem = answer.get_json()
    assert problem["code"] == "STATUS_ENTRY_NOT_ALLOWED"
    assert problem["pointer"].startswith("/credentialStatus/")


def _status(issuer: Issuer, credential_id: str, purpose: str, value: bool) -> Any:
    return issuer.client().post(
        "/credentials/status",
        headers=issuer.auth(),
        json={
            "credentialId": credential_id,
            "credentialStatus": [
                {"type": "BitstringStatusListEntry", "status": value, "statusPurpose": purpose}
            ],
        },
    )


def test_status_endpoint_revokes_and_the_verifier_then_says_revoked(issuer: Issuer) -> None:
    signed = _signed(issuer, _credential("2.0", "urn:uuid:to-revoke"))
    bystander = _signed(issuer, _credential("2.0", "urn:uuid:bystander"))
    assert verify(issuer, signed).verified
    answer = _status(issuer, "urn:uuid:to-revoke", "revocation", True)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "revoked"
    assert verify(issuer, signed).error_codes == ("CREDENTIAL_REVOKED",)
    assert verify(issuer, bystander).verified
    repeat = _status(issuer, "urn:uuid:to-revoke", "revocation", True)
    assert repeat.get_json()["changed"] is False
    undo = _status(issuer, "urn:uuid:to-revoke", "revocation", False)
    assert undo.status_code == 409
    assert undo.get_json()["code"] == "STATUS_TRANSITION_NOT_ALLOWED"


def test_status_endpoint_suspends_when_suspension_is_on(issuer: Issuer) -> None:
    set_suspension_enabled(issuer.rt, None, True, actor="test")
    signed = _signed(issuer, _credential("1.1", "urn:uuid:to-suspend"))
    assert [s["statusPurpose"] for s in signed["credentialStatus"]] == [
        "revocation",
        "suspension",
    ]
    assert _status(issuer, "urn:uuid:to-suspend", "suspension", True).status_code == 200
    assert verify(issuer, signed).error_codes == ("CREDENTIAL_SUSPENDED",)
    assert _status(issuer, "urn:uuid:to-suspend", "suspension", False).status_code == 200
    assert verify(issuer, signed).verified


def test_status_endpoint_refuses_suspension_without_a_suspension_entry(issuer: Issuer) -> None:
    _signed(issuer, _credential("2.0", "urn:uuid:no-suspension"))
    answer = _status(issuer, "urn:uuid:no-suspension", "suspension", True)
    assert answer.status_code == 409
    assert answer.get_json()["code"] == "STATUS_TRANSITION_NOT_ALLOWED"


def test_status_endpoint_unknown_credential_is_404(issuer: Issuer) -> None:
    answer = _status(issuer, "urn:uuid:never-issued", "revocation", True)
    assert answer.status_code == 404
    assert answer.get_json()["code"] == "NOT_FOUND"


def test_status_endpoint_needs_the_issue_scope(issuer: Issuer) -> None:
    answer = issuer.client().post(
        "/credentials/status",
        json={"credentialId": "urn:uuid:x", "credentialStatus": [{"status": True}]},
    )
    assert answer.status_code == 401


def test_status_endpoint_malformed_body_is_400(issuer: Issuer) -> None:
    answer = issuer.client().post(
        "/credentials/status",
        headers=issuer.auth(),
        json={"credentialId": "urn:uuid:x", "credentialStatus": [{"status": "maybe"}]},
    )
    assert answer.status_code == 400


def test_vc_api_open_badge_has_one_status_object_and_follows_the_schema(issuer: Issuer) -> None:
    badge = {
        "@context": [VC2_CONTEXT, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:8a1f0b7e-6f4f-4c55-9d59-3f3b7c1d2e11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Workshop badge",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:example:achievement:workshop",
                "type": ["Achievement"],
                "name": "Workshop",
                "description": "Attended the workshop",
                "criteria": {"narrative": "Attended"},
            },
        },
    }
    signed = _signed(issuer, badge)
    assert isinstance(signed["credentialStatus"], dict)
    assert schema_errors(signed) == []
    assert contexts_named(signed) <= PUBLISHED_CONTEXTS
    assert verify(issuer, signed).verified
