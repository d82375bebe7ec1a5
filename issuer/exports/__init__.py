"""Award exports: baked badges (PNG/SVG), the PDF certificate with its QR code, and files.

The issuer's ``export`` layer: pure renderers (:mod:`.facts`, :mod:`.badge`, :mod:`.pdf`,
:mod:`.qr`) and the file shell (:mod:`.formats`). It imports :mod:`verifier.baked` so the issuer
bakes exactly what the verifier unbakes.
"""

from __future__ import annotations

from issuer.exports.formats import (
    EXPORT_FORMATS,
    MEDIA_TYPES,
    Rendered,
    export_award_files,
    parse_formats,
    render_award,
    write_award_files,
)

__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "Rendered",
    "export_award_files",
    "parse_formats",
    "render_award",
    "write_award_files",
]
