"""Every downloadable form of an award: signed JSON, baked PNG and SVG, PDF certificate.

:func:`render_award` is pure (award in, bytes out); :func:`write_award_files` and
:func:`export_award_files` are the file-writing shell behind ``sijil-issuer awards export
--formats`` and the learner downloads. The verifier base URL (for the PDF's QR code) is passed
in; :func:`verifier_url_from` reads it from the settings (``verifier_url``, when the settings
have one) or the ``SIJIL_VERIFIER_URL`` variable, in shells only.

Errors: ``MALFORMED_VALUE_ERROR`` for an unknown format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from contexts.errors import MalformedValueError
from issuer.exports.badge import baked_png, baked_svg
from issuer.exports.facts import certificate_facts
from issuer.exports.pdf import certificate_pdf
from issuer.exports.qr import DEFAULT_VERIFIER_URL, verifier_link
from issuer.services.awards import AwardView, list_awards
from issuer.services.runtime import Runtime
from issuer.settings import Settings

__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "Rendered",
    "export_award_files",
    "parse_formats",
    "render_award",
    "verifier_url_from",
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


def verifier_url_from(settings: Settings, environ: Mapping[str, str]) -> str:
    """The verifier base URL: ``settings.verifier_url`` if the settings have it, else
    ``SIJIL_VERIFIER_URL``, else :data:`DEFAULT_VERIFIER_URL` (no trailing slash)."""
    configured = getattr(settings, "verifier_url", None)
    if isinstance(configured, str) and configured:
        return configured.rstrip("/")
    return (environ.get("SIJIL_VERIFIER_URL") or DEFAULT_VERIFIER_URL).rstrip("/")


def _stem(view: AwardView) -> str:
    return f"{view.award_type.lower()}-{view.id}"


def render_award(view: AwardView, fmt: str, *, verifier_url: str) -> Rendered:
    """``view`` as ``fmt`` (json: the stored signed bytes verbatim; png/svg: baked badge; pdf:
    certificate whose QR opens the verifier page for the credential).

    Raises ``MALFORMED_VALUE_ERROR`` for an unknown format.
    """
    if fmt not in MEDIA_TYPES:
        raise MalformedValueError(f"unknown format {fmt!r}")
    filename = f"{_stem(view)}.{fmt}"
    if fmt == "json":
        return Rendered(view.credential_json.encode("utf-8"), MEDIA_TYPES[fmt], filename)
    facts = certificate_facts(view.credential())
    if fmt == "png":
        data = baked_png(facts, view.credential_json)
    elif fmt == "svg":
        data = baked_svg(facts, view.credential_json)
    else:
        data = certificate_pdf(facts, qr_url=verifier_link(verifier_url, facts.credential_id))
    return Rendered(data, MEDIA_TYPES[fmt], filename)


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_award_files(
    view: AwardView, directory: Path, formats: Iterable[str], *, verifier_url: str
) -> list[Path]:
    """Write ``view`` in each format to ``directory/<type>-<id>.<fmt>`` (atomic, idempotent)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in parse_formats(formats):
        rendered = render_award(view, fmt, verifier_url=verifier_url)
        path = directory / rendered.filename
        _write_if_changed(path, rendered.data)
        written.append(path)
    return written


def export_award_files(
    rt: Runtime, directory: Path, formats: Iterable[str], *, verifier_url: str
) -> list[Path]:
    """Every award in every format in ``formats`` (see :func:`write_award_files`)."""
    wanted = parse_formats(formats)
    written: list[Path] = []
    for view in list_awards(rt, limit=None):
        written.extend(write_award_files(view, directory, wanted, verifier_url=verifier_url))
    return written
