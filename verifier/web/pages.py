"""The human verification page: what a certificate's QR code opens.

* ``GET /`` - scan a QR code (camera or photo, in the browser, offline), paste a link or the
  credential, or upload a JSON file, a baked badge image or a certificate PDF.
* ``GET /verify?c=<packed>`` - the credential packed into the link (:mod:`verifier.links`).
* ``GET /verify?url=<credential URL>`` - fetched with the core's SSRF-guarded fetcher; a link
  the issuer answers 404 / 410 for reads "not found at the issuer" (``CREDENTIAL_NOT_FOUND``).
* ``POST /verify`` - the paste or upload form.
* ``/credit-transfer`` - the receiving university's page (:mod:`.creditpage`).

Every result is one page with the verdict in words (English and Malay), the credential's
summary (dates in Malaysia time, :mod:`.wording`) and each check's sentence. Input errors
render an HTML error page with a plain message in both languages and the error's code under
"details"; nothing here decides validity (that is :mod:`verifier.report`). Every page names
the verifier's operator (``SIJIL_VERIFIER_OPERATOR``).

Caps: the pasted text and JSON from links or URLs within the app's body cap (1 MiB); uploaded
files within ``SIJIL_MAX_INPUT_BYTES`` (the core's input cap, 5 MiB by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as WerkzeugResponse

from contexts.errors import MalformedValueError, ParsingError
from verifier.baked import is_png, is_svg
from verifier.inputs import is_compact_jws
from verifier.links import unpack_credential
from verifier.pdf import is_pdf
from webplatform.jsonbody import RequestTooLargeError, parse_json_bytes

from .metrics import count_verification
from .services import services
from .verdicts import result_view
from .wording import TRANSFER_REASONS_MS, credits_words, plain_error

__all__ = ["pages", "read_credential_bytes", "read_credential_input"]

pages = Blueprint("pages", __name__)

#: Room for multipart boundaries and the other form fields around an uploaded file.
_FORM_OVERHEAD = 64 * 1024


@pages.app_context_processor
def _page_words() -> dict[str, Any]:
    """What every page template (and the shared error page) may use."""
    return {
        "operator": services().settings.operator,
        "plain_error": plain_error,
        "credits_words": credits_words,
        "transfer_reasons_ms": TRANSFER_REASONS_MS,
    }


def _max_bytes() -> int:
    return int(current_app.config["MAX_CONTENT_LENGTH"])


def _upload_cap() -> int:
    return max(_max_bytes(), int(services().settings.max_input_bytes))


def _render_report(report: Mapping[str, Any]) -> str:
    count_verification(report, channel="page")
    return render_template("result.html", view=result_view(report), report=report)


def _from_link(text: str) -> Mapping[str, Any] | str:
    """A pasted or scanned link: a verification link (``c`` or ``url``) or a credential URL."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MalformedValueError("the link must be an http(s) URL", pointer="/credential")
    query = parse_qs(parts.query)
    if "c" in query:
        return _packed(query["c"][0])
    if "url" in query and parts.path.rstrip("/").endswith("/verify"):
        return services().fetch_credential(query["url"][0], max_bytes=_max_bytes())
    return services().fetch_credential(text, max_bytes=_max_bytes())


def _packed(packed: str) -> Mapping[str, Any] | str:
    credential = unpack_credential(
        packed, max_bytes=_max_bytes(), max_depth=services().max_json_depth
    )
    if not isinstance(credential, (dict, str)):
        raise ParsingError("the link does not carry a credential (a JSON object)", pointer="/c")
    return credential


def read_credential_bytes(data: bytes, *, max_bytes: int) -> Mapping[str, Any] | str | bytes:
    """Uploaded or pasted bytes: a certificate PDF or a baked PNG/SVG badge (handed to the core
    as bytes), a JSON credential or a VC-JWT.

    Raises ``PARSING_ERROR``, ``JSON_TOO_DEEP`` and ``BAKED_CREDENTIAL_NOT_FOUND``.
    """
    if not data.strip():
        raise ParsingError("the file or text is empty", pointer="/file")
    if is_pdf(data):
        return data  # the core reads the credential attached to the certificate
    if is_png(data) or is_svg(data):
        services().check_image(data)
        return data  # the core unbakes it and reports the image format
    stripped = data.strip()
    if stripped.isascii() and is_compact_jws(stripped.decode("ascii")):
        return stripped.decode("ascii")
    document = parse_json_bytes(data, max_bytes=max_bytes, max_depth=services().max_json_depth)
    if not isinstance(document, dict):
        raise ParsingError("the input is not a credential (a JSON object)", pointer="")
    return document


def read_credential_input(
    text: str | None, upload: FileStorage | None
) -> Mapping[str, Any] | str | bytes:
    """The credential named by the form: pasted text (JSON, JWT or link) or an uploaded file.

    Raises ``PARSING_ERROR``, ``MALFORMED_VALUE_ERROR``, ``REQUEST_TOO_LARGE``,
    ``JSON_TOO_DEEP``, the ``FETCH_*`` family and ``BAKED_CREDENTIAL_NOT_FOUND``.
    """
    if upload is not None and upload.filename:
        cap = _upload_cap()
        data = upload.stream.read(cap + 1)
        if len(data) > cap:
            raise RequestTooLargeError(f"the file is larger than {cap} bytes")
        return read_credential_bytes(data, max_bytes=cap)
    text = (text or "").strip()
    if not text:
        raise ParsingError("paste a link or a credential, or choose a file", pointer="/credential")
    if text.startswith(("http://", "https://")):
        return _from_link(text)
    return read_credential_bytes(text.encode("utf-8"), max_bytes=_max_bytes())


@pages.get("/")
def index() -> str:
    return render_template("index.html", max_kib=_upload_cap() // 1024)


@pages.get("/verify")
def verify_get() -> str | WerkzeugResponse:
    packed = request.args.get("c")
    url = request.args.get("url")
    if packed:
        credential = _packed(packed)
    elif url:
        credential = services().fetch_credential(url, max_bytes=_max_bytes())
    else:
        return redirect(url_for("pages.index"))
    return _render_report(services().verify_credential(credential))


@pages.post("/verify")
def verify_post() -> str:
    request.max_content_length = _upload_cap() + _FORM_OVERHEAD
    credential = read_credential_input(request.form.get("credential"), request.files.get("file"))
    return _render_report(services().verify_credential(credential))
