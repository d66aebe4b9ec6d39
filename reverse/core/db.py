"""Declarative base, column helpers and the one `commit()` every unit of work ends with."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _check_column(constraint: Any, _table: Any) -> str:
    """The column of a CHECK that a type (an enum) adds, so two enum columns of one table
    do not produce two constraints of the same name."""
    columns = list(getattr(constraint, "columns", []))
    return f"{columns[0].name}_" if columns and getattr(constraint, "_type_bound", False) else ""


NAMING_CONVENTION = {
    "check_column": _check_column,
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(check_column)s%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """A portable enum column: stored as its value in a VARCHAR with a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda e: [m.value for m in e],
        name=enum_cls.__name__.lower(),
        validate_strings=True,
    )


class TimestampMixin:
    #: when the row was created (UTC)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: when the row last changed (UTC)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def configure_engine(engine: sa.Engine) -> None:
    """SQLite: foreign keys on, WAL, and every transaction `BEGIN IMMEDIATE`.

    SQLite cannot lock a row; taking the write lock at the start of each transaction makes
    two concurrent state changes run one after the other instead of both reading the old
    state (the role `SELECT … FOR UPDATE` plays on PostgreSQL).
    """
    if engine.dialect.name != "sqlite":
        _ping_when_idle(engine)
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy hands back a connection used `read_only` with the driver's default
        # (transactions it starts itself): put back the setting above.
        if dbapi_connection is not None:
            dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get("isolation_level") != AUTOCOMMIT:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


#: a pooled connection unused for longer than this is pinged before it is handed out
IDLE_PING_SECONDS = 2.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Pessimistic disconnect handling for connections that sat idle in the pool.

    `pool_pre_ping` pings on every checkout: a round trip per request that under load costs as
    much as the request's own query. A connection handed back moments ago was alive then; one
    that waited longer (across a database restart, a failover, an idle timeout) is pinged, and
    a dead one is replaced before anyone uses it. A restart in the seconds between a
    connection's last use and its next still reaches one request, whose error makes
    SQLAlchemy drop the whole pool."""

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                # the pool discards this connection and checks out another
                raise sa.exc.DisconnectionError() from exc
            raise


#: the isolation level of `read_only` work: each statement on its own, no transaction
AUTOCOMMIT = "AUTOCOMMIT"


def read_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """For a view that reads a few rows and writes nothing: its queries (the login's included,
    so it goes outside the login decorators) run without a transaction. On PostgreSQL that
    saves the BEGIN and ROLLBACK round trips of a request, on SQLite the write lock every
    transaction takes. Each query sees the data as it is when it runs; a view whose queries
    must agree with each other needs a transaction and does not use this."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from reverse.extensions import db

        db.session.connection(execution_options={"isolation_level": AUTOCOMMIT})
        return view(*args, **kwargs)

    return wrapped


def commit() -> None:
    """Commit the session, then hand the jobs recorded in it to the queue (or run them inline)."""
    from reverse.extensions import db
    from reverse.jobs.outbox import deliver_committed

    db.session.commit()
    deliver_committed()


def is_postgresql() -> bool:
    from reverse.extensions import db

    return db.engine.dialect.name == "postgresql"


def lock_query(stmt: Any) -> Any:
    """Add FOR UPDATE where the database has row locks (SQLite runs IMMEDIATE transactions)."""
    return stmt.with_for_update() if is_postgresql() else stmt
