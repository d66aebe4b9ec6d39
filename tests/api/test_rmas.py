"""/api/v1/rmas: cases filed by other systems under the customers' own policy, listed, read
and moved on."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.api.constants import Scope
from reverse.extensions import db
from reverse.intake.models import Receipt
from reverse.rmas.constants import ProofStatus, RmaSource, RmaStatus
from reverse.rmas.models import Rma, RmaEvent
from tests.fixtures.api import auth


@pytest.fixture
def key(api_key):
    return api_key(Scope.RMAS_WRITE, Scope.RMAS_READ)


@pytest.fixture
def bought(shop, shop_product, shop_order):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 2), (sizes["S"], 1, True)], phone="+819012345678")
    return {"sizes": sizes, "order": order, "sku": "LS-{}-M", **order}


def sku_of(app, variant_id):
    from reverse.catalog.models import Variant

    with app.app_context():
        return db.session.get(Variant, variant_id).sku


def return_of(app, bought, **changes):
    body = {
        "type": "return",
        "order": {"channel": "web", "number": bought["number"]},
        "lines": [
            {"sku": sku_of(app, bought["sizes"]["M"]), "quantity": 1, "reason": "size_too_small"}
        ],
        "return_method": "carriage_forward",
    }
    return body | changes


def file(client, key, body, **headers):
    return client.post("/api/v1/rmas", json=body, headers=auth(key, **headers))


@pytest.mark.databases
def test_a_return_of_a_known_order_is_filed_like_the_customer_form(app, client, key, bought):
    response = file(client, key, return_of(app, bought))
    assert response.status_code == 201, response.json
    case = response.json
    assert case["type"] == "return"
    assert case["source"] == "api"
    assert case["order"] == {"channel": "web", "number": bought["number"]}
    assert case["customer"]["email"] == bought["email"]
    assert case["lines"][0]["quantity"] == 1
    assert case["outcome"]["refund_estimate_yen"] == 12800
    assert case["status"] in ("submitted", "awaiting_item")
    assert case["status_url"].startswith("http://127.0.0.1:5000/r/")
    assert case["events"][0]["kind"] == "created"
    assert case["events"][0]["actor_kind"] == "integration"
    assert case["refund"] is None
    with app.app_context():
        rma = db.session.scalar(sa.select(Rma))
        assert rma.source == RmaSource.API
        token = case["status_url"].rsplit("/", 1)[1]
        assert rma.access_token_hash == Rma.hash_token(token)
    page = client.get(case["status_url"].replace("http://127.0.0.1:5000", ""))
    assert page.status_code == 200
    fetched = client.get(f"/api/v1/rmas/{case['number']}", headers=auth(key))
    assert fetched.status_code == 200
    assert "status_url" not in fetched.json
    assert fetched.json["number"] == case["number"]


def test_the_policy_refuses_what_the_customer_form_refuses(app, client, key, bought):
    body = return_of(app, bought)
    body["lines"] = [
        {"sku": sku_of(app, bought["sizes"]["S"]), "reason": "changed_mind"},
        {"sku": sku_of(app, bought["sizes"]["M"]), "quantity": 3, "reason": "changed_mind"},
    ]
    response = file(client, key, body)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "not_allowed"
    assert error["details"]["lines"]["0"] == ["This item was sold as final sale."]
    assert "2" in error["details"]["lines"]["1"][0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rma)) == 0


def test_a_declared_purchase_waits_for_its_proof(app, client, key, bought):
    body = {
        "type": "exchange",
        "declared_purchase": {
            "place": "department_store",
            "retailer": "伊勢丹新宿店",
            "purchase_date": "2026-11-30",
            "price_yen": 12800,
        },
        "lines": [
            {
                "sku": sku_of(app, bought["sizes"]["M"]),
                "reason": "size_too_small",
                "wanted_sku": sku_of(app, bought["sizes"]["L"]),
            }
        ],
        "return_method": "store_drop_off",
        "drop_off_location": "ｄｓ－ｉｓｅｔａｎ",
        "contact": {"name": "山田 花子", "phone": "０９０－９８７６－５４３２"},
    }
    response = file(client, key, body)
    assert response.status_code == 201, response.json
    case = response.json
    assert case["proof_status"] == ProofStatus.PENDING.value
    assert case["status"] == "submitted"
    assert case["location"] == "DS-ISETAN"
    assert case["customer"]["phone"] == "+819098765432"
    assert case["lines"][0]["wanted_sku"] == sku_of(app, bought["sizes"]["L"])
    assert case["purchase_place"] == "department_store"

    approved = client.post(
        f"/api/v1/rmas/{case['number']}/transitions", json={"to": "approved"}, headers=auth(key)
    )
    assert approved.status_code == 200, approved.json
    assert approved.json["rma"]["proof_status"] == "accepted"


def test_invalid_requests_get_field_details(app, client, key, bought):
    body = return_of(app, bought, order=None, return_method="counter")
    body["lines"] = [{"reason": "wear_and_tear", "quantity": 0}]
    response = file(client, key, body)
    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert set(details) == {"return_method", "lines"}
    assert set(details["lines"]["0"]) == {"quantity"}

    body = return_of(app, bought, order=None)
    body["lines"][0]["reason"] = "wear_and_tear"
    response = file(client, key, body)
    assert response.json["error"]["details"] == {
        "order": ["Give either the order or the declared purchase."],
        "lines": {"0": {"reason": ["Not a reason for a return."]}},
    }

    body = return_of(app, bought, return_method="prepaid_label")
    body["order"]["number"] = "NO-SUCH"
    body["lines"][0]["sku"] = "NOPE"
    response = file(client, key, body)
    assert response.status_code == 422
    assert response.json["error"]["details"] == {
        "order": {"number": ["No order with this number in this channel."]},
        "lines": {"0": {"sku": ["No product has the SKU NOPE."]}},
        "contact": {"email": ["Give an email address or a phone number."]},
    }
    body = return_of(app, bought, return_method="prepaid_label")
    response = file(client, key, body)
    assert set(response.json["error"]["details"]["contact"]) == {
        "postal_code",
        "prefecture",
        "city",
        "street",
    }


def test_keys_need_their_scope(client, api_key, app, bought):
    body = return_of(app, bought)
    assert client.post("/api/v1/rmas", json=body).status_code == 401
    reader = api_key(Scope.RMAS_READ)
    assert file(client, reader, body).status_code == 403
    assert client.get("/api/v1/rmas", headers=auth(api_key(Scope.ORDERS_READ))).status_code == 403
    assert client.get("/api/v1/rmas", headers=auth(reader)).status_code == 200


def test_a_replayed_filing_files_one_case(app, client, key, bought):
    first = file(client, key, return_of(app, bought), **{"Idempotency-Key": "rma-1"})
    second = file(client, key, return_of(app, bought), **{"Idempotency-Key": "rma-1"})
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    other = return_of(app, bought, return_method="store_drop_off")
    assert file(client, key, other, **{"Idempotency-Key": "rma-1"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rma)) == 1


@pytest.mark.databases
def test_the_list_filters_and_pages_without_gaps_or_repeats(app, client, key, bought, api_key):
    numbers = []
    for _ in range(5):
        response = file(client, key, return_of(app, bought))
        if response.status_code != 201:  # only 2 units were bought: later ones are refused
            break
        numbers.append(response.json["number"])
    other = file(client, key, return_of(app, bought, type="repair"))
    assert len(numbers) == 2

    seen, cursor = [], None
    while True:
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/rmas", query_string=query, headers=auth(key))
        assert page.status_code == 200, page.json
        seen += [item["number"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == numbers + ([other.json["number"]] if other.status_code == 201 else [])

    def listed(**query):
        page = client.get("/api/v1/rmas", query_string=query, headers=auth(key))
        assert page.status_code == 200, page.json
        return [item["number"] for item in page.json["items"]]

    assert listed(type="return", channel="web") == numbers
    assert listed(order_number=bought["number"].lower())[:2] == numbers
    assert listed(customer_email=bought["email"].upper())[:2] == numbers
    assert listed(customer_phone="０９０-１２３４-５６７８")[:2] == numbers
    assert listed(customer_phone="+819011112222") == []
    assert listed(created_since="2099-01-01T00:00:00+09:00") == []
    assert listed(status="closed") == []
    bad = client.get("/api/v1/rmas", query_string={"cursor": "nonsense"}, headers=auth(key))
    assert bad.status_code == 422
    assert "cursor" in bad.json["error"]["details"]
    naive = client.get(
        "/api/v1/rmas", query_string={"updated_since": "2026-01-01T00:00:00"}, headers=auth(key)
    )
    assert naive.status_code == 422
    assert "updated_since" in naive.json["error"]["details"]


@pytest.mark.databases
def test_moves_go_through_the_domain_and_a_repeat_changes_nothing(app, client, key, bought):
    number = file(client, key, return_of(app, bought)).json["number"]
    path = f"/api/v1/rmas/{number}/transitions"
    for step in ("approved", "awaiting_item"):
        moved = client.post(path, json={"to": step, "note": "OK"}, headers=auth(key))
        assert moved.status_code == 200, moved.json
        assert moved.json["rma"]["status"] == step
    received = client.post(path, json={"to": "received"}, headers=auth(key))
    assert received.status_code == 200, received.json
    assert received.json["changed"] is True
    assert received.json["rma"]["status"] == "received"
    again = client.post(path, json={"to": "received"}, headers=auth(key))
    assert again.status_code == 200
    assert again.json["changed"] is False
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1
        moves = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RmaEvent)
            .where(RmaEvent.to_status == RmaStatus.RECEIVED)
        )
        assert moves == 1

    illegal = client.post(path, json={"to": "approved"}, headers=auth(key))
    assert illegal.status_code == 409
    assert illegal.json["error"]["code"] == "illegal_transition"
    assert illegal.json["error"]["details"] == {
        "from_status": "received",
        "to_status": "approved",
    }
    staff_only = client.post(path, json={"to": "inspected"}, headers=auth(key))
    assert staff_only.status_code == 409
    assert staff_only.json["error"]["code"] == "needs_staff"
    unknown = client.post(path, json={"to": "teleported"}, headers=auth(key))
    assert unknown.status_code == 422
    assert "to" in unknown.json["error"]["details"]
    missing = client.post(
        "/api/v1/rmas/R00000-00000/transitions", json={"to": "closed"}, headers=auth(key)
    )
    assert missing.status_code == 404


def test_a_rejection_needs_the_reason_the_customer_reads(app, client, key, bought):
    filed = file(client, key, return_of(app, bought))
    assert filed.json["status"] == "submitted"
    path = f"/api/v1/rmas/{filed.json['number']}/transitions"
    refused = client.post(path, json={"to": "rejected"}, headers=auth(key))
    assert refused.status_code == 422
    assert "note" in refused.json["error"]["details"]
    rejected = client.post(path, json={"to": "rejected", "note": "期限切れです"}, headers=auth(key))
    assert rejected.status_code == 200
    assert rejected.json["rma"]["status"] == "rejected"
    assert rejected.json["rma"]["decision_reason"] == "期限切れです"
    assert rejected.json["rma"]["next_statuses"] == ["closed"]


def test_a_replayed_move_answers_the_same_and_moves_once(app, client, key, bought):
    number = file(client, key, return_of(app, bought)).json["number"]
    path = f"/api/v1/rmas/{number}/transitions"
    headers = auth(key, **{"Idempotency-Key": "move-1"})
    first = client.post(path, json={"to": "approved"}, headers=headers)
    second = client.post(path, json={"to": "approved"}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json == first.json
    assert second.json["changed"] is True
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.post(path, json={"to": "cancelled"}, headers=headers).status_code == 422
    with app.app_context():
        moves = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RmaEvent)
            .where(RmaEvent.to_status == RmaStatus.APPROVED)
        )
        assert moves == 1
