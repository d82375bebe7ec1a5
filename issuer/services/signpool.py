"""Signing and self-verification in worker processes, so a large evaluation run uses every core.

A credential's proof and its self-verification are pure CPU work on data the database has
already given: the unsigned credential, the issuer's key, our pinned DID documents, our
issuers as the trust list and the text of our status lists. :class:`SigningPool` sends exactly
that to worker processes and gets back the signed JSON text, while the issuing process goes on
with the database work of the next awards (:func:`issuer.services.issuance.evaluate_learners`).

The worker runs the same code as in-process issuance (:func:`keys.dataintegrity.add_proof`
and :func:`issuer.services.selfcheck.check_own`, the verifier's report), against the status
list texts the issuing transaction read (:class:`SelfCheckContext`), so a credential is
returned only if it verifies against the lists that transaction would commit. A worker never
touches the database, the key store or the network: its resolver has our DID documents pinned
and an offline fetcher, and its status fetcher serves only the texts it was handed.

What crosses the process boundary is the private signing key (as a JWK) through the pool's
pipe to a worker; nothing is written to disk. Workers die with the fork server, and the fork
server with the issuing process (``PR_SET_PDEATHSIG`` on Linux, and the fork server's own
watch on its parent), so ``kill -9`` of an import leaves no orphan.

A worker's failure is returned as data (:class:`SigningFailure`), never raised across the
pipe: the caller then redoes the work in-process, where the error is raised with its type.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import logging
import multiprocessing
import queue
import signal
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, Final

from contexts.errors import SijilError
from issuer.credentials.text import credential_text
from issuer.services.selfcheck import check_own
from keys.dataintegrity import add_proof
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchError, FetchResponse
from keys.keypair import KeyPair
from keys.resolve import Resolver
from verifier import TrustedIssuer, TrustList, Verifier

__all__ = [
    "BrokenPoolError",
    "PendingTask",
    "SelfCheckContext",
    "SignedText",
    "SigningFailure",
    "SigningJob",
    "SigningPool",
    "sign_all",
    "sign_and_check",
]

log = logging.getLogger(__name__)

#: Seconds between checks that a worker whose result is awaited is still alive.
_LIVENESS_CHECK: Final = 0.5
#: Self-check contexts a worker keeps (the pool sends each once per worker).
_CONTEXTS_KEPT: Final = 8
#: Verifiers a worker keeps (one per self-check context it has seen, newest last).
_VERIFIERS_KEPT: Final = 4


@dataclass(frozen=True)
class SelfCheckContext:
    """What self-verification reads, as the issuing transaction sees it.

    ``key`` names this exact content (a worker reuses its verifier, and so its verified status
    lists, for jobs with the same key); ``status_lists`` maps each status list URL to the signed
    list credential's bytes."""

    key: str
    documents: tuple[Mapping[str, Any], ...]
    trust: tuple[TrustedIssuer, ...]
    status_lists: Mapping[str, bytes]


@dataclass(frozen=True)
class SigningJob:
    """One credential to sign and self-verify."""

    unsigned: Mapping[str, Any]
    #: the private key (never in a repr: a logged job must not leak it)
    key_jwk: Mapping[str, str] = dataclasses.field(repr=False)
    key_id: str | None
    key_controller: str | None
    cryptosuite: str
    verification_method: str
    created: datetime
    context: SelfCheckContext


@dataclass(frozen=True)
class SignedText:
    """A signed, self-verified credential: its compact JSON text, as stored."""

    text: str
    verification_method: str


@dataclass(frozen=True)
class SigningFailure:
    """Why a worker could not sign or self-verify (``code``: the error's code)."""

    code: str
    detail: str


class _StatusTexts:
    """A Fetcher serving the status list texts of one :class:`SelfCheckContext`; any other URL
    is ``FETCH_ERROR`` (self-verification never leaves the process)."""

    def __init__(self, texts: Mapping[str, bytes]) -> None:
        self._texts = texts

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The list credential's bytes."""
        body = self._texts.get(url)
        if body is None:
            raise FetchError(f"{url} is not one of this issuer's status lists", url=url)
        return FetchResponse(
            url=url, status=200, headers={"content-type": "application/vc+ld+json"}, body=body
        )

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The parsed list credential."""
        return json.loads(self.get_bytes(url).body)


class _Offline:
    """The resolver's fetcher in a worker: every DID we sign with is pinned."""

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        raise FetchError(f"a signing worker does not fetch {url}", url=url)

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        raise FetchError(f"a signing worker does not fetch {url}", url=url)


_verifiers: OrderedDict[str, Verifier] = OrderedDict()


