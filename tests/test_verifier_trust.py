"""Trust first: who signed is shown, and only a recognised issuer makes a credential "valid".

Covers the trust file formats (sijil's and the DCC issuer registry), the verdict without a
trust list, a recognised issuer borrowing another's name, production refusing to start
without a trust source, "could not check" when keys cannot be fetched, programme statements
versus other learner records, each stacked COA's verdict on the page, and bidi controls.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from verifier_fixtures import (
    Learner,
    build_coa,
    build_mms,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
    status_list,
)
from verifier_trust import ISSUER_NAME, trust_file, trust_for

from contexts.errors import MalformedValueError
from keys.dataintegrity import add_proof
from keys.didkey import did_key_for
from keys.resolve import Resolver
from verifier.cli import cli
from verifier.fetchers import MappingFetcher
from verifier.links import pack_credential
from verifier.report import VerificationReport, verify_credential
from verifier.settings import SettingsError, TrustSourceRequiredError, VerifierSettings
from verifier.trust import TrustedIssuer, TrustList, issuer_identity, load_trust_list
from verifier.web import create_app
from verifier.web.verdicts import COMPONENT_SENTENCES_MS, VERDICTS, clean_bidi

AT = datetime(2026, 7, 1, tzinfo=UTC)
REGISTRY = Path(__file__).parent / "trust" / "dcc-registry.json"
UNIVERSITY = key_from_seed(61)  # listed in tests/trust/dcc-registry.json
COLLEGE = key_from_seed(62)
LEARNER = Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt-aisyah")
OTHER = Learner("Tan Wei Ming", "weiming@example.com", "salt-weiming")
UNITS = [("DS101", "Data Analytics Fundamentals"), ("DS102", "Machine Learning Basics")]
RLO = "\u202e"


def _verify(doc: Any, **kw: Any) -> VerificationReport:
    return verify_credential(doc, at=AT, resolver=Resolver(), **kw)


def _coas(learner: Learner = LEARNER) -> list[dict[str, Any]]:
    return [
        coa_for(UNIVERSITY, learner, code, name, serial=i + 1)
        for i, (code, name) in enumerate(UNITS)
    ]


def _app(trust: TrustList | None, **settings: Any) -> Flask:
    config = VerifierSettings(**settings)
    return create_app(config, verifier=config.build_verifier(trust=trust))


def _page(app: Flask, credential: dict[str, Any]) -> str:
    response = app.test_client().get("/verify?c=" + pack_credential(credential))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _verdict(html: str) -> str:
    found = re.search(r'<section class="verdict[^"]*"[^>]*data-verdict="([a-z_]+)"', html)
    assert found is not None, html[:1500]
    return found.group(1)


def _component_verdicts(html: str) -> list[str]:
    return re.findall(r'<li class="component" data-verdict="([a-z_]+)"', html)


# --- trust sources ----------------------------------------------------------------------------


def test_dcc_registry_file_recognises_its_issuers() -> None:
    trust = load_trust_list(REGISTRY)
    entry = trust.lookup(did_key_for(UNIVERSITY))
    assert entry is not None
    assert entry.name == ISSUER_NAME
    assert entry.location == "Kuala Lumpur, Malaysia"
    assert entry.source == "dcc-registry.json"
    report = _verify(coa_for(UNIVERSITY, LEARNER, "DS101", "Data", serial=1), trust=trust)
    assert report.verified
    assert report.verdict == "valid"
    assert "dcc-registry.json" in report.checks["issuer_trust"].message


def test_dcc_registry_legacy_entries_key_and_legal_name_fallback() -> None:
    trust = TrustList.from_dict(
        {"meta": {}, "entries": {"did:web:a.example.my": {"legalName": "A Sdn. Bhd."}}}
    )
    entry = trust.lookup("did:web:a.example.my")
    assert entry is not None
    assert entry.name == "A Sdn. Bhd."


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        ({"registry": {"did:web:a.example": "not an object"}}, "/registry/did:web:a.example"),
        ({"issuers": [{"name": "no id"}]}, "/issuers/0/id"),
        ({"something": "else"}, ""),
        ([], ""),
    ],
)
def test_malformed_trust_sources(data: Any, pointer: str) -> None:
    with pytest.raises(MalformedValueError) as caught:
        TrustList.from_dict(data)
    assert caught.value.pointer == pointer


def test_several_trust_files_first_one_wins(tmp_path: Path) -> None:
    ours = tmp_path / "ours.json"
    ours.write_text(
        json.dumps({"issuers": [{"id": did_key_for(UNIVERSITY), "name": "Our name for it"}]})
    )
    settings = VerifierSettings.from_env(
        {"SIJIL_TRUST_FILE": f"{ours}:{REGISTRY}", "SIJIL_RATE_LIMITS_ENABLED": "0"}
    )
    trust = settings.load_trust()
    assert trust is not None
    found = trust.lookup(did_key_for(UNIVERSITY))
    assert found is not None
    assert found.name == "Our name for it"
    assert trust.is_trusted("did:web:registry.example.edu.my")


def test_did_web_identity_shows_the_domain() -> None:
    assert issuer_identity("did:web:registry.example.edu.my").domain == "registry.example.edu.my"
    assert issuer_identity("did:web:localhost%3A5000:issuers:a").domain == "localhost:5000"
    assert issuer_identity("https://Uni.Example.my/issuer").domain == "uni.example.my"
    assert issuer_identity(did_key_for(UNIVERSITY)).domain is None


# --- verdicts ---------------------------------------------------------------------------------


def test_no_trust_list_is_unknown_issuer_never_valid() -> None:
    report = _verify(coa_for(UNIVERSITY, LEARNER, "DS101", "Data", serial=1))
    assert report.checks["proof"].status == "passed"
    assert report.verdict == "unknown_issuer"
    assert not report.verified
    assert report.checks["issuer_trust"].codes == ("ISSUER_TRUST_NOT_CONFIGURED",)
    assert report.headline.startswith("Signature valid, issuer not recognised")
    assert report.credential is not None
    assert report.credential.issuer_name is None
    assert report.credential.issuer_claimed_name == ISSUER_NAME
    assert not report.credential.issuer_recognised


def test_trusted_issuer_cannot_borrow_another_trusted_issuers_name() -> None:
    trust = TrustList.from_issuers(
        [
            TrustedIssuer(did_key_for(UNIVERSITY), ISSUER_NAME),
            TrustedIssuer(did_key_for(COLLEGE), "Kolej Contoh"),
        ]
    )
    impostor = coa_for(COLLEGE, LEARNER, "DS101", "Data", serial=1)  # claims ISSUER_NAME
    report = _verify(impostor, trust=trust)
    assert report.verdict == "valid"
    assert report.checks["issuer_trust"].codes == ("ISSUER_NAME_MISMATCH",)
    assert report.credential is not None
    assert report.credential.issuer_name == "Kolej Contoh"
    html = _page(_app(trust), impostor)
    issuer_line = re.search(
        r"<dt>Issuer <span[^>]*>/ Pengeluar</span></dt><dd[^>]*>(.*?)</dd>", html
    )
    assert issuer_line is not None
    assert "Kolej Contoh" in issuer_line.group(1)
    assert ISSUER_NAME not in issuer_line.group(1)
    assert "Name the credential claims (differs)" in html
    assert "ISSUER_NAME_MISMATCH" in html
    assert did_key_for(COLLEGE) in html


def _did_web_coa() -> dict[str, Any]:
    doc = build_coa(UNIVERSITY, LEARNER, "DS101", "Data", serial=1)
    doc["issuer"]["id"] = "did:web:issuer.invalid"
    return add_proof(
        doc,
        UNIVERSITY,
        verification_method="did:web:issuer.invalid#key-1",
        created="2026-01-15T00:00:00Z",
    )


def test_unfetchable_key_is_could_not_check_not_invalid() -> None:
    fetcher = MappingFetcher({})
    report = verify_credential(
        _did_web_coa(),
        at=AT,
        resolver=Resolver(fetcher),
        fetcher=fetcher,
        trust=trust_for("did:web:issuer.invalid"),
    )
    assert report.verdict == "could_not_check"
    assert not report.verified
    assert report.checks["proof"].status == "unknown"
    assert report.checks["proof"].codes == ("FETCH_ERROR",)
    assert report.headline.startswith("Could not check")
    assert "forged" in report.headline  # "this does not mean the credential is forged"


def test_cli_could_not_check_exits_1_with_its_own_words(tmp_path: Path) -> None:
    path = tmp_path / "coa.json"
    path.write_text(json.dumps(_did_web_coa()))
    trust = trust_file(tmp_path, "did:web:issuer.invalid")
    result = CliRunner().invoke(
        cli, ["--json", "--now", "2026-07-01T00:00:00Z", "--trust", str(trust), str(path)]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["verdict"] == "could_not_check"
    assert report["checks"]["proof"]["status"] == "unknown"
    text = CliRunner().invoke(cli, ["--trust", str(trust), str(path)])
    assert text.exit_code == 1
    assert text.output.startswith("COULD_NOT_CHECK: ")
    assert "INVALID" not in text.output.split("\n")[0]


# --- production needs a trust source ------------------------------------------------------------


def test_production_refuses_to_start_without_a_trust_source() -> None:
    settings = VerifierSettings.from_env({"SIJIL_ENV": "production"})
    with pytest.raises(TrustSourceRequiredError) as caught:
        create_app(settings)
    assert caught.value.code == "TRUST_SOURCE_REQUIRED"
    assert "SIJIL_TRUST_ANY_ISSUER" in caught.value.detail


def test_production_with_a_trust_file_starts(tmp_path: Path) -> None:
    path = trust_file(tmp_path, UNIVERSITY)
    settings = VerifierSettings.from_env(
        {"SIJIL_ENV": "production", "SIJIL_TRUST_FILE": str(path), "SIJIL_RATE_LIMITS_ENABLED": "0"}
    )
    html = _page(create_app(settings), coa_for(UNIVERSITY, LEARNER, "DS101", "Data", serial=1))
    assert _verdict(html) == "valid"


def test_trust_any_issuer_starts_but_still_says_not_recognised() -> None:
    settings = VerifierSettings.from_env(
        {"SIJIL_ENV": "production", "SIJIL_TRUST_ANY_ISSUER": "1", "SIJIL_RATE_LIMITS_ENABLED": "0"}
    )
    html = _page(create_app(settings), coa_for(UNIVERSITY, LEARNER, "DS101", "Data", serial=1))
    assert _verdict(html) == "unknown_issuer"
    assert "not recognised" in html
    assert ">Valid<" not in html
    assert "genuine" not in html.lower()


# --- programme statements and learner records ---------------------------------------------------


def test_genuine_mms_shows_every_stacked_coa_valid() -> None:
    mms = sign(build_mms(UNIVERSITY, LEARNER, _coas()), UNIVERSITY)
    html = _page(_app(trust_for(UNIVERSITY)), mms)
    assert _verdict(html) == "valid"
    assert _component_verdicts(html) == ["valid", "valid"]
    assert "Tidak sah" not in html
    assert "Malaysian Micro-Credentials Statement (MMS)" in html


def _with_status(code: str, name: str, serial: int, entry: dict[str, Any]) -> dict[str, Any]:
    doc = build_coa(UNIVERSITY, LEARNER, code, name, serial=serial)
    doc["credentialStatus"] = entry
    return sign(doc, UNIVERSITY)


def test_mms_with_a_revoked_coa_reads_revoked_and_says_why() -> None:
    url = "https://registry.example.edu.my/status/7"
    coas = [_with_status(c, n, i + 1, status_entry(url, 10 + i)) for i, (c, n) in enumerate(UNITS)]
    mms = sign(build_mms(UNIVERSITY, LEARNER, coas), UNIVERSITY)
    fetcher = MappingFetcher({url: status_list(UNIVERSITY, url, set_bits=[11])})
    settings = VerifierSettings()
    app = create_app(
        settings, verifier=settings.build_verifier(trust=trust_for(UNIVERSITY), fetcher=fetcher)
    )
    html = _page(app, mms)
    assert _verdict(html) == "revoked"
    assert _component_verdicts(html) == ["valid", "revoked"]
    assert COMPONENT_SENTENCES_MS["revoked"] in html
    assert VERDICTS["invalid"].sentence_ms not in html  # not "altered or not signed"
    assert "diubah" not in html
    assert "stacks" in html


def _clr(coas: list[dict[str, Any]], key: Any = UNIVERSITY) -> dict[str, Any]:
    """A learner record that does not say it is an MMS (no award type)."""
    doc = build_mms(key, LEARNER, coas)
    del doc["awardType"]
    doc["name"] = "Learner record"
    return sign(doc, key)


def test_attacker_clr_of_two_learners_is_never_shown_as_an_mms() -> None:
    coas = [_coas()[0], _coas(OTHER)[1]]
    report = _verify(_clr(coas), trust=trust_for(UNIVERSITY))
    assert report.credential is not None
    assert report.credential.award_type == "CLR"
    assert report.checks["stacking"].status == "failed"
    assert "STACKING_LEARNER_MISMATCH" in report.checks["stacking"].codes
    assert report.verdict == "invalid"
    html = _page(_app(trust_for(UNIVERSITY)), _clr(coas))
    assert "Comprehensive Learner Record (CLR)" in html
    assert "Mastery Statement" not in html
    assert "Credentials in this learner record" in html


def test_clr_of_one_learner_is_a_valid_learner_record_not_an_mms() -> None:
    report = _verify(_clr(_coas()), trust=trust_for(UNIVERSITY))
    assert report.verdict == "valid"
    assert report.credential is not None
    assert report.credential.award_type == "CLR"
    assert "Comprehensive Learner Record" in report.checks["stacking"].message


def test_mms_of_two_learners_fails_stacking() -> None:
    coas = [_coas()[0], _coas(OTHER)[1]]
    mms = sign(build_mms(UNIVERSITY, LEARNER, coas), UNIVERSITY)
    report = _verify(mms, trust=trust_for(UNIVERSITY))
    assert report.verdict == "invalid"
    assert "STACKING_LEARNER_MISMATCH" in report.checks["stacking"].codes


# --- bidirectional text -------------------------------------------------------------------------


def test_clean_bidi_drops_overrides_and_unpaired_controls() -> None:
    assert clean_bidi(f"evil{RLO}fdp.exe") == "evilfdp.exe"
    assert clean_bidi("a\u202bb\u202cc") == "a\u202bb\u202cc"  # a paired embedding stays
    assert clean_bidi("a\u2067b") == "ab"  # an isolate never closed
    assert clean_bidi("a\u2069b\u202cc") == "abc"  # closers with no opener
    assert clean_bidi("\u0646\u0648\u0631 Aisyah") == "\u0646\u0648\u0631 Aisyah"


def test_right_to_left_override_in_a_name_is_isolated_on_the_page() -> None:
    learner = Learner(f"Aisyah {RLO}dammahuM", "aisyah@example.com", "salt-aisyah")
    doc = build_coa(UNIVERSITY, learner, "DS101", "Data", serial=1)
    doc["issuer"]["name"] = f"Universiti {RLO}hsilgnE"
    html = _page(_app(trust_for(UNIVERSITY)), sign(doc, UNIVERSITY))
    assert RLO not in html
    assert "<bdi>Aisyah dammahuM</bdi>" in html
    assert 'dir="auto"' in html


def test_forged_name_page_keeps_the_claim_apart_from_the_identity() -> None:
    doc = copy.deepcopy(coa_for(UNIVERSITY, LEARNER, "DS101", "Data", serial=1))
    html = _page(_app(None), doc)
    assert _verdict(html) == "unknown_issuer"
    assert "Issuer (not recognised)" in html
    assert "Name the credential claims (not verified)" in html
    assert did_key_for(UNIVERSITY) in html


def test_unknown_sijil_env_is_a_settings_error() -> None:
    with pytest.raises(SettingsError) as caught:
        VerifierSettings.from_env({"SIJIL_ENV": "prod"})
    assert caught.value.code == "SETTINGS_ERROR"


def test_cli_serve_refuses_production_without_trust_source() -> None:
    result = CliRunner().invoke(
        cli, ["serve"], env={"SIJIL_ENV": "production", "SIJIL_TRUST_FILE": ""}
    )
    assert result.exit_code == 2
    assert "TRUST_SOURCE_REQUIRED: " in result.output
