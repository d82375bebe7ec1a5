"""The learner's pages: open a claim link, see every credential, download, share.

Public routes (the claim token in the path is the learner's proof; no password):

- ``GET /claim/<token>``: the learner page, one card per credential (name, issuer, date,
  credits, status), each with downloads (JSON ``application/vc+ld+json``, baked PNG and SVG,
  PDF certificate), an "add to LinkedIn" link and the public verifier link; an MMS shows its
  stacked COAs as a programme progress view;
- ``GET /claim/<token>/credentials/<award_id>/<fmt>``: one download (``json|png|svg|pdf``),
  only for the token's own learner (``NOT_FOUND`` otherwise);
- ``GET|POST /claim/request``: "email me a fresh link": the request only queues a
  ``claim.requested`` outbox event (one insert, known address or not), so neither the answer nor
  its timing says whether the address is registered; the outbox worker mails the learners;
- ``GET /claim/assets/learner.css``: the page's stylesheet (CSP ``default-src 'self'``).

Views parse, call one service and render. The verifier base URL comes from
:class:`LearnerConfig` in ``app.extensions`` (see :func:`configure_learner`), or from the
environment on first use (``SIJIL_VERIFIER_URL``); :func:`configured_mailer` gives the app's
outbox worker the configured mailer (else ``SIJIL_SMTP_*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Final
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, render_template, request

from issuer.delivery.claims import (
    ClaimLinkExpiredError,
    InvalidClaimLinkError,
    LearnerClaim,
    read_claim_token,
)
from issuer.delivery.mail import Mailer, mailer_for
from issuer.delivery.notify import queue_claim_request
from issuer.exports.facts import CertificateFacts, certificate_facts
from issuer.exports.formats import EXPORT_FORMATS, render_award
from issuer.exports.qr import verifier_link
from issuer.services.awards import AwardView, list_awards
from issuer.services.branding import issuer_brand
from issuer.services.catalogue import get_learner
from issuer.services.errors import NotFoundError
from issuer.web.endpoint import RUNTIME_EXTENSION, endpoint, runtime

__all__ = [
    "LEARNER_EXTENSION",
    "CredentialCard",
    "LearnerConfig",
    "configure_learner",
    "configured_mailer",
    "learner",
    "linkedin_url",
]

learner = Blueprint("learner", __name__)

LEARNER_EXTENSION: Final = "sijil.learner"
_TAGS: Final = ("learner",)
_HTML: Final = "text/html"
_FORMAT_LABELS: Final[dict[str, str]] = {
    "json": "Signed credential (JSON)",
    "png": "Badge image (PNG)",
    "svg": "Badge image (SVG)",
    "pdf": "Certificate (PDF)",
}


@dataclass(frozen=True)
class LearnerConfig:
    """What the learner pages need besides the runtime (``mailer``: what the app's outbox worker
    mails with, see :func:`configured_mailer`)."""

    verifier_url: str
    mailer: Mailer


def configure_learner(app: Flask, config: LearnerConfig) -> None:
    """Set the verifier URL and mailer the learner pages use (tests, the dev server)."""
    app.extensions[LEARNER_EXTENSION] = config


def _configured() -> LearnerConfig | None:
    config = current_app.extensions.get(LEARNER_EXTENSION)
    return config if isinstance(config, LearnerConfig) else None


def _verifier_url() -> str:
    config = _configured()
    if config is not None:
        return config.verifier_url
    return runtime().settings.verifier_url


def configured_mailer(app: Flask) -> Mailer:
    """The mailer configured for ``app`` (:func:`configure_learner`), else one from
    ``SIJIL_SMTP_*``. Raises ``MAIL_NOT_CONFIGURED`` (production without SMTP), which the
    outbox worker records as a failed attempt."""
    config = app.extensions.get(LEARNER_EXTENSION)
    if isinstance(config, LearnerConfig):
        return config.mailer
    rt = app.extensions[RUNTIME_EXTENSION]
    return mailer_for(rt.settings)


def linkedin_url(facts: CertificateFacts, *, cert_id: str, cert_url: str) -> str:
    """LinkedIn's add-to-profile link for a certification."""
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": facts.title or facts.achievement_name,
        "organizationName": facts.issuer_name,
        "issueYear": str(facts.issued_on.year),
        "issueMonth": str(facts.issued_on.month),
        "certId": cert_id,
        "certUrl": cert_url,
    }
    return f"https://www.linkedin.com/profile/add?{urlencode(query)}"


