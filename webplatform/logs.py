"""One logging set-up for both services: JSON lines in production, text for the dev run.

``SIJIL_LOG_FORMAT`` picks ``json`` (one JSON object per line: ``timestamp``, ``level``,
``logger``, ``message``, ``request_id``, plus ``method``, ``path``, ``status``, ``duration_ms``,
``remote_addr`` and ``user_agent`` on access lines) or ``text``; the gunicorn configurations
default to ``json``, the ``serve`` commands to ``text``. ``SIJIL_LOG_LEVEL`` sets the level
(default ``INFO``). :func:`logging_config` is the :func:`logging.config.dictConfig` dictionary
that gunicorn (``logconfig_dict``) and :func:`configure_logging` both install, so the access
log, gunicorn's own messages and the apps' loggers share one format.

Request ids: :func:`init_request_ids` gives every request an id, the caller's
``X-Request-ID`` when it is well formed (at most :data:`MAX_REQUEST_ID_LENGTH` characters of
``[A-Za-z0-9._:@/+=-]``), else a fresh random one; it is echoed in the response header, put in
the WSGI environ (``sijil.request_id``) and added to every log record made while the request
runs (:class:`RequestIdFilter`). A query string is never logged (a packed credential can ride in
``?c=``).

Errors: ``SETTINGS_ERROR`` for an unknown ``SIJIL_LOG_FORMAT`` or ``SIJIL_LOG_LEVEL``.
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
import secrets
from collections.abc import Mapping
from typing import Any, Final, Literal

from flask import Flask, g, has_request_context, request
from flask.typing import ResponseReturnValue
from pythonjsonlogger.json import JsonFormatter
from werkzeug.wrappers import Response

from webplatform.settings import SettingsError

__all__ = [
    "ENVIRON_REQUEST_ID",
    "LOG_FORMATS",
    "MAX_REQUEST_ID_LENGTH",
    "REQUEST_ID_HEADER",
    "JsonLogFormatter",
    "LogFormat",
    "RequestIdFilter",
    "configure_logging",
    "current_request_id",
    "init_request_ids",
    "log_format_from_env",
    "log_level_from_env",
    "logging_config",
    "request_id_from",
]

LogFormat = Literal["json", "text"]
LOG_FORMATS: Final[tuple[LogFormat, ...]] = ("json", "text")
REQUEST_ID_HEADER: Final = "X-Request-ID"
ENVIRON_REQUEST_ID: Final = "sijil.request_id"
MAX_REQUEST_ID_LENGTH: Final = 128
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]*")
_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_NO_REQUEST: Final = "-"


def log_format_from_env(
    environ: Mapping[str, str] | None = None, *, default: LogFormat = "json"
) -> LogFormat:
    """``SIJIL_LOG_FORMAT`` (``json`` or ``text``; ``default`` when unset). ``SETTINGS_ERROR``."""
    source = os.environ if environ is None else environ
    value = source.get("SIJIL_LOG_FORMAT", "").strip().lower()
    if not value:
        return default
    for known in LOG_FORMATS:
        if value == known:
            return known
    raise SettingsError(f"SIJIL_LOG_FORMAT must be json or text, not {value!r}")


def log_level_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``SIJIL_LOG_LEVEL`` (default ``INFO``). Raises ``SETTINGS_ERROR``."""
    source = os.environ if environ is None else environ
    value = source.get("SIJIL_LOG_LEVEL", "").strip().upper() or "INFO"
    if value not in _LEVELS:
        raise SettingsError(f"SIJIL_LOG_LEVEL must be one of {', '.join(_LEVELS)}, not {value!r}")
    return value


def request_id_from(value: str | None) -> str:
    """The caller's request id when well formed and short enough, else a fresh one.

    Never raises: a bad id is replaced, not refused (it is a tracing aid, not input).
    """
    if (
        value is not None
        and len(value) <= MAX_REQUEST_ID_LENGTH
        and _REQUEST_ID.fullmatch(value) is not None
    ):
        return value
    return secrets.token_hex(16)


def current_request_id() -> str | None:
    """The id of the request being handled (``None`` outside a request)."""
    if not has_request_context():
        return None
    found = g.get("request_id")
    if isinstance(found, str):
        return found
    rid = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_id = rid
    request.environ[ENVIRON_REQUEST_ID] = rid
    return rid


def _assign_request_id() -> ResponseReturnValue | None:
    current_request_id()
    return None


def _echo_request_id(response: Response) -> Response:
    rid = current_request_id()
    if rid is not None:
        response.headers[REQUEST_ID_HEADER] = rid
    return response


def init_request_ids(app: Flask) -> None:
    """Give each request of ``app`` an id (see the module docstring) and echo it back.

    The id is assigned by the first ``before_request`` function, so a request refused early
    (rate limit, authentication) still carries one.
    """
    app.before_request_funcs.setdefault(None, []).insert(0, _assign_request_id)
    app.after_request(_echo_request_id)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(getattr(record, "request_id", None), str):
            access_id = _access_atom(record, "{x-request-id}o")
            record.request_id = access_id or current_request_id() or _NO_REQUEST
        return True


def _access_atom(record: logging.LogRecord, name: str) -> str | None:
    """One atom of a gunicorn access record (its ``args`` is the atoms mapping)."""
    if record.name != "gunicorn.access" or not isinstance(record.args, Mapping):
        return None
    value = record.args.get(name)
    return value if isinstance(value, str) and value != "-" else None


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Structured fields of a gunicorn access line (method, path, status, duration...)."""
    if record.name != "gunicorn.access" or not isinstance(record.args, Mapping):
        return {}
    atoms = record.args
    fields: dict[str, Any] = {
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "remote_addr": atoms.get("h"),
        "user_agent": atoms.get("a"),
    }
    status = atoms.get("s")
    if isinstance(status, (int, str)) and str(status).isdigit():
        fields["status"] = int(status)
    micros = atoms.get("D")
    if isinstance(micros, int):
        fields["duration_ms"] = round(micros / 1000, 3)
    sent = atoms.get("B")
    if isinstance(sent, int):
        fields["bytes"] = sent
    return fields


class JsonLogFormatter(JsonFormatter):
    """One JSON object per record: timestamp (UTC ISO 8601), level, logger, message, ...

    Extra fields given with ``logger.info(..., extra={...})`` are kept; gunicorn access
    records gain method, path, status, duration_ms, remote_addr, user_agent and bytes.
    """

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.update(_access_fields(record))


def logging_config(fmt: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """The ``dictConfig`` dictionary: one stdout handler for the root logger and gunicorn's.

    Also the value of gunicorn's ``logconfig_dict`` in ``deploy/gunicorn/*.py``.
    """
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonLogFormatter"}
        if fmt == "json"
        else {"format": _TEXT_FORMAT, "class": "logging.Formatter"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "sijil",
        "filters": ["request_id"],
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"sijil": formatter},
        "handlers": {"sijil": handler},
        "root": {"level": level, "handlers": ["sijil"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["sijil"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["sijil"], "propagate": False},
        },
    }


def configure_logging(fmt: LogFormat, level: str = "INFO") -> None:
    """Install :func:`logging_config` (the ``serve`` commands; gunicorn does it itself)."""
    logging.config.dictConfig(logging_config(fmt, level))
