"""Key store and clock faults injected for real: a read-only key store, a rotation killed while
writing its key file, a wrong passphrase, and a wall clock that jumps a day under a serving
instance (libfaketime). Each ends in a typed error or an honest ``/readyz``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from faults_support import CLI, cli_env, in_private_mounts, run_cli

from issuer.services.bootstrap import open_runtime
from issuer.services.issuers import get_issuer
from issuer.services.keylifecycle import list_keys
from issuer.settings import Settings
from issuer.web import create_app
from keys.keystore import STALE_TMP_SECONDS, KeyStore

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def test_rotate_on_a_read_only_key_store_is_keystore_error_and_changes_nothing(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    env = cli_env(instance)
    assert run_cli(env, "init").returncode == 0
    keys = instance / "keys"
    script = f"""
mount --bind {keys} {keys}
mount -o remount,bind,ro {keys}
set +e
{CLI} keys rotate > {tmp_path}/rotate.out 2> {tmp_path}/rotate.err
echo $? > {tmp_path}/rotate.rc
"""
    done = in_private_mounts(script, env)
    assert done.returncode == 0, done.stderr
    err = (tmp_path / "rotate.err").read_text()
    assert (tmp_path / "rotate.rc").read_text().strip() == "1", err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("KEYSTORE_ERROR: "), err
    assert "Read-only file system" in last
    assert list(keys.glob("*.tmp")) == []
    rt = open_runtime(Settings.from_env(env), run_migrations=False)
    try:
        assert [k.state for k in list_keys(rt)] == ["active"]  # no staged key without its file
    finally:
        rt.close()


_KILLED_ROTATION = """
import resource, signal, sys
from issuer.services.issuers import rotate_key
from issuer.services.bootstrap import open_runtime
from issuer.settings import Settings

rt = open_runtime(Settings.from_env())
# From here on, writing past byte 200 of any file kills this process (SIGXFSZ): the first
# such write is the new key's file, in the middle of the rotation.
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it by default
resource.setrlimit(resource.RLIMIT_FSIZE, (200, resource.RLIM_INFINITY))
rotate_key(rt, actor="killed")
sys.exit(3)  # never reached
"""


def test_a_rotation_killed_mid_write_leaves_no_tmp_file_once_the_store_opens(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    env = cli_env(instance)
    assert run_cli(env, "init").returncode == 0
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_ROTATION],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGXFSZ, killed.stderr
    keys = instance / "keys"
    (leftover,) = keys.glob("*.tmp")  # what the killed writer left
    assert leftover.stat().st_size <= 200
    foreign = keys / (leftover.name.split(".key.json.")[0] + ".key.json.otherhost-1-ab.tmp")
    foreign.write_bytes(b"{")
    young = keys / (leftover.name.split(".key.json.")[0] + ".key.json.otherhost-2-cd.tmp")
    young.write_bytes(b"{")
    aged = time.time() - STALE_TMP_SECONDS - 60
    os.utime(foreign, (aged, aged))
    store = KeyStore(keys, "test-passphrase-not-secret")
    assert sorted(store.removed_leftovers) == sorted([leftover.name, foreign.name])
    assert [p.name for p in keys.glob("*.tmp")] == [young.name]  # another host may be writing
    rt = open_runtime(Settings.from_env(env), run_migrations=False)
    try:
        assert [k.state for k in list_keys(rt)] == ["active"]
        for info in rt.keystore.list_keys():
            rt.keystore.load(info.key_id)  # every stored key is whole
    finally:
        rt.close()


def test_readyz_with_a_wrong_passphrase_is_not_ready(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = cli_env(instance)
    assert run_cli(env, "init").returncode == 0
    good = open_runtime(Settings.from_env(env), run_migrations=False)
    try:
        answer = create_app(runtime=good).test_client().get("/readyz")
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["checks"]["keystore"]["status"] == "ok"
    finally:
        good.close()
    wrong = open_runtime(
        Settings.from_env({**env, "SIJIL_KEY_PASSPHRASE": "not-the-passphrase-at-all"}),
        run_migrations=False,
    )
    try:
        answer = create_app(runtime=wrong).test_client().get("/readyz")
        body = answer.get_json()
        assert answer.status_code == 503, body
        assert body["code"] == "NOT_READY"
        assert body["checks"]["keystore"]["code"] == "KEYSTORE_BAD_PASSPHRASE"
        assert body["checks"]["database"]["status"] == "ok"
    finally:
        wrong.close()


def test_readyz_without_the_key_file_is_not_ready(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = cli_env(instance)
    assert run_cli(env, "init").returncode == 0
    shutil.rmtree(instance / "keys")
    rt = open_runtime(Settings.from_env(env), run_migrations=False)
    try:
        answer = create_app(runtime=rt).test_client().get("/readyz")
        assert answer.status_code == 503
        assert answer.get_json()["checks"]["keystore"]["code"] == "KEYSTORE_KEY_NOT_FOUND"
        assert get_issuer(rt).slug == "default"
    finally:
        rt.close()


_SERVE = """
import sys
from werkzeug.serving import make_server
from issuer.web import create_app

server = make_server("127.0.0.1", 0, create_app())
print(server.server_port, flush=True)
server.serve_forever()
"""


def _get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    import json

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@pytest.mark.skipif(not LIBFAKETIME.exists(), reason="libfaketime is not installed")
def test_a_clock_jump_under_a_serving_instance_makes_it_not_ready(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = cli_env(instance)
    assert run_cli(env, "init").returncode == 0
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    faked = {
        **env,
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_NO_CACHE": "1",
        "DONT_FAKE_MONOTONIC": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE],
        env=faked,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        status, body = _get(port, "/readyz")
        assert status == 200, body
        assert body["checks"]["clock"]["status"] == "ok"
        offset.write_text("+1d\n")
        status, body = _get(port, "/readyz")
        assert status == 503, body
        assert body["checks"]["clock"]["code"] == "CLOCK_JUMP"
        assert "+86400 s" in body["checks"]["clock"]["detail"]
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=60)
    assert "CLOCK JUMP" in err  # logged loudly
