"""RDFC-1.0 work limit: canonicalization bombs are refused with a typed code, real data is not.

The attack: a credential whose subjects form a complete graph of n blank nodes, with a
bogus proof naming any did:key (resolved locally, so the bomb costs nothing but CPU).
Unbounded, n = 8 took 50 s of CPU; now it stops with ``CANONICALIZATION_LIMIT_EXCEEDED``
after at most ``MIN_WORK`` units. Speed itself is measured in ``bench/bench_bounds.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from verifier_fixtures import Learner, build_mms, coa_for, key_from_seed, sign, vm_of

from contexts import jsonld
from contexts.rdfc import (
    MAX_BLANK_NODES,
    MIN_WORK,
    CanonicalizationLimitError,
    canonical_nquads,
)
from keys.dataintegrity import verify_proofs
from keys.didkey import did_key_for
from keys.resolve import Resolver
from verifier.links import pack_credential
from verifier.report import verify_credential
from verifier.settings import VerifierSettings
from verifier.web import create_app

LIMIT = "CANONICALIZATION_LIMIT_EXCEEDED"
VC2 = "https://www.w3.org/ns/credentials/v2"


def complete_graph_credential(n: int) -> dict[str, Any]:
    """n blank nodes, each linked to every other one, under a bogus did:key proof."""
    key = key_from_seed(7)
    nodes = [
        {
            "id": f"_:b{i}",
            "type": "VerifiableCredential",
            "credentialSubject": [{"id": f"_:b{j}"} for j in range(n) if j != i],
        }
        for i in range(n)
    ]
    return {
        "@context": [VC2],
        "type": ["VerifiableCredential"],
        "issuer": did_key_for(key),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": nodes,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": vm_of(key),
            "proofPurpose": "assertionMethod",
            "created": "2026-01-01T00:00:00Z",
            "proofValue": "z" + "1" * 86,
        },
    }


def _unsecured(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "proof"}


# --- the core -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 8, 20])
def test_complete_graph_is_refused_by_canonicalization(n: int) -> None:
    with pytest.raises(CanonicalizationLimitError) as caught:
        jsonld.canonize(_unsecured(complete_graph_credential(n)))
    assert caught.value.code == LIMIT
    assert caught.value.http_status < 500
    assert caught.value.extra["work"] <= MIN_WORK + 10 * n * n


def test_small_symmetric_graph_still_canonicalizes() -> None:
    # A 3-clique is symmetric but cheap: the limit refuses poison, not symmetry.
    nquads = jsonld.canonize(_unsecured(complete_graph_credential(3)))
    assert nquads.count("_:c14n") > 0


def test_canonicalization_is_deterministic_under_the_limit() -> None:
    doc = _unsecured(complete_graph_credential(3))
    assert jsonld.canonize(doc) == jsonld.canonize(json.loads(json.dumps(doc)))


def test_too_many_blank_nodes_is_refused() -> None:
    # One literal per blank node: trivial to label, but over the blank node cap.
    dataset: dict[str, list[dict[str, Any]]] = {
        "@default": [
            {
                "subject": {"type": "blank node", "value": f"_:n{i}"},
                "predicate": {"type": "IRI", "value": "urn:example:p"},
                "object": {
                    "type": "literal",
                    "value": str(i),
                    "datatype": "http://www.w3.org/2001/XMLSchema#string",
                },
            }
            for i in range(MAX_BLANK_NODES + 1)
        ]
    }
    with pytest.raises(CanonicalizationLimitError) as caught:
        canonical_nquads(dataset)
    assert caught.value.extra["blank_nodes"] == MAX_BLANK_NODES + 1


def test_mms_with_50_embedded_coas_canonicalizes_and_verifies() -> None:
    key = key_from_seed(3)
    learner = Learner("Aminah binti Ali", "aminah@example.com", "salt-1")
    coas = [coa_for(key, learner, f"C{i:03d}", f"Course {i}", serial=i + 1) for i in range(50)]
    mms = sign(build_mms(key, learner, coas), key)
    [result] = verify_proofs(mms, Resolver(), issuer_binding=False)
    assert result.cryptosuite == "eddsa-rdfc-2022"


# --- verify_credential, the HTTP API and a /verify?c= link ---------------------------------


@pytest.mark.parametrize("n", [8, 20])
def test_complete_graph_attack_is_invalid_in_verify_credential(n: int) -> None:
    report = verify_credential(complete_graph_credential(n), resolver=Resolver())
    assert report.verdict == "invalid"
    assert LIMIT in report.checks["proof"].codes
    assert report.checks["status"].status == "skipped"


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    settings = VerifierSettings()
    return create_app(settings, verifier=settings.build_verifier()).test_client()


@pytest.mark.parametrize("n", [8, 20])
def test_complete_graph_attack_is_refused_over_http_api(client: FlaskClient, n: int) -> None:
    answer = client.post(
        "/credentials/verify",
        data=json.dumps({"verifiableCredential": complete_graph_credential(n)}),
        content_type="application/json",
    )
    assert 400 <= answer.status_code < 500
    body = answer.get_json(force=True)
    assert LIMIT in json.dumps(body)


@pytest.mark.parametrize("n", [8, 20])
def test_complete_graph_attack_is_refused_through_a_verify_link(
    client: FlaskClient, n: int
) -> None:
    packed = pack_credential(complete_graph_credential(n))
    if n == 8:
        assert len(packed) < 1000  # the attack fits in a QR-sized link
    answer = client.get(f"/verify?c={packed}")
    assert answer.status_code < 500
    page = answer.get_data(as_text=True)
    assert "CANONICALIZATION_LIMIT_EXCEEDED" in page or "too symmetric" in page
