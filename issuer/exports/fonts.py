"""The fonts shipped in ``issuer/fonts`` (DejaVu Sans, free licence, see LICENSE-DejaVu.txt).

Certificates carry learners' names in Malay, Chinese, Tamil and more; the PDF's core fonts only
cover Latin-1, so the PDF and badge images embed DejaVu Sans (Latin, Greek, Cyrillic and more;
glyphs it lacks, such as CJK or Tamil, print blank rather than failing).
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path
from typing import Final

__all__ = ["BOLD", "REGULAR", "font_path"]

REGULAR: Final = "DejaVuSans.ttf"
BOLD: Final = "DejaVuSans-Bold.ttf"


def font_path(name: str) -> Path:
    """Filesystem path of a shipped font (the package is installed unzipped)."""
    with as_file(files("issuer") / "fonts" / name) as path:
        return Path(path)
