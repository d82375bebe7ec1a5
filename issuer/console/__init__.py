"""The staff console's core: staff accounts and roles, one-time sign-in links, console
sessions, OpenID Connect sign-in and the read-models the console pages show.

The Flask shell is :mod:`issuer.web.console`; everything here takes a
:class:`~issuer.services.runtime.Runtime` (or plain values) and does no HTTP.
"""

from __future__ import annotations

__all__: list[str] = []
