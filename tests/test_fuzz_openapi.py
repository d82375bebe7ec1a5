"""Schemathesis fuzzing of every operation of both services, from their OpenAPI descriptions.

The issuer's description is built from its routes (``issuer.web.openapi``), so a new route is
fuzzed as soon as it exists; the verifier's is ``verifier/web/openapi.json`` (the JSON API)
plus, here, a description of its human pages (``GET /``, ``GET /verify``, ``POST /verify``;
they answer HTML) and of ``GET /metrics``. :func:`test_every_route_is_fuzzed` fails when a
route of either app is in no description.

Both apps are real: the issuer on a SQLite file with the seeded demo and an ``admin`` token
(``admin`` implies every scope; minted again when the fuzzer revokes it), the verifier with its
real :class:`verifier.report.Verifier` whose fetcher refuses every URL at once with
``FETCH_FORBIDDEN_ADDRESS`` (:class:`OfflineFetcher`), so nothing the fuzzer sends can make the
server wait on the network. Rate limits are off (``SIJIL_RATE_LIMITS_ENABLED=0`` for the
issuer; a ``VerifierSettings()`` built in code has them off): one client sending thousands of
requests would otherwise see 429s instead of the endpoints' answers.

Every generated request is checked (:func:`check_response`):

- never a 5xx;
- a 4xx from the API is ``application/problem+json`` with the RFC 9457 members and a stable
  SCREAMING_SNAKE ``code``, and ``status`` equal to the HTTP status; a 4xx from an HTML page
  names its code in the page (``data-code``);
- an operation that needs a token answers 401 ``INVALID_TOKEN`` without one;
- status code, content type and body conform to the description where schemathesis can tell.

This module is also the harness of the long run (``bench/fuzz_long.py``): the test runs tens of
cases per operation and variant with a fixed seed; the bench runs 10,000+ per operation.
"""

from __future__ import annotations

import json
import re
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final, TypeAlias

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from issuer_web_support import BASE_URL
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from schemathesis.schemas import APIOperation as _APIOperation
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from issuer.services.bootstrap import open_runtime
from issuer.services.demo import seed_demo
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app as create_issuer_app
from issuer.web.wallet import OAUTH_PATHS
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchResponse, ForbiddenAddressError
from verifier.settings import VerifierSettings
from verifier.web import create_app as create_verifier_app

__all__ = [
    "OPERATIONAL_PATHS",
    "PAGE_PATHS",
    "FuzzFailureError",
    "HangError",
    "OfflineFetcher",
    "Outcome",
    "Service",
    "Variant",
    "check_response",
    "issuer_service",
    "operation_labels",
    "run_variant",
    "service",
    "variants_of",
    "verifier_service",
]

Operation: TypeAlias = _APIOperation[Any, Any, Any, Any]
FuzzCase: TypeAlias = Case[Any]

PROBLEM_JSON: Final = "application/problem+json"
PROBLEM_MEMBERS: Final = ("type", "title", "status", "detail", "code")
STABLE_CODE: Final = re.compile(r"^[A-Z][A-Z0-9_]*$")
HTML_CODE: Final = re.compile(r'data-code="([^"]*)"')
#: Examples per operation and variant in the normal suite (fixed seed; the long run is bench/).
SHORT_EXAMPLES: Final = 8
SHORT_SEED: Final = 20261129
#: A request that takes longer than this (wall clock) is a hang (the long run's watchdog).
#: Generous: on a shared machine a niced fuzzer may get a tenth of a core, and a single
#: request then takes 20-30 s of wall time with no hang at all.
HANG_SECONDS: Final = 120.0


class FuzzFailureError(AssertionError):
    """A response broke one of the fuzzing rules (5xx, bad problem body, schema mismatch)."""


class HangError(BaseException):
    """Raised by the watchdog when one request runs past :data:`HANG_SECONDS`.

    A ``BaseException`` so that no ``except`` in the code under test swallows it.
    """