def _verifier_for(context: SelfCheckContext) -> Verifier:
    found = _verifiers.get(context.key)
    if found is not None:
        _verifiers.move_to_end(context.key)
        return found
    resolver = Resolver(_Offline())
    for doc in context.documents:
        resolver.add_document(doc)
    verifier = Verifier(
        resolver=resolver,
        fetcher=_StatusTexts(context.status_lists),
        trust=TrustList.from_issuers(context.trust),
    )
    _verifiers[context.key] = verifier
    while len(_verifiers) > _VERIFIERS_KEPT:
        _verifiers.popitem(last=False)
    return verifier


_keys: OrderedDict[tuple[Any, ...], KeyPair] = OrderedDict()


def _key_for(job: SigningJob) -> KeyPair:
    """The job's key, decoded once per worker (a few keys at most)."""
    cache_key = (tuple(sorted(job.key_jwk.items())), job.key_id, job.key_controller)
    key = _keys.get(cache_key)
    if key is None:
        key = _keys[cache_key] = KeyPair.from_jwk(
            dict(job.key_jwk), id=job.key_id, controller=job.key_controller
        )
        while len(_keys) > _VERIFIERS_KEPT:
            _keys.popitem(last=False)
    return key


def sign_and_check(job: SigningJob) -> SignedText | SigningFailure:
    """Sign ``job.unsigned`` and self-verify it (in a worker; also callable in-process)."""
    try:
        key = _key_for(job)
        signed = add_proof(
            job.unsigned,
            key,
            cryptosuite=job.cryptosuite,
            verification_method=job.verification_method,
            created=job.created,
        )
        check_own(signed, _verifier_for(job.context), at=job.created)
        text = credential_text(signed)
    except SijilError as exc:
        return SigningFailure(exc.code, exc.detail)
    except Exception as exc:  # reported to the caller, which redoes the work in-process
        log.exception("signing worker failed")
        return SigningFailure("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
    return SignedText(text, job.verification_method)


def sign_all(jobs: Sequence[SigningJob]) -> list[SignedText | SigningFailure]:
    """:func:`sign_and_check` for each job, in order."""
    return [sign_and_check(job) for job in jobs]


def _die_with_parent() -> None:
    """Be killed when the parent (the fork server) dies, on Linux; leave Ctrl-C to the
    issuing process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass


def _serve(tasks: Connection, results: Connection) -> None:
    """A worker: sign each task's jobs and send back ``(task number, results)`` in order.

    A task is ``(number, new contexts, jobs)``; a job names its context by key, and the
    worker keeps the last ``_CONTEXTS_KEPT`` contexts sent (as the pool's bookkeeping does).
    A reader thread takes tasks off the pipe as soon as they come, so the issuing process
    never blocks sending (it may send many tasks before it reads a result); ``None`` ends.
    """
    _die_with_parent()
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    contexts: OrderedDict[str, SelfCheckContext] = OrderedDict()

    def read() -> None:
        try:
            while True:
                inbox.put(tasks.recv())
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=read, name="tasks", daemon=True).start()
    while (task := inbox.get()) is not None:
        number, sent, jobs = task
        for context in sent:
            contexts[context.key] = context
            while len(contexts) > _CONTEXTS_KEPT:
                contexts.popitem(last=False)
        full = [dataclasses.replace(job, context=contexts[job.context.key]) for job in jobs]
        results.send((number, sign_all(full)))


def _key_only(context: SelfCheckContext) -> SelfCheckContext:
    """``context`` without its content (the worker has it)."""
    return SelfCheckContext(key=context.key, documents=(), trust=(), status_lists={})


class BrokenPoolError(SijilError):
    """A signing worker died or its pipe broke (the run goes on in the issuing process)."""

    code = "SIGNING_POOL_BROKEN"
    title = "Signing worker failed"
    http_status = 500


class PendingTask:
    """A task sent to a worker; :meth:`result` waits for it."""

    def __init__(
        self, pool: SigningPool | None, number: int, worker: _Worker | None = None
    ) -> None:
        self._pool = pool
        self._number = number
        self.worker = worker
        self._results: list[SignedText | SigningFailure] | None = None

    def result(self) -> list[SignedText | SigningFailure]:
        """The jobs' results, in order. Raises ``SIGNING_POOL_BROKEN``."""
        if self._results is None:
            assert self._pool is not None
            self._results = self._pool.collect(self._number)
        return self._results


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    tasks: Connection
    results: Connection
    in_flight: set[int] = dataclasses.field(default_factory=set)
    #: keys of the self-check contexts the worker holds, oldest first (it keeps the same ones:
    #: it adds and drops them in the order they are sent)
    contexts: OrderedDict[str, None] = dataclasses.field(default_factory=OrderedDict)


class SigningPool:
    """Worker processes running :func:`sign_all`. Use as a context manager; one thread uses
    it (the issuing one).

    Tasks go straight down a pipe to the least busy worker and results are read back when
    the issuing thread asks for them: no pool thread in this process has to win the
    interpreter lock from the busy issuing thread before a worker gets its next task.

    The workers start in the background when the first task comes (a run with nothing due
    starts none); until they are up, tasks run in this process, so the run does not wait for
    them. Workers are forked from a ``forkserver`` that has imported this module and nothing
    else: nothing of the issuing process's database connections or threads is inherited, and
    a worker starts in milliseconds instead of importing the issuer again (``spawn`` would
    also import the program's ``__main__``: seconds of CPU per worker). If they cannot
    start, or one dies, every later task runs in this process."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("a signing pool needs at least one worker")
        self.workers = workers
        self._up: list[_Worker] = []
        self._ready = threading.Event()
        self._starter: threading.Thread | None = None
        self._next = 0
        self._done: dict[int, list[SignedText | SigningFailure]] = {}
        #: a worker died: every later task runs in this process
        self._broken = False

    def _start(self) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        started: list[_Worker] = []
        try:
            for _ in range(self.workers):
                task_out, task_in = context.Pipe(duplex=False)
                result_out, result_in = context.Pipe(duplex=False)
                process = context.Process(
                    target=_serve, args=(task_out, result_in), name="sijil-signer", daemon=True
                )
                process.start()
                task_out.close()
                result_in.close()
                started.append(_Worker(process, task_in, result_out))
        except Exception:  # tasks keep running in this process
            log.exception("signing workers did not start; signing in the issuing process")
            for worker in started:
                worker.process.kill()
            return
        self._up = started
        self._ready.set()

    def submit(
        self, jobs: Sequence[SigningJob], *, after: PendingTask | None = None
    ) -> PendingTask:
        """Send ``jobs`` as one task (or run them now, while the workers are starting).

        A task of several jobs (one learner's awards) is one round trip. ``after``: send to
        the worker that has that task (an MMS to the one that signed its COAs: they are still
        in its canonicalization cache). Each self-check context crosses the pipe once per
        worker; later jobs name it by key."""
        if self._starter is None:
            self._starter = threading.Thread(target=self._start, name="signing-pool", daemon=True)
            self._starter.start()
        number = self._next
        self._next += 1
        if not self._ready.is_set() or self._broken:
            task = PendingTask(None, number)
            task._results = sign_all(jobs)
            return task
        worker = after.worker if after is not None and after.worker is not None else None
        if worker is None:
            worker = min(self._up, key=lambda w: len(w.in_flight))
        contexts: list[SelfCheckContext] = []
        for job in jobs:
            if job.context.key not in worker.contexts:
                worker.contexts[job.context.key] = None
                contexts.append(job.context)
                while len(worker.contexts) > _CONTEXTS_KEPT:
                    worker.contexts.popitem(last=False)
        light = [dataclasses.replace(job, context=_key_only(job.context)) for job in jobs]
        try:
            worker.tasks.send((number, contexts, light))
        except OSError as exc:
            self._broken = True
            raise BrokenPoolError(f"a signing worker is gone ({exc})") from exc
        worker.in_flight.add(number)
        return PendingTask(self, number, worker)

    def collect(self, number: int) -> list[SignedText | SigningFailure]:
        """Wait for task ``number``'s results (reading others' on the way)."""
        while number not in self._done:
            worker = next((w for w in self._up if number in w.in_flight), None)
            if worker is None:
                raise BrokenPoolError(f"signing task {number} was not sent to a worker")
            try:
                while not worker.results.poll(_LIVENESS_CHECK):
                    if not worker.process.is_alive():
                        raise EOFError("the worker is gone")
                done, results = worker.results.recv()
            except (EOFError, OSError) as exc:
                self._broken = True
                raise BrokenPoolError(
                    f"a signing worker died (exit code {worker.process.exitcode})"
                ) from exc
            worker.in_flight.discard(done)
            self._done[done] = results
        return self._done.pop(number)

    def close(self) -> None:
        """Stop the workers (tasks not yet collected are dropped)."""
        if self._starter is not None:
            self._starter.join()
        for worker in self._up:
            with contextlib.suppress(OSError):
                worker.tasks.send(None)
            worker.tasks.close()
        for worker in self._up:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.results.close()
        self._up = []
        self._done.clear()

    def __enter__(self) -> SigningPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
