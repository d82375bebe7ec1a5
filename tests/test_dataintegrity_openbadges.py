"""1EdTech vectors (Open Badges 3.0, CLR 2.0) and the generated Bitstring Status List
credentials, all eddsa-rdfc-2022.

OB: ``ob_v3p0/impl/linked-data-proof-ob.html`` "Linked Data Proof Test Vector for Open
Badges 3.0" (64-byte Ed25519 secret key; verification method under
``https://example.edu/issuers/565049``, authorized by the generated controller
document). CLR: ``linked-data-proof-clr.html``, parsed from the published page here.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from keys.dataintegrity import add_proof, get_suite, verify_proofs
from keys.dataintegrity.suite import encode_proof_value
from keys.keypair import KeyPair
from keys.resolve import Resolver

VECTORS = Path(__file__).resolve().parent / "vectors"
OB = VECTORS / "openbadges-3.0"
CLR = VECTORS / "clr-2.0"
BSL = VECTORS / "bitstring-status-list" / "generated"
ISSUER = "https://example.edu/issuers/565049"


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _ob_key() -> KeyPair:
    return KeyPair.from_multikey(_json(OB / "keyPair.json"))


def _ob_resolver() -> Resolver:
    resolver = Resolver()
    resolver.add_document(_json(OB / "controller-document.generated.json"))
    return resolver


def _clr_page() -> dict[str, Any]:
    """The JSON examples of the CLR page, by their ``title``."""
    text = (CLR / "linked-data-proof-clr.html").read_text(encoding="utf-8")
    blocks = re.finditer(r'<pre class="example json" title="([^"]+)">(.*?)</pre>', text, re.S)
    out: dict[str, Any] = {}
    for match in blocks:
        try:
            out[match.group(1)] = json.loads(html.unescape(match.group(2)))
        except json.JSONDecodeError:
            continue  # "Proof before signing" is a JavaScript literal, not JSON
    return out


def _clr_code(section_id: str) -> str:
    text = (CLR / "linked-data-proof-clr.html").read_text(encoding="utf-8")
    match = re.search(rf'id="{section_id}">.*?<code>([^<]+)</code>', text, re.S)
    assert match is not None
    return match.group(1)


# -- Open Badges 3.0 ------------------------------------------------------------------


def test_ob_key_is_the_64_byte_secret_form() -> None:
    key = _ob_key()
    assert key.public_key_multibase == "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    assert key.id == f"{ISSUER}#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def test_ob_transformation_document_canon() -> None:
    suite = get_suite("eddsa-rdfc-2022")
    out = suite.transformation(
        _json(OB / "unsigned.json"), _json(OB / "proofConfig.json"), _ob_key()
    )
    assert out == (OB / "document-canon.txt").read_bytes()
    assert hashlib.sha256(out).hexdigest() == (OB / "documentHash.txt").read_text().strip()


def test_ob_proof_configuration_proof_canon() -> None:
    suite = get_suite("eddsa-rdfc-2022")
    out = suite.proof_configuration(
        _json(OB / "proofConfig.json"), _json(OB / "unsigned.json"), _ob_key()
    )
    assert out == (OB / "proof-canon.txt").read_bytes()
    assert hashlib.sha256(out).hexdigest() == (OB / "proofHash.txt").read_text().strip()


def test_ob_hashing_and_proof_serialization() -> None:
    suite = get_suite("eddsa-rdfc-2022")
    key = _ob_key()
    hash_data = suite.hashing(
        (OB / "document-canon.txt").read_bytes(), (OB / "proof-canon.txt").read_bytes(), key
    )
    assert hash_data.hex() == (OB / "combinedHash.txt").read_text().strip()
    signature = suite.proof_serialization(hash_data, key)
    assert signature.hex() == (OB / "sigHex.txt").read_text().strip()
    assert encode_proof_value(signature) == (OB / "proofValue.txt").read_text().strip()


def test_ob_create_proof_reproduces_signed_json() -> None:
    """key.id is the default verification method; created from the vector."""
    signed = add_proof(_json(OB / "unsigned.json"), _ob_key(), created="2010-01-01T19:23:24Z")
    assert signed == _json(OB / "signed.json")


def test_ob_signed_verifies_with_issuer_binding() -> None:
    """The OB vector's issuer *is* the key's controller, so binding holds."""
    [result] = verify_proofs(_json(OB / "signed.json"), _ob_resolver())
    assert result.controller == ISSUER
    assert result.verification_method == _ob_key().id


# -- CLR 2.0 --------------------------------------------------------------------------


def test_clr_page_unsigned_is_the_signed_without_proof() -> None:
    page = _clr_page()
    signed = page["Signed credential"]
    assert {k: v for k, v in signed.items() if k != "proof"} == page["Document before signing"]


def test_clr_transformation_document_canon() -> None:
    suite = get_suite("eddsa-rdfc-2022")
    options = _json(OB / "proofConfig.json")  # the CLR page's "Proof before signing"
    out = suite.transformation(_clr_page()["Document before signing"], options, _ob_key())
    assert out == (CLR / "document-canon.txt").read_bytes()
    assert hashlib.sha256(out).hexdigest() == _clr_code("clr-document-hash")


def test_clr_proof_configuration_proof_canon() -> None:
    suite = get_suite("eddsa-rdfc-2022")
    options = _json(OB / "proofConfig.json")
    out = suite.proof_configuration(options, _clr_page()["Document before signing"], _ob_key())
    assert out == (CLR / "proof-canon.txt").read_bytes()
    assert hashlib.sha256(out).hexdigest() == _clr_code("clr-proof-hash")


def test_clr_signature_and_proof_value() -> None:
    suite = get_suite("eddsa-rdfc-2022")
    hash_data = bytes.fromhex(_clr_code("clr-data"))
    signature = suite.proof_serialization(hash_data, _ob_key())
    assert signature.hex() == _clr_code("clr-signature")
    assert encode_proof_value(signature) == _clr_code("clr-proof-value")


def test_clr_create_proof_reproduces_the_signed_credential() -> None:
    """The page shows the proof as a set of one; the proof itself is identical."""
    page = _clr_page()
    signed = add_proof(page["Document before signing"], _ob_key(), created="2010-01-01T19:23:24Z")
    assert [signed["proof"]] == page["Signed credential"]["proof"]
    assert {k: v for k, v in signed.items() if k != "proof"} == page["Document before signing"]


def test_clr_signed_credential_verifies() -> None:
    [result] = verify_proofs(_clr_page()["Signed credential"], _ob_resolver())
    assert result.controller == ISSUER


# -- Bitstring Status List (generated with Digital Bazaar's libraries) ----------------


@pytest.mark.parametrize(
    "name", ["statuslist.json", "credential-index-12345.json", "credential-index-94567.json"]
)
def test_bsl_generated_signed_fixture_verifies(name: str) -> None:
    """issuer = the did:key that signed, so issuer binding holds."""
    doc = _json(BSL / name)
    [result] = verify_proofs(doc, Resolver())
    assert result.controller == doc["issuer"]


@pytest.mark.parametrize("name", ["statuslist", "credential-index-12345", "credential-index-94567"])
def test_bsl_generated_fixture_reproduces(name: str) -> None:
    key = KeyPair.from_multikey(_json(BSL / "issuer-key.json"))
    signed = add_proof(_json(BSL / f"{name}-unsigned.json"), key, created="2024-01-01T00:00:00Z")
    assert signed == _json(BSL / f"{name}.json")
