"""Configuration layers and the production checks."""

import pytest

from reverse import create_app
from reverse.settings import ConfigurationError

PRODUCTION = {
    "REVERSE_ENV": "production",
    "REVERSE_DATABASE_URL": "postgresql://reverse@db.internal/reverse",
    "REVERSE_REDIS_URL": "redis://cache.internal:6379/0",
    "REVERSE_MAIL_BACKEND": "smtp",
}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REVERSE_INSTANCE_PATH", str(tmp_path))
    for name in ("REVERSE_CONFIG", "REVERSE_SECRET_KEY", "REVERSE_ENV"):
        monkeypatch.delenv(name, raising=False)

    def set_all(values: dict[str, str]) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return set_all


def test_production_refuses_to_start_without_a_secret_key(environment):
    environment(PRODUCTION)
    with pytest.raises(ConfigurationError, match="REVERSE_SECRET_KEY"):
        create_app()


def test_production_refuses_a_short_secret_key(environment):
    environment(PRODUCTION | {"REVERSE_SECRET_KEY": "changeme"})
    with pytest.raises(ConfigurationError, match="REVERSE_SECRET_KEY"):
        create_app()


def test_production_refuses_sqlite(environment):
    environment(PRODUCTION | {"REVERSE_SECRET_KEY": "x" * 40, "REVERSE_DATABASE_URL": ""})
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        create_app()


def test_production_starts_with_real_settings_and_secure_cookies(environment):
    environment(PRODUCTION | {"REVERSE_SECRET_KEY": "k" * 48})
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_embedded_defaults_keep_a_random_secret_in_the_instance_folder(environment, tmp_path):
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'reverse.db'}"


def test_layers_file_then_environment(environment, tmp_path):
    config_file = tmp_path / "site.py"
    config_file.write_text('STAFF_PAGE_SIZE = 25\nMAIL_FROM = "From File <a@example.jp>"\n')
    environment({"REVERSE_CONFIG": str(config_file), "REVERSE_STAFF_PAGE_SIZE": "10"})
    app = create_app()
    assert app.config["MAIL_FROM"] == "From File <a@example.jp>"  # file over defaults
    assert app.config["STAFF_PAGE_SIZE"] == 10  # environment over file, parsed as JSON


def test_an_unknown_mode_is_refused(environment):
    environment({"REVERSE_ENV": "staging"})
    with pytest.raises(ConfigurationError, match="REVERSE_ENV"):
        create_app()
