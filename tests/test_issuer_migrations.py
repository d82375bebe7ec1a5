"""Upgrading a database that already holds data: every migration must keep rows and references."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from issuer.db.engine import alembic_config, make_engine, migrate
from issuer.db.models import Base

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_upgrade_from_0001_keeps_issuers_referenced_by_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    try:
        migrate(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO issuers (id, slug, name, url, email, did, did_method, cryptosuite,"
                    " key_type, is_default, created_at) VALUES (1, 'uni', 'Universiti',"
                    " 'https://u.example', 'r@u.example', 'did:web:u.example', 'web',"
                    " 'eddsa-rdfc-2022', 'Ed25519', 1, '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO issuer_keys (id, issuer_id, verification_method, key_type,"
                    " public_key_multibase, keystore_name, active, created_at) VALUES (1, 1,"
                    " 'did:web:u.example#k1', 'Ed25519', 'z6Mk', 'k1', 1, '2026-01-01 00:00:00')"
                )
            )
        migrate(engine)  # foreign keys are on: a table rebuild of issuers would fail here
        with engine.connect() as conn:
            row = conn.execute(text("SELECT slug, suspension_enabled FROM issuers")).one()
            keys = conn.execute(text("SELECT count(*) FROM issuer_keys")).scalar_one()
        # 0011: suspension entries off for every issuer (one credentialStatus, per OB 3.0)
        assert tuple(row) == ("uni", 0)
        assert keys == 1
    finally:
        engine.dispose()


_ISSUER = (
    "INSERT INTO issuers (id, slug, name, url, email, did, did_method, cryptosuite, key_type,"
    " is_default, created_at, suspension_enabled) VALUES (1, 'uni', 'Universiti',"
    " 'https://u.example', 'r@u.example', 'did:web:u.example', 'web', 'eddsa-rdfc-2022',"
    " 'Ed25519', :yes, :at, :yes)"
)
_LEARNER = (
    "INSERT INTO learners (id, external_id, email, name, salt, created_at)"
    " VALUES (1, 'S1', 's1@u.example', 'Siti', 'salt', :at)"
)
_AWARD = (
    "INSERT INTO awards (id, learner_id, award_type, achievement_code, issuer_id, credential_id,"
    " credential_json, issued_at, status) VALUES (:id, 1, :type, :code, 1, :cid, '{}', :at, :st)"
)


def _award(conn: Connection, award_id: str, kind: str, code: str, status: str) -> None:
    conn.execute(
        text(_AWARD),
        {
            "id": award_id,
            "type": kind,
            "code": code,
            "cid": f"https://u.example/credentials/{award_id}",
            "at": AT,
            "st": status,
        },
    )


def test_upgrade_from_0002_keeps_awards_and_components_and_allows_replacements(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine, "0002")
        with engine.begin() as conn:
            conn.execute(text(_ISSUER), {"yes": True, "at": AT})
            conn.execute(text(_LEARNER), {"at": AT})
            _award(conn, "coa-1", "COA", "DAF101", "revoked")
            _award(conn, "mms-1", "MMS", "PCDA", "active")
            conn.execute(
                text("INSERT INTO award_components VALUES ('mms-1', 'coa-1')"),
            )
        # foreign keys are on (SQLite: every connection): award_components references awards
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status, replaces_id FROM awards ORDER BY id")
            ).all()
            parts = conn.execute(text("SELECT award_id, component_award_id FROM award_components"))
            assert [tuple(r) for r in rows] == [
                ("coa-1", "revoked", None),
                ("mms-1", "active", None),
            ]
            assert [tuple(p) for p in parts] == [("mms-1", "coa-1")]
        with engine.begin() as conn:  # a replacement of the revoked COA may now be stored
            _award(conn, "coa-2", "COA", "DAF101", "active")
            conn.execute(text("UPDATE awards SET replaces_id = 'coa-1' WHERE id = 'coa-2'"))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _award(conn, "coa-3", "COA", "DAF101", "suspended")  # a second unrevoked one
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO award_components VALUES ('mms-1', 'no-such')"))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE awards SET replaces_id = 'no-such' WHERE id = 'coa-2'"))
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_from_0003_restores_the_table_constraint(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(text(_ISSUER), {"yes": True, "at": AT})
            conn.execute(text(_LEARNER), {"at": AT})
            _award(conn, "coa-1", "COA", "DAF101", "revoked")
            _award(conn, "mms-1", "MMS", "PCDA", "active")
            conn.execute(text("INSERT INTO award_components VALUES ('mms-1', 'coa-1')"))
        command.downgrade(alembic_config(engine), "0002")
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM award_components")).scalar_one()
            assert count == 1
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _award(conn, "coa-2", "COA", "DAF101", "active")
        migrate(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()
