"""API keys: who gets through, with which scopes, in which header."""

from __future__ import annotations

import sqlalchemy as sa

from reverse.api.constants import Scope
from reverse.api.models import ApiKey, Integration
from reverse.api.operations import revoke_key, set_integration_active
from reverse.core.actors import Actor
from reverse.extensions import db
from tests.fixtures.api import auth

PATH = "/api/v1/refunds"


def test_a_valid_key_gets_in_by_either_header_and_is_marked_used(app, client, api_key):
    raw = api_key(Scope.REFUNDS_READ)
    assert client.get(PATH, headers=auth(raw)).status_code == 200
    bearer = client.get(PATH, headers={"Authorization": f"Bearer {raw}"})
    assert bearer.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey.last_used_at)) is not None


def test_no_key_or_a_wrong_one_is_401(client, api_key):
    raw = api_key(Scope.REFUNDS_READ)
    for headers in (
        {},
        {"X-API-Key": raw + "x"},
        {"X-API-Key": "not-a-key"},
        {"Authorization": f"Basic {raw}"},
    ):
        response = client.get(PATH, headers=headers)
        assert response.status_code == 401, headers
        assert response.json["error"]["code"] == "unauthenticated"


def test_a_revoked_key_is_401(app, client, api_key):
    raw = api_key(Scope.REFUNDS_READ)
    with app.app_context():
        revoke_key(db.session.scalar(sa.select(ApiKey)), Actor.system("tests"))
        db.session.commit()
    assert client.get(PATH, headers=auth(raw)).status_code == 401


def test_a_switched_off_integration_is_401(app, client, api_key):
    raw = api_key(Scope.REFUNDS_READ)
    with app.app_context():
        set_integration_active(db.session.scalar(sa.select(Integration)), False)
        db.session.commit()
    assert client.get(PATH, headers=auth(raw)).status_code == 401


def test_a_key_without_the_scope_is_403_and_names_it(client, api_key):
    raw = api_key(Scope.REFUNDS_WRITE, Scope.ORDERS_READ)
    response = client.get(PATH, headers=auth(raw))
    assert response.status_code == 403
    assert response.json["error"] == {
        "code": "missing_scope",
        "message": "This API key lacks the scope refunds:read.",
        "details": {"scope": "refunds:read"},
    }


def test_every_operation_documents_its_scope_and_security(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("x-scope") in {s.value for s in Scope}, (method, path)
            assert {"ApiKey": []} in operation["security"]
            assert {"401", "403"} <= set(operation["responses"])
