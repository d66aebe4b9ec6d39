"""/api/v1/orders: channels push orders one by one or in batches, upserted by channel + number."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.api.constants import Scope
from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.rmas.models import RmaLine
from tests.concurrency import at_once
from tests.fixtures.api import auth


@pytest.fixture
def shop(app, create_channel, create_variant, create_location):
    create_channel(ChannelCode.WEB)
    create_channel(ChannelCode.STORE)
    store = create_location(LocationKind.STORE, code="SHIBUYA")
    return {"shirt": create_variant(), "bag": create_variant(), "store": store}


def payload(shop, **changes):
    body = {
        "channel": "web",
        "number": "W-1001",
        "ordered_at": "2026-11-20T10:00:00+09:00",
        "delivered_at": "2026-11-22T15:00:00+09:00",
        "customer": {"email": "Hanako@Example.JP", "phone": "090-1234-5678", "name": "山田 花子"},
        "lines": [
            {"sku": shop["shirt"].sku, "quantity": 2, "unit_price_yen": 8900, "discount_yen": 800},
            {"sku": shop["bag"].sku, "quantity": 1, "unit_price_yen": 8900, "final_sale": True},
        ],
    }
    return body | changes


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.databases
def test_an_order_is_created_then_updated_then_unchanged(app, client, api_key, shop):
    key = api_key(Scope.ORDERS_WRITE, Scope.ORDERS_READ)
    created = client.post("/api/v1/orders", json=payload(shop), headers=auth(key))
    assert created.status_code == 200, created.json
    assert created.json["result"] == "created"
    order = created.json["order"]
    assert order["channel"] == "web"
    assert order["number"] == "W-1001"
    assert order["customer"] == {
        "email": "hanako@example.jp",
        "phone": "+819012345678",
        "name": "山田 花子",
    }
    assert order["total_yen"] == 8900 * 2 - 800 + 8900
    assert [line["paid_yen"] for line in order["lines"]] == [17000, 8900]
    assert order["lines"][1]["final_sale"] is True
    assert order["delivered_at"].startswith("2026-11-22T06:00:00")

    again = client.post("/api/v1/orders", json=payload(shop), headers=auth(key))
    assert again.json["result"] == "unchanged"
    changed = payload(shop, lines=payload(shop)["lines"][:1])
    updated = client.post("/api/v1/orders", json=changed, headers=auth(key))
    assert updated.json["result"] == "updated"
    assert len(updated.json["order"]["lines"]) == 1

    fetched = client.get("/api/v1/orders/web/W-1001", headers=auth(key))
    assert fetched.status_code == 200
    assert fetched.json == updated.json["order"]
    with app.app_context():
        assert count(Order) == 1
        assert count(OrderLine) == 1
        assert count(Customer) == 1


@pytest.mark.databases
def test_full_width_numbers_and_phones_are_normalised(app, client, api_key, shop):
    key = api_key()
    body = payload(
        shop,
        channel="store",
        number="Ｒ－２０２６１１２０－０００１",
        location="shibuya",
        delivered_at=None,
        customer={"phone": "０９０ー１２３４ー５６７８"},
    )
    response = client.post("/api/v1/orders", json=body, headers=auth(key))
    assert response.status_code == 200, response.json
    order = response.json["order"]
    assert order["number"] == "R-20261120-0001"
    assert order["location"] == "SHIBUYA"
    assert order["customer"]["phone"] == "+819012345678"
    assert order["customer"]["email"] is None
    assert order["delivered_at"] is None
    fetched = client.get("/api/v1/orders/store/R-20261120-0001", headers=auth(key))
    assert fetched.status_code == 200
    # the same customer, known by phone, when she buys on the web with her email too
    client.post("/api/v1/orders", json=payload(shop, number="W-2"), headers=auth(key))
    with app.app_context():
        assert count(Customer) == 1


def test_a_known_customer_is_found_by_email_or_phone(app, client, api_key, shop, create_customer):
    customer = create_customer(email="hanako@example.jp")
    key = api_key()
    body = payload(shop, customer={"email": "ＨＡＮＡＫＯ＠example.jp"})
    response = client.post("/api/v1/orders", json=body, headers=auth(key))
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Order.customer_id)) == customer.id


def test_invalid_payloads_get_field_details(app, client, api_key, shop):
    key = api_key(Scope.ORDERS_WRITE)
    body = payload(
        shop,
        channel="fax",
        ordered_at="2026-11-20T10:00:00",
        customer={"email": "not-an-email", "phone": "12"},
        lines=[{"sku": "X", "quantity": 0, "unit_price_yen": "100"}],
    )
    response = client.post("/api/v1/orders", json=body, headers=auth(key))
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    details = error["details"]
    assert set(details) == {"channel", "ordered_at", "customer", "lines"}
    assert set(details["customer"]) == {"email", "phone"}
    assert set(details["lines"]["0"]) == {"quantity", "unit_price_yen"}

    too_cheap = payload(shop)
    too_cheap["lines"][0]["discount_yen"] = 999_999
    response = client.post("/api/v1/orders", json=too_cheap, headers=auth(key))
    assert response.json["error"]["details"] == {
        "lines": {"0": {"discount_yen": ["The discount is larger than the line's price."]}}
    }
    with app.app_context():
        assert count(Order) == 0


def test_unknown_skus_and_locations_are_named(app, client, api_key, shop):
    key = api_key(Scope.ORDERS_WRITE)
    body = payload(shop, location="NOWHERE")
    body["lines"][1]["sku"] = "ｎｏ－ｓｕｃｈ"
    response = client.post("/api/v1/orders", json=body, headers=auth(key))
    assert response.status_code == 422
    assert response.json["error"]["details"] == {
        "location": ["No store or counter has the code NOWHERE."],
        "lines": {"1": {"sku": ["No product has the SKU NO-SUCH."]}},
    }


def test_keys_without_the_scope_are_refused(client, api_key, shop):
    assert client.post("/api/v1/orders", json=payload(shop)).status_code == 401
    reader = api_key(Scope.ORDERS_READ)
    refused = client.post("/api/v1/orders", json=payload(shop), headers=auth(reader))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "missing_scope"
    writer = api_key(Scope.ORDERS_WRITE)
    assert client.get("/api/v1/orders/web/W-1001", headers=auth(writer)).status_code == 403
    assert client.get("/api/v1/orders/web/W-1001", headers=auth(reader)).status_code == 404
    assert client.get("/api/v1/orders/fax/W-1001", headers=auth(reader)).status_code == 404


def test_a_replayed_request_changes_nothing_and_answers_the_same(app, client, api_key, shop):
    key = api_key(Scope.ORDERS_WRITE)
    headers = auth(key, **{"Idempotency-Key": "push-1"})
    first = client.post("/api/v1/orders", json=payload(shop), headers=headers)
    second = client.post("/api/v1/orders", json=payload(shop), headers=headers)
    assert second.status_code == first.status_code == 200
    assert second.json == first.json
    assert second.json["result"] == "created"
    assert second.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/orders", json=payload(shop, number="W-9"), headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert count(Order) == 1


@pytest.mark.databases
def test_lines_a_case_points_at_are_never_replaced(app, client, api_key, shop, create_rma):
    key = api_key(Scope.ORDERS_WRITE)
    client.post("/api/v1/orders", json=payload(shop), headers=auth(key))
    rma = create_rma()
    with app.app_context():
        line = db.session.scalar(sa.select(Order)).lines[0]
        db.session.add(RmaLine(rma_id=rma.id, variant_id=line.variant_id, order_line_id=line.id))
        db.session.commit()
    changed = payload(shop, lines=payload(shop)["lines"][:1])
    response = client.post("/api/v1/orders", json=changed, headers=auth(key))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "order_lines_held"
    assert response.json["error"]["details"] == {"lines": ["A request points at these lines."]}
    # the header may still change
    later = payload(shop, delivered_at="2026-11-23T09:00:00+09:00")
    assert client.post("/api/v1/orders", json=later, headers=auth(key)).json["result"] == "updated"
    with app.app_context():
        assert count(OrderLine) == 2


@pytest.mark.databases
def test_a_bulk_push_is_written_all_or_nothing(app, client, api_key, shop):
    key = api_key(Scope.ORDERS_WRITE)
    orders = [payload(shop, number=f"W-{n}") for n in range(3)]
    response = client.post("/api/v1/orders/bulk", json={"orders": orders}, headers=auth(key))
    assert response.status_code == 200, response.json
    assert response.json == {"created": 3, "updated": 0, "unchanged": 0}

    orders[0]["lines"] = orders[0]["lines"][:1]
    orders.append(payload(shop, number="W-3"))
    orders[1]["lines"][0]["sku"] = "NO-SUCH"
    refused = client.post("/api/v1/orders/bulk", json={"orders": orders}, headers=auth(key))
    assert refused.status_code == 422
    assert refused.json["error"]["details"] == {
        "orders": {"1": {"lines": {"0": {"sku": ["No product has the SKU NO-SUCH."]}}}}
    }
    twice = {"orders": [orders[0], orders[0]]}
    response = client.post("/api/v1/orders/bulk", json=twice, headers=auth(key))
    assert response.json["error"]["details"] == {
        "orders": {"1": {"number": ["This order appears twice in the batch."]}}
    }
    with app.app_context():
        assert count(Order) == 3
        assert count(OrderLine) == 6


@pytest.mark.databases
def test_parallel_pushes_of_one_new_order_make_one_order(app, api_key, shop):
    key = api_key(Scope.ORDERS_WRITE)
    body = payload(shop, number="W-RACE")

    def push(n: int) -> int:
        return app.test_client().post("/api/v1/orders", json=body, headers=auth(key)).status_code

    results, raised = at_once(app, 6, push)
    assert raised == []
    assert sorted(results) == [200] * 6
    with app.app_context():
        assert count(Order) == 1
        assert count(OrderLine) == 2
        assert count(Customer) == 1


@pytest.mark.databases
def test_text_with_nul_characters_is_refused_per_field(client, api_key, shop):
    key = api_key(Scope.ORDERS_WRITE, Scope.ORDERS_READ)
    response = client.post(
        "/api/v1/orders", json=payload(shop, number="W-\x001"), headers=auth(key)
    )
    assert response.status_code == 422
    assert set(response.json["error"]["details"]) == {"number"}
    body = payload(shop)
    body["lines"][1]["sku"] = "\x00"
    response = client.post("/api/v1/orders", json=body, headers=auth(key))
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["lines"]["1"]) == {"sku"}
    assert client.get("/api/v1/orders/web/W%001", headers=auth(key)).status_code == 404
    listed = client.get(
        "/api/v1/rmas", query_string={"order_number": "\x00"}, headers=auth(api_key())
    )
    assert listed.status_code == 422
