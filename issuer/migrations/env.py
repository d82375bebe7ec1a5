"""Alembic environment: runs migrations on the engine handed over by issuer.db.engine.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine, text

from issuer.db.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass an engine via issuer.db.engine.migrate")
    return create_engine(url)


def run_migrations_online() -> None:
    """Run the migrations in one transaction on the configured engine."""
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several issuer instances may start at once: one migrates, the others wait
                # and then find the schema at head.
                connection.execute(text("SELECT pg_advisory_xact_lock(7356011)"))
            context.run_migrations()
        connection.commit()


run_migrations_online()
