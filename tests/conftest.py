"""Test set-up: one app per database backend, migrated once; tables emptied after each test.

Tests that take a `backend` argument run on SQLite; marked `databases` they also run on
PostgreSQL, marked `postgres` only there. PostgreSQL and Redis come from
REVERSE_TEST_DATABASE_URL / REVERSE_TEST_REDIS_URL (standard local ports by default). When a
service is unreachable the test is skipped with the reason — unless CI is set, where it fails.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from redis import Redis
from redis.exceptions import RedisError

from reverse import create_app
from reverse.extensions import db, limiter
from reverse.settings import TestingConfig

PG_URL = os.environ.get("REVERSE_TEST_DATABASE_URL", "postgresql://postgres@localhost:5432/test")
REDIS_URL = os.environ.get("REVERSE_TEST_REDIS_URL", "redis://localhost:6379/15")

pytest_plugins = [
    "tests.fixtures.catalog",
    "tests.fixtures.auth",
    "tests.fixtures.rmas",
    "tests.fixtures.orders",
    "tests.fixtures.resale",
    "tests.fixtures.repairs",
    "tests.fixtures.webhooks",
    "tests.fixtures.api",
    "tests.fixtures.disk",
    "tests.fixtures.redis_server",
]


def service_unavailable(
    what: str,
    error: object,
    hint: str = "set REVERSE_TEST_DATABASE_URL / REVERSE_TEST_REDIS_URL",
) -> None:
    """Skip a test whose service is missing — but fail it in CI, where it must run."""
    message = f"{what} is unavailable ({error}); {hint}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} — required in CI", pytrace=False)
    pytest.skip(message)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("postgres"):
        backends = ["postgresql"]
    elif metafunc.definition.get_closest_marker("databases"):
        backends = ["sqlite", "postgresql"]
    else:
        backends = ["sqlite"]
    metafunc.parametrize("backend", backends)


def make_test_app(database_url: str, instance: Path, **overrides: object) -> Flask:
    class Config(TestingConfig):
        DATABASE_URL = database_url
        MAIL_FILE_DIR = str(instance / "mail")

    for key, value in overrides.items():
        setattr(Config, key, value)
    os.environ["REVERSE_INSTANCE_PATH"] = str(instance)
    try:
        return create_app(Config)
    finally:
        del os.environ["REVERSE_INSTANCE_PATH"]


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _apps() -> Iterator[dict[str, Flask | Exception]]:
    apps: dict[str, Flask | Exception] = {}
    yield apps
    for app in apps.values():
        if isinstance(app, Flask):
            with app.app_context():
                db.engine.dispose()


def _app_for(backend: str, apps: dict, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    if backend not in apps:
        instance = tmp_path_factory.mktemp(f"instance-{backend}")
        if backend == "sqlite":
            url = f"sqlite:///{instance / 'test.db'}"
        else:
            url = PG_URL
            try:
                _reset_postgres(url)
            except sa.exc.OperationalError as exc:
                apps[backend] = exc
        if backend not in apps:
            app = make_test_app(url, instance)
            with app.app_context():
                upgrade()
            apps[backend] = app
    app = apps[backend]
    if isinstance(app, Exception):
        service_unavailable("PostgreSQL", app)
    return app


def empty_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - our table names


@pytest.fixture
def backend() -> str:
    """Overridden by parametrisation (see pytest_generate_tests); SQLite when unmarked."""
    return "sqlite"


@pytest.fixture
def app(backend: str, _apps: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app of this backend; every table is empty after the test.

    No context is pushed: requests made with the test client then get their own app
    context (and `g`, and database session), as they do in production.
    """
    app = _app_for(backend, _apps, tmp_path_factory)
    with app.app_context():
        limiter.reset()
    try:
        yield app
    finally:
        empty_tables(app)


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context for tests that call operations directly."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real, empty Redis database."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except RedisError as exc:
        service_unavailable("Redis", exc)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def read_mails(folder: str | Path) -> list[tuple[str, str, str]]:
    """(to, subject, body) of every mail the file backend wrote, decoded."""
    import email
    from email import policy

    mails = []
    for path in sorted(Path(folder).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        mails.append((message["To"], message["Subject"], message.get_content()))
    return mails
