"""JSON forms of catalogue specs for the HTTP API (camelCase), parsed purely.

``*_from_json`` raise ``MALFORMED_VALUE_ERROR`` with a JSON pointer for a wrong type or a bad
value (then the spec's own ``validate()``); ``*_to_json`` are their inverses.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from contexts.errors import MalformedValueError
from issuer.domain.catalogue import (
    AssessmentSpec,
    Category,
    LearnerSpec,
    MaterialSpec,
    MicroCredentialSpec,
    ProgrammeSpec,
)

__all__ = [
    "learner_from_json",
    "learner_to_json",
    "micro_credential_from_json",
    "micro_credential_to_json",
    "programme_from_json",
    "programme_to_json",
]


def _obj(value: Any, pointer: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedValueError("must be a JSON object", pointer=pointer or "/")
    return value


def _str(obj: Mapping[str, Any], key: str, pointer: str, *, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise MalformedValueError("must be a string", pointer=f"{pointer}/{key}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, pointer: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedValueError("must be a string or null", pointer=f"{pointer}/{key}")
    return value


def _int(obj: Mapping[str, Any], key: str, pointer: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedValueError("must be an integer", pointer=f"{pointer}/{key}")
    return value


def _list(obj: Mapping[str, Any], key: str, pointer: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise MalformedValueError("must be an array", pointer=f"{pointer}/{key}")
    return value


def _decimal(value: Any, pointer: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedValueError("must be a number", pointer=pointer)
    try:
        out = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedValueError("must be a number", pointer=pointer) from exc
    if not out.is_finite():
        raise MalformedValueError("must be a finite number", pointer=pointer)
    return out


def micro_credential_from_json(value: Any, *, pointer: str = "") -> MicroCredentialSpec:
    """``{"code", "title", "description", "credits", "sltHours", "mqfLevel", "deliveryMode",
    "category", "learningOutcomes": [str], "materials": [{"code", "title"}], "assessments":
    [{"code", "title", "passMark"}], "criteria"?}``. ``sltHours`` defaults to credits x 40."""
    obj = _obj(value, pointer)
    category_raw = _str(obj, "category", pointer)
    if category_raw not in ("programme-based", "stand-alone"):
        raise MalformedValueError(
            "must be 'programme-based' or 'stand-alone'", pointer=f"{pointer}/category"
        )
    category: Category = "stand-alone" if category_raw == "stand-alone" else "programme-based"
    credits = _int(obj, "credits", pointer)
    materials = []
    for i, m in enumerate(_list(obj, "materials", pointer)):
        p = f"{pointer}/materials/{i}"
        mo = _obj(m, p)
        materials.append(MaterialSpec(_str(mo, "code", p), _str(mo, "title", p)))
    assessments = []
    for i, a in enumerate(_list(obj, "assessments", pointer)):
        p = f"{pointer}/assessments/{i}"
        ao = _obj(a, p)
        assessments.append(
            AssessmentSpec(
                _str(ao, "code", p),
                _str(ao, "title", p),
                _decimal(ao.get("passMark", 50), f"{p}/passMark"),
            )
        )
    outcomes = []
    for i, o in enumerate(_list(obj, "learningOutcomes", pointer)):
        if not isinstance(o, str):
            raise MalformedValueError("must be a string", pointer=f"{pointer}/learningOutcomes/{i}")
        outcomes.append(o)
    slt = obj.get("sltHours", credits * 40)
    if isinstance(slt, bool) or not isinstance(slt, int):
        raise MalformedValueError("must be an integer", pointer=f"{pointer}/sltHours")
    spec = MicroCredentialSpec(
        code=_str(obj, "code", pointer),
        title=_str(obj, "title", pointer),
        description=_str(obj, "description", pointer),
        credits=credits,
        slt_hours=slt,
        mqf_level=_int(obj, "mqfLevel", pointer),
        delivery_mode=_str(obj, "deliveryMode", pointer, default="online"),
        category=category,
        learning_outcomes=tuple(outcomes),
        materials=tuple(materials),
        assessments=tuple(assessments),
        criteria=_str(obj, "criteria", pointer, default=""),
    )
    spec.validate()
    return spec


def micro_credential_to_json(spec: MicroCredentialSpec) -> dict[str, Any]:
    """Inverse of :func:`micro_credential_from_json`."""
    return {
        "code": spec.code,
        "title": spec.title,
        "description": spec.description,
        "credits": spec.credits,
        "sltHours": spec.slt_hours,
        "mqfLevel": spec.mqf_level,
        "deliveryMode": spec.delivery_mode,
        "category": spec.category,
        "learningOutcomes": list(spec.learning_outcomes),
        "materials": [{"code": m.code, "title": m.title} for m in spec.materials],
        "assessments": [
            {"code": a.code, "title": a.title, "passMark": float(a.pass_mark)}
            for a in spec.assessments
        ],
        "criteria": spec.criteria,
    }


def programme_from_json(value: Any, *, pointer: str = "") -> ProgrammeSpec:
    """``{"code", "title", "description", "mqfLevel", "components": [code], "degreeProgrammeUrl"?,
    "degreeProgrammeTitle"?, "mmsPerUnit"?: bool}``."""
    obj = _obj(value, pointer)
    components = []
    for i, c in enumerate(_list(obj, "components", pointer)):
        if not isinstance(c, str):
            raise MalformedValueError("must be a string", pointer=f"{pointer}/components/{i}")
        components.append(c)
    per_unit = obj.get("mmsPerUnit", False)
    if not isinstance(per_unit, bool):
        raise MalformedValueError("must be a boolean", pointer=f"{pointer}/mmsPerUnit")
    spec = ProgrammeSpec(
        code=_str(obj, "code", pointer),
        title=_str(obj, "title", pointer),
        description=_str(obj, "description", pointer),
        mqf_level=_int(obj, "mqfLevel", pointer),
        components=tuple(components),
        degree_programme_url=_opt_str(obj, "degreeProgrammeUrl", pointer),
        degree_programme_title=_opt_str(obj, "degreeProgrammeTitle", pointer),
        mms_per_unit=per_unit,
    )
    spec.validate()
    return spec


def programme_to_json(spec: ProgrammeSpec) -> dict[str, Any]:
    """Inverse of :func:`programme_from_json`."""
    return {
        "code": spec.code,
        "title": spec.title,
        "description": spec.description,
        "mqfLevel": spec.mqf_level,
        "components": list(spec.components),
        "degreeProgrammeUrl": spec.degree_programme_url,
        "degreeProgrammeTitle": spec.degree_programme_title,
        "mmsPerUnit": spec.mms_per_unit,
    }


def learner_from_json(value: Any, *, pointer: str = "") -> LearnerSpec:
    """``{"externalId", "email", "name", "did"?}``."""
    obj = _obj(value, pointer)
    spec = LearnerSpec(
        external_id=_str(obj, "externalId", pointer),
        email=_str(obj, "email", pointer),
        name=_str(obj, "name", pointer),
        did=_opt_str(obj, "did", pointer),
    )
    spec.validate()
    return spec


def learner_to_json(spec: LearnerSpec) -> dict[str, Any]:
    """Inverse of :func:`learner_from_json`."""
    return {"externalId": spec.external_id, "email": spec.email, "name": spec.name, "did": spec.did}
