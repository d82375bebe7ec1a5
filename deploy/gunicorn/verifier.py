"""gunicorn configuration of the sijil verifier (stateless; no database, no keys).

    gunicorn -c deploy/gunicorn/verifier.py verifier.web.wsgi:app

Listens on ``SIJIL_BIND`` (default ``0.0.0.0:8081``); the other knobs are in ``common.py``.
The app is preloaded in the master (it opens no connection) and forked into the workers, so
they share the parsed contexts and schemas. Each worker keeps its own key and status-list
caches. Metrics: ``GET /metrics`` sums all workers (prometheus_client multiprocess mode).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def _load_common() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "sijil_gunicorn_common", Path(__file__).with_name("common.py")
    )
    if spec is None or spec.loader is None:
        raise SystemExit("deploy/gunicorn/common.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_common = _load_common()
_settings = _common.server_settings(default_port=8081, default_timeout=30, preload=True)

proc_name = "sijil-verifier"
bind = _settings["bind"]
workers = _settings["workers"]
worker_class = _settings["worker_class"]
threads = _settings["threads"]
timeout = _settings["timeout"]
graceful_timeout = _settings["graceful_timeout"]
keepalive = _settings["keepalive"]
max_requests = _settings["max_requests"]
max_requests_jitter = _settings["max_requests_jitter"]
preload_app = _settings["preload_app"]
forwarded_allow_ips = _settings["forwarded_allow_ips"]
limit_request_line = _settings["limit_request_line"]
limit_request_fields = _settings["limit_request_fields"]
limit_request_field_size = _settings["limit_request_field_size"]
worker_tmp_dir = _settings["worker_tmp_dir"]
accesslog = _settings["accesslog"]
errorlog = _settings["errorlog"]
access_log_format = _settings["access_log_format"]
logconfig_dict = _settings["logconfig_dict"]
control_socket_disable = _settings["control_socket_disable"]
if _settings["control_socket"]:
    control_socket = _settings["control_socket"]
on_starting = _common.on_starting
child_exit = _common.child_exit
