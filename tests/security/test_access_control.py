"""Access control over every route the app has, read from its URL map: a new route is checked
the day it is added. No login → the login page; a role a staff route does not name → 403;
a form POST without its CSRF token → 400; another store's case → not found, and untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaEvent
from tests.conftest import csrf_token
from tests.fixtures.auth import login
from tests.fixtures.catalog import in_context

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
#: staff routes anyone may reach: the login form and logging out
OPEN_STAFF_ENDPOINTS = {"auth.login", "auth.logout"}
#: routes that take no CSRF token because a cookie does not authenticate them: the JSON API
#: (API keys) and the carriers' tracking webhook (HMAC signature)
TOKENLESS_PREFIXES = ("/api/",)


def _rules(app: Flask) -> Iterator[Rule]:
    yield from sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def _url(rule: Rule, **values: object) -> str:
    """The rule with made-up values: access is decided before anything is looked up."""
    made_up = dict(rule.defaults or {})
    for name in rule.arguments - made_up.keys():
        converter = rule._converters[name]
        made_up[name] = 999_999 if isinstance(converter, IntegerConverter) else "R999999999"
    made_up.update({k: v for k, v in values.items() if k in rule.arguments})
    path = rule.build(made_up, append_unknown=False)
    assert path is not None
    return path[1]


def _staff_rules(app: Flask) -> list[Rule]:
    return [
        r
        for r in _rules(app)
        if r.rule.startswith("/staff") and r.endpoint not in OPEN_STAFF_ENDPOINTS
    ]


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) & ({"GET"} | WRITES))


def _call(client: FlaskClient, method: str, path: str, token: str | None):  # type: ignore[no-untyped-def]
    data = {"csrf_token": token} if token else {}
    return client.open(path, method=method, data=data if method in WRITES else None)


def _client_as(app: Flask, user) -> tuple[FlaskClient, str]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return client, csrf_token(client.get("/staff/rmas").text)


def test_every_staff_route_is_behind_the_staff_login(app):
    unprotected = [
        r.endpoint
        for r in _staff_rules(app)
        if getattr(app.view_functions[r.endpoint], "staff_roles", None) is None
    ]
    assert unprotected == []


def test_every_staff_route_sends_anonymous_visitors_to_the_login_page(app, client):
    token = csrf_token(client.get("/staff/login").text)
    wrong = []
    for rule in _staff_rules(app):
        for method in _methods(rule):
            response = _call(client, method, _url(rule), token)
            if response.status_code != 302 or "/staff/login" not in response.headers["Location"]:
                wrong.append((method, rule.rule, response.status_code))
    assert wrong == []


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_every_staff_route_refuses_the_roles_it_does_not_name(app, create_user, role):
    client, token = _client_as(app, create_user(role))
    checked, wrong = 0, []
    for rule in _staff_rules(app):
        allowed = app.view_functions[rule.endpoint].staff_roles
        if not allowed or role in allowed:
            continue
        for method in _methods(rule):
            checked += 1
            status = _call(client, method, _url(rule), token).status_code
            if status != 403:
                wrong.append((method, rule.rule, status))
    assert checked > 0
    assert wrong == []


def test_every_form_post_needs_its_csrf_token(app, create_user):
    client, _token = _client_as(app, create_user(Role.ADMIN))
    checked, wrong = 0, []
    for rule in _rules(app):
        if rule.rule.startswith(TOKENLESS_PREFIXES):
            continue
        for method in sorted((rule.methods or set()) & WRITES):
            checked += 1
            response = client.open(_url(rule), method=method, data={})
            if response.status_code != 400:
                wrong.append((method, rule.rule, response.status_code))
    assert checked > 50
    assert wrong == []


def test_only_the_api_and_the_carriers_webhook_take_posts_without_a_csrf_token(app):
    tokenless = {
        r.rule
        for r in _rules(app)
        if (r.methods or set()) & WRITES and r.rule.startswith(TOKENLESS_PREFIXES)
    }
    assert all(path.startswith("/api/v1/") for path in tokenless)
    assert "/api/v1/tracking/events" in tokenless


@pytest.fixture
def other_stores_case(app, create_location, create_rma) -> Rma:
    """A repair taken in at another store: its staff may move it, ours may not see it."""
    theirs = create_location(LocationKind.STORE, code="ST-OTHER")
    return create_rma(RmaType.REPAIR, RmaStatus.ACCEPTED, location=theirs)


def _fingerprint(app: Flask, rma_id: int) -> tuple:
    with in_context(app):
        rma = db.session.get(Rma, rma_id)
        events = db.session.scalar(
            sa.select(sa.func.count()).select_from(RmaEvent).where(RmaEvent.rma_id == rma_id)
        )
        return rma.status, rma.version_id, events


def test_store_staff_find_nothing_of_another_stores_case_and_change_nothing(
    app, create_user, other_stores_case
):
    client, token = _client_as(app, create_user(Role.STORE))
    before = _fingerprint(app, other_stores_case.id)
    with in_context(app):
        email = db.session.get(Rma, other_stores_case.id).customer.email
    assert email
    checked, shown = 0, []
    for rule in _staff_rules(app):
        if "number" not in rule.arguments:
            continue
        allowed = app.view_functions[rule.endpoint].staff_roles
        if allowed and Role.STORE not in allowed:
            continue
        path = _url(rule, number=other_stores_case.number)
        for method in _methods(rule):
            checked += 1
            response = _call(client, method, path, token)
            if response.status_code not in (403, 404) or email in response.text:
                shown.append((method, rule.rule, response.status_code))
    assert checked > 10
    assert shown == []
    assert _fingerprint(app, other_stores_case.id) == before
