"""Each event is recorded for the subscriptions that want it, in the transaction of the
change it reports: nothing for a change that is rolled back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.jobs.constants import QueueName
from reverse.jobs.models import OutboxMessage
from reverse.resale import operations as resale
from reverse.resale.constants import SaleChannel
from reverse.resolution.constants import RefundKind, RefundState
from reverse.resolution.models import Refund
from reverse.resolution.operations import release_refund
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import LineData, RmaData, create_rma, move_rma
from reverse.webhooks.constants import DeliveryState
from reverse.webhooks.models import WebhookDelivery, WebhookSubscription

STAFF = Actor.system("test")
CONTACT = {"name": "佐藤 花子", "email": "hanako@example.jp", "phone": None, "locale": "ja"}
#: no receiver listens here; these tests commit with db.session.commit(), which sends nothing
NOWHERE = "https://shop.example.jp/hooks/reverse"


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _new_case(create_channel, create_customer, create_variant) -> Rma:
    rma, _token = create_rma(
        RmaData(
            type=RmaType.RETURN,
            channel=db.session.merge(create_channel()),
            customer=db.session.merge(create_customer()),
            lines=[LineData(variant_id=create_variant().id, reason="size_too_small")],
        ),
        Actor.customer(),
    )
    return rma


@pytest.mark.databases
def test_a_new_case_is_one_rma_created_delivery_with_a_job_on_the_webhooks_queue(
    ctx, subscribe, create_channel, create_customer, create_variant
):
    subscription_id, _secret = subscribe(NOWHERE, "rma.created")
    rma = _new_case(create_channel, create_customer, create_variant)
    db.session.commit()

    [delivery] = deliveries()
    assert delivery.subscription_id == subscription_id
    assert delivery.event_type == "rma.created"
    assert delivery.state == DeliveryState.PENDING
    payload = delivery.payload
    assert payload["id"] == delivery.event_id
    assert payload["id"].startswith("evt_")
    assert payload["type"] == "rma.created"
    assert payload["occurred_at"].endswith("Z")
    assert payload["data"] == {
        "rma_number": rma.display_number,
        "type": "return",
        "status": "submitted",
        "channel": "web",
        "source": "web",
        "order_number": None,
        "location": None,
    }
    job = db.session.get(OutboxMessage, delivery.outbox_message_id)
    assert (job.task, job.args, job.queue) == (
        "reverse.webhooks.tasks:deliver",
        [delivery.id],
        QueueName.WEBHOOKS,
    )


@pytest.mark.databases
def test_a_rolled_back_change_records_no_delivery_and_no_job(
    ctx, subscribe, create_channel, create_customer, create_variant
):
    subscribe(NOWHERE, "rma.created", "rma.status_changed")
    _new_case(create_channel, create_customer, create_variant)
    db.session.flush()
    db.session.rollback()

    assert deliveries() == []
    webhook_jobs = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.queue == QueueName.WEBHOOKS)
    ).all()
    assert webhook_jobs == []


def test_each_status_change_is_its_own_event_with_from_and_to(ctx, subscribe, create_rma):
    subscribe(NOWHERE, "rma.status_changed")
    case = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    assert deliveries() == []  # created: not subscribed

    move_rma(db.session.get(Rma, case.id), RmaStatus.APPROVED, STAFF)
    move_rma(db.session.get(Rma, case.id), RmaStatus.CANCELLED, STAFF)
    db.session.commit()

    events = [d.payload for d in deliveries()]
    assert [(e["data"]["from_status"], e["data"]["to_status"]) for e in events] == [
        ("submitted", "approved"),
        ("approved", "cancelled"),
    ]
    assert events[0]["id"] != events[1]["id"]
    assert all(e["data"]["rma_number"] == case.display_number for e in events)


def test_a_status_change_undone_in_a_savepoint_is_not_reported(ctx, subscribe, create_rma):
    subscribe(NOWHERE, "rma.status_changed")
    case = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    savepoint = db.session.begin_nested()
    move_rma(db.session.get(Rma, case.id), RmaStatus.APPROVED, STAFF)
    savepoint.rollback()
    db.session.commit()

    assert deliveries() == []


def test_only_active_subscriptions_of_active_integrations_that_want_the_event_get_it(
    ctx, subscribe, create_rma
):
    wanted, _ = subscribe(NOWHERE, "rma.created")
    subscribe(NOWHERE, "refund.requested")  # another event
    off, _ = subscribe(NOWHERE, "rma.created")
    db.session.get(WebhookSubscription, off).active = False
    quiet, _ = subscribe(NOWHERE, "rma.created")
    db.session.get(WebhookSubscription, quiet).integration.active = False
    db.session.commit()

    create_rma()

    assert [d.subscription_id for d in deliveries()] == [wanted]


def test_one_event_for_two_subscribers_has_one_id(ctx, subscribe, create_rma):
    subscribe(NOWHERE, "rma.created")
    subscribe(NOWHERE, "rma.created")
    create_rma()

    first, second = deliveries()
    assert first.event_id == second.event_id
    assert first.payload == second.payload


def test_a_refund_released_to_the_payment_system_is_refund_requested(ctx, subscribe, create_rma):
    subscribe(NOWHERE, "refund.requested")
    case = create_rma(RmaType.RETURN, RmaStatus.RECEIVED)
    refund = Refund(rma_id=case.id, kind=RefundKind.REFUND, amount_yen=11_810, breakdown={})
    db.session.add(refund)
    db.session.flush()

    assert release_refund(refund, STAFF) is True
    assert release_refund(refund, STAFF) is False  # released once, announced once
    db.session.commit()

    [delivery] = deliveries()
    assert delivery.event_type == "refund.requested"
    assert delivery.payload["data"] == {
        "refund_id": refund.id,
        "kind": "refund",
        "state": RefundState.RELEASED.value,
        "amount_yen": 11_810,
        "bonus_yen": 0,
        "currency": "JPY",
        "rma_number": case.display_number,
        "channel": "web",
        "order_number": None,
    }


def test_a_pre_owned_item_sold_is_resale_sold(ctx, subscribe, make_item):
    item = make_item("B", price_yen=12_900, listed=True)
    subscribe(NOWHERE, "resale.sold")

    resale.record_sale(item.id, channel=SaleChannel.STORE, actor=STAFF)
    resale.record_sale(item.id, channel=SaleChannel.STORE, actor=STAFF)  # repeat: once
    db.session.commit()

    [delivery] = deliveries()
    data = delivery.payload["data"]
    assert data["item_code"] == item.code
    assert data["sku"] == item.variant.sku
    assert (data["price_yen"], data["currency"], data["channel"]) == (
        item.price_yen,
        "JPY",
        "store",
    )
    assert data["sold_at"].endswith("Z")


def test_an_online_purchase_request_tells_the_web_shop_to_take_payment(ctx, subscribe, make_item):
    item = make_item("A", price_yen=8_800, listed=True)
    subscribe(NOWHERE, "resale.purchase_requested", "resale.sold")

    reservation, _token = resale.reserve(
        item.id, kind="purchase", contact=CONTACT, pickup_location_id=None, actor=STAFF
    )
    db.session.commit()

    [delivery] = deliveries()
    assert delivery.event_type == "resale.purchase_requested"
    data = delivery.payload["data"]
    assert data["reservation_id"] == reservation.id
    assert data["item_code"] == item.code
    assert data["price_yen"] == reservation.price_yen
    assert data["customer"]["email"] == "hanako@example.jp"
    assert data["expires_at"].endswith("Z")

    resale.record_sale(item.id, channel=SaleChannel.WEB_SHOP, actor=STAFF)
    db.session.commit()
    assert [d.event_type for d in deliveries()] == ["resale.purchase_requested", "resale.sold"]


def test_a_pickup_reservation_is_not_a_purchase_request(ctx, subscribe, make_item, create_location):
    from reverse.catalog.constants import LocationKind

    item = make_item("B", listed=True)
    store = create_location(LocationKind.STORE)
    subscribe(NOWHERE, "resale.purchase_requested")

    resale.reserve(
        item.id, kind="pickup", contact=CONTACT, pickup_location_id=store.id, actor=STAFF
    )
    db.session.commit()

    assert deliveries() == []
