"""What the two gunicorn configurations share (loaded by ``issuer.py`` and ``verifier.py``).

Environment (all optional):

======================================= ================================================= ========
variable                                meaning                                           default
======================================= ================================================= ========
``SIJIL_BIND``                          address(es) to listen on, comma-separated         per app
``SIJIL_WORKERS`` (or ``WEB_CONCURRENCY``) worker processes                              2*cores+1,
                                                                                          at most 8
``SIJIL_THREADS``                       threads per worker (gthread workers)              4
``SIJIL_TIMEOUT``                       seconds before a silent worker is restarted       per app
``SIJIL_GRACEFUL_TIMEOUT``              seconds a worker gets to finish on shutdown       30
``SIJIL_MAX_REQUESTS``                  requests before a worker is recycled (+ jitter)   5000
``SIJIL_FORWARDED_ALLOW_IPS``           proxies trusted for ``X-Forwarded-Proto``          127.0.0.1
``SIJIL_LOG_FORMAT`` / ``SIJIL_LOG_LEVEL`` ``json`` or ``text`` / level                   json/INFO
``PROMETHEUS_MULTIPROC_DIR``            per-instance folder for the workers' metrics      a temp dir
``SIJIL_CONTROL_SOCKET``                path of gunicorn's control socket (``gunicornc``)  off
======================================= ================================================= ========

``PROMETHEUS_MULTIPROC_DIR`` is set (to a fresh temporary folder when not given) *before* any
sijil module is imported, because prometheus_client picks its storage when it is imported; the
folder is emptied when the master starts (``on_starting``) and a dead worker's files are
retired (``child_exit``). Give every instance on one host its own folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "child_exit",
    "env_int",
    "log_config",
    "metrics_dir",
    "on_starting",
    "server_settings",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_DEFAULT_WORKERS = 8


def metrics_dir() -> Path:
    """The multiprocess metrics folder, created and exported to the environment when unset."""
    value = os.environ.get(MULTIPROC_ENV, "").strip()
    if not value:
        value = tempfile.mkdtemp(prefix="sijil-metrics-")
        os.environ[MULTIPROC_ENV] = value
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


# Before anything imports prometheus_client (the sijil modules below do).
_METRICS_DIR = metrics_dir()


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    """An integer environment variable of at least ``minimum`` (``default`` when unset)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, not {value!r}") from None
    if number < minimum:
        raise SystemExit(f"{name} must be at least {minimum}")
    return number


def _default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


def log_config() -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: JSON lines unless ``SIJIL_LOG_FORMAT=text``."""
    from webplatform.logs import log_format_from_env, log_level_from_env, logging_config

    return logging_config(log_format_from_env(default="json"), log_level_from_env())


def server_settings(*, default_port: int, default_timeout: int, preload: bool) -> dict[str, Any]:
    """The gunicorn settings both services use, with the per-service defaults given."""
    workers_default = env_int("WEB_CONCURRENCY", _default_workers())
    binds = os.environ.get("SIJIL_BIND", "").strip() or f"0.0.0.0:{default_port}"
    max_requests = env_int("SIJIL_MAX_REQUESTS", 5000, minimum=0)
    control_socket = os.environ.get("SIJIL_CONTROL_SOCKET", "").strip()
    return {
        "bind": [b.strip() for b in binds.split(",") if b.strip()],
        "workers": env_int("SIJIL_WORKERS", workers_default),
        "worker_class": "gthread",
        "threads": env_int("SIJIL_THREADS", 4),
        "timeout": env_int("SIJIL_TIMEOUT", default_timeout),
        "graceful_timeout": env_int("SIJIL_GRACEFUL_TIMEOUT", 30),
        "keepalive": 5,
        "max_requests": max_requests,
        "max_requests_jitter": max_requests // 10,
        "preload_app": preload,
        # The reverse proxy terminates TLS; trust its X-Forwarded-Proto only from these hosts.
        "forwarded_allow_ips": os.environ.get("SIJIL_FORWARDED_ALLOW_IPS", "").strip()
        or "127.0.0.1",
        # Long enough for a verification link carrying a packed credential (?c=...).
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,  # noqa: S108
        "accesslog": None,  # access lines go through logconfig_dict (JSON with the request id)
        "errorlog": "-",
        "access_log_format": "%(m)s %(U)s %(s)s %(M)sms",
        "logconfig_dict": log_config(),
        # gunicorn >= 25 opens a control socket at one per-user path by default, which two
        # instances on one host would fight over: off unless SIJIL_CONTROL_SOCKET names one.
        "control_socket": control_socket or None,
        "control_socket_disable": not control_socket,
    }


def gunicorn_config(
    *, proc_name: str, default_port: int, default_timeout: int, preload: bool
) -> dict[str, Any]:
    """Every module-level name a service's config file sets: settings, name and hooks."""
    settings = server_settings(
        default_port=default_port, default_timeout=default_timeout, preload=preload
    )
    if settings["control_socket"] is None:
        del settings["control_socket"]
    return {
        **settings,
        "proc_name": proc_name,
        "on_starting": on_starting,
        "child_exit": child_exit,
    }


def on_starting(server: Any) -> None:
    """Master start: empty the metrics folder (old files would add stale counts)."""
    from webplatform.metrics import reset_multiprocess_dir

    reset_multiprocess_dir(_METRICS_DIR)


def child_exit(server: Any, worker: Any) -> None:
    """A worker died or was recycled: retire its metric files."""
    from webplatform.metrics import mark_worker_dead

    mark_worker_dead(int(worker.pid))
