"""The HTTP platform both web services stand on: one way to answer errors, read bodies, log,
count, limit and secure responses.

Both the verifier's and the issuer's Flask apps use it, so neither imports the other's web
layer: problem details (:mod:`webplatform.problems`), the strict JSON body reader
(:mod:`webplatform.jsonbody`), request ids and structured logs (:mod:`webplatform.logs`),
Prometheus metrics (:mod:`webplatform.metrics`), rate limits (:mod:`webplatform.ratelimit`),
security headers (:mod:`webplatform.security`) and the parsing of ``SIJIL_*`` settings with
their one ``SETTINGS_ERROR`` (:mod:`webplatform.settings`).

Layer: it imports only :mod:`contexts` (errors) and :mod:`keys`; the verifier and the issuer
import it, never the reverse.
"""

from __future__ import annotations

__all__: list[str] = []
