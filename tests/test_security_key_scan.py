"""Private keys never appear in plaintext in the instance folder, the database or the logs.

A real issuer instance is built the way an operator would, with every logger at ``DEBUG``
writing to a file: ``sijil-issuer init``, ``demo``, ``keys rotate`` and ``awards revoke`` (their
output kept too), then requests through the real app: public documents, a claim page and
downloads, a revocation, a claim-link request, a new P-256 issuer and key rotations.
Then every private key the store holds (decrypted with the passphrase) is looked for in every
file of the instance folder, every value of every table (``SELECT`` of every column, so it
also works on PostgreSQL, where a file scan would miss compressed values) and the logs, in
every encoding we can think of: raw bytes, hex, base64 / base64url at any alignment, the
``z...`` secret Multikey, the JWK ``d``, PKCS#8 / SEC1 DER and PEM. The key store passphrase
and the Flask secret key are looked for too.

The scanner is itself tested on a scratch file holding a key in each encoding, so a scan that
finds nothing is a finding, not a blind spot.
"""

from __future__ import annotations

import base64
import logging
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from sqlalchemy import MetaData, create_engine, select

from issuer.cli import cli
from issuer.delivery.claims import make_claim_token
from issuer.delivery.mail import OutboxMailer
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.runtime import Runtime
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app
from issuer.web.learner import LearnerConfig, configure_learner
from keys.keypair import KeyPair
from keys.keystore import KeyStore, KeystoreBadPassphraseError
from webplatform.logs import JsonLogFormatter, RequestIdFilter

PASSPHRASE = "scan-test-passphrase-not-secret"
SECRET_KEY = "scan-test-secret-key-not-secret"
BASE_URL = "https://issuer.scan.example"


# -- the scanner ----------------------------------------------------------------------------


