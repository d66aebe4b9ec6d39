"""Pooled PostgreSQL connections that died while idle are replaced before anyone uses them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from reverse.core import db as core_db
from reverse.extensions import db

pytestmark = pytest.mark.postgres


def _backend_pid() -> int:
    return db.session.scalar(sa.text("SELECT pg_backend_pid()"))


def _kill(pid: int) -> None:
    """Terminate a server process from outside the app's pool (as a restart would)."""
    other = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with other.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def _fresh_pool() -> None:
    # an empty pool: the connection used next is the one the test then checks out again
    db.session.remove()
    db.engine.dispose()


def test_a_connection_killed_while_idle_is_replaced(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_db, "IDLE_PING_SECONDS", 0.0)
    with app.app_context():
        _fresh_pool()
        pid = _backend_pid()
        db.session.remove()  # back to the pool, idle
        _kill(pid)

        assert _backend_pid() != pid  # a fresh connection answered, no error raised
        db.session.remove()


def test_a_connection_returned_moments_ago_is_not_pinged(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reason for pinging only idle connections: no extra round trip under load."""
    monkeypatch.setattr(core_db, "IDLE_PING_SECONDS", 3600.0)
    with app.app_context():
        _fresh_pool()
        _backend_pid()
        db.session.remove()
        pings: list[object] = []
        original = db.engine.dialect.do_ping
        monkeypatch.setattr(db.engine.dialect, "do_ping", lambda c: pings.append(c) or original(c))
        _backend_pid()
        db.session.remove()
        assert pings == []
