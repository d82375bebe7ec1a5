"""The one table of award titles, in English and Malay, for the issuer and the verifier.

Every page, PDF, badge and report names an award type by this table, so a learner's
certificate and an employer's verification page never disagree on what a statement is called.
Malay uses one word for "credential": *kredensial* (as in "Penyata Mikro-Kredensial
Malaysia"), never *kelayakan* (a qualification).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AWARD_LABELS", "AWARD_TITLES", "AwardTitle", "award_title"]


@dataclass(frozen=True)
class AwardTitle:
    """One award type: its code, English title and Malay title."""

    code: str
    en: str
    ms: str


AWARD_TITLES: dict[str, AwardTitle] = {
    award.code: award
    for award in (
        AwardTitle("COC", "Certificate of Completion", "Sijil Penyempurnaan"),
        AwardTitle("COA", "Certificate of Achievement", "Sijil Pencapaian"),
        AwardTitle(
            "MMS", "Malaysian Micro-Credentials Statement", "Penyata Mikro-Kredensial Malaysia"
        ),
        AwardTitle("CLR", "Comprehensive Learner Record", "Rekod Pelajar Komprehensif"),
    )
}

#: Award type -> (English, Malay) title: the issuer's exports read this mapping.
AWARD_LABELS: dict[str, tuple[str, str]] = {
    code: (award.en, award.ms) for code, award in AWARD_TITLES.items() if code != "CLR"
}


def award_title(code: str, *, language: str = "en") -> str:
    """The award's title in ``language`` (``en`` or ``ms``); an unknown code is returned as is."""
    award = AWARD_TITLES.get(code)
    if award is None:
        return code
    return award.ms if language == "ms" else award.en
