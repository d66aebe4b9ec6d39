"""The integrations admin: keys shown once and stored hashed, revoked keys refused by the API,
webhook subscriptions with their secret shown once, the delivery log and replay."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.api.models import ApiKey, Integration
from reverse.auth.constants import Role
from reverse.extensions import db
from reverse.webhooks.constants import DeliveryState
from reverse.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context
from tests.fixtures.webhooks import verify

PRODUCT = {
    "style_code": "ST-1001",
    "name_ja": "リネンシャツ",
    "name_en": "Linen shirt",
    "category": "tops",
    "variants": [{"sku": "ST-1001-M-NV", "jan": "4901234567894", "size": "M", "price_yen": 12_900}],
}


@pytest.fixture
def integration_id(create_api_integration) -> int:
    return create_api_integration("Web shop").id


def _page(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    return answer.text


def _issue_key(client, integration_id: int, *scopes: str, label: str = "production"):
    page = _page(client, f"/staff/integrations/{integration_id}")
    return client.post(
        f"/staff/integrations/{integration_id}/keys",
        data={"csrf_token": csrf_token(page), "label": label, "scopes": list(scopes)},
    )


def _shown_secret(html: str) -> str:
    match = re.search(r'id="secret" type="text" value="([^"]+)"', html)
    assert match, "no secret on the page"
    return match.group(1)


@pytest.mark.parametrize(
    "url",
    [
        "/staff/integrations/",
        "/staff/integrations/1",
        "/staff/integrations/1/deliveries",
    ],
)
def test_without_login_the_pages_send_to_the_login_page(client, url):
    answer = client.get(url)
    assert answer.status_code == 302
    assert "/staff/login" in answer.headers["Location"]


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.WAREHOUSE, Role.STORE, Role.TECHNICIAN])
def test_only_admins_see_or_change_integrations(client, logged_in, integration_id, role):
    logged_in(role)
    assert client.get("/staff/integrations/").status_code == 403
    assert client.get(f"/staff/integrations/{integration_id}").status_code == 403
    assert client.get(f"/staff/integrations/{integration_id}/deliveries").status_code == 403
    answer = client.post(
        f"/staff/integrations/{integration_id}/keys", data={"scopes": "rmas:write"}
    )
    assert answer.status_code in (400, 403)
    assert 'href="/staff/integrations/"' not in client.get("/staff/rmas").text


def test_admins_find_integrations_in_the_menu_and_add_one(app, client, logged_in):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    home = _page(client, "/staff/rmas")
    assert 'href="/staff/integrations/"' in home

    page = _page(client, "/staff/integrations/")
    answer = client.post(
        "/staff/integrations/",
        data={"csrf_token": csrf_token(page), "name": "  POS  ", "description": "Store tills"},
    )
    assert answer.status_code == 302
    with in_context(app):
        integration = db.session.scalars(sa.select(Integration)).one()
        assert (integration.name, integration.description) == ("POS", "Store tills")
    assert answer.headers["Location"].endswith(f"/staff/integrations/{integration.id}")

    again = client.post(
        "/staff/integrations/", data={"csrf_token": csrf_token(page), "name": "POS"}
    )
    assert again.status_code == 422
    assert "already exists" in again.text


def test_a_key_is_shown_once_and_only_its_hash_is_kept(app, client, logged_in, integration_id):
    logged_in(Role.ADMIN)
    client.get("/lang/en")

    answer = _issue_key(client, integration_id, "orders:write", "rmas:write")

    assert answer.status_code == 200
    assert "Copy the API key now" in answer.text
    assert "no-store" in answer.headers["Cache-Control"]
    raw = _shown_secret(answer.text)
    assert raw.startswith("rvk_")
    with in_context(app):
        key = db.session.scalars(sa.select(ApiKey)).one()
        assert key.key_hash == ApiKey.hash_key(raw)
        assert raw not in (key.prefix, key.key_hash, key.label)
        assert key.scopes == ["orders:write", "rmas:write"]
        assert key.created_by_label  # the admin's name
    detail = _page(client, f"/staff/integrations/{integration_id}")
    assert key.prefix in detail
    assert raw not in detail


def test_a_key_needs_a_scope(client, logged_in, integration_id):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    answer = _issue_key(client, integration_id)
    assert answer.status_code == 422
    assert "Choose at least one scope." in answer.text


def test_a_revoked_key_is_refused_by_the_api(app, client, logged_in, integration_id):
    logged_in(Role.ADMIN)
    raw = _shown_secret(_issue_key(client, integration_id, "products:write").text)
    api = app.test_client()
    assert api.post("/api/v1/products", json=PRODUCT, headers={"X-API-Key": raw}).status_code == 200
    with in_context(app):
        key = db.session.scalars(sa.select(ApiKey)).one()

    page = _page(client, f"/staff/integrations/{integration_id}")
    assert f"/keys/{key.id}/revoke" in page
    answer = client.post(
        f"/staff/integrations/{integration_id}/keys/{key.id}/revoke",
        data={"csrf_token": csrf_token(page)},
    )
    assert answer.status_code == 302

    refused = api.post("/api/v1/products", json=PRODUCT, headers={"X-API-Key": raw})
    assert refused.status_code == 401
    with in_context(app):
        assert db.session.get(ApiKey, key.id).revoked_at is not None


def test_every_form_needs_its_token(app, client, logged_in, integration_id):
    logged_in(Role.ADMIN)
    page = _page(client, f"/staff/integrations/{integration_id}")
    assert page.count('name="csrf_token"') >= 3  # switch, key form, subscription form
    base = f"/staff/integrations/{integration_id}"
    assert client.post(base + "/active", data={"active": "0"}).status_code == 400
    assert client.post(base + "/keys", data={"scopes": "rmas:write"}).status_code == 400
    assert client.post(base + "/webhooks", data={"url": "https://x.example.jp"}).status_code == 400
    assert client.post("/staff/integrations/", data={"name": "X"}).status_code == 400
    with in_context(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0
        assert db.session.get(Integration, integration_id).active is True


def test_switching_an_integration_off_refuses_its_keys(app, client, logged_in, integration_id):
    logged_in(Role.ADMIN)
    raw = _shown_secret(_issue_key(client, integration_id, "products:write").text)
    page = _page(client, f"/staff/integrations/{integration_id}")
    client.post(
        f"/staff/integrations/{integration_id}/active",
        data={"csrf_token": csrf_token(page), "active": "0"},
    )
    refused = app.test_client().post("/api/v1/products", json=PRODUCT, headers={"X-API-Key": raw})
    assert refused.status_code == 401


def test_a_subscription_shows_its_secret_once_and_its_deliveries_can_be_replayed(
    app, client, logged_in, integration_id, receiver, create_rma
):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    page = _page(client, f"/staff/integrations/{integration_id}")
    answer = client.post(
        f"/staff/integrations/{integration_id}/webhooks",
        data={
            "csrf_token": csrf_token(page),
            "url": receiver.url,
            "events": ["rma.created", "rma.status_changed"],
            "description": "order system",
        },
    )
    assert answer.status_code == 200
    assert "Copy the signing secret now" in answer.text
    secret = _shown_secret(answer.text)
    assert secret.startswith("whsec_")
    assert secret not in _page(client, f"/staff/integrations/{integration_id}")

    rma = create_rma()
    with in_context(app):
        from reverse.jobs.outbox import relay_once

        relay_once()
    [got] = receiver.received
    assert verify(secret, got.body, got.headers["X-Reverse-Signature"])

    log = _page(client, f"/staff/integrations/{integration_id}/deliveries")
    assert rma.display_number in log  # the payload
    assert "rma.created" in log
    with in_context(app):
        delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
        delivery_id, event_id = delivery.id, delivery.event_id
    answer = client.post(
        f"/staff/integrations/{integration_id}/deliveries/{delivery_id}/replay",
        data={"csrf_token": csrf_token(log)},
        follow_redirects=True,
    )
    assert f"Event {event_id} is sent again" in answer.text
    assert [r.headers["X-Reverse-Delivery"] for r in receiver.received] == [event_id] * 2
    with in_context(app):
        replayed = db.session.scalars(
            sa.select(WebhookDelivery).where(WebhookDelivery.replay_of_id == delivery_id)
        ).one()
        assert replayed.state == DeliveryState.DELIVERED

    assert (
        client.post(
            f"/staff/integrations/{integration_id}/deliveries/{delivery_id}/replay"
        ).status_code
        == 400
    )


def test_the_log_filters_by_state_and_event(app, client, logged_in, integration_id, subscribe):
    subscription_id, _ = subscribe(
        "https://shop.example.jp/hook", "rma.created", integration_id=integration_id
    )
    with in_context(app):
        for n, (event, state) in enumerate(
            [
                ("rma.created", DeliveryState.FAILED),
                ("rma.created", DeliveryState.DELIVERED),
                ("refund.requested", DeliveryState.FAILED),
            ]
        ):
            db.session.add(
                WebhookDelivery(
                    subscription_id=subscription_id,
                    event_id=f"evt_{n}",
                    event_type=event,
                    payload={"id": f"evt_{n}"},
                    state=state,
                )
            )
        db.session.commit()
    logged_in(Role.ADMIN)
    base = f"/staff/integrations/{integration_id}/deliveries"

    def shown(query: str) -> list[str]:
        return re.findall(r"· (evt_\d)", _page(client, base + query))

    assert sorted(set(shown(""))) == ["evt_0", "evt_1", "evt_2"]
    assert sorted(set(shown("?state=failed"))) == ["evt_0", "evt_2"]
    assert sorted(set(shown("?state=failed&event=rma.created"))) == ["evt_0"]
    assert sorted(set(shown("?state=nonsense"))) == ["evt_0", "evt_1", "evt_2"]
    with in_context(app):
        assert db.session.get(WebhookSubscription, subscription_id).active


def test_a_subscription_needs_a_web_address(client, logged_in, integration_id):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    page = _page(client, f"/staff/integrations/{integration_id}")
    answer = client.post(
        f"/staff/integrations/{integration_id}/webhooks",
        data={
            "csrf_token": csrf_token(page),
            "url": "ftp://x.example.jp",
            "events": ["rma.created"],
        },
    )
    assert answer.status_code == 422
    assert "https://" in answer.text


def test_the_pages_read_in_japanese(client, logged_in, integration_id):
    logged_in(Role.ADMIN)
    client.get("/lang/ja")
    assert "連携" in _page(client, "/staff/integrations/")
    detail = _page(client, f"/staff/integrations/{integration_id}")
    assert "APIキー" in detail
    assert "Issue an API key" not in detail
    assert "Delivery log" not in _page(client, f"/staff/integrations/{integration_id}/deliveries")
