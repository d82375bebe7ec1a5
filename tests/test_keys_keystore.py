"""The encrypted key store: round trips, no plaintext at rest, wrong passphrase, tampering."""

from __future__ import annotations

import base64
import datetime
import json
import logging
import stat
from pathlib import Path

import pytest

from keys.keypair import KeyPair, KeyType, load_keypair
from keys.keystore import (
    PASSPHRASE_ENV,
    KeyExistsError,
    KeyNotFoundError,
    KeyStore,
    KeystoreBadPassphraseError,
    KeystoreError,
    NoPassphraseError,
    PlaintextRefusedError,
)

N = 2**14  # the smallest cost the store accepts, to keep tests quick
PASS = "correct horse battery staple"
KEY_TYPES: list[KeyType] = ["Ed25519", "P-256", "P-384"]


def _store(path: Path, passphrase: str = PASS) -> KeyStore:
    return KeyStore(path, passphrase, scrypt_n=N)


def _secret_spellings(key: KeyPair) -> list[bytes]:
    raw = key.secret_key_bytes()
    return [
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        key.secret_key_multibase().encode(),
        key.secret_key_multibase()[1:].encode(),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        key.to_jwk(private=True)["d"].encode(),
    ]


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_round_trip(tmp_path: Path, key_type: KeyType) -> None:
    store = _store(tmp_path / "keys")
    key = KeyPair.generate(
        key_type, id="did:web:uni.example.my#key-1", controller="did:web:uni.example.my"
    )
    kid = store.add(key)
    assert kid == "did:web:uni.example.my#key-1"
    loaded = _store(tmp_path / "keys").load(kid)
    assert loaded.secret_key_bytes() == key.secret_key_bytes()
    assert loaded.id == key.id
    assert loaded.controller == key.controller
    assert loaded.sign(b"m") == key.sign(b"m")  # both schemes are deterministic
    key.verify(loaded.sign(b"m"), b"m")


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_files_never_contain_the_secret(tmp_path: Path, key_type: KeyType) -> None:
    store = _store(tmp_path / "keys")
    key = KeyPair.generate(key_type)
    store.add(key)
    files = list((tmp_path / "keys").iterdir())
    assert len(files) == 1
    data = files[0].read_bytes()
    assert key.public_key_multibase.encode() in data  # the public part is in clear
    for spelling in _secret_spellings(key):
        assert spelling not in data


def test_file_and_directory_permissions(tmp_path: Path) -> None:
    store = _store(tmp_path / "keys")
    store.add(KeyPair.generate("Ed25519"))
    (path,) = (tmp_path / "keys").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700


def test_wrong_passphrase_fails(tmp_path: Path) -> None:
    kid = _store(tmp_path).add(KeyPair.generate("Ed25519"))
    with pytest.raises(KeystoreBadPassphraseError) as err:
        _store(tmp_path, "wrong passphrase").load(kid)
    assert err.value.code == "KEYSTORE_BAD_PASSPHRASE"


@pytest.mark.parametrize("field", ["controller", "publicKeyMultibase", "keyType", "created"])
def test_tampered_header_fails(tmp_path: Path, field: str) -> None:
    store = _store(tmp_path)
    kid = store.add(KeyPair.generate("P-256", controller="did:web:a.example"))
    (path,) = tmp_path.iterdir()
    envelope = json.loads(path.read_text())
    other = KeyPair.generate("P-256")
    envelope["header"][field] = {
        "controller": "did:web:attacker.example",
        "publicKeyMultibase": other.public_key_multibase,
        "keyType": "P-384",
        "created": "2020-01-01T00:00:00Z",
    }[field]
    path.write_text(json.dumps(envelope))
    with pytest.raises(KeystoreBadPassphraseError):
        store.load(kid)


def test_file_renamed_to_another_key_id_fails(tmp_path: Path) -> None:
    store = _store(tmp_path)
    a = store.add(KeyPair.generate("Ed25519"), key_id="a")
    b = store.add(KeyPair.generate("Ed25519"), key_id="b")
    path_a, path_b = store._path(a), store._path(b)
    path_b.write_bytes(path_a.read_bytes())
    with pytest.raises(KeystoreBadPassphraseError):
        store.load(b)


