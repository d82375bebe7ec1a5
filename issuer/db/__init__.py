"""The issuer's storage: typed ORM models, engine/session set-up and Alembic migrations."""

from __future__ import annotations

from issuer.console import models as console_models  # noqa: F401 (registers its models)
from issuer.db import branding as branding  # registers its model
from issuer.db import instance_settings as instance_settings  # registers its model
from issuer.db import keylifecycle as keylifecycle  # registers its models
from issuer.db import vcapi as vcapi  # registers its model
from issuer.db.engine import is_postgresql, make_engine, make_sessionmaker, migrate
from issuer.outbox import models as outbox_models  # noqa: F401 (registers its models)
from issuer.wallet import models as wallet_models  # noqa: F401 (registers its models)

__all__ = ["is_postgresql", "make_engine", "make_sessionmaker", "migrate"]
