"""Development TLS: a throw-away CA and a server certificate for this machine.

did:web resolves over HTTPS only, so the dev server (:mod:`issuer.devserver`) serves the issuer
with a certificate from a development CA made on first run; the tests' local HTTPS servers
(``tests/_https.py``) use the same :func:`make_certificates`. Never use either CA anywhere else.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Certificates", "DevTLS", "ensure_dev_tls", "make_certificates"]

_LOOPBACK_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class Certificates:
    """PEM bytes: the CA certificate to trust, the server's certificate and its PKCS#8 key."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def make_certificates(
    *,
    ca_common_name: str,
    names: Sequence[str],
    ips: Sequence[str] = _LOOPBACK_IPS,
    now: datetime.datetime,
    ca_lifetime: datetime.timedelta,
    cert_lifetime: datetime.timedelta,
) -> Certificates:
    """A P-256 CA and a server certificate for ``names`` (the first is the CN) and ``ips``.

    Both carry key identifiers (SKI on the CA, AKI on the server certificate): OpenSSL's strict
    chain checks, the default in newer Pythons, refuse a chain without them.
    """
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_common_name)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + ca_lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + cert_lifetime)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Certificates(
        ca_pem=ca_cert.public_bytes(pem),
        cert_pem=cert.public_bytes(pem),
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


@dataclass(frozen=True)
class DevTLS:
    """Development TLS files: the CA to trust, the server's certificate and key, a trust bundle
    (this CA plus the system roots) for ``SSL_CERT_FILE``."""

    cafile: Path
    certfile: Path
    keyfile: Path
    bundle: Path


def ensure_dev_tls(directory: Path, *, hosts: Sequence[str] = ("localhost",)) -> DevTLS:
    """Create (once; reused while valid for 30+ days) a dev CA and a ``localhost`` certificate.

    The certificate also covers 127.0.0.1 and ::1. Its private key stays in ``directory`` with
    mode 0600. The bundle is rewritten each time so it follows the system roots.
    """
    directory.mkdir(parents=True, exist_ok=True)
    tls = DevTLS(
        cafile=directory / "ca.pem",
        certfile=directory / "cert.pem",
        keyfile=directory / "key.pem",
        bundle=directory / "bundle.pem",
    )
    now = datetime.datetime.now(datetime.UTC)
    if not _still_valid(tls, now, hosts):
        made = make_certificates(
            ca_common_name="sijil development CA",
            names=hosts,
            now=now,
            ca_lifetime=datetime.timedelta(days=825),
            cert_lifetime=datetime.timedelta(days=365),
        )
        tls.cafile.write_bytes(made.ca_pem)
        tls.certfile.write_bytes(made.cert_pem)
        tls.keyfile.write_bytes(made.key_pem)
        tls.keyfile.chmod(0o600)
    system = ssl.get_default_verify_paths().cafile
    roots = Path(system).read_bytes() if system and Path(system).is_file() else b""
    tls.bundle.write_bytes(tls.cafile.read_bytes() + b"\n" + roots)
    return tls


def _still_valid(tls: DevTLS, now: datetime.datetime, hosts: Sequence[str]) -> bool:
    if not all(p.is_file() for p in (tls.cafile, tls.certfile, tls.keyfile)):
        return False
    try:
        cert = x509.load_pem_x509_certificate(tls.certfile.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    dns = set(names.get_values_for_type(x509.DNSName))
    return cert.not_valid_after_utc > now + datetime.timedelta(days=30) and set(hosts) <= dns
