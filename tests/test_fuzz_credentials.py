"""Fuzzing of credential inputs: hostile JSON text into every way the verifier takes one.

Generated inputs (hypothesis, fixed seed) are raw JSON *text*, so they can hold what a parser
must refuse or survive: duplicate keys, ``NaN``/``Infinity`` literals, ``1e309``, ``-0``,
``2**64``, lone surrogates and NUL escaped in strings, RTL marks and non-NFC text, deep nesting,
huge strings, wrong types. They are spliced into a real signed COA at a random place (so the
signature, JSON-LD and schema checks run on them), or sent alone, to:

- ``POST /credentials/verify``, ``/presentations/verify``, ``/credit-transfer/evaluate``;
- the page's paste form and file upload (``POST /verify``) and packed links (``GET /verify?c=``);
- :meth:`verifier.report.Verifier.verify` directly (text, bytes and parsed objects).

Each must give a typed answer: a report, or a :class:`~contexts.errors.SijilError`
(problem+json / the error page with its code over HTTP), never a 5xx or another exception.

Bounded time and memory come from the caps (request body 1 MiB, JSON nesting 64 levels, page
uploads ``SIJIL_MAX_INPUT_BYTES``, gzip links decompressed to the body cap): the last test runs
the verifier in a child process under ``RLIMIT_AS`` (its own size after start-up plus a fixed
headroom) and feeds it the largest hostile inputs the caps allow; a generous timeout is only a
safety net, nothing is timed.
"""

from __future__ import annotations

import base64
import copy
import gzip
import io
import json
import resource
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_openapi import HTML_CODE, PROBLEM_JSON, STABLE_CODE, OfflineFetcher
from verifier_trust import trust_for
from verifier_web_credentials import coa, issuer_key, sign
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from contexts.errors import SijilError
from verifier.report import VerificationReport, Verifier
from verifier.settings import VerifierSettings
from verifier.web import create_app

KEY = issuer_key()
SIGNED: Final = sign(coa(KEY), KEY)
API_PATHS: Final = ("/credentials/verify", "/presentations/verify", "/credit-transfer/evaluate")
MAX_BODY: Final = 1024 * 1024
MAX_DEPTH: Final = 64
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- hostile JSON text ---------------------------------------------------------------------

#: Literals at and past the edges of JSON numbers and of what Python's parser accepts.
EDGE_NUMBERS: Final = (
    "1e309",
    "-1e309",
    "-0",
    "-0.0",
    "0e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "1" * 4500,
    "NaN",
    "Infinity",
    "-Infinity",
    "1.7976931348623157e308",
    "5e-324",
)
#: Strings as JSON text: lone surrogates and NUL escaped, RTL overrides, non-NFC, BOM.
ODD_STRINGS: Final = (
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"a\\u0000b"',
    '"\\u202eevil\\u202c"',
    '"\u200f\u0627\u0644\u0645\u0639\u0647\u062f"',
    json.dumps(unicodedata.normalize("NFD", "Universiti Malaya caf\u00e9"), ensure_ascii=False),
    '"\\ufeffdid:key:z6Mk"',
    '"did:key:\\u0000"',
    '"https://w3id.org/\\u2028sijil/v1"',
    '"\\\\u0000"',
    '""',
    '"0001-01-01T00:00:00+14:00"',
    '"9999-12-31T23:59:59-14:00"',
)
#: Whole fragments a tolerant parser might let through.
ODD_FRAGMENTS: Final = (
    '{"a": 1, "a": 2}',
    '{"type": "VerifiableCredential", "type": ["VerifiableCredential"]}',
    '{"@context": null}',
    "[]",
    "{}",
    "null",
    "true",
    '{"@context": {"@vocab": "https://evil.example/"}}',
    '{"@id": "_:b0", "@type": "@json"}',
)

scalar_text = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.sampled_from(ODD_STRINGS),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=False, allow_infinity=False)
    .map(repr)
    .filter(lambda s: "e" in s or "." in s),
    st.text(max_size=30).map(lambda s: json.dumps(s, ensure_ascii=True)),
    st.text(max_size=30).map(lambda s: json.dumps(s, ensure_ascii=False)),
)


