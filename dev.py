#!/usr/bin/env python3
"""Set up and run sijil with nothing but Python 3.11+.

    python3 dev.py run     # set up, seed demo data, run issuer + verifier, print URLs
    python3 dev.py test    # set up, run the whole gate: ruff, mypy --strict, import layers, pytest
    python3 dev.py audit   # pip-audit the installed dependencies (`.ci/run` runs it first)

``run`` takes ``--port N`` (issuer, default 5000), ``--verifier-port N`` (default 5001),
``--host ADDR`` (default 127.0.0.1) and ``--no-tls`` (plain HTTP issuer), and checks that both
ports are free before it sets anything up. ``test`` passes its arguments to pytest.

The first call creates ``.venv`` and installs the project with its dev extras; later
calls reinstall only when ``pyproject.toml`` changed (a hash stamp in the venv).
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".sijil-installed"


def _sh(*argv: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in argv), flush=True)
    proc = subprocess.run([str(a) for a in argv], cwd=ROOT, env=env, check=False)
    if proc.returncode != 0:
        sys.exit(proc.returncode)


def ensure_venv() -> None:
    """Create the virtualenv and install the project when missing or out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under any python3
        sys.exit("sijil needs Python 3.11 or newer")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    if not (BIN / "python").exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _sh(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _sh(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(want)


def _ports_free(argv: list[str]) -> None:
    """Exit with a clear message when a port ``run`` needs is taken (before any set-up)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--verifier-port", type=int, default=5001)
    args, _rest = parser.parse_known_args(argv)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    for option, port in (("--port", args.port), ("--verifier-port", args.verifier_port)):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((args.host, port))
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
                sys.exit(
                    f"PORT_IN_USE: port {port} on {args.host} is in use (or not allowed): stop "
                    f"what uses it, or choose another with {option} N"
                )


def run() -> None:
    """Seed the demo and serve issuer + verifier until Ctrl-C."""
    if not {"-h", "--help"} & set(sys.argv[2:]):
        _ports_free(sys.argv[2:])
    ensure_venv()
    python = str(BIN / "python")
    os.execv(python, [python, "-m", "issuer.devserver", *sys.argv[2:]])  # noqa: S606


def test() -> None:
    """The whole gate, the same one `.ci/run` runs."""
    ensure_venv()
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    _sh(BIN / "ruff", "format", "--check", ".", env=env)
    _sh(BIN / "ruff", "check", ".", env=env)
    _sh(BIN / "mypy", env=env)
    _sh(BIN / "lint-imports", env=env)
    workers = env.get("SIJIL_TEST_WORKERS", "2")
    _sh(BIN / "pytest", "-n", workers, *sys.argv[2:], env=env)


AUDIT_IGNORE = ROOT / ".ci" / "audit-ignore"


def _ignored_vulns() -> list[str]:
    """Advisory ids from ``.ci/audit-ignore`` (one per line, ``# reason`` after it is required)."""
    if not AUDIT_IGNORE.exists():
        return []
    ids = []
    for line in AUDIT_IGNORE.read_text().splitlines():
        vuln_id, _, reason = line.partition("#")
        if vuln_id.strip():
            if not reason.strip():
                sys.exit(f"{AUDIT_IGNORE}: {vuln_id.strip()} needs a '# reason'")
            ids.append(vuln_id.strip())
    return ids


def audit() -> None:
    """Fail on any known vulnerability in the installed dependencies.

    pip-audit asks the package index's vulnerability data. When that service cannot answer
    (an index mirror without it, no network), every package is reported as skipped: that is
    printed loudly as "not audited" rather than passed off as "no vulnerabilities", and does not
    fail the gate, because it says nothing about our dependencies either way.
    """
    ensure_venv()
    argv = [str(BIN / "pip-audit"), "--skip-editable", "--progress-spinner", "off", "-f", "json"]
    for vuln_id in _ignored_vulns():
        argv += ["--ignore-vuln", vuln_id]
    print("+", " ".join(argv), flush=True)
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(proc.stdout, proc.stderr, sep="\n", file=sys.stderr)
        print("dependency audit: NOT RUN (pip-audit gave no report)", flush=True)
        return
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if "skip_reason" in d]
    audited = len(deps) - len(skipped)
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    if vulnerable:
        sys.exit(f"dependency audit: {len(vulnerable)} vulnerable package(s)")
    if audited == 0:
        print(
            f"dependency audit: NOT AUDITED - the vulnerability service answered for none of "
            f"{len(deps)} packages (first reason: {skipped[0]['skip_reason'] if skipped else '-'})",
            flush=True,
        )
        return
    print(f"dependency audit: {audited} packages audited, no known vulnerabilities", flush=True)
    if skipped:
        print(f"  ({len(skipped)} not audited: {', '.join(d['name'] for d in skipped)})")


def main() -> None:
    commands = {"run": run, "test": test, "setup": ensure_venv, "audit": audit}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(commands)}}} [args...]")
    commands[sys.argv[1]]()


if __name__ == "__main__":
    main()
