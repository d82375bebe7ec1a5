"""Private keys encrypted at rest.

Each key is one JSON file (mode 0600, in a 0700 directory) holding the public Multikey
and metadata in clear, and the ``secretKeyMultibase`` encrypted with AES-256-GCM under a
key derived from the store passphrase with scrypt (a fresh salt and nonce per file).
The clear metadata (key id, type, controller, public key, created) is the GCM
associated data, so it cannot be swapped between files or edited without the
decryption failing. After decryption the secret must derive the stored public key.

Writes are atomic: a key file is written to ``<name>.<host>-<pid>-<random>.tmp`` (fsynced)
and then linked or renamed into place, so a killed writer never leaves a half-written key. A
killed writer can leave its ``.tmp`` file; opening the store removes such leftovers (those of a
process of this host that is gone, and any older than :data:`STALE_TMP_SECONDS`). Every file
system failure (read-only store, disk full, permissions) is ``KEYSTORE_ERROR`` naming the path
and the reason, never a bare ``OSError``.

The passphrase comes from the ``SIJIL_KEY_PASSPHRASE`` environment variable
(:meth:`KeyStore.from_env`), e.g. a mounted secret; a development default exists only
when asked for explicitly and logs a WARNING each time. Writing a key in plaintext
needs :meth:`KeyStore.export_plaintext` with its loudly named flag.

Error codes: ``KEYSTORE_BAD_PASSPHRASE`` (wrong passphrase or a tampered file: GCM
cannot tell them apart), ``KEYSTORE_KEY_NOT_FOUND``, ``KEYSTORE_KEY_EXISTS``,
``KEYSTORE_NO_PASSPHRASE``, ``KEYSTORE_PLAINTEXT_REFUSED``, ``KEYSTORE_ERROR``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from contexts.errors import MalformedValueError, SijilError
from keys.keypair import KeyPair, KeyType

__all__ = [
    "DEV_PASSPHRASE",
    "PASSPHRASE_ENV",
    "STALE_TMP_SECONDS",
    "KeyExistsError",
    "KeyInfo",
    "KeyNotFoundError",
    "KeyStore",
    "KeystoreBadPassphraseError",
    "KeystoreError",
    "NoPassphraseError",
    "PlaintextRefusedError",
]

log = logging.getLogger(__name__)

PASSPHRASE_ENV = "SIJIL_KEY_PASSPHRASE"  # noqa: S105 - a variable name
DEV_PASSPHRASE = "sijil-development-passphrase-NOT-A-SECRET"  # noqa: S105 - public on purpose
_FORMAT = "sijil-keystore-v1"
_MIN_N, _MAX_N = 2**14, 2**20
_SUFFIX = ".key.json"
_TMP = ".tmp"
#: A ``.tmp`` file older than this is a leftover whatever process wrote it (other hosts too).
STALE_TMP_SECONDS = 3600


class KeystoreError(SijilError):
    """The key store cannot read or write a key file."""

    code = "KEYSTORE_ERROR"
    title = "Key store error"
    http_status = 500


class KeystoreBadPassphraseError(KeystoreError):
    """Decryption failed: wrong passphrase, or the file was altered."""

    code = "KEYSTORE_BAD_PASSPHRASE"
    title = "Key store passphrase is wrong (or the key file was altered)"


class KeyNotFoundError(KeystoreError):
    code = "KEYSTORE_KEY_NOT_FOUND"
    title = "No such key in the key store"
    http_status = 404


class KeyExistsError(KeystoreError):
    code = "KEYSTORE_KEY_EXISTS"
    title = "A key with this id is already stored"
    http_status = 409


class NoPassphraseError(KeystoreError):
    code = "KEYSTORE_NO_PASSPHRASE"
    title = "No key store passphrase configured"


class PlaintextRefusedError(KeystoreError):
    code = "KEYSTORE_PLAINTEXT_REFUSED"
    title = "Writing a plaintext private key was not explicitly requested"


@dataclass(frozen=True)
class KeyInfo:
    """What the store knows about a key without the passphrase."""

    key_id: str
    key_type: KeyType
    controller: str | None
    public_key_multibase: str
    created: str

    def public_key(self) -> KeyPair:
        """The public key with its id and controller."""
        return KeyPair.from_public_multibase(
            self.public_key_multibase, id=self.key_id, controller=self.controller
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise KeystoreError("key file field is not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise KeystoreError("key file field is not base64url") from exc


def _is_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _aad(header: Mapping[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


class KeyStore:
    """A directory of passphrase-encrypted key files (see module docstring)."""

    def __init__(self, directory: str | Path, passphrase: str, *, scrypt_n: int = 2**15) -> None:
        if not isinstance(passphrase, str) or not passphrase:
            raise NoPassphraseError("the key store passphrase must be a non-empty string")
        if not _MIN_N <= scrypt_n <= _MAX_N or scrypt_n & (scrypt_n - 1):
            raise KeystoreError(f"scrypt_n must be a power of two in [{_MIN_N}, {_MAX_N}]")
        self.directory = Path(directory)
        self._passphrase = passphrase.encode("utf-8")
        self._scrypt_n = scrypt_n
        self.removed_leftovers = self._remove_leftovers()

    def _remove_leftovers(self) -> tuple[str, ...]:
        """Delete ``.tmp`` files of killed writers (see module docstring); their names.

        Best effort: a store that cannot be listed or written is reported when it is used.
        """
        removed: list[str] = []
        host = socket.gethostname()
        try:
            candidates = list(self.directory.glob("*" + _SUFFIX + ".*" + _TMP))
        except OSError:
            return ()
        for path in candidates:
            writer = path.name[: -len(_TMP)].split(_SUFFIX + ".", 1)[-1].rsplit("-", 2)
            try:
                age = time.time() - path.stat().st_mtime
            except OSError:
                continue
            mine = len(writer) == 3 and writer[0] == host and writer[1].isdigit()
            if age < STALE_TMP_SECONDS and not (mine and not _is_alive(int(writer[1]))):
                continue
            try:
                path.unlink()
            except OSError as exc:
                log.warning("cannot remove the leftover key store file %s: %s", path, exc)
                continue
            log.warning("removed %s, left by an interrupted key store write", path)
            removed.append(path.name)
        return tuple(removed)

    @classmethod
    def from_env(
        cls,
        directory: str | Path,
        *,
        environ: Mapping[str, str] | None = None,
        allow_dev_default: bool = False,
        scrypt_n: int = 2**15,
    ) -> KeyStore:
        """A store whose passphrase is ``$SIJIL_KEY_PASSPHRASE``.

        Without it: ``KEYSTORE_NO_PASSPHRASE``, unless ``allow_dev_default`` (development
        only), which uses a published passphrase and logs a WARNING.
        """
        env = os.environ if environ is None else environ
        passphrase = env.get(PASSPHRASE_ENV, "")
        if not passphrase:
            if not allow_dev_default:
                raise NoPassphraseError(f"set {PASSPHRASE_ENV} to the key store passphrase")
            log.warning(
                "%s is not set: using the PUBLIC development passphrase. Keys in %s are "
                "NOT protected. Never do this in production.",
                PASSPHRASE_ENV,
                directory,
            )
            passphrase = DEV_PASSPHRASE
        return cls(directory, passphrase, scrypt_n=scrypt_n)

    # -- files ------------------------------------------------------------------------

    def path_of(self, key_id: str) -> Path:
        """The file that holds (or would hold) ``key_id``: what to copy between key stores."""
        return self._path(key_id)

    def _path(self, key_id: str) -> Path:
        # Key ids are URLs (did:web:...#key-1); the file name is a digest of the id.
        return self.directory / (hashlib.sha256(key_id.encode("utf-8")).hexdigest()[:32] + _SUFFIX)

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _read(self, key_id: str) -> dict[str, Any]:
        path = self._path(key_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise KeyNotFoundError(f"no key {key_id!r} in {self.directory}") from None
        except OSError as exc:
            raise KeystoreError(f"cannot read {path}: {exc}") from exc
        return self._parse(raw, path)

    @staticmethod
    def _parse(raw: bytes, path: Path) -> dict[str, Any]:
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeystoreError(f"{path} is not a key file") from exc
        if not isinstance(envelope, dict) or envelope.get("format") != _FORMAT:
            raise KeystoreError(f"{path} is not a {_FORMAT} key file")
        if not isinstance(envelope.get("header"), dict):
            raise KeystoreError(f"{path} has no header")
        return envelope

    def _write_private(self, path: Path, data: bytes, *, overwrite: bool) -> None:
        """Write ``data`` to ``path`` with mode 0600 from the first byte (atomic rename).

        Raises ``KEYSTORE_KEY_EXISTS`` and ``KEYSTORE_ERROR`` (read-only store, disk full, ...).
        """
        writer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        tmp = path.with_name(f"{path.name}.{writer}{_TMP}")
        created = False
        try:
            self._ensure_directory()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)  # fails if the key exists; no window for a race
        except FileExistsError:
            raise KeyExistsError(f"{path} already exists") from None
        except OSError as exc:
            raise KeystoreError(
                f"cannot write the key file {path}: {exc.strerror or exc} (errno "
                f"{exc.errno}); make the key store folder writable with free space, then retry"
            ) from exc
        finally:
            if created:
                # Unlinking can fail too (read-only store): never mask the error above.
                with contextlib.suppress(OSError):
                    tmp.unlink()

    # -- keys ---------------------------------------------------------------------------

    def add(
        self,
        key: KeyPair,
        *,
        key_id: str | None = None,
        created: datetime.datetime | None = None,
        overwrite: bool = False,
    ) -> str:
        """Encrypt and store ``key`` under ``key_id`` (default: ``key.id``, else its
        ``publicKeyMultibase``). Returns the key id. ``KEYSTORE_KEY_EXISTS`` if taken.
        """
        if not key.has_private:
            raise KeystoreError("only key pairs with a private key are stored")
        kid = key_id or key.id or key.public_key_multibase
        when = created or datetime.datetime.now(datetime.UTC)
        header = {
            "kid": kid,
            "keyType": key.key_type,
            "controller": key.controller,
            "publicKeyMultibase": key.public_key_multibase,
            "created": when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        salt = secrets.token_bytes(16)
        nonce = secrets.token_bytes(12)
        kdf = {"name": "scrypt", "salt": _b64(salt), "n": self._scrypt_n, "r": 8, "p": 1}
        aes = AESGCM(self._derive(salt, self._scrypt_n, 8, 1))
        secret = key.secret_key_multibase().encode("ascii")
        ciphertext = aes.encrypt(nonce, secret, _aad({"header": header, "kdf": kdf}))
        envelope = {
            "format": _FORMAT,
            "header": header,
            "kdf": kdf,
            "cipher": {"name": "AES-256-GCM", "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)},
        }
        data = json.dumps(envelope, indent=2, sort_keys=True).encode("utf-8") + b"\n"
        self._write_private(self._path(kid), data, overwrite=overwrite)
        return kid

    def generate(
        self,
        key_type: KeyType = "Ed25519",
        *,
        key_id: str | None = None,
        controller: str | None = None,
    ) -> KeyPair:
        """Generate, store and return a new key pair (``id`` = its key id)."""
        key = KeyPair.generate(key_type, id=key_id, controller=controller)
        kid = self.add(key)
        return key.with_identity(id=kid, controller=controller)

    def _derive(self, salt: bytes, n: int, r: int, p: int) -> bytes:
        return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self._passphrase)

    def load(self, key_id: str) -> KeyPair:
        """Decrypt the key stored under ``key_id`` (with its id and controller).

        Raises ``KEYSTORE_KEY_NOT_FOUND``, ``KEYSTORE_BAD_PASSPHRASE``, ``KEYSTORE_ERROR``.
        """
        envelope = self._read(key_id)
        header, kdf, cipher = envelope["header"], envelope.get("kdf"), envelope.get("cipher")
        if header.get("kid") != key_id:
            raise KeystoreBadPassphraseError(f"key file for {key_id!r} names another key")
        if not isinstance(kdf, dict) or not isinstance(cipher, dict) or kdf.get("name") != "scrypt":
            raise KeystoreError(f"key file for {key_id!r} has an unknown format")
        n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
        if not (
            isinstance(n, int) and _MIN_N <= n <= _MAX_N and not n & (n - 1) and r == 8 and p == 1
        ):
            raise KeystoreError(f"key file for {key_id!r} has out-of-range scrypt parameters")
        try:
            plain = AESGCM(self._derive(_unb64(kdf.get("salt")), n, 8, 1)).decrypt(
                _unb64(cipher.get("nonce")),
                _unb64(cipher.get("ciphertext")),
                _aad({"header": header, "kdf": kdf}),
            )
        except InvalidTag:
            raise KeystoreBadPassphraseError(
                f"cannot decrypt {key_id!r}: wrong passphrase or altered key file"
            ) from None
        try:
            key = KeyPair.from_multikey(
                {
                    "id": key_id,
                    "controller": header.get("controller"),
                    "publicKeyMultibase": header.get("publicKeyMultibase"),
                    "secretKeyMultibase": plain.decode("ascii"),
                }
            )
        except (MalformedValueError, UnicodeDecodeError) as exc:
            raise KeystoreError(f"key file for {key_id!r} holds an invalid key") from exc
        return key

    def info(self, key_id: str) -> KeyInfo:
        """Public metadata of one key (no passphrase needed)."""
        return self._info(self._read(key_id)["header"])

    @staticmethod
    def _info(header: Mapping[str, Any]) -> KeyInfo:
        try:
            return KeyInfo(
                key_id=str(header["kid"]),
                key_type=header["keyType"],
                controller=header.get("controller"),
                public_key_multibase=str(header["publicKeyMultibase"]),
                created=str(header["created"]),
            )
        except KeyError as exc:
            raise KeystoreError(f"key file header lacks {exc}") from exc

    def list_keys(self) -> list[KeyInfo]:
        """Every stored key's public metadata, oldest first."""
        if not self.directory.is_dir():
            return []
        out = []
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise KeystoreError(f"cannot read {path}: {exc}") from exc
            out.append(self._info(self._parse(raw, path)["header"]))
        return sorted(out, key=lambda i: (i.created, i.key_id))

    def export_plaintext(
        self,
        key_id: str,
        path: str | Path,
        *,
        i_understand_this_writes_a_plaintext_private_key: bool = False,
    ) -> None:
        """Write the key as a plaintext Multikey KEY.json (``load_keypair`` reads it).

        Refused (``KEYSTORE_PLAINTEXT_REFUSED``) unless the flag is True; the file is
        created with mode 0600 and never overwrites an existing file
        (``KEYSTORE_KEY_EXISTS``).
        """
        if i_understand_this_writes_a_plaintext_private_key is not True:
            raise PlaintextRefusedError(
                "exporting a private key in plaintext needs "
                "i_understand_this_writes_a_plaintext_private_key=True"
            )
        key = self.load(key_id)
        log.warning("writing the PLAINTEXT private key %s to %s", key_id, path)
        data = json.dumps(key.to_multikey(include_secret=True), indent=2).encode("utf-8") + b"\n"
        target = Path(path)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyExistsError(f"{target} already exists; not overwriting") from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