def _array(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"


json_text = st.recursive(
    scalar_text | st.sampled_from(ODD_FRAGMENTS),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(_array),
        st.lists(
            st.tuples(st.sampled_from(["@context", "type", "id", "proof", "a", ""]), children),
            max_size=4,
        ).map(_object),
    ),
    max_leaves=20,
)
#: Nesting just past the cap, far past it, or a huge string; built cheaply.
big_text = st.one_of(
    st.integers(min_value=MAX_DEPTH - 2, max_value=MAX_DEPTH + 2).map(
        lambda n: "[" * n + "0" + "]" * n
    ),
    st.integers(min_value=1_000, max_value=200_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(min_value=10_000, max_value=MAX_BODY + 10).map(lambda n: '"' + "x" * n + '"'),
    st.integers(min_value=100, max_value=5_000).map(lambda n: _array(['"\\ud800"'] * n)),
)
fragment = json_text | big_text


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out.extend(_paths(value, (*prefix, index)))
    return out


SIGNED_PATHS: Final = [p for p in _paths(SIGNED) if p]
_HOLE: Final = "\u2063sijil-fuzz-hole\u2063"


def spliced(path: tuple[Any, ...], raw: str) -> str:
    """The signed COA as JSON text with the value at ``path`` replaced by ``raw`` (verbatim)."""
    doc = copy.deepcopy(SIGNED)
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = _HOLE
    return json.dumps(doc).replace(json.dumps(_HOLE), raw)


credential_text = st.one_of(
    st.tuples(st.sampled_from(SIGNED_PATHS), fragment).map(lambda pr: spliced(*pr)),
    fragment,
)

# --- checking answers ----------------------------------------------------------------------


def assert_problem(response: Any, allowed: frozenset[int]) -> str:
    """A non-2xx API answer is problem+json with the RFC 9457 members; returns its code."""
    assert response.status_code < 500, (response.status_code, response.get_data()[:300])
    assert response.status_code in allowed, (response.status_code, response.get_data()[:300])
    if response.status_code < 300:
        return ""
    assert response.mimetype == PROBLEM_JSON, response.mimetype
    body = json.loads(response.get_data())
    for member in ("type", "title", "status", "detail", "code"):
        assert member in body, (member, body)
    assert body["status"] == response.status_code
    assert STABLE_CODE.match(body["code"]), body["code"]
    return str(body["code"])


def assert_page(response: Any) -> str:
    """A page answer: the result page (200), or an error page naming a stable code."""
    assert response.status_code in (200, 302, 400, 413, 415, 422), (
        response.status_code,
        response.get_data()[:300],
    )
    assert response.mimetype == "text/html" or response.status_code == 302
    if response.status_code >= 400:
        match = HTML_CODE.search(response.get_data(as_text=True))
        assert match is not None
        assert STABLE_CODE.match(match.group(1))
        return match.group(1)
    return ""


API_ALLOWED: Final = frozenset({200, 400, 413, 415, 422})


def upload(client: FlaskClient, data: bytes) -> Any:
    """POST ``data`` as the page's file upload.

    The multipart body is built in memory: Werkzeug's test client would spool a large one to a
    temporary file that it never closes (a client-side ResourceWarning, not the server's).
    """
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(data), filename="credential.json")}
    )
    return client.post(
        "/verify", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def wrap(path: str, raw: str) -> str:
    """The request body for an API path with ``raw`` as the credential (JSON text)."""
    if path == "/credentials/verify":
        return '{"verifiableCredential": ' + raw + "}"
    if path == "/presentations/verify":
        return (
            '{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], '
            '"type": ["VerifiablePresentation"], "verifiableCredential": [' + raw + "]}}"
        )
    return '{"credentials": [' + raw + '], "policy": {"programme": "X", "rules": []}}'


def post_credential(client: FlaskClient, raw: str) -> Any:
    """POST ``raw`` (JSON text) as the credential to ``/credentials/verify``."""
    body = wrap("/credentials/verify", raw).encode("utf-8", "surrogatepass")
    return client.post("/credentials/verify", data=body, content_type="application/json")


def typed_answer(call: Callable[[], VerificationReport]) -> str:
    """A report's first error code (or VERIFIED), or the code of the typed error raised."""
    try:
        report = call()
    except SijilError as exc:
        code = exc.code
    else:
        code = ""
    if code:
        assert STABLE_CODE.match(code), code
        return code
    assert isinstance(report, VerificationReport)
    body = report.to_dict()
    json.dumps(body)  # the report must be serializable as is
    errors = body.get("errors") or []
    return str(errors[0]["code"]) if errors else "VERIFIED"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return VerifierSettings().build_verifier(fetcher=OfflineFetcher(), trust=trust_for(KEY))


@pytest.fixture(scope="module")
def app(verifier: Verifier) -> Flask:
    return create_app(VerifierSettings(), verifier=verifier)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- the fuzz ------------------------------------------------------------------------------


@FUZZ
@given(raw=credential_text, path=st.sampled_from(API_PATHS))
def test_api_answers_hostile_credentials_with_a_typed_problem(
    client: FlaskClient, raw: str, path: str
) -> None:
    body = wrap(path, raw).encode("utf-8", "surrogatepass")
    response = client.post(path, data=body, content_type="application/json")
    assert_problem(response, API_ALLOWED)


@FUZZ
@given(raw=credential_text)
def test_page_paste_and_upload_answer_hostile_credentials(client: FlaskClient, raw: str) -> None:
    data = raw.encode("utf-8", "surrogatepass")
    pasted = client.post("/verify", data={"credential": data.decode("utf-8", "replace")})
    assert_page(pasted)
    assert_page(upload(client, data))


@FUZZ
@given(raw=json_text)
def test_packed_link_answers_hostile_credentials(client: FlaskClient, raw: str) -> None:
    packed = base64.urlsafe_b64encode(gzip.compress(raw.encode("utf-8", "surrogatepass"), mtime=0))
    response = client.get("/verify", query_string={"c": packed.rstrip(b"=").decode()})
    assert_page(response)


@FUZZ
@given(raw=credential_text)
def test_core_gives_a_typed_answer_for_text_and_bytes(verifier: Verifier, raw: str) -> None:
    assert typed_answer(lambda: verifier.verify(raw))
    assert typed_answer(lambda: verifier.verify(raw.encode("utf-8", "surrogatepass")))


@FUZZ
@given(raw=st.tuples(st.sampled_from(SIGNED_PATHS), json_text).map(lambda pr: spliced(*pr)))
def test_core_gives_a_typed_answer_for_parsed_objects(verifier: Verifier, raw: str) -> None:
    # What a lenient caller might hand the core: Python's own parse (NaN, duplicates, 1e309).
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return
    if isinstance(document, dict):
        assert typed_answer(lambda: verifier.verify(document))


_JWT_HEADER: Final = (
    base64.urlsafe_b64encode(json.dumps({"alg": "EdDSA", "typ": "vc+jwt", "kid": "k"}).encode())
    .rstrip(b"=")
    .decode()
)


def vc_jwt(payload: str) -> str:
    """A compact JWS whose payload is ``payload`` (JSON text, verbatim) and a junk signature."""
    body = base64.urlsafe_b64encode(payload.encode("utf-8", "surrogatepass")).rstrip(b"=")
    return f"{_JWT_HEADER}.{body.decode()}.{'A' * 86}"


@FUZZ
@given(payload=json_text)
def test_vc_jwt_with_a_hostile_payload_gets_a_typed_answer(
    client: FlaskClient, verifier: Verifier, payload: str
) -> None:
    token = vc_jwt(payload)
    assert typed_answer(lambda: verifier.verify(token))
    response = client.post("/credentials/verify", json={"verifiableCredential": token})
    assert_problem(response, API_ALLOWED)


@pytest.mark.parametrize(
    "payload", ['{"name": "\\ud800"}', '{"n": ' + "1" * 5000 + "}"], ids=["surrogate", "digits"]
)
def test_vc_jwt_payload_that_python_cannot_hold_is_a_parsing_error(
    client: FlaskClient, payload: str
) -> None:
    response = client.post("/credentials/verify", json={"verifiableCredential": vc_jwt(payload)})
    assert assert_problem(response, API_ALLOWED) == "PARSING_ERROR"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ('{"a": 1, "a": 2}', "PARSING_ERROR"),
        ('{"a": NaN}', "PARSING_ERROR"),
        ('{"a": -Infinity}', "PARSING_ERROR"),
        ("[" * 100_000 + "]" * 100_000, "JSON_TOO_DEEP"),
        ('"' + "x" * (MAX_BODY + 1) + '"', "REQUEST_TOO_LARGE"),
    ],
    ids=["duplicate_key", "nan", "minus_infinity", "deep_nesting", "huge_string"],
)
def test_api_refuses_what_the_caps_and_the_strict_parser_forbid(
    client: FlaskClient, raw: str, code: str
) -> None:
    response = client.post(
        "/credentials/verify",
        data=wrap("/credentials/verify", raw),
        content_type="application/json",
    )
    assert assert_problem(response, API_ALLOWED) == code


