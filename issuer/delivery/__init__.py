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
    mailer_for,
)
from issuer.delivery.notify import (
    LearnerMail,
    NotificationFailure,
    NotificationReport,
    deliver_learner_mail,
    queue_claim_request,
    queue_resend,
)
from issuer.delivery.service import (
    claim_link,
    claim_message,
    learners_with_email,
    send_claim_link,
)

__all__ = [
    "CLAIM_LINK_LIFETIME",
    "ClaimLinkExpiredError",
    "InvalidClaimLinkError",
    "LearnerClaim",
    "LearnerMail",
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
    "deliver_learner_mail",
    "learners_with_email",
    "mail_session",
    "mailer_for",
    "make_claim_token",
    "queue_claim_request",
    "queue_resend",
    "read_claim_token",
    "send_claim_link",
]
