"""The QR code on a certificate: a short link to the verifier's page for one credential.

The code carries ``{VERIFIER}/verify?url=<credential id>``, not the packed credential
(:func:`verifier.links.verification_link`): a COA packs to about 2 KB and an MMS with its
stacked COAs to several times that, which is a QR code too dense to print and scan from a phone
in a second (and beyond QR capacity for an MMS). The short link gives a version ~6 code, and
because the verifier fetches the credential, the same printed code reads "revoked" once the
award is revoked. :func:`embedded_link` is the offline alternative for small credentials.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage

from verifier import verification_link

__all__ = ["embedded_link", "qr_png", "verifier_link"]

#: Where the verifier runs in development (``sijil-verify serve`` default port).


def verifier_link(verifier_base: str, credential_id: str) -> str:
    """The verifier page that fetches and checks the credential published at ``credential_id``."""
    return f"{verifier_base.rstrip('/')}/verify?{urlencode({'url': credential_id})}"


def embedded_link(verifier_base: str, credential: Mapping[str, Any] | str) -> str:
    """The verifier page link carrying the credential itself (works with the issuer offline)."""
    return verification_link(verifier_base, credential)


def qr_png(text: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """A black-on-white PNG QR code of ``text`` (error correction M, quiet zone ``border``)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=box_size,
        border=border,
        image_factory=PilImage,
    )
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image()
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
