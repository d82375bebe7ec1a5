"""Open Badges 3.0 baked badges: PNG iTXt and SVG, baked and unbaked by one codec."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from verifier_fixtures import Learner, build_coa, coa_for, key_from_seed, vm_of
from verifier_trust import trust_file, trust_for

from contexts.errors import ParsingError
from keys.jose import sign_vc_jwt
from keys.resolve import Resolver
from verifier.baked import (
    OB3_NAMESPACE,
    PNG_KEYWORD,
    bake_png,
    bake_svg,
    unbake,
    unbake_png,
    unbake_svg,
)
from verifier.cli import cli
from verifier.errors import BakedCredentialNotFoundError
from verifier.report import verify_credential

AT = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER = key_from_seed(51)
TRUST = trust_for(ISSUER)
LEARNER = Learner("Kavitha d/o Suresh", "kavitha@example.com", "salt-kavitha")
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
    b'<circle cx="32" cy="32" r="30" fill="#1a5"/></svg>\n'
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png() -> bytes:
    """A real 2x2 RGB PNG."""
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x11\xaa\x55" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _coa() -> dict[str, Any]:
    return coa_for(ISSUER, LEARNER, "DS401", "Cloud Data Platforms", serial=1)


def _jwt() -> str:
    unsigned = build_coa(ISSUER, LEARNER, "DS401", "Cloud Data Platforms", serial=1)
    return sign_vc_jwt(unsigned, ISSUER, kid=vm_of(ISSUER))


def _itxt(text: bytes, *, compressed: bool = False) -> bytes:
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    return _chunk(b"iTXt", PNG_KEYWORD.encode() + b"\x00" + flag + b"\x00\x00" + text)


def test_png_round_trip_and_verify() -> None:
    doc = _coa()
    baked = bake_png(_png(), doc)
    assert baked.startswith(b"\x89PNG")
    assert json.loads(unbake_png(baked)) == doc
    report = verify_credential(baked, at=AT, resolver=Resolver(), trust=TRUST)
    assert report.verified
    assert report.format == "png"


def test_png_chunk_is_uncompressed_itxt_before_iend() -> None:
    baked = bake_png(_png(), _coa())
    position = baked.index(b"iTXt")
    assert baked[position + 4 : position + 4 + len(PNG_KEYWORD)] == PNG_KEYWORD.encode()
    flags = baked[position + 5 + len(PNG_KEYWORD) : position + 7 + len(PNG_KEYWORD)]
    assert flags == b"\x00\x00"
    assert baked.index(b"IEND") > position


def test_png_rebake_replaces_the_credential() -> None:
    once = bake_png(_png(), {"first": True})
    twice = bake_png(once, _coa())
    assert twice.count(b"iTXt") == 1
    assert json.loads(unbake_png(twice))["id"] == _coa()["id"]


def test_png_with_jwt() -> None:
    baked = bake_png(_png(), _jwt())
    report = verify_credential(baked, at=AT, resolver=Resolver(), trust=TRUST)
    assert report.verified
    assert report.format == "png"


def test_png_without_credential() -> None:
    with pytest.raises(BakedCredentialNotFoundError):
        unbake(_png())


def test_png_two_credentials_refused() -> None:
    image = _png()
    end = image.index(b"IEND") - 4
    doubled = image[:end] + _itxt(b"{}") + _itxt(b"{}") + image[end:]
    with pytest.raises(ParsingError):
        unbake_png(doubled)


def test_png_compressed_chunk_refused() -> None:
    image = _png()
    end = image.index(b"IEND") - 4
    with pytest.raises(ParsingError):
        unbake_png(image[:end] + _itxt(zlib.compress(b"{}"), compressed=True) + image[end:])


def test_png_bad_crc_refused() -> None:
    baked = bytearray(bake_png(_png(), _coa()))
    baked[baked.index(b"iTXt") + 30] ^= 0x01
    with pytest.raises(ParsingError):
        unbake_png(bytes(baked))


def test_png_truncated_refused() -> None:
    with pytest.raises(ParsingError):
        unbake_png(bake_png(_png(), _coa())[:-20])


def test_svg_round_trip_and_verify() -> None:
    doc = _coa()
    baked = bake_svg(SVG, doc)
    assert OB3_NAMESPACE.encode() in baked
    assert b"<circle" in baked
    assert json.loads(unbake_svg(baked)) == doc
    report = verify_credential(baked, at=AT, resolver=Resolver(), trust=TRUST)
    assert report.verified
    assert report.format == "svg"


def test_svg_with_jwt_uses_verify_attribute() -> None:
    token = _jwt()
    baked = bake_svg(SVG, token)
    assert f'verify="{token}"'.encode() in baked
    assert unbake_svg(baked) == token
    assert verify_credential(baked, at=AT, resolver=Resolver(), trust=TRUST).verified


def test_svg_rebake_replaces_the_credential() -> None:
    twice = bake_svg(bake_svg(SVG, {"first": True}), _coa())
    assert twice.count(b"<openbadges:credential") == 1


def test_svg_without_credential() -> None:
    with pytest.raises(BakedCredentialNotFoundError):
        unbake(SVG)


def test_svg_with_doctype_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(ParsingError):
        unbake(evil)


def test_svg_malformed_refused() -> None:
    with pytest.raises(ParsingError):
        unbake(b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')


def test_tampered_baked_credential_is_invalid() -> None:
    doc = _coa()
    doc["credentialSubject"]["creditsEarned"] = 99
    report = verify_credential(bake_png(_png(), doc), at=AT, resolver=Resolver(), trust=TRUST)
    assert report.verdict == "invalid"


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_cli_verifies_baked_files(tmp_path: Path, kind: str) -> None:
    data = bake_png(_png(), _coa()) if kind == "png" else bake_svg(SVG, _coa())
    path = tmp_path / f"badge.{kind}"
    path.write_bytes(data)
    trust = str(trust_file(tmp_path, ISSUER))
    result = CliRunner().invoke(cli, ["--now", "2026-07-01T00:00:00Z", "--trust", trust, str(path)])
    assert result.exit_code == 0, result.output
