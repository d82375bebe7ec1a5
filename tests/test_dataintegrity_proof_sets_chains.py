"""Proof sets and proof chains: Data Integrity 1.0 sections 4.3 "Add Proof Set/Chain"
and 4.5 "Verify Proof Sets and Chains", with vc-di-eddsa's ``proof-set-chain`` vectors.

A proof in a set signs the document without any proof; a chained proof signs the
document holding exactly the proofs named in its ``previousProof``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contexts.errors import ProofGenerationError, ProofVerificationError
from keys.dataintegrity import add_proof, get_suite, verify_proofs
from keys.keypair import KeyPair
from keys.resolve import Resolver

DIR = Path(__file__).resolve().parent / "vectors" / "proof-sets-chains"
ID1 = "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544"
ID2 = "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54"
ID3 = "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"
SET_CREATED = "2023-02-24T23:36:38Z"


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DIR / name).read_text(encoding="utf-8"))
    return data


def _key(n: int) -> KeyPair:
    return KeyPair.from_multikey(_json("multiKeyPairs.json")[f"keyPair{n}"])


def test_add_proof_set_first_proof() -> None:
    signed = add_proof(_json("unsigned.json"), _key(1), proof_id=ID1, created=SET_CREATED)
    assert signed == _json("signedProofSet1.json")
    assert signed["proof"] == _json("proofSetConfigSigned1.json")


def test_add_proof_set_second_proof_makes_a_list() -> None:
    signed = add_proof(_json("signedProofSet1.json"), _key(2), proof_id=ID2, created=SET_CREATED)
    assert signed == _json("signedProofSet2.json")
    assert signed["proof"][1] == _json("proofSetConfigSigned2.json")


def test_add_proof_chain_signs_the_named_previous_proofs() -> None:
    signed = add_proof(
        _json("signedProofSet2.json"),
        _key(3),
        proof_id=ID3,
        created="2023-02-26T22:06:38Z",
        previous_proof=[ID1, ID2],
    )
    assert signed == _json("signedProofChain1.json")
    assert signed["proof"][2] == _json("proofChainConfigSigned1.json")


def test_add_proof_chain_to_a_single_previous_proof() -> None:
    signed = add_proof(
        _json("signedProofChain1.json"),
        _key(4),
        created="2023-02-26T22:16:38Z",
        previous_proof=ID3,
    )
    assert signed == _json("signedProofChain2.json")
    assert signed["proof"][3] == _json("proofChainConfigSigned2.json")


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("signedProofSet1.json", 1),
        ("signedProofSet2.json", 2),
        ("signedProofChain1.json", 3),
        ("signedProofChain2.json", 4),
    ],
)
def test_verify_proof_sets_and_chains(name: str, count: int) -> None:
    results = verify_proofs(_json(name), Resolver(), issuer_binding=False)
    assert len(results) == count
    assert [r.verification_method.split("#")[1] for r in results] == [
        _key(n).public_key_multibase for n in range(1, count + 1)
    ]


def test_verify_reports_previous_proofs() -> None:
    results = verify_proofs(_json("signedProofChain2.json"), Resolver(), issuer_binding=False)
    assert [r.previous_proof for r in results] == [(), (), (ID1, ID2), (ID3,)]
    assert [r.proof_id for r in results] == [ID1, ID2, ID3, None]


@pytest.mark.parametrize(
    ("temp_doc", "config", "key"),
    [
        ("proofChainTempDoc1.json", "proofChainConfigSigned1.json", 3),
        ("proofChainTempDoc2.json", "proofChainConfigSigned2.json", 4),
    ],
)
def test_chained_proof_signs_the_temp_doc(temp_doc: str, config: str, key: int) -> None:
    """The proofChainTempDoc files are what each chained proof signs."""
    get_suite("eddsa-rdfc-2022").verify_proof(
        _json(temp_doc), _json(config), _key(key).public_only()
    )


def test_removed_proof_from_chain() -> None:
    doc = _json("signedProofChain1.json")
    del doc["proof"][1]  # the chained proof names ID2, which is now gone
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(doc, Resolver(), issuer_binding=False)
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


def test_removed_previous_proof_id_from_chain() -> None:
    """Dropping an id from previousProof changes what the chained proof signed."""
    doc = _json("signedProofChain1.json")
    doc["proof"][2]["previousProof"] = [ID1]
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(doc, Resolver(), issuer_binding=False)
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


def test_tampered_proof_in_set() -> None:
    doc = _json("signedProofSet2.json")
    doc["proof"][1]["created"] = "2023-02-24T23:36:39Z"
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(doc, Resolver(), issuer_binding=False)
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


def test_proof_set_order_does_not_matter() -> None:
    doc = _json("signedProofSet2.json")
    doc["proof"].reverse()
    assert len(verify_proofs(doc, Resolver(), issuer_binding=False)) == 2


def test_chain_to_unknown_previous_proof_is_refused() -> None:
    with pytest.raises(ProofGenerationError) as info:
        add_proof(_json("signedProofSet1.json"), _key(2), previous_proof="urn:uuid:nope")
    assert info.value.code == "PROOF_GENERATION_ERROR"


def test_add_proof_does_not_change_its_input() -> None:
    doc = _json("signedProofSet1.json")
    before = copy.deepcopy(doc)
    add_proof(doc, _key(2), proof_id=ID2, created=SET_CREATED)
    assert doc == before


def test_jcs_chain_round_trip() -> None:
    """Chains work the same with a JCS suite (the proofs are part of the JSON hashed)."""
    first = add_proof(_json("unsigned.json"), _key(1), cryptosuite="eddsa-jcs-2022", proof_id=ID1)
    second = add_proof(first, _key(2), cryptosuite="eddsa-jcs-2022", previous_proof=ID1)
    results = verify_proofs(second, Resolver(), issuer_binding=False)
    assert [r.cryptosuite for r in results] == ["eddsa-jcs-2022", "eddsa-jcs-2022"]
    second["proof"][0]["created"] = "2000-01-01T00:00:00Z"
    with pytest.raises(ProofVerificationError):
        verify_proofs(second, Resolver(), issuer_binding=False)