class OfflineFetcher:
    """A :class:`keys.fetch.Fetcher` for fuzzing: every URL is refused at once, typed.

    The verifier must still answer (a report with ``FETCH_FORBIDDEN_ADDRESS`` inside, or that
    problem for a page's ``?url=``); no request can wait on DNS or a socket.
    """

    def __init__(self) -> None:
        self.calls = 0

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        self.calls += 1
        raise ForbiddenAddressError(f"the network is off while fuzzing: {url!r}", url=url)

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        self.calls += 1
        raise ForbiddenAddressError(f"the network is off while fuzzing: {url!r}", url=url)


# --- the services ---------------------------------------------------------------------------


@dataclass
class Service:
    """One app under fuzz with its schema and how to authenticate."""

    name: str
    app: Flask
    schema: BaseSchema
    #: Operation labels (``"GET /awards"``) whose responses are HTML pages, not the JSON API.
    html_operations: frozenset[str] = frozenset()
    #: Whether an HTML error page must name its stable code (``data-code="..."``).
    html_codes_required: bool = True
    #: The bearer token sent on authenticated variants ('' when the service has no auth).
    token: Callable[[], str] = lambda: ""
    #: Called after every response (the issuer re-mints its token when the fuzzer revoked it).
    after_call: Callable[[FuzzCase, Response], None] = lambda _case, _response: None

    def operations(self) -> list[Operation]:
        """Every operation of the description, in document order.

        An operation schemathesis cannot read is an error here, not a silent omission.
        """
        out: list[Operation] = []
        for result in self.schema.get_all_operations():
            if not isinstance(result, Ok):
                raise FuzzFailureError(f"{self.name}: unusable operation: {result.err()}")
            out.append(result.ok())
        return out

    def operation(self, label: str) -> Operation:
        """The operation labelled ``"METHOD /path"``."""
        for op in self.operations():
            if op.label == label:
                return op
        raise KeyError(label)


def secured(op: Operation) -> bool:
    """Whether the operation declares a bearer-token requirement."""
    requirements = op.definition.raw.get("security")
    return bool(requirements)


@dataclass
class _TokenKeeper:
    """The fuzzer's admin token, minted again whenever the fuzz revokes it."""

    mint: Callable[[], tuple[int, str]]
    token_id: int = 0
    secret: str = ""
    remints: int = 0

    def __post_init__(self) -> None:
        self.token_id, self.secret = self.mint()

    def after_call(self, case: FuzzCase, response: Response) -> None:
        if (
            case.operation.path == "/tokens/{token_id}/revoke"
            and response.status_code < 300
            and str(case.path_parameters.get("token_id") if case.path_parameters else "")
            == str(self.token_id)
        ):
            self.token_id, self.secret = self.mint()
            self.remints += 1


@contextmanager
def issuer_service(instance: Path) -> Iterator[Service]:
    """The issuer app on a SQLite file with the demo seeded, and its fuzzing schema.

    Rate limits are off (``SIJIL_RATE_LIMITS_ENABLED=0``): the fuzzer is one client sending
    thousands of requests a minute, and a 429 would hide what the endpoint itself answers.
    """
    settings_ = Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": f"sqlite:///{instance}/sijil.db",
            "SIJIL_BASE_URL": BASE_URL,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            "SIJIL_RATE_LIMITS_ENABLED": "0",
        }
    )
    rt = open_runtime(settings_)
    try:
        seed_demo(rt)
        app = create_issuer_app(runtime=rt)

        def mint() -> tuple[int, str]:
            view, secret = create_token(rt, ["admin"], label="fuzz", actor="fuzz")
            return int(view.id), secret

        keeper = _TokenKeeper(mint)
        # Loaded as a document (not ``from_wsgi``) so that /openapi.json itself is fuzzed too.
        document = json.loads(app.test_client().get("/openapi.json").get_data(as_text=True))
        schema = schemathesis.openapi.from_dict(document)
        schema.app = app
        yield Service(
            name="issuer",
            app=app,
            schema=schema,
            html_operations=frozenset(op.label for op in _html_operations(schema)),
            # The learner's pages are for people; their error pages carry no machine code.
            html_codes_required=False,
            token=lambda: keeper.secret,
            after_call=keeper.after_call,
        )
    finally:
        rt.close()


