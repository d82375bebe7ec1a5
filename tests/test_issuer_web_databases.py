"""The HTTP layer on SQLite and on a real PostgreSQL server: bad input stays a 4xx on both.

PostgreSQL is stricter than SQLite (no NUL in text, bounded VARCHARs, 64-bit integers), so the
input checks that keep a request from reaching the database are proven against it here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from issuer_web_support import auth, web_issuer

CASES: list[tuple[str, str, Any, int, str]] = [
    ("POST", "/tokens/99999999999999999999999/revoke", None, 404, "NOT_FOUND"),
    ("GET", "/learners/a%00b", None, 400, "MALFORMED_VALUE_ERROR"),
    ("GET", "/awards?learner=%00", None, 400, "MALFORMED_VALUE_ERROR"),
    (
        "PUT",
        "/learners/S77",
        {"email": "a@b.example", "name": "A\u0000B"},
        400,
        "MALFORMED_VALUE_ERROR",
    ),
    (
        "POST",
        "/issuers",
        {
            "slug": "long",
            "name": "L",
            "email": "a@b.example",
            "url": "https://x.example/" + "a" * 600,
        },
        422,
        "REQUEST_VALIDATION_ERROR",
    ),
    (
        "PUT",
        "/learners/" + "x" * 200,
        {"email": "a@b.example", "name": "N"},
        400,
        "MALFORMED_VALUE_ERROR",
    ),
    (
        "POST",
        "/progress",
        {"learner": "S1", "microCredential": "M" * 300, "type": "materialCompleted", "item": "I"},
        422,
        "UNKNOWN_REFERENCE",
    ),
    ("GET", "/credentials/" + "z" * 2000, None, 404, "NOT_FOUND"),
]


def test_hostile_values_are_refused_on_both_databases(instance: Path, db_url: str) -> None:
    with web_issuer(instance, database_url=db_url) as web:
        client = web.client()
        for method, path, body, status, code in CASES:
            response = client.open(
                path, method=method, headers=auth(web.tokens["admin"]), json=body
            )
            assert response.status_code == status, (path, response.get_data(as_text=True))
            assert response.get_json()["code"] == code


def test_progress_and_read_on_both_databases(instance: Path, db_url: str) -> None:
    with web_issuer(instance, database_url=db_url, demo=True) as web:
        client = web.client()
        events = [
            {
                "learner": "S1004",
                "microCredential": "ESG201",
                "type": "materialCompleted",
                "item": item,
            }
            for item in ("ESG201-M1", "ESG201-M2")
        ]
        headers = auth(web.tokens["issue"]) | {"Idempotency-Key": "db-1"}
        first = client.post("/progress", headers=headers, json={"events": events})
        assert first.status_code == 200
        assert [a["awardType"] for a in first.get_json()["issued"]] == ["COC"]
        again = client.post("/progress", headers=headers, json={"events": events})
        assert again.headers["Idempotent-Replayed"] == "true"
        listing = client.get("/awards?learner=S1004", headers=auth(web.tokens["read"]))
        assert [a["awardType"] for a in listing.get_json()["items"]] == ["COC"]
