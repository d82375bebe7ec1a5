"""Benchmark: wallet offers completed per second, end to end over real HTTP.

Run: ``python bench/bench_wallet.py [--offers 40]``. Not a test: one process.

The issuer (demo seeded, SQLite in a temporary folder, status lists on) is served by werkzeug's
threaded server on a loopback port that is also its base URL. Each offer is made by the service
(as the learner page does) and taken by the spec-written wallet clients of
``tests/wallet_clients.py``, sequentially:

- ``vcapi-direct``: interaction URL -> exchange -> the award as issued;
- ``vcapi-bound``: interaction URL -> DIDAuth request -> Ed25519Signature2020 presentation ->
  a copy bound to the wallet's did:key (signed and self-verified);
- ``oid4vci``: offer by reference -> metadata -> token -> nonce -> ``ldp_vc`` and
  ``jwt_vc_json`` (two signed, self-verified copies per offer).

Reported per flow: offers per second and the p50 / p99 time of one offer.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from wallet_clients import Oid4vciWallet, VcApiWallet  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from issuer.services.awards import list_awards  # noqa: E402
from issuer.services.bootstrap import open_runtime  # noqa: E402
from issuer.services.demo import seed_demo  # noqa: E402
from issuer.services.runtime import Runtime  # noqa: E402
from issuer.settings import Settings  # noqa: E402
from issuer.wallet.offers import create_offer  # noqa: E402
from issuer.web import create_app  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _flows(rt: Runtime, award_id: str) -> dict[str, Callable[[], None]]:
    def offer(bind: bool) -> tuple[str, str]:
        made = create_offer(rt, learner=None, award_ids=[award_id], bind_holder=bind, actor="bench")
        return made.links.interaction_url, made.links.credential_offer_uri

    def direct() -> None:
        wallet = VcApiWallet()
        if wallet.run(offer(False)[0]).status != 200:
            raise SystemExit("vcapi-direct failed")

    def bound() -> None:
        wallet = VcApiWallet()
        if wallet.run(offer(True)[0]).status != 200:
            raise SystemExit("vcapi-bound failed")

    def oid4vci() -> None:
        wallet = Oid4vciWallet()
        if any(a.status != 200 for a in wallet.run(offer(False)[1], None)):
            raise SystemExit("oid4vci failed")

    return {"vcapi-direct": direct, "vcapi-bound": bound, "oid4vci": oid4vci}


def main() -> None:
    """Run each flow ``--offers`` times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=40)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env(
            {
                "SIJIL_ENV": "development",
                "SIJIL_INSTANCE_DIR": folder,
                "SIJIL_BASE_URL": f"http://127.0.0.1:{port}",
                "SIJIL_KEY_PASSPHRASE": "bench-passphrase-not-secret",
                "SIJIL_SECRET_KEY": "bench-secret-not-secret",
                "SIJIL_RATE_LIMITS_ENABLED": "0",
            }
        )
        rt = open_runtime(settings, status_lists=True)
        seed_demo(rt)
        award = next(a for a in list_awards(rt, limit=None) if a.award_type == "COA")
        server = make_server("127.0.0.1", port, create_app(runtime=rt), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            print(f"load average {os.getloadavg()[0]:.2f}; {args.offers} offers per flow")
            for name, flow in _flows(rt, award.id).items():
                flow()  # warm-up: caches, pinned DID documents
                times = []
                for _ in range(args.offers):
                    start = time.perf_counter()
                    flow()
                    times.append(time.perf_counter() - start)
                times.sort()
                p99 = times[min(len(times) - 1, round(len(times) * 0.99))]
                print(
                    f"{name:13s} {len(times) / sum(times):7.1f} offers/s  "
                    f"p50 {statistics.median(times) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"
                )
        finally:
            server.shutdown()
            server.server_close()
            rt.close()


if __name__ == "__main__":
    main()
