"""The cryptosuites sijil implements, by ``cryptosuite`` name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from contexts.errors import CryptosuiteError
from keys.dataintegrity import ecdsa_jcs_2019, ecdsa_rdfc_2019, eddsa_jcs_2022, eddsa_rdfc_2022
from keys.dataintegrity.suite import Cryptosuite

__all__ = ["SUITES", "SUITES_BY_NAME", "get_suite"]

SUITES_BY_NAME: Mapping[str, Cryptosuite] = MappingProxyType(
    {
        suite.name: suite
        for suite in (
            eddsa_rdfc_2022.SUITE,
            eddsa_jcs_2022.SUITE,
            ecdsa_rdfc_2019.SUITE,
            ecdsa_jcs_2019.SUITE,
        )
    }
)

#: names of the supported cryptosuites, in preference order.
SUITES: tuple[str, ...] = tuple(SUITES_BY_NAME)


def get_suite(name: Any) -> Cryptosuite:
    """The cryptosuite called ``name``; CryptosuiteError (PROOF_VERIFICATION_ERROR) if unknown."""
    suite = SUITES_BY_NAME.get(name) if isinstance(name, str) else None
    if suite is None:
        raise CryptosuiteError(
            f"unsupported cryptosuite {name!r} (supported: {', '.join(SUITES)})",
            pointer="/proof/cryptosuite",
        )
    return suite
