"""Configuration layers: class defaults (the embedded set-up) → file named by REVERSE_CONFIG →
REVERSE_* environment variables, then checks that production is not running on defaults."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

EMBEDDED = "embedded"
PRODUCTION = "production"


class DefaultConfig:
    """The embedded set-up: SQLite in the instance folder, jobs in-process, mail to files."""

    #: "embedded" or "production"; production refuses to start on defaults.
    ENV = EMBEDDED
    SECRET_KEY: str | None = None
    #: SQLAlchemy URL; empty means SQLite in the instance folder.
    DATABASE_URL = ""
    #: Redis URL; empty means jobs run in-process after commit.
    REDIS_URL = ""
    #: Where Flask-Limiter keeps its counters; empty means Redis when configured, else memory.
    RATELIMIT_STORAGE_URL = ""
    #: While that storage is unreachable each process counts in memory, so a Redis outage
    #: neither turns every rate-limited page (login, find my request, the API) into an error
    #: nor lifts the limits; the counters go back to Redis when it answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    #: Absolute base URL used in emails and PDFs ("http://127.0.0.1:5000" when empty).
    PUBLIC_BASE_URL = ""
    #: "file" writes .eml files into MAIL_FILE_DIR; "smtp" sends through SMTP_*.
    MAIL_BACKEND = "file"
    MAIL_FILE_DIR = ""
    MAIL_FROM = "Reverse <returns@example.jp>"
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    SMTP_TIMEOUT = 10
    #: Outbox rows still pending this many seconds after commit are re-delivered by the relay.
    OUTBOX_REDELIVER_AFTER = 30
    OUTBOX_MAX_ATTEMPTS = 5
    RELAY_INTERVAL = 5.0
    STAFF_PAGE_SIZE = 50
    #: shared secret of the carriers' tracking webhook (HMAC-SHA256); empty: webhook off
    TRACKING_WEBHOOK_SECRET = ""
    #: a return label unused this many days expires the case
    LABEL_EXPIRY_DAYS = 14
    # -- work queues (/staff/queues): how long a case may wait in each, from its last status
    #: awaiting receipt (awaiting item, in transit), in days
    SLA_RECEIPT_DAYS = 14
    #: received, waiting for inspection, in hours
    SLA_INSPECTION_HOURS = 48
    #: inspected, waiting for the decision, in hours
    SLA_DECISION_HOURS = 24
    #: a pre-owned item reserved for pickup is held this long (including the trip to the store)
    RESALE_PICKUP_HOLD_DAYS = 7
    #: days from taking a repair in to the date promised to the customer, unless staff set one
    REPAIR_PROMISE_DAYS = 21
    #: … and at the store this long after it arrived there
    RESALE_READY_HOLD_DAYS = 7
    #: an online purchase request holds its item this long for the web shop's payment
    RESALE_PURCHASE_HOLD_HOURS = 24
    #: a case is "due soon" from this share of its SLA, in percent
    SLA_DUE_SOON_PERCENT = 75
    #: the dashboard warns when its figures are older than this and data changed since
    ANALYTICS_MAX_AGE_MINUTES = 60
    BABEL_DEFAULT_LOCALE = "ja"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"
    LANGUAGES = ("ja", "en")
    #: Larger than UPLOAD_MAX_BYTES, so an oversized photo reaches the view and is refused
    #: with a message beside its field instead of a bare 413 page.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    #: Where uploaded photos are kept; empty means "uploads" in the instance folder.
    UPLOAD_DIR = ""
    #: Largest photo accepted, in bytes, as sent.
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    #: Largest photo accepted, in pixels (width × height), checked before decoding.
    UPLOAD_MAX_PIXELS = 40_000_000
    SESSION_COOKIE_HTTPONLY = True
    #: Strict-Transport-Security max-age in production (0: no header, e.g. behind a proxy
    #: that sets its own)
    HSTS_SECONDS = 31_536_000
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    #: The staff login ends on the server `PERMANENT_SESSION_LIFETIME` after it began (its
    #: login_sessions row), so re-signing the cookie on every response would extend nothing.
    SESSION_REFRESH_EACH_REQUEST = False
    REMEMBER_COOKIE_DURATION = timedelta(days=0)
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # -- the JSON API (flask-smorest): the OpenAPI document at /api/v1/openapi.json
    API_TITLE = "Reverse API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    #: requests per minute one API key may make
    API_RATE_LIMIT = "600 per minute"


class TestingConfig(DefaultConfig):
    TESTING = True
    SECRET_KEY = "testing-only-secret"  # noqa: S105 - never used outside the test suite
    LOGIN_RATE_LIMIT = "1000 per minute"
    RATELIMIT_STORAGE_URL = "memory://"


def load_config(app: Flask, config: dict | type | None) -> None:
    """Fill app.config from the layers; `config` (a class or dict) replaces the defaults."""
    if isinstance(config, dict):
        app.config.from_object(DefaultConfig)
        app.config.update(config)
    else:
        app.config.from_object(config or DefaultConfig)
    if config is None:
        config_file = os.environ.get("REVERSE_CONFIG")
        if config_file:
            app.config.from_pyfile(str(Path(config_file).resolve()))
        app.config.from_prefixed_env(prefix="REVERSE")
    _derive(app)
    _check_production(app)


def _derive(app: Flask) -> None:
    cfg = app.config
    instance = Path(app.instance_path)
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{instance / 'reverse.db'}"
    url = cfg["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}} | dict(
            cfg["SQLALCHEMY_ENGINE_OPTIONS"]
        )
    cfg["RATELIMIT_STORAGE_URI"] = cfg["RATELIMIT_STORAGE_URL"] or cfg["REDIS_URL"] or "memory://"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    cfg["PUBLIC_BASE_URL"] = (cfg["PUBLIC_BASE_URL"] or "http://127.0.0.1:5000").rstrip("/")
    cfg["MAIL_FILE_DIR"] = cfg["MAIL_FILE_DIR"] or str(instance / "mail")
    cfg["UPLOAD_DIR"] = cfg["UPLOAD_DIR"] or str(instance / "uploads")
    if not cfg.get("SECRET_KEY") and cfg["ENV"] != PRODUCTION:
        cfg["SECRET_KEY"] = _instance_secret(instance)


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so embedded sessions survive a restart."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class ConfigurationError(RuntimeError):
    """Raised when production settings are missing or left at a default."""


def _check_production(app: Flask) -> None:
    cfg = app.config
    if cfg["ENV"] not in (EMBEDDED, PRODUCTION):
        raise ConfigurationError(f"REVERSE_ENV must be '{EMBEDDED}' or '{PRODUCTION}'")
    if cfg["ENV"] != PRODUCTION:
        return
    problems = []
    key = cfg.get("SECRET_KEY") or ""
    if len(key) < 32 or key in {DefaultConfig.SECRET_KEY, TestingConfig.SECRET_KEY}:
        problems.append("REVERSE_SECRET_KEY must be set to a random value of 32+ characters")
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append("REVERSE_DATABASE_URL must point at PostgreSQL")
    if not cfg["REDIS_URL"]:
        problems.append("REVERSE_REDIS_URL must be set")
    if cfg["MAIL_BACKEND"] != "smtp":
        problems.append("REVERSE_MAIL_BACKEND must be 'smtp'")
    if problems:
        raise ConfigurationError("Production configuration: " + "; ".join(problems))
    cfg["SESSION_COOKIE_SECURE"] = True
    cfg["REMEMBER_COOKIE_SECURE"] = True