@dataclass(frozen=True)
class CredentialCard:
    """One credential as the learner page shows it."""

    award: AwardView
    facts: CertificateFacts
    share_url: str
    linkedin: str
    #: component credential ids this learner holds (for the MMS progress view).
    held: frozenset[str]

    @property
    def is_active(self) -> bool:
        """Whether the award is in good standing."""
        return self.award.status == "active"


def _cards(awards: list[AwardView], verifier_url: str) -> list[CredentialCard]:
    held = frozenset(a.credential_id for a in awards if a.status == "active")
    cards: list[CredentialCard] = []
    for award in awards:
        facts = certificate_facts(award.credential())
        share = verifier_link(verifier_url, award.credential_id)
        cards.append(
            CredentialCard(
                award=award,
                facts=facts,
                share_url=share,
                linkedin=linkedin_url(facts, cert_id=award.id, cert_url=share),
                held=held,
            )
        )
    return cards


def _claim(token: str) -> LearnerClaim:
    rt = runtime()
    return read_claim_token(
        rt.settings.secret_key, token, at=rt.now(), fallbacks=rt.settings.secret_key_fallbacks
    )


def _link_problem(exc: InvalidClaimLinkError | ClaimLinkExpiredError) -> tuple[str, int]:
    return render_template(
        "learner/link_problem.html", expired=isinstance(exc, ClaimLinkExpiredError)
    ), exc.http_status


@learner.get("/claim/<token>")
@endpoint(
    "Learner page: every credential of the claim link's learner",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={
        200: ("The learner page", None, _HTML),
        404: ("Invalid claim link", None, _HTML),
        410: ("Expired claim link", None, _HTML),
    },
)
def learner_page(token: str) -> tuple[str, int]:
    try:
        claim = _claim(token)
    except (InvalidClaimLinkError, ClaimLinkExpiredError) as exc:
        return _link_problem(exc)
    rt = runtime()
    person = get_learner(rt, claim.learner)
    awards = list_awards(rt, learner=claim.learner, limit=None)
    cards = _cards(awards, _verifier_url())
    return render_template(
        "learner/page.html",
        person=person,
        cards=cards,
        token=token,
        formats=EXPORT_FORMATS,
        format_labels=_FORMAT_LABELS,
        expires_at=claim.expires_at,
    ), 200


@learner.get("/claim/<token>/credentials/<award_id>/<fmt>")
@endpoint(
    "Download one of the learner's credentials (json, png, svg or pdf)",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={
        200: ("The credential file", None, "application/octet-stream"),
        404: ("Unknown credential or format, or invalid claim link", None, _HTML),
        410: ("Expired claim link", None, _HTML),
    },
)
def download(token: str, award_id: str, fmt: str) -> Response | tuple[str, int]:
    try:
        claim = _claim(token)
    except (InvalidClaimLinkError, ClaimLinkExpiredError) as exc:
        return _link_problem(exc)
    if fmt not in EXPORT_FORMATS:
        raise NotFoundError(f"no format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    owned = [
        a for a in list_awards(runtime(), learner=claim.learner, limit=None) if a.id == award_id
    ]
    if not owned:
        raise NotFoundError("no such credential for this learner")
    rendered = render_award(
        owned[0], fmt, verifier_url=_verifier_url(), brand=issuer_brand(runtime(), owned[0].issuer)
    )
    response = Response(rendered.data, mimetype=rendered.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    return response


@learner.get("/claim/request")
@endpoint(
    "Form: email me a fresh claim link",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={200: ("The form", None, _HTML)},
)
def request_form() -> str:
    return render_template("learner/request.html", sent=False)


@learner.post("/claim/request")
@endpoint(
    "Email a fresh claim link to the learner registered with an address",
    scope=None,
    public=True,
    tags=_TAGS,
    description="Answers the same, in the same time, whether or not the address is registered "
    "(the mail is queued and sent by the outbox worker).",
    max_bytes=4096,
    request_media=("application/x-www-form-urlencoded",),
    responses={200: ("Acknowledgement page", None, _HTML)},
)
def request_send() -> str:
    email = request.form.get("email", "")[:320]
    queue_claim_request(runtime(), email)
    return render_template("learner/request.html", sent=True)


@learner.get("/claim/assets/learner.css")
@endpoint(
    "Stylesheet of the learner pages",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={200: ("CSS", None, "text/css")},
)
def stylesheet() -> Response:
    css = (files("issuer.web") / "static" / "learner.css").read_bytes()
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _date(value: datetime) -> str:
    return value.strftime("%d %B %Y")


learner.add_app_template_filter(_date, "human_date")
