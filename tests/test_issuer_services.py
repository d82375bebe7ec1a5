"""Settings, API tokens, catalogue upserts, progress batches and VC-API signing."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from contexts.errors import MalformedValueError
from issuer.db.models import ApiToken, Base
from issuer.domain.jsonforms import micro_credential_from_json, micro_credential_to_json
from issuer.domain.progress import ProgressEvent, event_from_json
from issuer.services.audit import list_audit
from issuer.services.catalogue import get_micro_credential, upsert_micro_credential
from issuer.services.demo import DEMO_MICRO_CREDENTIALS, seed_demo
from issuer.services.errors import (
    ConflictError,
    IdempotencyKeyReusedError,
    InsufficientScopeError,
    InvalidTokenError,
    IssuerMismatchError,
    NotFoundError,
    UnknownReferenceError,
)
from issuer.services.idempotency import (
    remember_response,
    remembered_response,
    request_fingerprint,
)
from issuer.services.issuance import own_issuers, sign_credential
from issuer.services.issuers import (
    IssuerSpec,
    create_issuer,
    did_document_for_path,
    did_document_path,
    get_issuer,
    issuer_spec_from_json,
    rotate_key,
    update_issuer,
)
from issuer.services.progress import record_progress
from issuer.services.runtime import OfflineFetcher, Runtime
from issuer.services.tokens import create_token, revoke_token, verify_token
from issuer.settings import DEV_KEY_PASSPHRASE, InsecureSettingsError, Settings
from verifier.report import verify_credential


def test_settings_defaults_for_development(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"SIJIL_ENV": "development", "SIJIL_INSTANCE_DIR": str(tmp_path)}, port=8123
    )
    assert settings.database_url == f"sqlite:///{tmp_path}/sijil.db"
    assert settings.base_url == "http://localhost:8123"
    assert settings.key_passphrase == DEV_KEY_PASSPHRASE
    assert settings.dev_defaults == (
        "SIJIL_KEY_PASSPHRASE",
        "SIJIL_SECRET_KEY",
        "SIJIL_VERIFIER_URL",
    )


@pytest.mark.parametrize(
    "env",
    [
        {},  # dev secrets
        {"SIJIL_KEY_PASSPHRASE": "long-enough-passphrase"},  # dev secret key
        {
            "SIJIL_KEY_PASSPHRASE": "long-enough-passphrase",
            "SIJIL_SECRET_KEY": "x" * 32,
            "SIJIL_VERIFIER_URL": "https://verify.example.edu.my",
            "SIJIL_BASE_URL": "http://credentials.example.edu.my",
        },
    ],
    ids=["dev_passphrase", "dev_secret_key", "http_base_url"],
)
def test_production_refuses_dev_settings(env: dict[str, str]) -> None:
    with pytest.raises(InsecureSettingsError):
        Settings.from_env({"SIJIL_ENV": "production", **env})


def test_production_accepts_real_secrets() -> None:
    settings = Settings.from_env(
        {
            "SIJIL_ENV": "production",
            "SIJIL_KEY_PASSPHRASE": "long-enough-passphrase",
            "SIJIL_SECRET_KEY": "x" * 32,
            "SIJIL_BASE_URL": "https://credentials.example.edu.my/",
            "SIJIL_VERIFIER_URL": "https://verify.example.edu.my",
        }
    )
    assert settings.is_production
    assert settings.dev_defaults == ()
    assert settings.base_url == "https://credentials.example.edu.my"


def test_unknown_environment_is_malformed() -> None:
    with pytest.raises(MalformedValueError):
        Settings.from_env({"SIJIL_ENV": "staging"})


def test_tokens_are_hashed_scoped_and_revocable(rt: Runtime) -> None:
    view, secret = create_token(rt, ["issue"], label="lms", actor="t")
    with rt.reading() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert stored == [hashlib.sha256(secret.encode()).hexdigest()]
    assert verify_token(rt, secret, "issue").id == view.id
    assert verify_token(rt, secret, "read").id == view.id if view.has_scope("read") else True
    with pytest.raises(InsufficientScopeError):
        verify_token(rt, secret, "admin")
    with pytest.raises(InvalidTokenError):
        verify_token(rt, secret + "x", "issue")
    with pytest.raises(InvalidTokenError):
        verify_token(rt, None, "issue")
    revoke_token(rt, view.id, actor="t")
    with pytest.raises(InvalidTokenError):
        verify_token(rt, secret, "issue")
    assert {"token.create", "token.revoke"} <= {e.action for e in list_audit(rt)}


def test_admin_scope_implies_others(rt: Runtime) -> None:
    _, secret = create_token(rt, ["admin"], actor="t")
    assert verify_token(rt, secret, "issue").has_scope("read")


def test_unknown_scope_is_malformed(rt: Runtime) -> None:
    with pytest.raises(MalformedValueError):
        create_token(rt, ["superuser"], actor="t")


def test_upsert_is_idempotent_and_audited_once(rt: Runtime) -> None:
    seed_demo(rt)
    spec = DEMO_MICRO_CREDENTIALS[0]
    count = len(list_audit(rt, action="micro_credential.upsert", limit=1000))
    upsert_micro_credential(rt, spec, actor="t")
    assert len(list_audit(rt, action="micro_credential.upsert", limit=1000)) == count
    assert get_micro_credential(rt, spec.code) == spec


def test_micro_credential_json_round_trip() -> None:
    spec = DEMO_MICRO_CREDENTIALS[1]
    assert micro_credential_from_json(micro_credential_to_json(spec)) == spec


def test_micro_credential_json_rejects_bad_credits_with_pointer() -> None:
    obj = micro_credential_to_json(DEMO_MICRO_CREDENTIALS[0]) | {"credits": "three"}
    with pytest.raises(MalformedValueError) as info:
        micro_credential_from_json(obj)
    assert info.value.pointer == "/credits"


def test_api_batch_with_a_bad_event_stores_nothing(rt: Runtime) -> None:
    seed_demo(rt)
    good = event_from_json(
        {"learner": "S1004", "microCredential": "PYD103", "type": "materialCompleted",
         "item": "PYD103-M2"}
    )  # fmt: skip
    bad = ProgressEvent("S1004", "PYD103", "material_completed", "NOPE")
    with pytest.raises(UnknownReferenceError) as info:
        record_progress(rt, [good, bad], actor="t")
    assert info.value.pointer == "/1/item"
    assert record_progress(rt, [good], actor="t").recorded == 1


def test_event_from_json_rejects_score_out_of_range() -> None:
    with pytest.raises(MalformedValueError) as info:
        event_from_json(
            {"learner": "S1", "microCredential": "X", "type": "assessmentResult", "item": "Q",
             "score": 120}
        )  # fmt: skip
    assert info.value.pointer == "/score"


@pytest.mark.parametrize(
    ("key_type", "suite"),
    [("Ed25519", "eddsa-rdfc-2022"), ("P-256", "ecdsa-rdfc-2019"), ("P-384", "ecdsa-jcs-2019")],
)
def test_vc_api_sign_with_did_key_issuers(rt: Runtime, key_type: str, suite: str) -> None:
    get_issuer_spec = IssuerSpec(
        slug=f"k-{key_type.lower()}",
        name="Partner",
        url="https://partner.example",
        email="p@partner.example",
        did_method="key",
        cryptosuite=suite,
        key_type="P-256" if key_type == "P-256" else "P-384" if key_type == "P-384" else "Ed25519",
    )
    view = create_issuer(rt, get_issuer_spec, actor="t")
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:learner"},
    }
    signed = sign_credential(rt, credential, issuer=view.slug, actor="t")
    assert signed["issuer"] == view.did
    assert signed["proof"]["cryptosuite"] == suite
    report = verify_credential(
        signed, resolver=rt.resolver, fetcher=OfflineFetcher(), trust=own_issuers(rt)
    )
    assert report.verified, report.to_dict()["errors"]


def test_vc_api_sign_refuses_another_issuer(rt: Runtime) -> None:
    seed_demo(rt)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:someone-else",
        "credentialSubject": {"id": "did:example:learner"},
    }
    with pytest.raises(IssuerMismatchError):
        sign_credential(rt, credential, actor="t")
    assert get_issuer(rt).did.startswith("did:web:")


def test_pass_mark_is_stored_exactly(rt: Runtime) -> None:
    seed_demo(rt)
    spec = get_micro_credential(rt, "DAF101")
    assert spec.assessments[1].pass_mark == Decimal(60)


def test_removing_a_material_with_progress_is_a_conflict(rt: Runtime) -> None:
    seed_demo(rt)
    spec = DEMO_MICRO_CREDENTIALS[0]
    with pytest.raises(ConflictError):
        upsert_micro_credential(rt, replace(spec, materials=spec.materials[:1]), actor="t")
    assert get_micro_credential(rt, spec.code) == spec


def test_idempotency_replays_first_answer_and_refuses_other_requests(rt: Runtime) -> None:
    first = request_fingerprint("POST", "/progress", b'{"a":1}')
    assert remembered_response(rt, "token:1", "k1", first) is None
    remember_response(rt, "token:1", "k1", first, 201, '{"ok":true}')
    remember_response(rt, "token:1", "k1", first, 500, "ignored: first writer wins")
    assert remembered_response(rt, "token:1", "k1", first) == (201, '{"ok":true}')
    assert remembered_response(rt, "token:2", "k1", first) is None  # keys are per principal
    other = request_fingerprint("POST", "/progress", b'{"a":2}')
    with pytest.raises(IdempotencyKeyReusedError):
        remembered_response(rt, "token:1", "k1", other)


def test_private_keys_never_stored_in_plaintext(rt: Runtime, instance: Path) -> None:
    seed_demo(rt)
    rotate_key(rt, actor="t")
    issuer = get_issuer(rt)
    secrets = [rt.private_key(vm).secret_key_multibase() for vm in issuer.verification_methods]
    blobs = [p.read_bytes() for p in instance.rglob("*") if p.is_file()]
    with rt.reading() as session:
        for table in Base.metadata.sorted_tables:
            blobs += [repr(tuple(row)).encode() for row in session.execute(table.select())]
    assert len(blobs) > 10
    for secret in secrets:
        assert not any(secret.encode() in blob for blob in blobs)


def test_did_documents_are_served_at_their_did_web_paths(rt: Runtime) -> None:
    seed_demo(rt)
    spec = issuer_spec_from_json(
        {"slug": "fsk", "name": "Fakulti Sains Komputer", "url": "https://fsk.example.my",
         "email": "fsk@example.my", "cryptosuite": "ecdsa-rdfc-2019", "keyType": "P-384"}
    )  # fmt: skip
    faculty = create_issuer(rt, spec, actor="t")
    default = get_issuer(rt)
    assert default.did == "did:web:issuer.test.example"
    assert faculty.did == "did:web:issuer.test.example:issuers:fsk"
    assert did_document_path(default) == "/.well-known/did.json"
    assert did_document_path(faculty) == "/issuers/fsk/did.json"
    doc = did_document_for_path(rt, "/issuers/fsk/did.json")
    assert doc["id"] == faculty.did
    assert doc["assertionMethod"] == [faculty.verification_method]
    with pytest.raises(NotFoundError):
        did_document_for_path(rt, "/issuers/nope/did.json")


def test_issuer_spec_refuses_suite_key_mismatch() -> None:
    with pytest.raises(MalformedValueError) as info:
        issuer_spec_from_json(
            {"slug": "x", "name": "X", "url": "https://x.my", "email": "x@x.my",
             "cryptosuite": "eddsa-rdfc-2022", "keyType": "P-256"}
        )  # fmt: skip
    assert info.value.pointer == "/keyType"


def test_update_issuer_changes_new_credentials_and_is_audited(rt: Runtime) -> None:
    seed_demo(rt)
    view = update_issuer(rt, "default", name="Universiti Baharu", actor="t")
    assert view.name == "Universiti Baharu"
    assert "issuer.update" in {e.action for e in list_audit(rt)}
    with pytest.raises(MalformedValueError):
        update_issuer(rt, "default", cryptosuite="ecdsa-rdfc-2019", actor="t")  # Ed25519 key
