"""Idempotency-Key: the same request again gets the first answer and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.api.constants import Scope
from reverse.api.models import IdempotencyRecord
from reverse.catalog.models import Product
from reverse.extensions import db
from tests.concurrency import at_once
from tests.fixtures.api import auth


def product(style: str = "T-100", jan: str = "4900000000016", **changes):
    body = {
        "style_code": style,
        "name_ja": "シャツ",
        "category": "tops",
        "variants": [{"sku": f"{style}-M", "jan": jan, "size": "M", "price_yen": 8900}],
    }
    return body | changes


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_replay_gets_the_first_answer_and_changes_nothing(app, client, api_key):
    key = api_key(Scope.PRODUCTS_WRITE)
    headers = auth(key, **{"Idempotency-Key": "k-1"})
    first = client.post("/api/v1/products", json=product(), headers=headers)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    # keys in another order are the same request
    reordered = dict(reversed(list(product().items())))
    second = client.post("/api/v1/products", json=reordered, headers=headers)
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_data() == first.get_data()
    with app.app_context():
        assert count(Product) == 1
        assert count(IdempotencyRecord) == 1


def test_the_same_key_with_another_request_is_422(app, client, api_key):
    key = api_key(Scope.PRODUCTS_WRITE)
    headers = auth(key, **{"Idempotency-Key": "k-1"})
    client.post("/api/v1/products", json=product(), headers=headers)
    other = client.post("/api/v1/products", json=product(name_ja="別物"), headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.scalar(sa.select(Product.name_ja)) == "シャツ"


def test_a_refused_request_keeps_no_record_so_it_can_be_corrected(app, client, api_key):
    key = api_key(Scope.PRODUCTS_WRITE)
    headers = auth(key, **{"Idempotency-Key": "k-2"})
    wrong = client.post("/api/v1/products", json=product(jan="4900000000010"), headers=headers)
    assert wrong.status_code == 422
    with app.app_context():
        assert count(IdempotencyRecord) == 0
    fixed = client.post("/api/v1/products", json=product(), headers=headers)
    assert fixed.status_code == 200
    assert "Idempotent-Replayed" not in fixed.headers


def test_keys_belong_to_one_integration_and_must_be_printable(app, client, api_key):
    mine = api_key(Scope.PRODUCTS_WRITE)
    theirs = api_key(Scope.PRODUCTS_WRITE)
    client.post("/api/v1/products", json=product(), headers=auth(mine, **{"Idempotency-Key": "k"}))
    response = client.post(
        "/api/v1/products",
        json=product(name_ja="新しい名前"),
        headers=auth(theirs, **{"Idempotency-Key": "k"}),
    )
    assert response.status_code == 200
    assert response.json["result"] == "updated"
    too_long = client.post(
        "/api/v1/products", json=product(), headers=auth(mine, **{"Idempotency-Key": "x" * 256})
    )
    assert too_long.status_code == 400
    assert too_long.json["error"]["code"] == "bad_idempotency_key"


@pytest.mark.databases
def test_concurrent_requests_with_one_key_create_one_thing(app, api_key):
    key = api_key(Scope.PRODUCTS_WRITE)
    headers = auth(key, **{"Idempotency-Key": "same"})

    def send(_n: int):
        response = app.test_client().post("/api/v1/products", json=product(), headers=headers)
        return response.status_code, response.get_json()

    results, raised = at_once(app, 6, send)
    assert raised == []
    assert {status for status, _ in results} == {200}
    assert len({str(body) for _, body in results}) == 1
    with app.app_context():
        assert count(Product) == 1
        assert count(IdempotencyRecord) == 1
