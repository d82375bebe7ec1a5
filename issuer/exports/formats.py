"""Every downloadable form of an award: signed JSON, baked PNG and SVG, PDF certificate.

:func:`render_award` is pure (award in, bytes out); :func:`write_award_files` and
:func:`export_award_files` are the file-writing shell behind ``sijil-issuer awards export
--formats`` and the learner downloads. The verifier base URL (for the PDF's QR code) is passed
in: shells take it from the settings (``SIJIL_VERIFIER_URL``, read once at start).

Errors: ``MALFORMED_VALUE_ERROR`` for an unknown format.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from contexts.errors import MalformedValueError
from issuer.domain.branding import IssuerBrand
from issuer.exports.badge import baked_png, baked_svg
from issuer.exports.facts import certificate_facts
from issuer.exports.pdf import certificate_pdf
from issuer.exports.qr import verifier_link
from issuer.services.awards import AwardView, list_awards
from issuer.services.branding import issuer_brand
from issuer.services.runtime import Runtime

__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "Rendered",
    "download_name",
    "export_award_files",
    "parse_formats",
    "render_award",
    "write_award_files",
]

#: Formats in the order they are written.
EXPORT_FORMATS: Final = ("json", "png", "svg", "pdf")
#: Format -> media type of the download.
MEDIA_TYPES: Final[dict[str, str]] = {
    "json": "application/vc+ld+json",
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Rendered:
    """One award in one format."""

    data: bytes
    media_type: str
    filename: str


def parse_formats(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"json,png"`` (or a list) as a de-duplicated tuple in :data:`EXPORT_FORMATS` order.

    Raises ``MALFORMED_VALUE_ERROR`` for an unknown or empty list.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(wanted - set(EXPORT_FORMATS))
    if unknown:
        raise MalformedValueError(
            f"unknown export format(s): {', '.join(unknown)} (known: {', '.join(EXPORT_FORMATS)})"
        )
    if not wanted:
        raise MalformedValueError("no export format given")
    return tuple(f for f in EXPORT_FORMATS if f in wanted)


def _stem(view: AwardView) -> str:
    return f"{view.award_type.lower()}-{view.id}"


_NOT_FILENAME: Final = re.compile(r"[^A-Za-z0-9]+")


def _filename_part(text: str) -> str:
    """``text`` in ASCII letters and digits joined by ``-`` (accents dropped), for file names
    people recognise and every operating system accepts."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_FILENAME.sub("-", ascii_text).strip("-")


def download_name(learner_name: str, award_type: str, code: str, fmt: str, *, fallback: str) -> str:
    """``Siti-Nurhaliza_COA_DAF101.pdf``: who, what and which course; ``fallback`` stands in for
    a name with no Latin letters (``陈美玲`` -> ``<fallback>_COA_DAF101.pdf``)."""
    parts = [_filename_part(learner_name) or fallback, award_type, _filename_part(code)]
    return "_".join(p for p in parts if p) + f".{fmt}"


def render_award(
    view: AwardView, fmt: str, *, verifier_url: str, brand: IssuerBrand | None = None
) -> Rendered:
    """``view`` as ``fmt`` (json: the stored signed bytes verbatim; png/svg: baked badge; pdf:
    certificate whose QR opens the verifier page for the credential), badge and certificate in
    the issuer's ``brand`` when given (see :func:`issuer.services.branding.issuer_brand`).

    Raises ``MALFORMED_VALUE_ERROR`` for an unknown format.
    """
    if fmt not in MEDIA_TYPES:
        raise MalformedValueError(f"unknown format {fmt!r}")
    facts = certificate_facts(view.credential())
    filename = download_name(
        facts.learner_name,
        view.award_type,
        facts.achievement_code or view.achievement_code,
        fmt,
        fallback=_stem(view),
    )
    if fmt == "json":
        return Rendered(view.credential_json.encode("utf-8"), MEDIA_TYPES[fmt], filename)
    if fmt == "png":
        data = baked_png(facts, view.credential_json, brand)
    elif fmt == "svg":
        data = baked_svg(facts, view.credential_json, brand)
    else:
        data = certificate_pdf(
            facts,
            qr_url=verifier_link(verifier_url, facts.credential_id),
            credential_json=view.credential_json,
            brand=brand,
        )
    return Rendered(data, MEDIA_TYPES[fmt], filename)


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_award_files(
    view: AwardView,
    directory: Path,
    formats: Iterable[str],
    *,
    verifier_url: str,
    brand: IssuerBrand | None = None,
) -> list[Path]:
    """Write ``view`` in each format to ``directory/<type>-<id>.<fmt>`` (atomic, idempotent;
    the award id keeps names unique where a learner holds a replaced award too)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in parse_formats(formats):
        rendered = render_award(view, fmt, verifier_url=verifier_url, brand=brand)
        path = directory / f"{_stem(view)}.{fmt}"
        _write_if_changed(path, rendered.data)
        written.append(path)
    return written


def export_award_files(
    rt: Runtime, directory: Path, formats: Iterable[str], *, verifier_url: str
) -> list[Path]:
    """Every award in every format in ``formats`` (see :func:`write_award_files`), each in its
    issuer's brand."""
    wanted = parse_formats(formats)
    written: list[Path] = []
    brands: dict[str, IssuerBrand] = {}
    for view in list_awards(rt, limit=None):
        if view.issuer not in brands:
            brands[view.issuer] = issuer_brand(rt, view.issuer)
        written.extend(
            write_award_files(
                view, directory, wanted, verifier_url=verifier_url, brand=brands[view.issuer]
            )
        )
    return written