def _html_operations(schema: BaseSchema) -> list[Operation]:
    out = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            continue  # reported by Service.operations
        op = result.ok()
        media: set[str] = set()
        for response in op.definition.raw.get("responses", {}).values():
            media.update(response.get("content", {}).keys())
        if "text/html" in media:
            out.append(op)
    return out


#: The verifier's human pages, described for fuzzing (they answer HTML, also on errors); the
#: JSON API's document (``verifier/web/openapi.json``) describes only the API blueprint.
PAGE_PATHS: Final[dict[str, Any]] = {
    "/": {
        "get": {
            "operationId": "pageIndex",
            "responses": {"200": {"description": "The page", "content": {"text/html": {}}}},
        }
    },
    "/verify": {
        "get": {
            "operationId": "pageVerifyLink",
            "parameters": [
                {"name": "c", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "url", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "The result page", "content": {"text/html": {}}},
                "302": {"description": "No credential named: back to the form"},
                "4XX": {"description": "Input error page", "content": {"text/html": {}}},
            },
        },
        "post": {
            "operationId": "pageVerifyForm",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {"credential": {"type": "string"}},
                        }
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "credential": {"type": "string"},
                                "file": {"type": "string", "format": "binary"},
                            },
                        }
                    },
                },
            },
            "responses": {
                "200": {"description": "The result page", "content": {"text/html": {}}},
                "4XX": {"description": "Input error page", "content": {"text/html": {}}},
            },
        },
    },
    "/credit-transfer": {
        "get": {
            "operationId": "pageCreditTransfer",
            "responses": {"200": {"description": "The page", "content": {"text/html": {}}}},
        },
        "post": {
            "operationId": "pageCreditTransferEvaluate",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "policy": {"type": "string"},
                                "challenge": {"type": "string"},
                                "domain": {"type": "string"},
                                "format": {"enum": ["page", "json", "pdf"]},
                                "files": {"type": "string", "format": "binary"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "The decision: page, JSON or PDF",
                    "content": {"text/html": {}, "application/json": {}, "application/pdf": {}},
                },
                "4XX": {"description": "Input error page", "content": {"text/html": {}}},
            },
        },
    },
}
#: Operational routes outside the JSON API's document, described for fuzzing.
OPERATIONAL_PATHS: Final[dict[str, Any]] = {
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "responses": {
                "200": {"description": "Prometheus exposition", "content": {"text/plain": {}}}
            },
        }
    },
}


def verifier_service() -> Service:
    """The verifier app (real core, :class:`OfflineFetcher`) with its API and pages described."""
    settings_ = VerifierSettings()
    app = create_verifier_app(
        settings_, verifier=settings_.build_verifier(fetcher=OfflineFetcher())
    )
    document = json.loads(app.test_client().get("/openapi.json").get_data(as_text=True))
    document["paths"].update(json.loads(json.dumps(PAGE_PATHS)))
    for path, item in OPERATIONAL_PATHS.items():
        if path not in document["paths"] and app.url_map.bind("").test(path, "GET"):
            document["paths"][path] = json.loads(json.dumps(item))
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    return Service(
        name="verifier",
        app=app,
        schema=schema,
        html_operations=frozenset(
            f"{method.upper()} {path}" for path, item in PAGE_PATHS.items() for method in item
        ),
    )


