"""The learner's pages through the real issuer app: claim link, credential cards, downloads.

The learner blueprint is registered on the app the web tests use (``create_app``), with a
temporary outbox and a fixed verifier URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from issuer_web_support import WebIssuer, web_issuer

from issuer.delivery.claims import make_claim_token
from issuer.delivery.mail import OutboxMailer
from issuer.delivery.notify import deliver_learner_mail
from issuer.exports.facts import certificate_facts
from issuer.exports.qr import verifier_link
from issuer.outbox.events import CLAIM_REQUESTED
from issuer.services.awards import AwardView, list_awards
from issuer.services.catalogue import get_learner
from issuer.services.issuance import own_issuers
from issuer.services.runtime import OfflineFetcher
from issuer.web.endpoint import spec_of
from issuer.web.learner import LearnerConfig, configure_learner, configured_mailer, learner
from verifier.baked import unbake
from verifier.report import verify_credential

VERIFIER = "https://verify.test.example"
MEDIA = {
    "json": "application/vc+ld+json",
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebIssuer, Path]]:
    outbox = tmp_path_factory.mktemp("outbox")
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        if "learner" not in issuer.app.blueprints:
            issuer.app.register_blueprint(learner)
        configure_learner(issuer.app, LearnerConfig(VERIFIER, OutboxMailer(outbox)))
        yield issuer, outbox


def _token(web: WebIssuer, learner_id: str, *, days: int = 0) -> str:
    at = web.rt.now() - timedelta(days=days)
    return make_claim_token(web.rt.settings.secret_key, learner_id, at=at)


def _awards(web: WebIssuer, learner_id: str) -> list[AwardView]:
    return list_awards(web.rt, learner=learner_id, limit=None)


def test_learner_page_lists_every_credential_with_its_facts(
    demo: tuple[WebIssuer, Path],
) -> None:
    web, _ = demo
    response = web.client().get(f"/claim/{_token(web, 'S1001')}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert get_learner(web.rt, "S1001").name in html
    awards = _awards(web, "S1001")
    assert len(awards) >= 3
    for award in awards:
        assert f'id="award-{award.id}"' in html
        facts = certificate_facts(award.credential())
        assert facts.achievement_name in html
        assert facts.label_en in html
        assert facts.label_ms in html
        for fmt in MEDIA:
            assert f"/credentials/{award.id}/{fmt}" in html
    assert html.count('data-status="active"') == len(awards)
    assert "Universiti Sijil" in html
    other = _awards(web, "S1002")[0]
    assert f'id="award-{other.id}"' not in html


def test_page_has_no_external_assets_and_a_strict_csp(demo: tuple[WebIssuer, Path]) -> None:
    web, _ = demo
    client = web.client()
    response = client.get(f"/claim/{_token(web, 'S1001')}")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assets = re.findall(r'<(?:link|script|img)[^>]+(?:href|src)="([^"]+)"', html)
    assert assets
    assert all(a.startswith("/") for a in assets)
    css = client.get(assets[0])
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert b".credential" in css.data


def test_downloads_answer_with_the_right_media_types_and_verify(
    demo: tuple[WebIssuer, Path],
) -> None:
    web, _ = demo
    client = web.client()
    token = _token(web, "S1003")
    award = _awards(web, "S1003")[-1]
    bodies: dict[str, bytes] = {}
    for fmt, media in MEDIA.items():
        response = client.get(f"/claim/{token}/credentials/{award.id}/{fmt}")
        assert response.status_code == 200, fmt
        assert response.mimetype == media
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Content-Disposition"].endswith(f'.{fmt}"')
        bodies[fmt] = response.data
    assert bodies["json"] == award.credential_json.encode("utf-8")
    assert bodies["pdf"].startswith(b"%PDF-")
    for fmt in ("png", "svg"):
        assert unbake(bodies[fmt]) == award.credential_json
        report = verify_credential(
            bodies[fmt],
            resolver=web.rt.resolver,
            fetcher=OfflineFetcher(),
            check_status=False,
            trust=own_issuers(web.rt),
        )
        assert report.verified, report.to_dict()["errors"]


def test_download_of_another_learners_award_is_not_found(demo: tuple[WebIssuer, Path]) -> None:
    web, _ = demo
    client = web.client()
    theirs = _awards(web, "S1002")[0]
    response = client.get(f"/claim/{_token(web, 'S1001')}/credentials/{theirs.id}/json")
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"
    mine = _awards(web, "S1001")[0]
    unknown_format = client.get(f"/claim/{_token(web, 'S1001')}/credentials/{mine.id}/docx")
    assert unknown_format.status_code == 404


def test_expired_link_is_410_with_a_way_to_get_a_fresh_one(demo: tuple[WebIssuer, Path]) -> None:
    web, _ = demo
    client = web.client()
    token = _token(web, "S1001", days=31)
    response = client.get(f"/claim/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert "/claim/request" in response.get_data(as_text=True)
    award = _awards(web, "S1001")[0]
    assert client.get(f"/claim/{token}/credentials/{award.id}/json").status_code == 410


def test_tampered_link_is_404(demo: tuple[WebIssuer, Path]) -> None:
    web, _ = demo
    token = _token(web, "S1001")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = web.client().get(f"/claim/{tampered}")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


def test_linkedin_and_share_links_point_at_the_verifier(demo: tuple[WebIssuer, Path]) -> None:
    web, _ = demo
    html = web.client().get(f"/claim/{_token(web, 'S1001')}").get_data(as_text=True)
    award = _awards(web, "S1001")[0]
    share = verifier_link(VERIFIER, award.credential_id)
    assert share.replace("&", "&amp;") in html or share in html
    links = re.findall(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', html)
    assert len(links) == len(_awards(web, "S1001"))
    by_cert = {
        parse_qs(urlsplit(link.replace("&amp;", "&")).query)["certId"][0]: link for link in links
    }
    first = parse_qs(urlsplit(by_cert[award.id].replace("&amp;", "&")).query)
    assert first["startTask"] == ["CERTIFICATION_NAME"]
    assert first["name"] == [award.credential()["name"]]
    assert first["organizationName"] == [award.credential()["issuer"]["name"]]
    assert first["certId"] == [award.id]
    assert first["certUrl"] == [share]
    assert first["issueYear"][0].isdigit()
    assert first["issueMonth"][0].isdigit()


def test_mms_shows_its_stacked_coas_as_progress(demo: tuple[WebIssuer, Path]) -> None:
    web, _ = demo
    html = web.client().get(f"/claim/{_token(web, 'S1001')}").get_data(as_text=True)
    mms = next(a for a in _awards(web, "S1001") if a.award_type == "MMS")
    card = html.split(f'id="award-{mms.id}"', 1)[1].split("</article>", 1)[0]
    components = mms.credential()["credentialSubject"]["verifiableCredential"]
    assert f'<progress value="{len(components)}" max="{len(components)}"' in card
    assert card.count("✓ Held") == len(components)


def test_request_form_mails_a_fresh_link_and_says_the_same_for_strangers(
    demo: tuple[WebIssuer, Path],
) -> None:
    web, outbox = demo
    client = web.client()
    assert client.get("/claim/request").status_code == 200
    before = set(outbox.glob("*.eml"))
    known = client.post("/claim/request", data={"email": get_learner(web.rt, "S1004").email})
    assert known.status_code == 200
    stranger = client.post("/claim/request", data={"email": "nobody@example.com"})
    assert stranger.status_code == 200
    assert set(outbox.glob("*.eml")) == before  # the requests only queued the mail
    # the outbox worker (here one pass, with the app's mailer) sends it: to the learner only
    deliver_learner_mail(web.rt, mailer=lambda: configured_mailer(web.app), kinds={CLAIM_REQUESTED})
    sent = set(outbox.glob("*.eml")) - before
    assert len(sent) == 1
    ack = "a new link is on its way"
    assert ack in known.get_data(as_text=True)
    assert ack in stranger.get_data(as_text=True)


def test_learner_routes_are_declared_public_and_described(demo: tuple[WebIssuer, Path]) -> None:
    web, _ = demo
    rules = [r for r in web.app.url_map.iter_rules() if r.endpoint.startswith("learner.")]
    assert len(rules) == 5
    for rule in rules:
        spec = spec_of(web.app.view_functions[rule.endpoint])
        assert spec is not None, rule.rule
        assert spec.scope is None, rule.rule
    paths = web.client().get("/openapi.json").get_json()["paths"]
    assert "/claim/{token}" in paths
    assert "post" in paths["/claim/request"]