def _b64_needles(secret: bytes) -> set[bytes]:
    """Base64 and base64url of ``secret`` at each of the three alignments it can have inside
    a longer encoded blob: only the characters fixed by the secret's own bits."""
    needles: set[bytes] = set()
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + secret + b"\0\0\0")
            first = -(-8 * shift // 6)  # first character made only of secret bits
            last = (8 * (shift + len(secret))) // 6  # first character reaching past them
            needles.add(encoded[first:last])
    return needles


def _der_forms(key: KeyPair) -> list[bytes]:
    private = key._pyca_private()  # the one place a test needs pyca's object
    forms = [
        private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    ]
    if key.key_type != "Ed25519":
        forms.append(
            private.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
    return forms


@dataclass(frozen=True)
class Needle:
    """One encoding of one private key."""

    key_id: str
    encoding: str
    value: bytes


def needles_for(key: KeyPair, key_id: str) -> list[Needle]:
    """Every encoding of ``key``'s secret we look for (all at least 20 bytes long)."""
    secret = key.secret_key_bytes()
    assert len(secret) >= 32
    found = [
        Needle(key_id, "raw", secret),
        Needle(key_id, "hex", secret.hex().encode()),
        Needle(key_id, "HEX", secret.hex().upper().encode()),
        Needle(key_id, "multikey", key.secret_key_multibase().encode()),
        Needle(key_id, "jwk-d", key.to_jwk(private=True)["d"].encode()),
    ]
    found += [Needle(key_id, "base64", value) for value in sorted(_b64_needles(secret))]
    for n, der in enumerate(_der_forms(key)):
        found.append(Needle(key_id, f"der{n}", der))
        found += [Needle(key_id, f"pem{n}", value) for value in sorted(_b64_needles(der))]
    return found


def _variants(blob: bytes) -> list[bytes]:
    """The blob as stored, and with line breaks (PEM, JSON-escaped PEM) taken out."""
    joined = blob.replace(b"\\n", b"").replace(b"\\r", b"")
    joined = joined.replace(b"\n", b"").replace(b"\r", b"")
    return [blob, joined] if joined != blob else [blob]


def scan(haystacks: dict[str, bytes], needles: list[Needle]) -> list[str]:
    """``"<where>: <encoding> of <key id>"`` for every needle found in a haystack."""
    hits = []
    for where, blob in haystacks.items():
        for variant in _variants(blob):
            for needle in needles:
                if needle.value in variant:
                    hits.append(f"{where}: {needle.encoding} of {needle.key_id}")
    return sorted(set(hits))


def files_under(root: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def database_dump(url: str) -> dict[str, bytes]:
    """Every value of every column of every table, one haystack per table."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        dump: dict[str, bytes] = {}
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                parts: list[bytes] = []
                for row in conn.execute(select(table)):
                    for value in row:
                        if isinstance(value, bytes | bytearray | memoryview):
                            parts.append(bytes(value))
                        elif value is not None:
                            parts.append(str(value).encode("utf-8"))
                dump[f"table {table.name}"] = b"\x00".join(parts)
        assert dump, "the database has no tables"
        return dump
    finally:
        engine.dispose()


# -- the scanner finds what is there ---------------------------------------------------------


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256", "P-384"])
def test_scanner_finds_a_plaintext_key_in_every_encoding(tmp_path: Path, key_type: str) -> None:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    needles = needles_for(key, "scratch")
    secret = key.secret_key_bytes()
    pem = key._pyca_private().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    written = {
        "raw": b"junk" + secret + b"junk",
        "hex": f"seed={secret.hex()};".encode(),
        "base64-offset": base64.b64encode(b"xy" + secret + b"tail"),
        "base64url": base64.urlsafe_b64encode(b"q" + secret).rstrip(b"="),
        "multikey": f'{{"secretKeyMultibase": "{key.secret_key_multibase()}"}}'.encode(),
        "jwk": repr(key.to_jwk(private=True)).encode(),
        "pem": pem,
        "pem-in-json": pem.replace(b"\n", b"\\n"),
        "der": b"\x00" + _der_forms(key)[0],
    }
    for name, content in written.items():
        scratch = tmp_path / f"{name}.txt"
        scratch.write_bytes(b"log line before\n" + content + b"\nlog line after\n")
        assert scan(files_under(tmp_path), needles), name
        scratch.unlink()
    other = KeyPair.generate(key_type)  # type: ignore[arg-type]
    (tmp_path / "public.json").write_text(str(other.to_multikey()) + str(key.to_multikey()))
    assert scan(files_under(tmp_path), needles) == []


# -- a real instance ------------------------------------------------------------------------


def _cli(env: dict[str, str], logs: Path, name: str, *args: str) -> str:
    """Run ``sijil-issuer ARGS`` in this process (its logs reach the DEBUG file); keep its
    output with the logs."""
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    (logs / f"cli-{name}.out").write_text(result.output)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every logger at DEBUG into two files for the length of the test: plain text, and the
    production JSON lines (which keep ``extra=`` fields a plain format would drop)."""
    path = tmp_path / "logs" / "app-debug.log"
    path.parent.mkdir(exist_ok=True)
    text = logging.FileHandler(path, encoding="utf-8")
    text.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    json_lines = logging.FileHandler(path.with_suffix(".jsonl"), encoding="utf-8")
    json_lines.setFormatter(JsonLogFormatter())
    json_lines.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    for handler in (text, json_lines):
        handler.setLevel(logging.DEBUG)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        for handler in (text, json_lines):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)


def _serve_a_few_requests(rt: Runtime, outbox: Path) -> None:
    app = create_app(runtime=rt)
    configure_learner(app, LearnerConfig("https://verify.example", OutboxMailer(outbox)))
    client = app.test_client()
    admin = {"Authorization": f"Bearer {create_token(rt, ['admin'], actor='scan')[1]}"}
    reader = {"Authorization": f"Bearer {create_token(rt, ['read'], actor='scan')[1]}"}
    awards = list_awards(rt, limit=None)
    assert len(awards) >= 3
    award = awards[0]
    token = make_claim_token(rt.settings.secret_key, award.learner, at=rt.now())
    answers = [
        client.get("/.well-known/did.json"),
        client.get(f"/credentials/{award.id}"),
        client.get("/status/1"),
        client.get("/awards?limit=5", headers=reader),
        client.get(f"/claim/{token}"),
        client.get(f"/claim/{token}/credentials/{award.id}/json"),
        client.get(f"/claim/{token}/credentials/{award.id}/pdf"),
        client.get("/issuers", headers=admin),
        client.post(f"/awards/{awards[1].id}/revoke", headers=admin, json={"reason": "scan"}),
        client.post("/claim/request", data={"email": "nobody@example.org"}),
    ]
    issuers = client.get("/issuers", headers=admin).get_json()
    rotated = client.post(f"/issuers/{issuers[0]['slug']}/keys/rotate", headers=admin, json={})
    created = client.post(
        "/issuers",
        headers=admin,
        json={
            "slug": "ecdsa-faculty",
            "name": "Faculty of Curves",
            "url": BASE_URL,
            "email": "curves@issuer.scan.example",
            "cryptosuite": "ecdsa-rdfc-2019",
            "keyType": "P-256",
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    rotated_ec = client.post(
        "/issuers/ecdsa-faculty/keys/rotate", headers=admin, json={"keyType": "P-384"}
    )
    for answer in [*answers, rotated, created, rotated_ec]:
        answer.close()
        assert answer.status_code < 500, answer.get_data(as_text=True)
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[5].status_code == 200
    assert answers[6].status_code == 200
    assert rotated.status_code in (200, 201), rotated.get_data(as_text=True)
    assert rotated_ec.status_code in (200, 201), rotated_ec.get_data(as_text=True)


def test_no_private_key_in_instance_database_or_logs(
    tmp_path: Path, db_url: str, instance: Path, debug_log: Path
) -> None:
    logs = debug_log.parent
    env = {
        "SIJIL_ENV": "development",
        "SIJIL_INSTANCE_DIR": str(instance),
        "SIJIL_DATABASE_URL": db_url,
        "SIJIL_BASE_URL": BASE_URL,
        "SIJIL_KEY_PASSPHRASE": PASSPHRASE,
        "SIJIL_SECRET_KEY": SECRET_KEY,
        "SIJIL_LOG_LEVEL": "DEBUG",
    }
    _cli(env, logs, "init", "init")
    _cli(env, logs, "demo", "demo")
    _cli(env, logs, "rotate-ed25519", "keys", "rotate")
    listed = _cli(env, logs, "list", "awards", "list")
    award_id = listed.split()[0]
    _cli(env, logs, "revoke", "awards", "revoke", award_id, "--reason", "key scan")

    settings = Settings.from_env(env)
    rt = open_runtime(settings, status_lists=True)
    try:
        _serve_a_few_requests(rt, tmp_path / "outbox")
    finally:
        rt.close()

    store = KeyStore(settings.keys_dir, PASSPHRASE)
    infos = store.list_keys()
    key_types = {info.key_type for info in infos}
    assert len(infos) >= 5, infos
    assert {"Ed25519", "P-256", "P-384"} <= key_types
    needles = [n for info in infos for n in needles_for(store.load(info.key_id), info.key_id)]
    # nor the secrets that protect them
    needles += [
        Needle("SIJIL_KEY_PASSPHRASE", "text", PASSPHRASE.encode()),
        Needle("SIJIL_SECRET_KEY", "text", SECRET_KEY.encode()),
    ]

    haystacks = files_under(instance) | files_under(logs) | database_dump(db_url)
    haystacks |= files_under(tmp_path / "outbox")
    assert any(where.startswith("table ") for where in haystacks)
    if db_url.startswith("sqlite"):
        assert any(where.endswith("sijil.db") for where in haystacks)
    assert "DEBUG" in debug_log.read_text()
    assert '"level": "DEBUG"' in debug_log.with_suffix(".jsonl").read_text()
    # The scan reads where key material lives: every public key is found in the database.
    tables = {where: blob for where, blob in haystacks.items() if where.startswith("table ")}
    public = [Needle(i.key_id, "public", i.public_key_multibase.encode()) for i in infos]
    assert len(scan(tables, public)) >= len(infos)
    assert scan(haystacks, needles) == []

    # The key store itself: 0600 files in a 0700 folder, encrypted, nothing secret in clear.
    assert stat.S_IMODE(settings.keys_dir.stat().st_mode) == 0o700
    key_files = [p for p in settings.keys_dir.iterdir() if p.is_file()]
    assert len(key_files) == len(infos)
    for path in key_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        text = path.read_text()
        assert '"format": "sijil-keystore-v1"' in text
        assert '"AES-256-GCM"' in text
        assert "secretKeyMultibase" not in text
        assert "privateKey" not in text
    # and a wrong passphrase opens nothing
    wrong = KeyStore(settings.keys_dir, "not-the-passphrase")
    with pytest.raises(KeystoreBadPassphraseError) as err:
        wrong.load(infos[0].key_id)
    assert err.value.code == "KEYSTORE_BAD_PASSPHRASE"