def test_hostile_scrypt_parameters_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    kid = store.add(KeyPair.generate("Ed25519"))
    (path,) = tmp_path.iterdir()
    envelope = json.loads(path.read_text())
    envelope["kdf"]["n"] = 2**30
    path.write_text(json.dumps(envelope))
    with pytest.raises(KeystoreError) as err:
        store.load(kid)
    assert err.value.code == "KEYSTORE_ERROR"


def test_missing_key(tmp_path: Path) -> None:
    with pytest.raises(KeyNotFoundError) as err:
        _store(tmp_path).load("nope")
    assert err.value.code == "KEYSTORE_KEY_NOT_FOUND"


def test_existing_key_not_overwritten(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = KeyPair.generate("Ed25519")
    store.add(first, key_id="k")
    with pytest.raises(KeyExistsError):
        store.add(KeyPair.generate("Ed25519"), key_id="k")
    assert store.load("k").public_key_multibase == first.public_key_multibase
    second = KeyPair.generate("Ed25519")
    store.add(second, key_id="k", overwrite=True)
    assert store.load("k").public_key_multibase == second.public_key_multibase
    assert [p.name.endswith(".key.json") for p in tmp_path.iterdir()] == [True]


def test_public_only_key_not_stored(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError):
        _store(tmp_path).add(KeyPair.generate("Ed25519").public_only())


def test_generate_and_list(tmp_path: Path) -> None:
    store = _store(tmp_path)
    k1 = store.generate("Ed25519", key_id="did:web:x.example#k1", controller="did:web:x.example")
    store.add(
        KeyPair.generate("P-256"),
        key_id="did:web:x.example#k0",
        created=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
    )
    infos = _store(tmp_path, "any passphrase lists").list_keys()
    assert [i.key_id for i in infos] == ["did:web:x.example#k0", "did:web:x.example#k1"]
    assert infos[0].created == "2020-01-01T00:00:00Z"
    assert infos[1].public_key().public_key_multibase == k1.public_key_multibase
    assert store.info("did:web:x.example#k1").controller == "did:web:x.example"
    assert KeyStore(tmp_path / "none", PASS).list_keys() == []


def test_export_plaintext_needs_the_loud_flag(tmp_path: Path) -> None:
    store = _store(tmp_path / "keys")
    key = KeyPair.generate("Ed25519", id="did:web:x.example#k", controller="did:web:x.example")
    kid = store.add(key)
    target = tmp_path / "KEY.json"
    with pytest.raises(PlaintextRefusedError) as err:
        store.export_plaintext(kid, target)
    assert err.value.code == "KEYSTORE_PLAINTEXT_REFUSED"
    assert not target.exists()
    store.export_plaintext(kid, target, i_understand_this_writes_a_plaintext_private_key=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    exported = load_keypair(target)
    assert exported.secret_key_bytes() == key.secret_key_bytes()
    assert exported.id == kid
    with pytest.raises(KeyExistsError):
        store.export_plaintext(kid, target, i_understand_this_writes_a_plaintext_private_key=True)


def test_from_env(tmp_path: Path) -> None:
    store = KeyStore.from_env(tmp_path, environ={PASSPHRASE_ENV: PASS}, scrypt_n=N)
    kid = store.add(KeyPair.generate("Ed25519"))
    assert _store(tmp_path).load(kid).has_private


def test_from_env_without_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(NoPassphraseError) as err:
        KeyStore.from_env(tmp_path, environ={})
    assert err.value.code == "KEYSTORE_NO_PASSPHRASE"
    with pytest.raises(NoPassphraseError):
        KeyStore(tmp_path, "")


def test_dev_default_only_on_request_and_loud(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="keys.keystore"):
        store = KeyStore.from_env(tmp_path, environ={}, allow_dev_default=True, scrypt_n=N)
    assert any("NOT protected" in r.getMessage() for r in caplog.records)
    kid = store.add(KeyPair.generate("Ed25519"))
    assert store.load(kid).has_private


def test_bad_scrypt_cost_refused(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError):
        KeyStore(tmp_path, PASS, scrypt_n=1024)
    with pytest.raises(KeystoreError):
        KeyStore(tmp_path, PASS, scrypt_n=3 * 2**14)


def test_not_a_key_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    kid = store.add(KeyPair.generate("Ed25519"))
    store._path(kid).write_text("{}")
    with pytest.raises(KeystoreError):
        store.load(kid)
    with pytest.raises(KeystoreError):
        store.list_keys()
