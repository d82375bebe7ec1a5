"""VC DM 2.0 section 5.3 "Integrity of Related Resources": each ``relatedResource`` entry has
an ``id``, ids are unique, and each entry carries ``digestSRI`` or ``digestMultibase``.

Broken entries are ``MALFORMED_VALUE_ERROR`` with a JSON pointer, in the core and through the
VC-API; :func:`verifier.related_resources.check_related_resources` is the same check the issuer
runs before signing.
"""

from __future__ import annotations

from typing import Any

import pytest
from conformance_vcdm_support import api_verify_credential, core_verify, signed_badge, verifier_app

from contexts.errors import MalformedValueError
from verifier.related_resources import check_related_resources

IMAGE = "https://sijil.example.my/images/badge.png"
SRI = "sha384-+yfyiz2/6ddFNxxs0JfB5/uxAWJ8ns2Ql9XMZSSOpu3hxIHa3gAZm1vyjWaQHJ+k"
MULTIBASE = "uEiBZuwMHVN4a6XVZzgpgEu0u6lVmEUU4BAYx6LdT4f6jrQ"

BROKEN: list[tuple[str, list[dict[str, Any]], str]] = [
    ("entry_without_id", [{"digestSRI": SRI}], "/relatedResource/0"),
    (
        "duplicate_ids",
        [{"id": IMAGE, "digestSRI": SRI}, {"id": IMAGE, "digestMultibase": MULTIBASE}],
        "/relatedResource/1/id",
    ),
    ("entry_without_digest", [{"id": IMAGE, "mediaType": "image/png"}], "/relatedResource/0"),
    (
        "malformed_digest_sri",
        [{"id": IMAGE, "digestSRI": "md5-abc"}],
        "/relatedResource/0/digestSRI",
    ),
]
IDS = [case[0] for case in BROKEN]


def test_related_resource_with_id_and_digest_verifies() -> None:
    related = [
        {"id": IMAGE, "digestSRI": SRI},
        {"id": IMAGE + "?v=2", "digestMultibase": MULTIBASE},
    ]
    report = core_verify(signed_badge(relatedResource=related))
    assert report.verified, report.to_dict()


@pytest.mark.parametrize(("name", "related", "pointer"), BROKEN, ids=IDS)
def test_related_resource_rule_in_the_core(
    name: str, related: list[dict[str, Any]], pointer: str
) -> None:
    report = core_verify(signed_badge(relatedResource=related))
    assert not report.verified
    errors = [e for e in report.errors if e["code"] == "MALFORMED_VALUE_ERROR"]
    assert errors
    assert errors[0]["pointer"] == pointer


@pytest.mark.parametrize(("name", "related", "pointer"), BROKEN, ids=IDS)
def test_related_resource_rule_through_the_vc_api(
    name: str, related: list[dict[str, Any]], pointer: str
) -> None:
    status, body = api_verify_credential(
        verifier_app().test_client(), signed_badge(relatedResource=related)
    )
    assert status == 422
    assert body["code"] == "MALFORMED_VALUE_ERROR"
    assert any(e.get("pointer") == pointer for e in body["errors"])


@pytest.mark.parametrize(("name", "related", "pointer"), BROKEN, ids=IDS)
def test_related_resource_rule_as_a_pure_check(
    name: str, related: list[dict[str, Any]], pointer: str
) -> None:
    """What the issuer calls before signing."""
    with pytest.raises(MalformedValueError) as info:
        check_related_resources({"relatedResource": related})
    assert info.value.pointer == pointer
