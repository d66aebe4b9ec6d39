"""Staff login: passwords, server-side sessions, rate limits and CSRF."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.auth.models import LoginSession
from reverse.extensions import db, limiter
from tests.conftest import csrf_token
from tests.fixtures.auth import PASSWORD, login


def test_staff_pages_send_anonymous_visitors_to_the_login_page(client):
    response = client.get("/staff/rmas")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


def test_a_user_logs_in_with_email_and_password(client, create_user):
    user = create_user(Role.SUPPORT)
    response = login(client, "  " + user.email.upper() + " ")
    assert response.status_code == 302
    assert client.get("/staff/rmas").status_code == 200


def test_a_wrong_password_is_refused_in_japanese_and_keeps_the_email(client, create_user):
    user = create_user(Role.SUPPORT)
    response = login(client, user.email, "not-the-password")
    assert response.status_code == 422
    assert "メールアドレスまたはパスワードが正しくありません" in response.text
    assert f'value="{user.email}"' in response.text
    assert client.get("/staff/rmas").status_code == 302


def test_the_error_is_in_english_when_english_is_chosen(client, create_user):
    user = create_user(Role.SUPPORT)
    client.get("/lang/en?next=/staff/login")
    response = login(client, user.email, "not-the-password")
    assert "The email or password is not right." in response.text


def test_an_empty_form_says_what_is_missing(client):
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login", data={"email": "", "password": "", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 422
    assert "メールアドレスを入力してください" in response.text


def test_an_inactive_user_cannot_log_in(app, client, create_user):
    user = create_user(Role.SUPPORT)
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE users SET active = false WHERE id = :id"), {"id": user.id}
        )
        db.session.commit()
    assert login(client, user.email).status_code == 422


def test_logout_ends_the_session_on_the_server(app, client, create_user):
    user = create_user(Role.SUPPORT)
    login(client, user.email)
    stolen_cookie = client.get_cookie("session").value

    page = client.get("/staff/rmas")
    client.post("/staff/logout", data={"csrf_token": csrf_token(page.text)})

    # Replaying the cookie from before the logout gets nobody in.
    client.set_cookie("session", stolen_cookie)
    assert client.get("/staff/rmas").status_code == 302
    with app.app_context():
        [session] = db.session.scalars(sa.select(LoginSession)).all()
        assert session.ended_at is not None


def test_logging_in_starts_a_new_session(client, create_user):
    user = create_user(Role.SUPPORT)
    client.get("/staff/login")
    before = client.get_cookie("session").value
    login(client, user.email)
    assert client.get_cookie("session").value != before


def test_logout_without_a_csrf_token_is_refused(client, create_user):
    user = create_user(Role.SUPPORT)
    login(client, user.email)
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/rmas").status_code == 200


def test_login_without_a_csrf_token_is_refused(client, create_user):
    user = create_user(Role.SUPPORT)
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/staff/rmas").status_code == 302


def test_a_next_link_to_another_site_is_ignored(client, create_user):
    user = create_user(Role.SUPPORT)
    page = client.get("/staff/login?next=https://evil.example/")
    response = client.post(
        "/staff/login?next=https://evil.example/",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/staff/rmas"


@pytest.fixture
def strict_login_limit(app):
    previous = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    yield
    app.config["LOGIN_RATE_LIMIT"] = previous
    with app.app_context():
        limiter.reset()


def test_login_attempts_are_rate_limited(client, create_user, strict_login_limit):
    user = create_user(Role.SUPPORT)
    statuses = [login(client, user.email, "wrong-password").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    # Even the right password waits until the window has passed.
    assert login(client, user.email).status_code == 429
