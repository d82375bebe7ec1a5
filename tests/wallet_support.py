"""The issuer on a live loopback port whose base URL is that port, for the wallet tests.

Wallet clients follow the URLs the issuer hands out, so the base URL must be where the issuer
really answers. The did:web document is pinned for verification (did:web resolves over HTTPS
only and this server is plain HTTP); status lists are fetched over HTTP as any verifier would.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issuer_web_support import web_issuer
from sqlalchemy import func, select
from werkzeug.serving import make_server

from issuer.services.awards import AwardView, list_awards
from issuer.services.issuance import own_issuers
from issuer.services.issuers import did_document
from issuer.services.runtime import Runtime
from issuer.wallet.models import WalletDelivery
from issuer.wallet.offers import CreatedOffer, create_offer
from keys.fetch import SafeFetcher
from keys.resolve import Resolver
from verifier import VerificationReport, verify_credential

__all__ = ["Site", "wallet_site"]


@dataclass
class Site:
    """The issuer on a live port, its runtime and the demo's awards."""

    rt: Runtime
    base: str

    def award(self, award_type: str, learner: str = "S1001") -> AwardView:
        """An active award of the demo learner."""
        return next(
            a
            for a in list_awards(self.rt, learner=learner, limit=None)
            if a.award_type == award_type and a.status == "active"
        )

    def offer(self, award_type: str, **options: Any) -> CreatedOffer:
        """A fresh offer of one award."""
        return create_offer(
            self.rt,
            learner=None,
            award_ids=[self.award(award_type).id],
            actor="test",
            bind_holder=options.pop("bind_holder", False),
            **options,
        )

    def deliveries(self) -> int:
        """How many credentials wallets have received so far."""
        with self.rt.reading() as session:
            return int(session.scalar(select(func.count()).select_from(WalletDelivery)) or 0)

    def verify(self, credential: Any) -> VerificationReport:
        """Verify as an outside verifier would: status lists over HTTP; the issuer's DID
        document (did:web is resolved over HTTPS only, and this server is plain HTTP) pinned."""
        fetcher = SafeFetcher(allow_local=True)
        resolver = Resolver(fetcher)
        resolver.add_document(did_document(self.rt))
        return verify_credential(
            credential, resolver=resolver, fetcher=fetcher, trust=own_issuers(self.rt)
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def wallet_site(instance: Path) -> Iterator[Site]:
    """The demo issuer (status lists on) served where its base URL says."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with web_issuer(instance, base_url=base, demo=True, status_lists=True) as issuer:
        server = make_server("127.0.0.1", port, issuer.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Site(rt=issuer.rt, base=base)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
