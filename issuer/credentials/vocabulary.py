"""The MQA facts of an award as Open Badges 3.0 alignments and tags, and the pages they name.

Every fact sijil records about a micro-credential (award type, MQF level, student learning time,
delivery mode, micro-credential category, programme) is expressed with published OB 3.0 / CLR 2.0
properties only, so any OB displayer shows it and any JSON-LD verifier that knows the published
contexts can check it: an ``Alignment`` (``targetType`` ``ext:...``, ``targetFramework`` an
English framework name, ``targetCode`` the value, ``targetName`` a sentence, ``targetUrl`` a page
the issuer serves) and a human ``tag``. The ``targetType`` values are
:mod:`verifier.models`'s ``TARGET_*`` constants, which read them back.

The pages (:data:`VOCABULARIES`) are served by :mod:`issuer.web.vocab` at ``{BASE}/vocab/<name>``
with one anchor per code, so every ``targetUrl`` resolves. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from verifier import (
    TARGET_AWARD_TYPE,
    TARGET_CATEGORY,
    TARGET_DELIVERY_MODE,
    TARGET_MQF_LEVEL,
    TARGET_STUDENT_LEARNING_TIME,
)

__all__ = [
    "AWARD_TYPE_FRAMEWORK",
    "AWARD_TYPE_NAMES",
    "CATEGORY_FRAMEWORK",
    "DELIVERY_MODE_FRAMEWORK",
    "MQF_FRAMEWORK",
    "MQF_FRAMEWORK_URL",
    "SLT_FRAMEWORK",
    "VOCABULARIES",
    "Vocabulary",
    "VocabularyTerm",
    "award_type_alignment",
    "category_alignment",
    "delivery_mode_alignment",
    "fact_tags",
    "mqf_level_alignment",
    "slt_alignment",
    "vocabulary_url",
]

AWARD_TYPE_FRAMEWORK: Final = "MQA Micro-credential Award Types"
MQF_FRAMEWORK: Final = "Malaysian Qualifications Framework"
#: The Malaysian Qualifications Framework (MQA), target of the MQF level alignment.
MQF_FRAMEWORK_URL: Final = "https://www.mqa.gov.my/new/mqf.cfm"
SLT_FRAMEWORK: Final = "MQA Student Learning Time (hours)"
DELIVERY_MODE_FRAMEWORK: Final = "MQA Micro-credential Delivery Modes"
CATEGORY_FRAMEWORK: Final = "MQA Micro-credential Categories"

AWARD_TYPE_NAMES: Final[dict[str, str]] = {
    "COC": "Certificate of Completion",
    "COA": "Certificate of Achievement",
    "MMS": "Malaysian Micro-Credentials Statement",
}
_CATEGORY_NAMES: Final[dict[str, str]] = {
    "programme-based": "Programme-based micro-credential",
    "stand-alone": "Stand-alone micro-credential",
}


@dataclass(frozen=True)
class VocabularyTerm:
    """One code of a vocabulary page (its anchor is the code)."""

    code: str
    name: str
    description: str


@dataclass(frozen=True)
class Vocabulary:
    """A small page naming the codes of one framework."""

    slug: str
    title: str
    framework: str
    description: str
    terms: tuple[VocabularyTerm, ...]


VOCABULARIES: Final[dict[str, Vocabulary]] = {
    v.slug: v
    for v in (
        Vocabulary(
            "award-types",
            "Micro-credential award types",
            AWARD_TYPE_FRAMEWORK,
            "The award types of the Malaysian Qualifications Agency's micro-credential "
            "guidelines, as named by the alignment targetCode of each award.",
            (
                VocabularyTerm(
                    "COC",
                    AWARD_TYPE_NAMES["COC"],
                    "Awarded when a learner has completed every learning material of a "
                    "micro-credential (no assessment).",
                ),
                VocabularyTerm(
                    "COA",
                    AWARD_TYPE_NAMES["COA"],
                    "Awarded when a learner has completed the learning materials and passed "
                    "every assessment of a micro-credential; carries its credits.",
                ),
                VocabularyTerm(
                    "MMS",
                    AWARD_TYPE_NAMES["MMS"],
                    "A statement (CLR 2.0) stacking a learner's Certificates of Achievement "
                    "toward a programme; carries the signed certificates it stacks.",
                ),
            ),
        ),
        Vocabulary(
            "student-learning-time",
            "Student learning time",
            SLT_FRAMEWORK,
            "The notional hours a learner needs to attain the learning outcomes (MQA student "
            "learning time, 40 hours per credit). The alignment targetCode is the number of "
            "hours.",
            (),
        ),
        Vocabulary(
            "delivery-modes",
            "Delivery modes",
            DELIVERY_MODE_FRAMEWORK,
            "How a micro-credential is delivered.",
            (
                VocabularyTerm("online", "Online", "Delivered fully online."),
                VocabularyTerm("face-to-face", "Face-to-face", "Delivered in person."),
                VocabularyTerm("blended", "Blended", "Delivered partly online, partly in person."),
            ),
        ),
        Vocabulary(
            "micro-credential-categories",
            "Micro-credential categories",
            CATEGORY_FRAMEWORK,
            "Whether a micro-credential stacks toward a programme.",
            (
                VocabularyTerm(
                    "programme-based",
                    _CATEGORY_NAMES["programme-based"],
                    "Part of a programme: its Certificates of Achievement stack into a "
                    "Malaysian Micro-Credentials Statement.",
                ),
                VocabularyTerm(
                    "stand-alone",
                    _CATEGORY_NAMES["stand-alone"],
                    "Not part of a programme.",
                ),
            ),
        ),
    )
}


def vocabulary_url(base_url: str, slug: str, code: str | None = None) -> str:
    """``{BASE}/vocab/<slug>`` (``#<code>`` when a code is given, percent-encoded)."""
    url = f"{base_url}/vocab/{slug}"
    return f"{url}#{quote(code, safe='')}" if code else url


def _alignment(target_type: str, framework: str, code: str, name: str, url: str) -> dict[str, Any]:
    return {
        "type": ["Alignment"],
        "targetType": target_type,
        "targetFramework": framework,
        "targetCode": code,
        "targetName": name,
        "targetUrl": url,
    }


def award_type_alignment(base_url: str, award_type: str) -> dict[str, Any]:
    """The ``ext:MQAAwardType`` alignment of an award (``COC`` / ``COA`` / ``MMS``)."""
    return _alignment(
        TARGET_AWARD_TYPE,
        AWARD_TYPE_FRAMEWORK,
        award_type,
        AWARD_TYPE_NAMES[award_type],
        vocabulary_url(base_url, "award-types", award_type),
    )


def mqf_level_alignment(level: int) -> dict[str, Any]:
    """The ``ext:MQFLevel`` alignment: ``targetCode`` the level (``"6"``)."""
    return _alignment(
        TARGET_MQF_LEVEL,
        MQF_FRAMEWORK,
        str(level),
        f"MQF Level {level}",
        f"{MQF_FRAMEWORK_URL}#level-{level}",
    )


def slt_alignment(base_url: str, hours: int) -> dict[str, Any]:
    """The ``ext:StudentLearningTime`` alignment: ``targetCode`` the hours (``"120"``)."""
    return _alignment(
        TARGET_STUDENT_LEARNING_TIME,
        SLT_FRAMEWORK,
        str(hours),
        f"{hours} hours of student learning time",
        vocabulary_url(base_url, "student-learning-time"),
    )


def delivery_mode_alignment(base_url: str, mode: str) -> dict[str, Any]:
    """The ``ext:DeliveryMode`` alignment: ``targetCode`` the mode (``online`` ...)."""
    return _alignment(
        TARGET_DELIVERY_MODE,
        DELIVERY_MODE_FRAMEWORK,
        mode,
        f"Delivery mode: {mode}",
        vocabulary_url(base_url, "delivery-modes", mode),
    )


def category_alignment(base_url: str, category: str) -> dict[str, Any]:
    """The ``ext:MicroCredentialCategory`` alignment (``programme-based`` / ``stand-alone``)."""
    return _alignment(
        TARGET_CATEGORY,
        CATEGORY_FRAMEWORK,
        category,
        _CATEGORY_NAMES.get(category, category),
        vocabulary_url(base_url, "micro-credential-categories", category),
    )


def fact_tags(
    award_type: str,
    *,
    mqf_level: int,
    slt_hours: int | None = None,
    delivery_mode: str | None = None,
    category: str | None = None,
) -> list[str]:
    """Human ``tag`` keywords repeating the facts for displayers that show only tags."""
    tags = [AWARD_TYPE_NAMES[award_type], f"MQF Level {mqf_level}"]
    if slt_hours is not None:
        tags.append(f"{slt_hours} hours student learning time")
    if delivery_mode:
        tags.append(f"Delivery: {delivery_mode}")
    if category:
        tags.append(_CATEGORY_NAMES.get(category, category))
    return tags