@contextmanager
def service(name: str, workdir: Path) -> Iterator[Service]:
    """``issuer`` or ``verifier``, ready to fuzz (closed after)."""
    if name == "issuer":
        instance = workdir / "instance"
        instance.mkdir(parents=True, exist_ok=True)
        with issuer_service(instance) as svc:
            yield svc
    elif name == "verifier":
        yield verifier_service()
    else:
        raise ValueError(f"unknown service {name!r}")


def operation_labels(name: str) -> list[str]:
    """The labels of every operation of a service (builds a throwaway instance)."""
    with tempfile.TemporaryDirectory() as tmp, service(name, Path(tmp)) as svc:
        return [op.label for op in svc.operations()]


# --- variants and checks --------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """How cases are generated and sent: schema-valid or not, with the token or without."""

    mode: GenerationMode
    authenticated: bool

    @property
    def name(self) -> str:
        return f"{self.mode.value}{'' if self.authenticated else '-noauth'}"


def variants_of(op: Operation) -> list[Variant]:
    """Positive and negative data; for a secured operation also positive data with no token."""
    out = [
        Variant(GenerationMode.POSITIVE, authenticated=True),
        Variant(GenerationMode.NEGATIVE, authenticated=True),
    ]
    if secured(op):
        out.append(Variant(GenerationMode.POSITIVE, authenticated=False))
    return out


