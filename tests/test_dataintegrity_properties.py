"""Properties (hypothesis): sign then verify round-trips for any subject name, and any
single changed character in a signed credential's subject makes verification fail.

Names mix Malay, Chinese and Tamil text with quotes, backslashes and control
characters, which RDFC-1.0 and JCS must each escape exactly.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexts.errors import DataLossDetectionError, ProofVerificationError
from keys.dataintegrity import add_proof, verify_proofs
from keys.didkey import did_key_for
from keys.keypair import KeyPair
from keys.resolve import Resolver

SUITES_UNDER_TEST = ["eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019"]
KEY_TYPE = {"eddsa-rdfc-2022": "Ed25519", "eddsa-jcs-2022": "Ed25519", "ecdsa-rdfc-2019": "P-256"}

# No surrogates (not encodable as UTF-8 JSON); everything else, control characters
# included.
CHARS = st.characters(exclude_categories=["Cs"])
NAMES = st.one_of(
    st.text(CHARS, min_size=1, max_size=40),
    st.sampled_from(
        [
            "Nur Aisyah binti Abdullah",
            "陈美玲",
            "முத்துலட்சுமி சுப்பிரமணியம்",
            'Siti "Ct" \\ Zaharah',
            "Tab\there\nnewline\r\x00\x01\x1f\x7f",
            "Ahmad bin Ismail 🎓",
        ]
    ),
    st.lists(
        st.sampled_from(["Nur", "陈", "முத்து", '"', "\\", "\n", "\t", "\x0b", "é", " "]),
        min_size=1,
        max_size=12,
    ).map("".join),
)

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


@cache
def _key(key_type: str) -> KeyPair:
    return KeyPair.generate(key_type)  # type: ignore[arg-type]


def _credential(issuer: str, name: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:1b2cd7a4-7f4e-4d3c-8a63-4d7f7d6b2e10",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner",
            "name": name,
            "alumniOf": "Universiti Contoh",
        },
    }


@cache
def _signed(cryptosuite: str) -> dict[str, Any]:
    key = _key(KEY_TYPE[cryptosuite])
    name = 'Nur Aisyah 陈美玲 முத்து "q" \\ \t end'
    return add_proof(_credential(did_key_for(key), name), key, cryptosuite=cryptosuite)


@pytest.mark.parametrize("cryptosuite", SUITES_UNDER_TEST)
@PROPERTY_SETTINGS
@given(name=NAMES)
def test_sign_then_verify_any_subject_name(cryptosuite: str, name: str) -> None:
    key = _key(KEY_TYPE[cryptosuite])
    signed = add_proof(_credential(did_key_for(key), name), key, cryptosuite=cryptosuite)
    [result] = verify_proofs(signed, Resolver())
    assert result.controller == did_key_for(key)
    assert signed["credentialSubject"]["name"] == name


@pytest.mark.parametrize("cryptosuite", SUITES_UNDER_TEST)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_single_changed_character_in_subject_fails(
    cryptosuite: str, data: st.DataObject
) -> None:
    signed = copy.deepcopy(_signed(cryptosuite))
    member = data.draw(st.sampled_from(["name", "alumniOf", "id"]), label="member")
    value: str = signed["credentialSubject"][member]
    position = data.draw(st.integers(0, len(value) - 1), label="position")
    replacement = data.draw(CHARS.filter(lambda c: c != value[position]), label="char")
    signed["credentialSubject"][member] = value[:position] + replacement + value[position + 1 :]
    # A changed IRI may also stop being an absolute IRI: rejected before the signature.
    with pytest.raises((ProofVerificationError, DataLossDetectionError)):
        verify_proofs(signed, Resolver())
