"""Delivery into learners' wallets: one offer record, two protocols.

An offer (:mod:`issuer.wallet.offers`) names a learner's awards; wallets take it over the W3C
VC-API exchange ("VCALM" interaction URLs, :mod:`issuer.wallet.exchange`) that the Learner
Credential Wallet speaks, or over OpenID for Verifiable Credential Issuance 1.0 with a
pre-authorized code (:mod:`issuer.wallet.oid4vci`). A holder-bound delivery is a new signed copy
of the award for the wallet's DID (:mod:`issuer.wallet.binding`) that shares the award's status
entry. This package imports no web framework; :mod:`issuer.web.wallet` is its HTTP shell.
"""

from __future__ import annotations

__all__: list[str] = []
