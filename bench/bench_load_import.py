"""Load benchmark: bulk progress import by concurrent issuer processes on PostgreSQL (not a test).

    .venv/bin/python bench/bench_load_import.py [--rows 10000] [--scenarios split,single]
        [--verify 2000 | --verify 0 (all)] [--database-url postgresql+psycopg://...] [--notify]
        [--json OUT]

PostgreSQL: a throwaway cluster started with the tests' code (``tests/postgres.py``
``throwaway_cluster``: ``initdb`` from ``/usr/lib/postgresql/*/bin``, unix socket only,
``fsync=off``), or the server of ``--database-url`` (an admin URL; one database per scenario is
created there). Each scenario gets a fresh database and instance folder, then:

1. ``sijil-issuer init`` (migrations, default issuer and its encrypted key), as a subprocess;
2. the catalogue, in this process with the issuer's services: a programme ``BP`` of two
   micro-credentials ``U1``, ``U2`` (one material and one graded assessment each) and a
   stand-alone ``SA1`` (one material);
3. the progress CSV (README "Progress CSV columns"): per learner 5 rows (material + passing
   result for U1 and U2, SA1's material), so ``--rows`` 10,000 is 2,000 learners, and each
   learner is due 3 COCs, 2 COAs and 1 MMS: 12,000 credentials, each built, signed
   (eddsa-rdfc-2022), self-verified, given status entries and stored;
4. the import, timed from launch to the last exit: ``sijil-issuer import-progress FILE`` run by
   separate OS processes at once, as two registrar jobs or two instances would:

   - ``split``: 2 processes, the CSV split by learner into two halves;
   - ``single``: 1 process, the whole CSV (the comparison);
   - ``both`` (not run by default): 2 processes, each the whole CSV at once (idempotency
     under concurrency);

   Learners are not mailed their claim links (``SIJIL_NOTIFY_LEARNERS=0``) unless ``--notify``
   (development: files in ``<instance>/outbox``);

5. checks, all of which must hold (else exit status 1): every process exited 0 with no rejected
   row; every due award (learner x award type x achievement) exists exactly once and no other;
   every (status list, index) is used once; the stored credentials verify with the verifier's
   core (``verifier.report.Verifier``) resolving the issuer's did:web document and fetching its
   status lists as the issuer publishes them (served from its database by a fetcher in this
   process instead of the network): ``--verify N`` checks a sample of N spread over all award
   types, ``--verify 0`` all of them.

Printed: rows/s and awards/s (wall clock, including the processes' start-up), CPU seconds of the
import processes, and the checks. The machine has 2 cores: two processes are the most that can
run in parallel, and other jobs on the machine lower the wall-clock figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from postgres import PostgresUnavailableError, create_database, throwaway_cluster  # noqa: E402

from issuer.domain.catalogue import (  # noqa: E402
    AssessmentSpec,
    MaterialSpec,
    MicroCredentialSpec,
    ProgrammeSpec,
)
from issuer.services.awards import AwardView, list_awards  # noqa: E402
from issuer.services.bootstrap import open_runtime  # noqa: E402
from issuer.services.catalogue import upsert_micro_credential, upsert_programme  # noqa: E402
from issuer.services.issuers import did_document_for_path  # noqa: E402
from issuer.services.runtime import Runtime  # noqa: E402
from issuer.services.status import list_id_from_url, published_list  # noqa: E402
from issuer.settings import Settings  # noqa: E402
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchError, FetchResponse  # noqa: E402
from keys.resolve import Resolver  # noqa: E402
from verifier.report import Verifier  # noqa: E402
from verifier.status import StatusListClient  # noqa: E402

__all__ = ["ImportResult", "PublishedFetcher", "main"]

BASE_URL = "https://issuer.load.example.edu.my"
UNITS = (("U1", True), ("U2", True), ("SA1", False))
#: What each learner is due: (award type, achievement code).
DUE = (("COC", "U1"), ("COC", "U2"), ("COC", "SA1"), ("COA", "U1"), ("COA", "U2"), ("MMS", "BP"))
SCENARIOS = {"split": (2, True), "single": (1, False), "both": (2, False)}


@dataclass
class ImportResult:
    """One scenario: timings and the outcome of every check."""

    scenario: str
    processes: int
    rows: int
    learners: int
    seconds: float
    cpu_seconds: float
    awards: int
    expected_awards: int
    duplicates: int
    missing: int
    unexpected: int
    status_entries: int
    status_reused: int
    verified: int
    verify_failed: int
    process_failures: int
    load_before: float
    issued_by_process: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        """Rows processed per wall-clock second, all processes together (``both``: 2 x rows)."""
        processed = self.rows if self.scenario == "split" else self.rows * self.processes
        return processed / self.seconds

    @property
    def awards_per_second(self) -> float:
        """Awards stored per wall-clock second."""
        return self.awards / self.seconds

    @property
    def errors(self) -> int:
        """Every failed check."""
        return (
            self.duplicates
            + self.missing
            + self.unexpected
            + self.status_reused
            + self.verify_failed
            + self.process_failures
        )


class PublishedFetcher:
    """A Fetcher answering the issuer's public URLs from its database, as its web layer would.

    ``/.well-known/did.json`` (and other did:web paths) -> the DID document; ``/status/<id>`` ->
    the signed status list exactly as published. Anything else is ``FETCH_ERROR``.
    """

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The published document at ``url``."""
        base = self._rt.settings.base_url
        list_id = list_id_from_url(base, url)
        if list_id is not None:
            body = published_list(self._rt, list_id).body
            media = "application/vc+ld+json"
        elif url.startswith(base + "/"):
            body = json.dumps(did_document_for_path(self._rt, urlsplit(url).path)).encode()
            media = "application/did+json"
        else:
            raise FetchError(f"{url} is not published by this issuer", url=url)
        return FetchResponse(url=url, status=200, headers={"content-type": media}, body=body)

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The parsed published document at ``url``."""
        return json.loads(self.get_bytes(url, accept=accept).body)


def _environment(instance: Path, url: str, notify: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SIJIL_NOTIFY_LEARNERS": "1" if notify else "0",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": url,
            "SIJIL_BASE_URL": BASE_URL,
            "SIJIL_KEY_PASSPHRASE": "load-bench-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "load-bench-secret-not-secret",
        }
    )
    return env


def _mc(code: str, graded: bool) -> MicroCredentialSpec:
    return MicroCredentialSpec(
        code=code,
        title=f"Load course {code}",
        description="Load benchmark micro-credential",
        credits=2,
        slt_hours=80,
        mqf_level=6,
        delivery_mode="online",
        category="programme-based" if graded else "stand-alone",
        learning_outcomes=("Outcome one", "Outcome two"),
        materials=(MaterialSpec("M1", "Module 1"),),
        assessments=(AssessmentSpec("A1", "Final", Decimal(50)),) if graded else (),
    )


def _learner_rows(i: int) -> list[str]:
    who = f"L{i:06d},l{i}@load.example.my,Pelajar {i}"
    return [
        f"{who},U1,material_completed,M1,,",
        f"{who},U1,assessment_result,A1,{60 + i % 40},B",
        f"{who},U2,material_completed,M1,,",
        f"{who},U2,assessment_result,A1,{55 + i % 45},B",
        f"{who},SA1,material_completed,M1,,",
    ]


def _write_csvs(folder: Path, learners: int, parts: int) -> list[Path]:
    """The progress CSV for ``learners`` learners, split by learner into ``parts`` files."""
    header = "learner_id,learner_email,learner_name,micro_credential,event,item,score,grade"
    paths = []
    bounds = [learners * p // parts for p in range(parts + 1)]
    for p in range(parts):
        lines = [header]
        for i in range(bounds[p], bounds[p + 1]):
            lines += _learner_rows(i)
        path = folder / f"progress-{p + 1}-of-{parts}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _cli() -> str:
    found = Path(sys.executable).parent / "sijil-issuer"
    if not found.exists():
        raise SystemExit("sijil-issuer not found next to this Python: pip install -e .")
    return str(found)


class _Children:
    """Processes started here; stopped (by their ids) on any exit."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _set_up(folder: Path, url: str, notify: bool) -> dict[str, str]:
    instance = folder / "instance"
    env = _environment(instance, url, notify)
    init = subprocess.run(
        [_cli(), "init", "--name", "Universiti Beban"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if init.returncode != 0:
        raise SystemExit(f"sijil-issuer init failed: {init.stdout}{init.stderr}")
    settings = Settings.from_env(env)
    rt = open_runtime(settings, run_migrations=False)
    try:
        for code, graded in UNITS:
            upsert_micro_credential(rt, _mc(code, graded), actor="load-bench")
        upsert_programme(
            rt, ProgrammeSpec("BP", "Load programme", "Load", 6, ("U1", "U2")), actor="load-bench"
        )
    finally:
        rt.close()
    return env


def _import(
    children: _Children, env: dict[str, str], files: list[Path], logs: Path
) -> tuple[float, float, list[int], list[str]]:
    """Run one ``import-progress`` process per file at once; (wall s, CPU s, codes, outputs)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = []
    outputs = []
    for n, path in enumerate(files):
        out = logs / f"import-{n + 1}.log"
        outputs.append(out)
        with out.open("wb") as sink:
            proc = subprocess.Popen(
                [_cli(), "import-progress", str(path)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        children.procs.append(proc)
        procs.append(proc)
    codes = [proc.wait(timeout=3600) for proc in procs]
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    texts = [out.read_text(encoding="utf-8", errors="replace") for out in outputs]
    return seconds, cpu, codes, texts


def _sample(awards: list[AwardView], size: int) -> list[AwardView]:
    if size <= 0 or size >= len(awards):
        return awards
    by_type: dict[str, list[AwardView]] = {}
    for award in awards:
        by_type.setdefault(award.award_type, []).append(award)
    chosen: list[AwardView] = []
    for group in by_type.values():
        want = max(1, size * len(group) // len(awards))
        step = max(1, len(group) // want)
        chosen += group[::step][:want]
    return chosen


def _check(env: dict[str, str], learners: int, verify: int) -> tuple[dict[str, int], list[str]]:
    settings = Settings.from_env(env)
    rt = open_runtime(settings, run_migrations=False)
    try:
        awards = list_awards(rt, limit=None)
        keys = Counter((a.learner, a.award_type, a.achievement_code) for a in awards)
        expected = {(f"L{i:06d}", kind, code) for i in range(learners) for kind, code in DUE}
        entries = [
            (e["statusListCredential"], e["statusListIndex"])
            for a in awards
            for e in a.credential().get("credentialStatus", [])
        ]
        fetcher = PublishedFetcher(rt)
        resolver = Resolver(fetcher)
        verifier = Verifier(
            resolver=resolver, fetcher=fetcher, status_client=StatusListClient(fetcher, resolver)
        )
        at = datetime.now(UTC)
        failures: list[str] = []
        checked = _sample(awards, verify)
        for award in checked:
            report = verifier.verify(award.credential(), at=at)
            if not report.verified:
                failures.append(f"{award.id} {award.award_type}: {report.error_codes}")
        counts = {
            "awards": len(awards),
            "duplicates": sum(n - 1 for n in keys.values() if n > 1),
            "missing": len(expected - set(keys)),
            "unexpected": len(set(keys) - expected),
            "status_entries": len(entries),
            "status_reused": len(entries) - len(set(entries)),
            "verified": len(checked) - len(failures),
            "verify_failed": len(failures),
            "without_status": sum(1 for a in awards if not a.credential().get("credentialStatus")),
        }
        return counts, failures
    finally:
        rt.close()


def _summary_line(output: str) -> str:
    """The CLI's "N rows: ... issued ..." line (its last line when it crashed)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    found = [line for line in lines if " rows: " in line]
    return found[-1] if found else (lines[-1] if lines else "(no output)")


def _run_scenario(
    name: str,
    admin_url: str,
    rows: int,
    verify: int,
    children: _Children,
    tmp: Path,
    notify: bool,
) -> ImportResult:
    processes, split = SCENARIOS[name]
    learners = rows // 5
    folder = tmp / name
    folder.mkdir()
    url = create_database(admin_url, f"sijil_load_{name}")
    env = _set_up(folder, url, notify)
    files = _write_csvs(folder, learners, processes if split else 1)
    if not split:
        files = files * processes
    load = os.getloadavg()[0]
    seconds, cpu, codes, outputs = _import(children, env, files, folder)
    summaries = [_summary_line(text) for text in outputs]
    failures = sum(1 for code in codes if code != 0)
    for code, text in zip(codes, outputs, strict=True):
        if code != 0:
            print(f"  import process exited {code}:\n{text[-3000:]}", file=sys.stderr)
    counts, verify_failures = _check(env, learners, verify)
    for line in verify_failures[:10]:
        print(f"  not verified: {line}", file=sys.stderr)
    if counts["without_status"]:
        print(f"  {counts['without_status']} credentials have no credentialStatus", file=sys.stderr)
    return ImportResult(
        scenario=name,
        processes=processes,
        rows=learners * 5,
        learners=learners,
        seconds=seconds,
        cpu_seconds=cpu,
        awards=counts["awards"],
        expected_awards=learners * len(DUE),
        duplicates=counts["duplicates"],
        missing=counts["missing"],
        unexpected=counts["unexpected"],
        status_entries=counts["status_entries"],
        status_reused=counts["status_reused"],
        verified=counts["verified"],
        verify_failed=counts["verify_failed"],
        process_failures=failures,
        load_before=load,
        issued_by_process=summaries,
    )


@contextmanager
def _database(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    try:
        with throwaway_cluster("load") as admin:
            yield admin
    except PostgresUnavailableError as exc:
        raise SystemExit(
            f"no PostgreSQL: {exc} (install postgresql or pass --database-url)"
        ) from exc


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # run every clean-up


def _table(results: list[ImportResult]) -> str:
    lines = [
        "| scenario | processes | rows | awards (expected) | wall s | rows/s | awards/s "
        "| CPU s | duplicates / missing | status index reused | verified | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario} | {r.processes} | {r.rows:,} | {r.awards:,} ({r.expected_awards:,}) "
            f"| {r.seconds:.1f} | {r.rows_per_second:.0f} | {r.awards_per_second:.1f} "
            f"| {r.cpu_seconds:.0f} | {r.duplicates} / {r.missing} | {r.status_reused} "
            f"| {r.verified:,} of {r.verified + r.verify_failed:,} | {r.errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="CSV rows (5 per learner)")
    parser.add_argument("--scenarios", default="split,single", help="split,single,both")
    parser.add_argument(
        "--notify", action="store_true", help="mail claim links (dev: <instance>/outbox)"
    )
    parser.add_argument("--verify", type=int, default=2000, help="credentials to verify; 0: all")
    parser.add_argument("--database-url", help="admin URL of a PostgreSQL server to use")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    names = [s for s in args.scenarios.split(",") if s]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {sorted(unknown)} (known: {sorted(SCENARIOS)})")
    signal.signal(signal.SIGTERM, _on_sigterm)
    children = _Children()
    results: list[ImportResult] = []
    with ExitStack() as stack:
        stack.callback(children.stop_all)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sijil-load-import-")))
        admin = stack.enter_context(_database(args.database_url))
        print(
            f"issuer bulk import on PostgreSQL: {args.rows} rows, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        for name in names:
            result = _run_scenario(name, admin, args.rows, args.verify, children, tmp, args.notify)
            results.append(result)
            print(
                f"  {name:<6} {result.processes} process(es): {result.awards} awards in "
                f"{result.seconds:.1f} s = {result.rows_per_second:.0f} rows/s, "
                f"{result.awards_per_second:.1f} awards/s (CPU {result.cpu_seconds:.0f} s, "
                f"load {result.load_before:.1f}); errors {result.errors}",
                flush=True,
            )
            for line in result.issued_by_process:
                print(f"    {line}")
            print(f"    {_table([result]).splitlines()[-1]}", flush=True)
            if args.json is not None:  # after each scenario: a stopped run keeps what it did
                args.json.write_text(
                    json.dumps([asdict(r) for r in results], indent=2) + "\n", encoding="utf-8"
                )
    print()
    print(_table(results))
    if any(r.errors for r in results):
        raise SystemExit("checks failed (see above)")


if __name__ == "__main__":
    main()
