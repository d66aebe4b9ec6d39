"""The scripted integration, end to end (the README walks through the same steps with curl):
an admin issues a key and subscribes a receiver; the web shop pushes an order, files a return
with an Idempotency-Key, gets the signed rma.created webhook and checks it; the same POST sent
again answers the same and creates nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from reverse.rmas.models import Rma
from reverse.webhooks.models import WebhookDelivery
from tests.conftest import csrf_token
from tests.fixtures.api import auth
from tests.fixtures.auth import login
from tests.fixtures.catalog import in_context
from tests.fixtures.webhooks import verify


def _shown_secret(html: str) -> str:
    match = re.search(r'id="secret" type="text" value="([^"]+)"', html)
    assert match, "no secret on the page"
    return match.group(1)


def _count(app, model) -> int:
    with in_context(app):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def admin_sets_up(app, create_user, receiver) -> tuple[str, str]:
    """What an admin does on /staff/integrations: add the web shop, issue it a key for
    orders and requests, subscribe the receiver to rma.created. Returns (key, secret) as the
    pages showed them."""
    admin = app.test_client()
    assert login(admin, create_user(Role.ADMIN).email).status_code == 302
    page = admin.get("/staff/integrations/").text
    created = admin.post(
        "/staff/integrations/", data={"csrf_token": csrf_token(page), "name": "Web shop"}
    )
    detail_url = created.headers["Location"]
    page = admin.get(detail_url).text
    issued = admin.post(
        detail_url + "/keys",
        data={
            "csrf_token": csrf_token(page),
            "label": "production",
            "scopes": ["orders:write", "rmas:write"],
        },
    )
    assert issued.status_code == 200
    subscribed = admin.post(
        detail_url + "/webhooks",
        data={"csrf_token": csrf_token(page), "url": receiver.url, "events": ["rma.created"]},
    )
    assert subscribed.status_code == 200
    return _shown_secret(issued.text), _shown_secret(subscribed.text)


@pytest.mark.databases
def test_push_an_order_file_a_return_and_get_the_signed_webhook_once(
    app, client, shop, shop_product, receiver, admin_sets_up
):
    key, secret = admin_sets_up
    sizes = shop_product()
    with in_context(app):
        from reverse.catalog.models import Variant

        sku = db.session.get(Variant, sizes["M"]).sku

    # 1. The web shop pushes the order.
    order = {
        "channel": "web",
        "number": "W-20261201",
        "ordered_at": "2026-12-01T10:00:00+09:00",
        "delivered_at": "2026-12-03T15:00:00+09:00",
        "customer": {"email": "hanako@example.jp", "name": "山田 花子"},
        "lines": [{"sku": sku, "quantity": 1, "unit_price_yen": 12800}],
    }
    pushed = client.post("/api/v1/orders", json=order, headers=auth(key))
    assert pushed.status_code in (200, 201), pushed.json

    # 2. It files a return for it, with an Idempotency-Key.
    rma_body = {
        "type": "return",
        "order": {"channel": "web", "number": "W-20261201"},
        "lines": [{"sku": sku, "quantity": 1, "reason": "size_too_small"}],
        "return_method": "carriage_forward",
    }
    headers = auth(key, **{"Idempotency-Key": "web-shop-return-0001"})
    filed = client.post("/api/v1/rmas", json=rma_body, headers=headers)
    assert filed.status_code == 201, filed.json
    number = filed.json["number"]

    # 3. The receiver got rma.created, signed with the subscription's secret.
    [got] = receiver.received
    assert got.headers["X-Reverse-Event"] == "rma.created"
    assert verify(secret, got.body, got.headers["X-Reverse-Signature"])
    assert not verify("whsec_someone-else", got.body, got.headers["X-Reverse-Signature"])
    event = got.json
    assert event["type"] == "rma.created"
    assert event["id"] == got.headers["X-Reverse-Delivery"]
    assert event["data"]["rma_number"] == number
    assert event["data"]["order_number"] == "W-20261201"
    assert event["data"]["source"] == "api"

    # 4. The same POST again: the same answer, nothing new anywhere.
    counts = (_count(app, Rma), _count(app, WebhookDelivery), _count(app, OutboxMessage))
    again = client.post("/api/v1/rmas", json=rma_body, headers=headers)
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_data() == filed.get_data()
    assert (_count(app, Rma), _count(app, WebhookDelivery), _count(app, OutboxMessage)) == counts
    assert counts[0] == 1
    assert len(receiver.received) == 1
