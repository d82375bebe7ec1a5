"""The verifier: checks a credential and reports, on its own (never imports :mod:`issuer`).

This module is the verifier's public API, the only part of it the issuer may import (an
import-linter contract checks it): verification (:func:`verify_credential`,
:class:`Verifier`, :class:`VerificationReport`), the typed credential model
(:func:`parse_credential` and the alignment vocabulary it reads), trust lists, the official
schema check, the Bitstring Status List codec, baked badges, PDF certificates, the strict JSON
reader and the verifier's link format. Everything else (checks, collectors, the web layer) is
internal and may change. :mod:`verifier.cli` is ``sijil-verify``; :mod:`verifier.web` the HTTP
service.
"""

from __future__ import annotations

from .awardtypes import AWARD_LABELS, AWARD_TITLES, AwardTitle, award_title
from .baked import bake_png, bake_svg, unbake
from .bitstring import MIN_ENTRIES, Bitstring, decode_list, encode_list
from .inputs import parse_json_text
from .links import verification_link
from .models import (
    AWARD_TYPES,
    TARGET_AWARD_TYPE,
    TARGET_CATEGORY,
    TARGET_DELIVERY_MODE,
    TARGET_MQF_LEVEL,
    TARGET_PROGRAMME,
    TARGET_STUDENT_LEARNING_TIME,
    Credential,
    parse_credential,
)
from .pdf import is_pdf, read_pdf_certificate
from .related_resources import check_related_resources
from .report import Verifier, verify_credential
from .result import VerificationReport
from .schema import check_schema
from .trust import TrustedIssuer, TrustList, load_trust_list

__all__ = [
    "AWARD_LABELS",
    "AWARD_TITLES",
    "AWARD_TYPES",
    "MIN_ENTRIES",
    "TARGET_AWARD_TYPE",
    "TARGET_CATEGORY",
    "TARGET_DELIVERY_MODE",
    "TARGET_MQF_LEVEL",
    "TARGET_PROGRAMME",
    "TARGET_STUDENT_LEARNING_TIME",
    "AwardTitle",
    "Bitstring",
    "Credential",
    "TrustList",
    "TrustedIssuer",
    "VerificationReport",
    "Verifier",
    "award_title",
    "bake_png",
    "bake_svg",
    "check_related_resources",
    "check_schema",
    "decode_list",
    "encode_list",
    "is_pdf",
    "load_trust_list",
    "parse_credential",
    "parse_json_text",
    "read_pdf_certificate",
    "unbake",
    "verification_link",
    "verify_credential",
]
