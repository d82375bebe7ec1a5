"""The verifier: checks a credential and reports, on its own (never imports :mod:`issuer`).

Entry points: :func:`verifier.report.verify_credential` and :class:`verifier.report.Verifier`
(checks and report), :mod:`verifier.transfer` (credit transfer), :mod:`verifier.baked` (OB 3.0
baked badges), :mod:`verifier.cli` (``sijil-verify``), :mod:`verifier.web` (the HTTP service).
"""

from __future__ import annotations

__all__: list[str] = []
