"""OpenID4VCI credential configurations, generated from the credential-format registry.

A configuration is a credential type (Open Badges ``OpenBadgeCredential`` for COC and COA, CLR
``ClrCredential`` for the MMS) in one OpenID4VCI format: ``ldp_vc`` (a Data Integrity proof,
signed with the issuer's cryptosuite) or ``jwt_vc_json`` (the Open Badges 3.0 JWT proof
format, signed with the algorithm of the issuer's key). The formats and their algorithms come
from :mod:`keys.formats`, so a format added there is one more entry here, not a second list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from contexts import CLR_V2P0, OB_V3P0, VC_V2
from keys.formats import VC_JWT, formats_for_key

__all__ = [
    "CONFIGURATIONS",
    "PROOF_SIGNING_ALGORITHMS",
    "Configuration",
    "configuration_ids_for",
    "configurations_supported",
]

Oid4vciFormat = Literal["ldp_vc", "jwt_vc_json"]

#: Algorithms a wallet may sign its key proof with (OpenID4VCI 1.0 appendix F.1).
PROOF_SIGNING_ALGORITHMS: Final = ("EdDSA", "ES256")


@dataclass(frozen=True)
class Configuration:
    """One entry of ``credential_configurations_supported``."""

    id: str
    format: Oid4vciFormat
    credential_type: str
    contexts: tuple[str, ...]
    award_types: frozenset[str]
    #: display name per locale.
    names: Mapping[str, str]

    def supports(self, award_type: str) -> bool:
        """Whether awards of ``award_type`` are delivered under this configuration."""
        return award_type in self.award_types


def _configurations() -> dict[str, Configuration]:
    kinds = (
        (
            "OpenBadgeCredential",
            (VC_V2, OB_V3P0),
            frozenset({"COC", "COA"}),
            {"en": "Micro-credential certificate", "ms": "Sijil mikro-kredensial"},
        ),
        (
            "ClrCredential",
            (VC_V2, CLR_V2P0, OB_V3P0),
            frozenset({"MMS"}),
            {
                "en": "Malaysian Micro-Credentials Statement",
                "ms": "Penyata Mikro-Kredensial Malaysia",
            },
        ),
    )
    out: dict[str, Configuration] = {}
    for credential_type, contexts, award_types, names in kinds:
        formats: tuple[Oid4vciFormat, ...] = ("ldp_vc", "jwt_vc_json")
        for fmt in formats:
            config_id = f"{credential_type}_{fmt}"
            out[config_id] = Configuration(
                id=config_id,
                format=fmt,
                credential_type=credential_type,
                contexts=contexts,
                award_types=award_types,
                names=names,
            )
    return out


CONFIGURATIONS: Final[Mapping[str, Configuration]] = _configurations()


def configuration_ids_for(award_types: Iterable[str]) -> list[str]:
    """The configurations that deliver awards of ``award_types``, in registry order."""
    wanted = set(award_types)
    return [c.id for c in CONFIGURATIONS.values() if wanted & c.award_types]


def _signing_algorithms(
    config: Configuration, key_type: str, jose_alg: str, cryptosuite: str
) -> list[str]:
    """What the issuer signs ``config`` with: its cryptosuite (``ldp_vc``) or its key's JOSE
    algorithm (``jwt_vc_json``), when the registry signs that format with the key type."""
    names = {f.name for f in formats_for_key(key_type)}
    if config.format == "ldp_vc":
        return [cryptosuite] if cryptosuite in names else []
    return [jose_alg] if VC_JWT in names else []


def configurations_supported(*, key_type: str, jose_alg: str, cryptosuite: str) -> dict[str, Any]:
    """The ``credential_configurations_supported`` member of the issuer metadata (OpenID4VCI 1.0
    section 12.2.4) for an issuer whose key is ``key_type`` (JOSE ``jose_alg``) and whose Data
    Integrity cryptosuite is ``cryptosuite``."""
    out: dict[str, Any] = {}
    for config in CONFIGURATIONS.values():
        algorithms = _signing_algorithms(config, key_type, jose_alg, cryptosuite)
        if not algorithms:
            continue
        definition: dict[str, Any] = {"type": ["VerifiableCredential", config.credential_type]}
        if config.format == "ldp_vc":
            definition = {"@context": list(config.contexts), **definition}
        out[config.id] = {
            "format": config.format,
            "credential_definition": definition,
            "cryptographic_binding_methods_supported": ["did:key", "jwk"],
            "credential_signing_alg_values_supported": algorithms,
            "proof_types_supported": {
                "jwt": {"proof_signing_alg_values_supported": list(PROOF_SIGNING_ALGORITHMS)}
            },
            "credential_metadata": {
                "display": [
                    {"name": name, "locale": locale} for locale, name in config.names.items()
                ]
            },
        }
    return out