def _problem_code(response: Response) -> str:
    """The ``code`` of a problem+json body, after checking the RFC 9457 members."""
    media = response.headers.get("content-type", [""])[0].split(";", 1)[0].strip()
    if media != PROBLEM_JSON:
        raise FuzzFailureError(f"{response.status_code} answered as {media!r}, not {PROBLEM_JSON}")
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise FuzzFailureError(f"{response.status_code} problem body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise FuzzFailureError(f"problem body is not an object: {body!r:.200}")
    missing = [member for member in PROBLEM_MEMBERS if member not in body]
    if missing:
        raise FuzzFailureError(f"problem body lacks {missing}: {body!r:.300}")
    if body["status"] != response.status_code:
        raise FuzzFailureError(f"problem status {body['status']!r} != HTTP {response.status_code}")
    for member in ("type", "title", "detail", "code"):
        if not isinstance(body[member], str):
            raise FuzzFailureError(
                f"problem member {member} is not a string: {body[member]!r:.100}"
            )
    code = str(body["code"])
    if not STABLE_CODE.match(code):
        raise FuzzFailureError(f"problem code {code!r} is not SCREAMING_SNAKE")
    return code


def _html_code(response: Response, *, required: bool) -> str:
    """The ``data-code`` of an HTML error page (``HTML_<status>`` when the page has none)."""
    text = response.content.decode("utf-8", "replace")
    if "Traceback (most recent call last)" in text:
        raise FuzzFailureError(f"{response.status_code} HTML page shows a traceback")
    match = HTML_CODE.search(text)
    if match is None:
        if required:
            raise FuzzFailureError(f"{response.status_code} HTML page names no code: {text:.300}")
        return f"HTML_{response.status_code}"
    if not STABLE_CODE.match(match.group(1)):
        raise FuzzFailureError(f"{response.status_code} HTML page code {match.group(1)!r} unstable")
    return match.group(1)


def _oauth_code(response: Response) -> str:
    """The ``code`` of an OAuth 2.0 error body (RFC 6749 section 5.2: ``application/json`` with
    an ``error`` member; ours carries the stable ``code`` beside it)."""
    body = json.loads(response.content)
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        raise FuzzFailureError(f"OAuth error body lacks 'error': {body!r:.300}")
    code = body.get("code")
    if not isinstance(code, str) or not STABLE_CODE.match(code):
        raise FuzzFailureError(f"OAuth error code {code!r} is not SCREAMING_SNAKE")
    return code


def error_code(svc: Service, case: FuzzCase, response: Response) -> str:
    """The stable code of a 4xx answer: problem+json for the API, ``data-code`` on a page, an
    OAuth error body for the OpenID4VCI endpoints (their description says ``application/json``)."""
    media = response.headers.get("content-type", [""])[0].split(";", 1)[0].strip()
    if case.operation.label in svc.html_operations and media == "text/html":
        return _html_code(response, required=svc.html_codes_required)
    if media == "application/json" and case.operation.path in OAUTH_PATHS:
        return _oauth_code(response)
    return _problem_code(response)


_CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


def check_response(svc: Service, case: FuzzCase, response: Response, variant: Variant) -> str:
    """Apply every fuzzing rule to one response; returns the error code ('' for 2xx/3xx).

    Raises :class:`FuzzFailureError` naming the broken rule.
    """
    status = response.status_code
    if status >= 500:
        raise FuzzFailureError(f"server error {status}: {response.content[:500]!r}")
    code = error_code(svc, case, response) if status >= 400 else ""
    if not variant.authenticated and secured(case.operation):
        # Routing (a path value the converter refuses) answers before authentication.
        if status == 401 and code != "INVALID_TOKEN":
            raise FuzzFailureError(f"401 without a token has code {code!r}, not INVALID_TOKEN")
        if status != 401 and not (status == 404 and code == "NOT_FOUND"):
            raise FuzzFailureError(f"no token, yet {status} {code}")
    if status == 429:
        return code  # a rate limiter is not part of the description
    try:
        case.validate_response(response, checks=_CONFORMANCE)
    except FailureGroup as exc:
        raise FuzzFailureError(str(exc)) from exc
    return code


# --- running --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one variant of one operation produced."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0
    slowest_request: str = ""
    hangs: int = 0


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise HangError(f"a request ran longer than {HANG_SECONDS} s")


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise :class:`HangError` in this (main) thread if the block runs past ``seconds``."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def send(svc: Service, case: FuzzCase, variant: Variant) -> Response:
    """Send ``case`` to the app in-process, with the token or with none."""
    headers: dict[str, str] = {}
    if variant.authenticated and svc.token():
        headers["Authorization"] = f"Bearer {svc.token()}"
    elif case.headers:
        for name in [n for n in case.headers if n.lower() == "authorization"]:
            del case.headers[name]
    response = case.call(app=svc.app, headers=headers)
    svc.after_call(case, response)
    return response


def fuzz_one(
    svc: Service, case: FuzzCase, variant: Variant, outcome: Outcome, *, strict: bool
) -> None:
    """Send one case, check it and record it in ``outcome`` (raise on failure when strict)."""
    started = time.perf_counter()
    try:
        with watchdog(HANG_SECONDS):
            response = send(svc, case, variant)
    except HangError:
        outcome.hangs += 1
        outcome.failures.append(f"hang: {case.as_curl_command()}")
        if strict:
            raise
        return
    except Exception as exc:  # an exception out of the app is its 500
        if strict:
            raise
        outcome.requests += 1
        outcome.statuses[500] += 1
        outcome.failures.append(f"server error (exception {exc!r:.300}): {case.as_curl_command()}")
        return
    elapsed = time.perf_counter() - started
    if elapsed > HANG_SECONDS:
        # The alarm fired where Python swallows exceptions (a gc callback): still a hang.
        outcome.hangs += 1
        outcome.failures.append(f"hang ({elapsed:.0f} s): {case.as_curl_command()}")
    outcome.requests += 1
    outcome.statuses[response.status_code] += 1
    if elapsed > outcome.slowest:
        outcome.slowest = elapsed
        outcome.slowest_request = f"{case.method} {case.formatted_path} -> {response.status_code}"
    try:
        code = check_response(svc, case, response, variant)
    except FuzzFailureError as exc:
        outcome.failures.append(f"{exc}\n    {case.as_curl_command()}")
        if strict:
            raise
        return
    if code:
        outcome.codes[code] += 1


def run_variant(
    svc: Service,
    op: Operation,
    variant: Variant,
    count: int,
    *,
    base_seed: int,
    strict: bool,
    outcome: Outcome | None = None,
) -> Outcome:
    """Send at least ``count`` generated requests (fewer only if none can be generated).

    Hypothesis runs in rounds with seeds ``base_seed``, ``base_seed + 1``, ... until ``count``
    is reached; an operation whose whole input space is a handful of requests (no parameters)
    gets those requests replayed.
    """
    outcome = outcome if outcome is not None else Outcome()
    strategy = op.as_strategy(generation_mode=variant.mode)
    target = outcome.requests + count
    round_ = 0
    while outcome.requests < target:
        drawn: list[FuzzCase] = []
        wanted = target - outcome.requests

        @settings(
            max_examples=wanted,
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
            report_multiple_bugs=False,
        )
        @seed(base_seed + round_)
        @given(case=strategy)
        def one(case: FuzzCase) -> None:
            drawn.append(case)  # noqa: B023 - `one` runs (and is dropped) in this round
            fuzz_one(svc, case, variant, outcome, strict=strict)

        try:
            one()
        except Unsatisfiable:
            if not drawn:
                return outcome  # this mode has nothing to generate (e.g. negative, no inputs)
        round_ += 1
        if len(drawn) < wanted and len(drawn) <= 4:
            # The whole input space was drawn: replay it up to the count.
            while outcome.requests < target:
                for case in drawn:
                    fuzz_one(svc, case, variant, outcome, strict=strict)
    return outcome


# --- the short run ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer_svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with ExitStack() as stack:
        yield stack.enter_context(service("issuer", tmp_path_factory.mktemp("fuzz-issuer")))


@pytest.fixture(scope="module")
def verifier_svc() -> Service:
    return verifier_service()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per operation, listed from the service's description at collection time."""
    for name in ("issuer", "verifier"):
        if f"{name}_label" in metafunc.fixturenames:
            metafunc.parametrize(f"{name}_label", operation_labels(name))


def _short_run(svc: Service, label: str) -> None:
    op = svc.operation(label)
    for variant in variants_of(op):
        outcome = run_variant(svc, op, variant, SHORT_EXAMPLES, base_seed=SHORT_SEED, strict=True)
        assert not outcome.failures, outcome.failures
        assert outcome.requests >= 1 or variant.mode is GenerationMode.NEGATIVE, variant


def test_issuer_operation_never_5xx_and_conforms(issuer_svc: Service, issuer_label: str) -> None:
    _short_run(issuer_svc, issuer_label)


def test_verifier_operation_never_5xx_and_conforms(
    verifier_svc: Service, verifier_label: str
) -> None:
    _short_run(verifier_svc, verifier_label)


_PARAM: Final = re.compile(r"{(\w+)}")
_RULE_ARG: Final = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def test_every_route_is_fuzzed(issuer_svc: Service, verifier_svc: Service) -> None:
    for svc in (issuer_svc, verifier_svc):
        routes = {
            f"{method} {rule.rule}"
            for rule in svc.app.url_map.iter_rules()
            if rule.endpoint != "static" and not rule.endpoint.startswith("console.")
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        }
        fuzzed = {op.method.upper() + " " + _PARAM.sub(r"<\1>", op.path) for op in svc.operations()}
        normalized = {_RULE_ARG.sub(r"<\1>", route) for route in routes}
        assert normalized <= fuzzed, normalized - fuzzed


def test_unauthenticated_admin_call_is_401_problem(issuer_svc: Service) -> None:
    op = issuer_svc.operation("GET /tokens")
    variant = Variant(GenerationMode.POSITIVE, authenticated=False)
    outcome = run_variant(issuer_svc, op, variant, 1, base_seed=SHORT_SEED, strict=True)
    assert outcome.statuses == Counter({401: outcome.requests})
    assert outcome.codes == Counter({"INVALID_TOKEN": outcome.requests})


def test_offline_fetcher_refuses_at_once() -> None:
    fetcher = OfflineFetcher()
    with pytest.raises(ForbiddenAddressError) as excinfo:
        fetcher.get_json("https://8.8.8.8/status/1")
    assert excinfo.value.code == "FETCH_FORBIDDEN_ADDRESS"
    assert fetcher.calls == 1


def test_check_response_rejects_a_5xx(verifier_svc: Service) -> None:
    op = verifier_svc.operation("GET /healthz")
    case = op.Case()
    response = Response(
        status_code=500,
        headers={"content-type": ["application/problem+json"]},
        content=b"{}",
        request=send(verifier_svc, case, Variant(GenerationMode.POSITIVE, True)).request,
        elapsed=0.0,
        verify=False,
    )
    with pytest.raises(FuzzFailureError, match="server error 500"):
        check_response(verifier_svc, case, response, Variant(GenerationMode.POSITIVE, True))


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_progress_event_dated_past_the_utc_range_is_a_400(issuer_svc: Service, moment: str) -> None:
    # Found by fuzzing: these parse, but converting them to UTC overflowed (a 500).
    event = {
        "learner": "S1001",
        "microCredential": "DAF101",
        "type": "materialCompleted",
        "item": "DAF101-M1",
        "occurredAt": moment,
    }
    response = issuer_svc.app.test_client().post(
        "/progress", json=event, headers={"Authorization": f"Bearer {issuer_svc.token()}"}
    )
    assert response.status_code == 400
    assert response.get_json(force=True)["code"] == "MALFORMED_VALUE_ERROR"


def test_vcapi_issue_checks_validity_dates_and_blames_the_caller_for_bad_content(
    issuer_svc: Service,
) -> None:
    client = issuer_svc.app.test_client()
    did = client.get("/.well-known/did.json").get_json()["id"]
    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:8a1f0b7e-6f4f-4c55-9d59-3f3b7c1d2e10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did, "type": ["Profile"], "name": "Universiti Contoh"},
        "validFrom": "9999-12-31T23:59:59Z",
        "name": "Future badge",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:example:achievement",
                "type": ["Achievement"],
                "name": "Achievement",
                "description": "Described",
                "criteria": {"narrative": "Done"},
            },
        },
    }
    response = client.post(
        "/credentials/issue",
        json={"credential": credential},
        headers={"Authorization": f"Bearer {issuer_svc.token()}"},
    )
    assert response.status_code == 201, response.get_json(force=True)
    signed = response.get_json()["verifiableCredential"]
    assert signed["validFrom"] == "9999-12-31T23:59:59Z"
    # one already expired when issued is signed: VC DM 2.0 lets validUntil be in the past
    credential = {**credential, "validFrom": "2020-01-01T00:00:00Z"}
    credential["validUntil"] = "2021-01-01T00:00:00Z"
    response = client.post(
        "/credentials/issue",
        json={"credential": credential},
        headers={"Authorization": f"Bearer {issuer_svc.token()}"},
    )
    assert response.status_code == 201, response.get_json(force=True)
    assert response.get_json()["verifiableCredential"]["validUntil"] == "2021-01-01T00:00:00Z"
    # one the Open Badges schema rejects is the caller's fault: 422 with the verifier's errors
    credential = {k: v for k, v in credential.items() if k not in ("id", "validUntil")}
    response = client.post(
        "/credentials/issue",
        json={"credential": credential},
        headers={"Authorization": f"Bearer {issuer_svc.token()}"},
    )
    assert response.status_code == 422
    problem = response.get_json(force=True)
    assert problem["code"] == "CREDENTIAL_REJECTED"
    assert "SCHEMA_VALIDATION_ERROR" in {e["code"] for e in problem["errors"]}


def test_status_list_id_past_64_bits_is_not_a_5xx(issuer_svc: Service) -> None:
    response = issuer_svc.app.test_client().get("/status/9223372036854775808")
    assert response.status_code == 404, response.status_code
