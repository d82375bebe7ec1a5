"""Signing's fast paths change nothing: the same bytes, an independent copy, a cold or warm
canonicalization cache alike.

``add_proof`` copies the document with a JSON-aware deep copy instead of ``copy.deepcopy``
and reuses canonical N-Quads already computed for the same content; the official Open Badges
3.0 vector must still be reproduced exactly either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contexts import jsonld
from keys.dataintegrity import add_proof, verify_proofs
from keys.didkey import did_key_for
from keys.keypair import KeyPair
from keys.resolve import Resolver

OB = Path(__file__).resolve().parent / "vectors" / "openbadges-3.0"
CREATED = "2010-01-01T19:23:24Z"


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_ob_vector_signed_cold_and_warm_is_byte_identical() -> None:
    key = KeyPair.from_multikey(_json(OB / "keyPair.json"))
    expected = (OB / "signed.json").read_bytes()
    jsonld.clear_canonical_cache()
    cold = add_proof(_json(OB / "unsigned.json"), key, created=CREATED)
    warm = add_proof(_json(OB / "unsigned.json"), key, created=CREATED)
    assert cold == warm == json.loads(expected)
    assert cold["proof"]["proofValue"] == (OB / "proofValue.txt").read_text().strip()


def test_signing_leaves_the_input_untouched_and_shares_nothing_with_it() -> None:
    key = KeyPair.generate("Ed25519")
    doc = _json(OB / "unsigned.json")
    doc["issuer"] = {"id": did_key_for(key), "type": ["Profile"], "name": "Universiti Contoh"}
    before = json.dumps(doc)
    signed = add_proof(doc, key)
    assert json.dumps(doc) == before
    signed["issuer"]["name"] = "changed"
    signed["credentialSubject"]["achievement"]["name"] = "changed"
    assert json.dumps(doc) == before
    verify_proofs(add_proof(doc, key), Resolver())


def test_non_json_containers_are_still_deep_copied() -> None:
    key = KeyPair.generate("Ed25519")
    doc = _json(OB / "unsigned.json")
    doc["issuer"] = {"id": did_key_for(key), "type": ["Profile"]}
    inner = {"note": ["kept"]}
    wrapped: dict[str, Any] = {**doc, "evidence": (inner,)}
    signed = add_proof(wrapped, key)
    assert isinstance(signed["evidence"], tuple)
    assert signed["evidence"][0] is not inner
    assert signed["evidence"][0] == inner
