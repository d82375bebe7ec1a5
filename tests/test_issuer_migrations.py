"""Upgrading a database that already holds data: every migration must keep rows and references."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from issuer.db.engine import make_engine, migrate


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
        assert tuple(row) == ("uni", 1)
        assert keys == 1
    finally:
        engine.dispose()
