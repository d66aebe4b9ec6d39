"""`flask users create`: clear errors and nothing written on bad input."""

import sqlalchemy as sa

from reverse.auth.models import User
from reverse.catalog.constants import LocationKind
from reverse.extensions import db


def _users(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(User.email)))


def test_creates_a_store_user_at_their_store(app, create_location):
    store = create_location(LocationKind.STORE, code="ST-TEST")
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "Ｔａｒｏ@Example.JP",
            "--name",
            "店舗 太郎",
            "--role",
            "store",
            "--location",
            store.code,
            "--password",
            "long-enough-password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert _users(app) == ["taro@example.jp"]


def test_store_staff_without_a_store_is_refused(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@example.jp",
            "--name",
            "A",
            "--role",
            "store",
            "--password",
            "long-enough-password",
        ]
    )
    assert result.exit_code != 0
    assert "location" in result.output
    assert _users(app) == []


def test_a_short_password_and_a_bad_email_are_both_reported(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "not-an-email",
            "--name",
            "A",
            "--role",
            "admin",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0
    assert "email" in result.output
    assert "password" in result.output
    assert _users(app) == []


def test_an_unknown_location_code_is_refused(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@example.jp",
            "--name",
            "A",
            "--role",
            "store",
            "--location",
            "NOPE",
            "--password",
            "long-enough-password",
        ]
    )
    assert result.exit_code != 0
    assert "NOPE" in result.output
    assert _users(app) == []


def test_the_same_email_twice_is_refused(app):
    args = [
        "users",
        "create",
        "--email",
        "a@example.jp",
        "--name",
        "A",
        "--role",
        "admin",
        "--password",
        "long-enough-password",
    ]
    assert app.test_cli_runner().invoke(args=args).exit_code == 0
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert "email:" in result.output
    assert _users(app) == ["a@example.jp"]
