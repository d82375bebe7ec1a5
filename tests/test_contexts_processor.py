"""contexts.processor: memoized context processing changes nothing in the output.

Three comparisons over the vectors and hypothesis-generated OB/CLR credentials:
memoized vs unmemoized sijil canonicalization (any text), sijil vs completely plain
pyld ``normalize`` (text without the control characters whose escaping RDFC-1.0 fixes),
and expansion with and without the memo.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld

from contexts import CLR_V2P0, OB_V3P0, SIJIL_CONTEXT_URL, VC_V2, jsonld, processor
from contexts.loader import document_loader

VECTORS = Path(__file__).resolve().parent / "vectors"

# Characters whose N-Quads form differs between pyld 3.3.0 and RDFC-1.0.
RDFC_ONLY_ESCAPES = {chr(c) for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]}

SAMPLES = [
    "Nur Aisyah binti Ahmad",
    "Muhammad Hafiz bin Abdullah",
    "\u674e\u5c0f\u9f8d",  # Chinese
    # Tamil
    "\u0bae\u0bc1\u0bb0\u0bc1\u0b95\u0ba9\u0bcd "
    "\u0b9a\u0bc1\u0baa\u0bcd\u0baa\u0bbf\u0bb0\u0bae\u0ba3\u0bbf\u0baf\u0bae\u0bcd",
    'quote " and backslash \\ and \\u0041',
    "line\nbreak\r\ttab",
    "\u0000\u0001\u0008\u000b\u000c\u001f\u007f",
    "emoji \U0001f393 and \u00e9\u00e8",
    "",
]


def _text(pyld_compatible: bool) -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8")
    if pyld_compatible:
        chars = chars.filter(lambda c: c not in RDFC_ONLY_ESCAPES)
        samples = [s for s in SAMPLES if not set(s) & RDFC_ONLY_ESCAPES]
    else:
        samples = SAMPLES
    return st.one_of(st.sampled_from(samples), st.text(chars, max_size=40))


def _slug() -> st.SearchStrategy[str]:
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@st.composite
def achievements(draw: st.DrawFn, text: st.SearchStrategy[str]) -> dict[str, Any]:
    code = draw(_slug())
    achievement: dict[str, Any] = {
        "id": f"https://sijil.example/achievements/{code}/coa",
        "type": ["Achievement"],
        "achievementType": draw(st.sampled_from(["MicroCredential", "CertificateOfCompletion"])),
        "name": draw(text),
        "description": draw(text),
        "criteria": {"narrative": draw(text)},
    }
    if draw(st.booleans()):
        achievement["humanCode"] = draw(text)
    if draw(st.booleans()):
        achievement["creditsAvailable"] = draw(
            st.one_of(st.integers(0, 60), st.floats(0, 1e6, allow_nan=False))
        )
    if draw(st.booleans()):
        achievement["sltHours"] = draw(st.integers(0, 10_000))
        achievement["mqfLevel"] = draw(st.integers(1, 8))
    if draw(st.booleans()):
        achievement["deliveryMode"] = draw(text)
        achievement["microCredentialCategory"] = draw(
            st.sampled_from(["programme-based", "stand-alone"])
        )
    alignments = draw(st.lists(text, max_size=3))
    if alignments:
        achievement["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": name,
                "targetUrl": f"https://sijil.example/outcomes/{code}/{index}",
                "targetType": "ext:LearningOutcome",
            }
            for index, name in enumerate(alignments)
        ]
    if draw(st.booleans()):
        achievement["resultDescription"] = [
            {
                "id": f"https://sijil.example/achievements/{code}/results/final",
                "type": ["ResultDescription"],
                "name": draw(text),
                "resultType": "Percent",
                "requiredValue": draw(text),
            }
        ]
    return achievement


@st.composite
def coa_credentials(draw: st.DrawFn, text: st.SearchStrategy[str]) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": "sha256$" + draw(st.text("0123456789abcdef", max_size=64)),
                "salt": draw(text),
            },
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": draw(st.booleans()),
                "identityHash": draw(text),
            },
        ],
        "achievement": draw(achievements(text)),
    }
    if draw(st.booleans()):
        subject["id"] = "did:key:z6Mk" + draw(_slug())
    if draw(st.booleans()):
        subject["creditsEarned"] = draw(st.integers(0, 60))
        subject["result"] = [{"type": ["Result"], "value": draw(text), "status": "Completed"}]
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB_V3P0, SIJIL_CONTEXT_URL],
        "id": "https://sijil.example/credentials/" + draw(_slug()),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": draw(text),
        "awardType": draw(st.sampled_from(["COC", "COA", "MMS"])),
        "issuer": {
            "id": "did:web:sijil.example",
            "type": ["Profile"],
            "name": draw(text),
            "url": "https://sijil.example",
        },
        "validFrom": "2026-11-29T00:00:00Z",
        "credentialSubject": subject,
    }
    if draw(st.booleans()):
        credential["validUntil"] = "2030-01-01T00:00:00Z"
    if draw(st.booleans()):
        credential["proof"] = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-11-29T00:00:00Z",
            "verificationMethod": "did:web:sijil.example#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + draw(_slug()),
        }
    return credential


@st.composite
def credentials(draw: st.DrawFn, pyld_compatible: bool) -> dict[str, Any]:
    text = _text(pyld_compatible)
    coa = draw(coa_credentials(text))
    if not draw(st.booleans()):
        return coa
    # An MMS-like CLR wrapping the COA: CLR + OB type-scoped contexts together.
    return {
        "@context": [VC_V2, CLR_V2P0, OB_V3P0, SIJIL_CONTEXT_URL],
        "id": "https://sijil.example/credentials/clr-" + draw(_slug()),
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": draw(text),
        "issuer": coa["issuer"],
        "validFrom": coa["validFrom"],
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": coa["credentialSubject"]["identifier"],
            "achievement": [coa["credentialSubject"]["achievement"]],
            "verifiableCredential": [coa],
        },
    }


def _plain_pyld(doc: dict[str, Any]) -> str:
    nquads: str = pyld_jsonld.normalize(
        doc,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader,
        },
    )
    return nquads


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(credentials(pyld_compatible=False))
def test_memoized_canonize_equals_unmemoized(doc: dict[str, Any]) -> None:
    assert jsonld.canonize(doc, cache=False) == jsonld.canonize(doc, memoize=False)


@PROPERTY_SETTINGS
@given(credentials(pyld_compatible=True))
def test_canonize_equals_plain_pyld(doc: dict[str, Any]) -> None:
    assert jsonld.canonize(doc, cache=False) == _plain_pyld(doc)


@PROPERTY_SETTINGS
@given(credentials(pyld_compatible=False))
def test_memoized_expand_equals_unmemoized(doc: dict[str, Any]) -> None:
    assert jsonld.expand(doc) == jsonld.expand(doc, memoize=False)


def _vector_documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(VECTORS.rglob("*.json")):
        if "vc-jose-cose" in path.parts:
            continue  # examples, some with IRIs containing spaces
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "@context" in doc and len(doc) > 1:
            out.append((str(path.relative_to(VECTORS)), doc))
    return out


VECTOR_DOCUMENTS = _vector_documents()


@pytest.mark.parametrize(
    "doc", [doc for _, doc in VECTOR_DOCUMENTS], ids=[name for name, _ in VECTOR_DOCUMENTS]
)
def test_vector_canonize_equals_plain_pyld(doc: dict[str, Any]) -> None:
    processor.clear_memo()
    cold = jsonld.canonize(doc, cache=False)
    warm = jsonld.canonize(doc, cache=False)
    assert cold == warm == jsonld.canonize(doc, memoize=False) == _plain_pyld(doc)


def test_memo_is_used_and_bounded() -> None:
    processor.clear_memo()
    doc = json.loads((VECTORS / "openbadges-3.0" / "unsigned.json").read_text("utf-8"))
    jsonld.canonize(doc, cache=False)
    assert processor.memo_size() > 0
    for index in range(5):
        inline = {**doc, "@context": [*doc["@context"], {f"t{index}": "https://x.example/t"}]}
        jsonld.canonize(inline, cache=False)
    assert 0 < processor.memo_size() <= 512


def test_inline_context_changes_are_seen_between_calls() -> None:
    # A caller mutating its own inline context between calls must get fresh results.
    doc: dict[str, Any] = {
        "@context": [VC_V2, {"note": "https://sijil.example/vocab#note"}],
        "type": ["VerifiableCredential"],
        "issuer": "https://sijil.example",
        "credentialSubject": {"id": "did:example:1"},
        "note": "hello",
    }
    first = jsonld.canonize(doc)
    doc["@context"][1]["note"] = "https://sijil.example/vocab#remark"
    second = jsonld.canonize(doc)
    assert "vocab#note" in first
    assert "vocab#remark" in second
