"""Credentials carried inside PDF certificates.

Learners e-mail the PDF, not the JSON. sijil's certificates attach the signed credential as an
embedded file (``credential.json``, an associated file the PDF/A-3 way), so a verifier handed
only the PDF checks the credential it was printed from. :func:`read_pdf_certificate` returns that
attachment and the page's printed text; :func:`printed_mismatches` says which of the credential's
facts the printed page does not show, so a PDF whose visible text was edited after printing (a
different name over a genuine attachment) is reported instead of vouched for.

The PDF is hostile input: it is parsed with pypdf (no rendering, no JavaScript), only after the
caller's size cap, and only the embedded-files name tree and the first pages' text are read.
An attachment larger than :data:`MAX_ATTACHMENT_BYTES` is refused.

Errors: ``PARSING_ERROR`` (not a readable PDF), ``PDF_CREDENTIAL_NOT_FOUND`` (a PDF with no
attached credential).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from contexts.errors import ParsingError, SijilError

from .models import parse_credential

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "MAX_TEXT_PAGES",
    "PdfCertificate",
    "PdfCredentialNotFoundError",
    "PdfTextMismatchError",
    "check_printed_text",
    "is_pdf",
    "printed_mismatches",
    "read_pdf_certificate",
]

#: Largest attached credential read (an MMS with 50 embedded COAs is well under this).
MAX_ATTACHMENT_BYTES: Final = 2 * 1024 * 1024
#: Pages whose text is compared with the credential (the certificate is one page).
MAX_TEXT_PAGES: Final = 2
#: Names the credential may be attached under, preferred first.
_ATTACHMENT_NAMES: Final = ("credential.json", "credential.jwt")

# pypdf logs every recoverable oddity of a hostile file at WARNING; they are not our operators'.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class PdfCredentialNotFoundError(SijilError):
    """A readable PDF without an attached credential."""

    code = "PDF_CREDENTIAL_NOT_FOUND"
    title = "No credential attached to this PDF"
    http_status = 422


class PdfTextMismatchError(SijilError):
    """The page printed on a PDF certificate says something its attached credential does not:
    the visible text was changed after the certificate was made."""

    code = "PDF_TEXT_MISMATCH"
    title = "The printed certificate does not match its signed credential"
    http_status = 422


@dataclass(frozen=True)
class PdfCertificate:
    """What a certificate PDF carries: the attached credential's bytes and the printed text."""

    credential: bytes
    printed_text: str


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` starts like a PDF file (``%PDF-`` within the first 1,024 bytes, as
    readers accept)."""
    return b"%PDF-" in data[:1024]


def _attachment(reader: PdfReader) -> bytes:
    attachments = reader.attachments
    for name in (*_ATTACHMENT_NAMES, *sorted(attachments)):
        for content in attachments.get(name, ()):
            if len(content) > MAX_ATTACHMENT_BYTES:
                raise ParsingError(
                    f"the PDF's attachment {name!r} is larger than {MAX_ATTACHMENT_BYTES} bytes"
                )
            return content
    raise PdfCredentialNotFoundError(
        "this PDF has no attached credential; check the certificate's QR code or ask the learner "
        "for the credential file"
    )


def read_pdf_certificate(data: bytes) -> PdfCertificate:
    """The credential attached to the PDF ``data`` and the text printed on its first pages.

    Raises ``PARSING_ERROR`` for a file pypdf cannot read and ``PDF_CREDENTIAL_NOT_FOUND``
    when nothing is attached.
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        credential = _attachment(reader)
        pages = reader.pages[:MAX_TEXT_PAGES]
        text = "\n".join(page.extract_text() or "" for page in pages)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        # pypdf raises these for malformed objects, bad xref tables and broken streams.
        raise ParsingError(f"not a readable PDF: {type(exc).__name__}") from exc
    return PdfCertificate(credential=credential, printed_text=text)


def _comparable(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def _reliably_extractable(text: str) -> bool:
    """Whether a PDF text layer reproduces ``text``: scripts whose letters are shaped
    (combining marks: Tamil, Thai, ...) come back with stray characters, so they are not
    compared rather than falsely reported."""
    return not any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", text))


def printed_mismatches(printed_text: str, facts: Iterable[tuple[str, str]]) -> list[str]:
    """The names of the ``(name, value)`` facts whose value is not printed on the page.

    Whitespace and case are folded (the page wraps long titles); empty values and values in
    scripts a text layer cannot reproduce are skipped.
    """
    page = _comparable(printed_text)
    missing: list[str] = []
    for name, value in facts:
        wanted = _comparable(value)
        if wanted and _reliably_extractable(value) and wanted not in page:
            missing.append(name)
    return missing


def check_printed_text(printed_text: str, credential: Mapping[str, Any]) -> None:
    """Raise ``PDF_TEXT_MISMATCH`` unless the page shows the credential's learner, achievement
    and issuer names (as the credential states them; the signature was checked before)."""
    model = parse_credential(credential)
    achievement = model.achievement
    facts = [
        ("learner", model.subject.learner_name or ""),
        ("achievement", achievement.name or "" if achievement is not None else ""),
        ("issuer", model.issuer.name or ""),
    ]
    missing = printed_mismatches(printed_text, facts)
    if missing:
        raise PdfTextMismatchError(
            f"the printed page does not show the credential's {', '.join(missing)}: the PDF's "
            "visible text was changed after it was made; trust only the attached credential"
        )
