"""Errors of the wallet channels.

VC-API exchange errors are problem details like the rest of the API. OpenID4VCI and OAuth 2.0
define their own error codes (RFC 6749 section 5.2, OpenID4VCI 1.0 sections 6.3 and 8.3.1):
:class:`OAuthError` carries that code in ``oauth_error`` and our stable SCREAMING_SNAKE form in
``code``; the HTTP shell answers ``{"error", "error_description"}`` plus the problem members.
"""

from __future__ import annotations

from typing import ClassVar

from contexts.errors import SijilError

__all__ = [
    "AwardNotDeliverableError",
    "CredentialRequestDeniedError",
    "ExchangeCompleteError",
    "InvalidCredentialRequestError",
    "InvalidGrantError",
    "InvalidNonceError",
    "InvalidOAuthRequestError",
    "InvalidPresentationError",
    "InvalidProofError",
    "InvalidTokenError",
    "OAuthError",
    "OfferExpiredError",
    "UnknownConfigurationError",
    "UnsupportedGrantTypeError",
]


class OfferExpiredError(SijilError):
    """The offer or exchange is past its lifetime: ask the learner for a new one."""

    code = "OFFER_EXPIRED"
    title = "Offer expired"
    http_status = 410


class ExchangeCompleteError(SijilError):
    """The exchange already delivered its credentials; a replay issues nothing."""

    code = "EXCHANGE_COMPLETE"
    title = "Exchange already complete"
    http_status = 409


class InvalidPresentationError(SijilError):
    """The wallet's DID Authentication presentation is not what the exchange asked for."""

    code = "INVALID_PRESENTATION"
    title = "Invalid DID Authentication presentation"
    http_status = 400


class AwardNotDeliverableError(SijilError):
    """None of the offered awards can be delivered (revoked or suspended since the offer)."""

    code = "AWARD_NOT_DELIVERABLE"
    title = "Award not deliverable"
    http_status = 409


class OAuthError(SijilError):
    """An error whose wire form is an OAuth 2.0 / OpenID4VCI ``error`` code."""

    oauth_error: ClassVar[str] = "invalid_request"


class InvalidOAuthRequestError(OAuthError):
    """RFC 6749 ``invalid_request``: a missing or malformed parameter."""

    code = "INVALID_REQUEST"
    title = "Invalid request"
    oauth_error = "invalid_request"


class InvalidGrantError(OAuthError):
    """RFC 6749 ``invalid_grant``: unknown, expired or reused pre-authorized code, or a wrong
    transaction code (OpenID4VCI 1.0 section 6.3)."""

    code = "INVALID_GRANT"
    title = "Invalid grant"
    oauth_error = "invalid_grant"


class UnsupportedGrantTypeError(OAuthError):
    """RFC 6749 ``unsupported_grant_type``."""

    code = "UNSUPPORTED_GRANT_TYPE"
    title = "Unsupported grant type"
    oauth_error = "unsupported_grant_type"


class InvalidTokenError(OAuthError):
    """RFC 6750 ``invalid_token``: missing, unknown or expired access token."""

    code = "INVALID_ACCESS_TOKEN"
    title = "Invalid access token"
    http_status = 401
    oauth_error = "invalid_token"


class InvalidCredentialRequestError(OAuthError):
    """OpenID4VCI ``invalid_credential_request``."""

    code = "INVALID_CREDENTIAL_REQUEST"
    title = "Invalid credential request"
    oauth_error = "invalid_credential_request"


class UnknownConfigurationError(OAuthError):
    """OpenID4VCI ``unknown_credential_configuration``: not offered, or not supported."""

    code = "UNKNOWN_CREDENTIAL_CONFIGURATION"
    title = "Unknown credential configuration"
    oauth_error = "unknown_credential_configuration"


class InvalidProofError(OAuthError):
    """OpenID4VCI ``invalid_proof``: the key proof is missing, malformed or does not verify."""

    code = "INVALID_PROOF"
    title = "Invalid key proof"
    oauth_error = "invalid_proof"


class InvalidNonceError(OAuthError):
    """OpenID4VCI ``invalid_nonce``: the proof's nonce is unknown, used or expired; get a
    fresh one from the nonce endpoint."""

    code = "INVALID_NONCE"
    title = "Invalid nonce"
    oauth_error = "invalid_nonce"


class CredentialRequestDeniedError(OAuthError):
    """OpenID4VCI ``credential_request_denied``: this token already received that credential,
    or the award can no longer be delivered."""

    code = "CREDENTIAL_REQUEST_DENIED"
    title = "Credential request denied"
    oauth_error = "credential_request_denied"
