"""The issuer's storage: typed ORM models, engine/session set-up and Alembic migrations."""

from __future__ import annotations

from issuer.db.engine import is_postgresql, make_engine, make_sessionmaker, migrate

__all__ = ["is_postgresql", "make_engine", "make_sessionmaker", "migrate"]
