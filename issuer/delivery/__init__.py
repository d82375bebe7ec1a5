"""Getting credentials to learners: signed claim links and the mail that carries them."""

from __future__ import annotations

from issuer.delivery.claims import (
    CLAIM_LINK_LIFETIME,
    ClaimLinkExpiredError,
    InvalidClaimLinkError,
    LearnerClaim,
    make_claim_token,
    read_claim_token,
)
from issuer.delivery.mail import (
    MailDeliveryError,
    Mailer,
    MailNotConfiguredError,
    OutboxMailer,
    SmtpMailer,
    SmtpSession,
    mail_session,
    mailer_from_env,
)
from issuer.delivery.notify import (
    NotificationFailure,
    NotificationReport,
    learners_awarded,
    learners_awarded_since,
    notify_learners,
)
from issuer.delivery.service import (
    claim_link,
    claim_message,
    notify_new_awards,
    request_claim_link,
    send_claim_link,
)

__all__ = [
    "CLAIM_LINK_LIFETIME",
    "ClaimLinkExpiredError",
    "InvalidClaimLinkError",
    "LearnerClaim",
    "MailDeliveryError",
    "MailNotConfiguredError",
    "Mailer",
    "NotificationFailure",
    "NotificationReport",
    "OutboxMailer",
    "SmtpMailer",
    "SmtpSession",
    "claim_link",
    "claim_message",
    "learners_awarded",
    "learners_awarded_since",
    "mail_session",
    "mailer_from_env",
    "make_claim_token",
    "notify_learners",
    "notify_new_awards",
    "read_claim_token",
    "request_claim_link",
    "send_claim_link",
]