@pytest.mark.parametrize("literal", ["1e309", "-0", "18446744073709551616", '"\\ud800"'])
def test_edge_values_in_a_signed_credential_fail_verification_not_the_server(
    client: FlaskClient, literal: str
) -> None:
    raw = spliced(("credentialSubject", "achievement", "name"), literal)
    response = client.post(
        "/credentials/verify",
        data=wrap("/credentials/verify", raw),
        content_type="application/json",
    )
    assert response.status_code in (400, 422)
    assert assert_problem(response, API_ALLOWED) != ""


@pytest.mark.parametrize("field", ["validFrom", "validUntil"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_dates_past_the_representable_range_are_malformed_not_a_crash(
    client: FlaskClient, field: str, moment: str
) -> None:
    doc = copy.deepcopy(SIGNED)
    doc[field] = moment
    response = client.post("/credentials/verify", json={"verifiableCredential": doc})
    assert response.status_code == 422  # the proof fails too: the document was changed
    codes = [error["code"] for error in response.get_json(force=True)["errors"]]
    assert "MALFORMED_VALUE_ERROR" in codes, codes


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:01+01:01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
)
def test_options_at_at_the_edges_of_time_is_a_400(client: FlaskClient, moment: str) -> None:
    body = {"verifiableCredential": SIGNED, "options": {"at": moment}}
    response = client.post("/credentials/verify", json=body)
    assert assert_problem(response, API_ALLOWED) == "MALFORMED_VALUE_ERROR"
    assert response.status_code == 400


def test_signed_credential_still_verifies_through_the_splicer(client: FlaskClient) -> None:
    # The splicer is faithful: putting the original value back gives a verifying credential.
    path = ("credentialSubject", "achievement", "name")
    node: Any = SIGNED
    for step in path:
        node = node[step]
    raw = spliced(path, json.dumps(node))
    response = client.post(
        "/credentials/verify",
        data=wrap("/credentials/verify", raw),
        content_type="application/json",
    )
    assert response.status_code == 200, response.get_data()[:500]


# --- caps under a memory limit -------------------------------------------------------------

#: Address space the child may add to its own size after start-up (imports, app, warm-up).
HEADROOM_BYTES: Final = 768 * 1024 * 1024
#: Safety net only: the child's inputs take seconds; nothing is timed.
CHILD_TIMEOUT_SECONDS: Final = 600

_MIB: Final = 1024 * 1024
_DID: Final = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"


def _capped_inputs() -> dict[str, bytes]:
    """The largest hostile bodies the caps let in (or just past them)."""
    near = _MIB - 64
    huge_subject = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": _DID,
        "credentialSubject": {"name": "x" * (near - 2000)},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod",
            "proofValue": "z1111",
            "verificationMethod": f"{_DID}#{_DID[8:]}",
        },
    }
    inner = near - 1000

    def in_credential(value: str) -> bytes:
        """``value`` (JSON text) as the subject of a would-be credential, within the cap."""
        head = '{"verifiableCredential": {"@context": ["https://www.w3.org/ns/credentials/v2"], '
        return (
            head + f'"type": ["VerifiableCredential"], "credentialSubject": {value}}}}}'
        ).encode()

    return {
        "over_cap": b'{"verifiableCredential": "' + b"x" * _MIB + b'"}',
        "deep_at_cap_size": b"[" * near,
        "deep_in_string_jwt": json.dumps({"verifiableCredential": "[" * (_MIB // 2)}).encode(),
        "wide_at_cap": in_credential("[" + "[0]," * (inner // 4 - 2) + "0]"),
        "many_keys_at_cap": in_credential(
            "{" + ",".join(f'"k{i}":0' for i in range(inner // 12)) + "}"
        ),
        "surrogates_at_cap": in_credential('"' + "\\ud800" * (inner // 6) + '"'),
        "long_number": ("[" + "9" * (near - 2) + "]").encode(),
        "credential_with_huge_subject": json.dumps({"verifiableCredential": huge_subject}).encode(),
    }


def _code_in_page(data: bytes) -> str:
    match = HTML_CODE.search(data.decode("utf-8", "replace"))
    return match.group(1) if match else ""


def capped_child(headroom: int) -> dict[str, list[Any]]:
    """Run in a child process: limit the address space, then feed the capped inputs.

    The limit is the process's own size after start-up and warm-up plus ``headroom``; each
    input is sent three times (memory must not grow request after request).
    """
    settings_ = VerifierSettings()
    verifier = settings_.build_verifier(fetcher=OfflineFetcher())
    client = create_app(settings_, verifier=verifier).test_client()
    client.get("/readyz")  # warm-up: contexts and templates loaded before the limit
    client.post("/credentials/verify", json={"verifiableCredential": {}})
    with open("/proc/self/statm", encoding="ascii") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    limit = size + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out: dict[str, list[Any]] = {"limit": [limit, size]}
    for name, body in _capped_inputs().items():
        for _ in range(3):
            response = client.post(
                "/credentials/verify", data=body, content_type="application/json"
            )
        code = response.get_json(force=True)["code"] if response.status_code >= 400 else ""
        out[name] = [response.status_code, code]
    bomb = gzip.compress(b"[" + b" " * (64 * _MIB) + b"]", mtime=0)
    packed = base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    page = client.get("/verify", query_string={"c": packed})
    out["gzip_bomb_link"] = [page.status_code, _code_in_page(page.get_data())]
    uploaded = upload(client, b"{" * (6 * _MIB))
    out["upload_over_cap"] = [uploaded.status_code, _code_in_page(uploaded.get_data())]
    out["core_deep_text"] = [0, typed_answer(lambda: verifier.verify("[" * (4 * _MIB)))]
    return out


def test_caps_hold_under_a_memory_limit() -> None:
    tests_dir = str(Path(__file__).resolve().parent)
    program = (
        f"import sys, json; sys.path.insert(0, {tests_dir!r}); "
        "import test_fuzz_credentials as t; "
        f"print(json.dumps(t.capped_child({HEADROOM_BYTES})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    limit, size = answers.pop("limit")
    assert int(limit) - int(size) == HEADROOM_BYTES
    assert answers == {
        "over_cap": [413, "REQUEST_TOO_LARGE"],
        "deep_at_cap_size": [400, "JSON_TOO_DEEP"],
        "deep_in_string_jwt": [400, "JSON_TOO_DEEP"],
        "wide_at_cap": answers["wide_at_cap"],
        "many_keys_at_cap": answers["many_keys_at_cap"],
        "surrogates_at_cap": [400, "PARSING_ERROR"],
        "long_number": [400, "PARSING_ERROR"],
        "credential_with_huge_subject": answers["credential_with_huge_subject"],
        "gzip_bomb_link": [413, "REQUEST_TOO_LARGE"],
        "upload_over_cap": [413, "REQUEST_TOO_LARGE"],
        "core_deep_text": [0, "PARSING_ERROR"],
    }
    for name in ("wide_at_cap", "many_keys_at_cap"):
        status, code = answers[name]
        assert status == 422, (name, status, code)
        assert STABLE_CODE.match(code), (name, code)
    status, code = answers["credential_with_huge_subject"]
    assert status == 422, (status, code)
    assert STABLE_CODE.match(code), code
