"""Deliveries reach a real HTTP receiver signed with the subscription's secret, are retried
with the outbox's backoff, fail after the last attempt, and can be replayed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

from reverse.core.actors import Actor
from reverse.core.db import commit, utcnow
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus, QueueName
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import get_queue, get_redis, relay_once
from reverse.jobs.runner import run_outbox_job
from reverse.webhooks import tasks
from reverse.webhooks.constants import DeliveryState
from reverse.webhooks.models import WebhookDelivery, WebhookSubscription
from reverse.webhooks.operations import WebhookError, add_subscription, replay
from tests.fixtures.webhooks import verify

ADMIN = Actor.system("test")


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def job_of(delivery: WebhookDelivery) -> OutboxMessage:
    return db.session.get(OutboxMessage, delivery.outbox_message_id)


@pytest.fixture
def with_redis(app, redis_url):
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = redis_url
    yield redis_url
    app.config["REDIS_URL"] = previous


@pytest.mark.databases
def test_the_receiver_gets_the_event_signed_with_the_subscription_secret(
    ctx, receiver, subscribe, create_rma
):
    _id, secret = subscribe(receiver.url, "rma.created")
    rma = create_rma()
    db.session.rollback()
    relay_once()  # embedded: the job runs here (create_rma commits without handing it over)

    [got] = receiver.received
    assert got.path == "/hooks/reverse"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Reverse-Event"] == "rma.created"
    assert got.json["type"] == "rma.created"
    assert got.json["data"]["rma_number"] == rma.display_number
    assert got.headers["X-Reverse-Delivery"] == got.json["id"]
    assert verify(secret, got.body, got.headers["X-Reverse-Signature"])
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.DELIVERED,
        1,
        200,
    )
    assert delivery.delivered_at is not None
    assert job_of(delivery).status == OutboxStatus.DONE


def test_the_signature_fails_with_another_secret_a_changed_body_or_an_old_timestamp(
    ctx, receiver, subscribe, create_rma
):
    _id, secret = subscribe(receiver.url, "rma.created")
    create_rma()
    relay_once()
    [got] = receiver.received
    header = got.headers["X-Reverse-Signature"]

    assert verify(secret, got.body, header)
    assert not verify(secret.replace(secret[-4:], "abcd"), got.body, header)
    assert not verify("whsec_another", got.body, header)
    changed = json.loads(got.body)
    changed["data"]["type"] = "exchange"
    assert not verify(secret, json.dumps(changed).encode(), header)
    assert not verify(secret, got.body, header.replace("t=", "t=1"))


def test_a_refusing_receiver_is_recorded_retried_after_the_backoff_and_delivered(
    ctx, receiver, subscribe, create_rma
):
    subscribe(receiver.url, "rma.created")
    receiver.answer(500)
    create_rma()
    relay_once()  # the first try: 500

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.last_error == "HTTP 500: receiver says no"
    assert delivery.last_attempt_at is not None
    job = job_of(delivery)
    assert job.status == OutboxStatus.PENDING
    assert job.available_at > utcnow()  # waits for its backoff

    assert relay_once() == 0  # not yet
    assert len(receiver.received) == 1
    relay_once(now=utcnow() + timedelta(minutes=5))

    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.DELIVERED,
        2,
        200,
    )
    assert delivery.last_error == ""
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.body == second.body  # the same event, signed afresh


def test_a_receiver_that_keeps_refusing_fails_the_delivery_after_the_last_attempt(
    ctx, receiver, subscribe, create_rma
):
    tries = ctx.config["OUTBOX_MAX_ATTEMPTS"]
    subscribe(receiver.url, "rma.created")
    receiver.answer(*[503] * (tries + 1))
    create_rma()
    later = utcnow()
    for _ in range(tries + 1):  # one more pass than attempts: nothing is sent after the last
        relay_once(now=later)
        later += timedelta(hours=2)

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == tries
    assert delivery.last_status_code == 503
    assert job_of(delivery).status == OutboxStatus.FAILED
    assert len(receiver.received) == tries


def test_an_unreachable_receiver_is_an_attempt_with_the_error(ctx, subscribe, create_rma):
    subscribe("http://127.0.0.1:9/nothing-listens", "rma.created")
    create_rma()
    relay_once()

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert "ConnectionError" in delivery.last_error


def test_a_delivered_event_is_never_sent_again_by_a_rerun_job(ctx, receiver, subscribe, create_rma):
    subscribe(receiver.url, "rma.created")
    create_rma()
    relay_once()
    [delivery] = deliveries()
    delivery_id, job_id = delivery.id, delivery.outbox_message_id

    assert tasks.deliver(delivery_id) == "already-delivered"
    db.session.rollback()  # SQLite: the job below needs the write lock
    assert run_outbox_job(job_id) == "already-done"
    assert len(receiver.received) == 1


def test_a_replay_is_a_new_delivery_of_the_same_event(ctx, receiver, subscribe, create_rma):
    _id, secret = subscribe(receiver.url, "rma.created")
    create_rma()
    relay_once()
    [first] = deliveries()

    again = replay(first, ADMIN)
    commit()  # embedded: sent right after the commit

    first, second = deliveries()
    assert second.id == again.id
    assert second.replay_of_id == first.id
    assert second.event_id == first.event_id
    assert second.payload == first.payload
    assert second.state == DeliveryState.DELIVERED
    assert second.outbox_message_id != first.outbox_message_id
    sent = receiver.received
    assert [r.headers["X-Reverse-Delivery"] for r in sent] == [first.event_id] * 2
    assert all(verify(secret, r.body, r.headers["X-Reverse-Signature"]) for r in sent)


def test_a_switched_off_subscription_sends_nothing_and_cannot_be_replayed(
    ctx, receiver, subscribe, create_rma
):
    subscription_id, _ = subscribe(receiver.url, "rma.created")
    create_rma()  # committed, not yet sent
    db.session.get(WebhookSubscription, subscription_id).active = False
    db.session.commit()
    relay_once()

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.FAILED
    assert "switched off" in delivery.last_error
    assert receiver.received == []
    with pytest.raises(WebhookError):
        replay(delivery, ADMIN)


def test_only_http_and_https_addresses_are_called(
    ctx, subscribe, create_rma, create_api_integration
):
    integration = db.session.merge(create_api_integration("erp"))
    for bad in ("ftp://files.example.jp/in", "file:///etc/passwd", "javascript:alert(1)", "shop"):
        with pytest.raises(WebhookError):
            add_subscription(integration, bad, ["rma.created"])
    subscription_id, _ = subscribe("https://shop.example.jp/hook", "rma.created")
    create_rma()
    # As if the address had been changed behind the form's back.
    db.session.get(WebhookSubscription, subscription_id).url = "file:///etc/passwd"
    db.session.commit()
    relay_once()

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 0
    assert "only http(s)" in delivery.last_error


def test_production_sends_over_https_only(ctx, monkeypatch, receiver, subscribe, create_rma):
    subscribe(receiver.url, "rma.created")  # http: fine outside production
    monkeypatch.setitem(ctx.config, "ENV", "production")
    integration = db.session.scalars(sa.select(WebhookSubscription)).one().integration
    with pytest.raises(WebhookError, match="https"):
        add_subscription(integration, receiver.url, ["rma.created"])
    db.session.rollback()
    create_rma()
    relay_once()

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.FAILED
    assert "plain http in production" in delivery.last_error
    assert receiver.received == []


@pytest.mark.redis
@pytest.mark.databases
def test_an_rq_worker_on_the_webhooks_queue_delivers_it(
    ctx, with_redis, receiver, subscribe, create_rma
):
    _id, secret = subscribe(receiver.url, "rma.created")
    create_rma()
    relay_once()  # hands the job to RQ
    queue = get_queue(QueueName.WEBHOOKS)
    [delivery] = deliveries()
    assert queue.job_ids == [f"outbox-{delivery.outbox_message_id}"]
    db.session.rollback()  # SQLite: leave the write lock to the worker

    SimpleWorker([queue], connection=get_redis()).work(burst=True)

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.DELIVERED
    [got] = receiver.received
    assert verify(secret, got.body, got.headers["X-Reverse-Signature"])
    assert queue.count == 0


def test_no_database_lock_is_held_while_the_receiver_answers(ctx, receiver, subscribe, create_rma):
    """Embedded on SQLite, a delivery holding the write lock during its POST froze every other
    writer — here the receiver itself, which writes to the same database before it answers."""
    import sqlite3

    path = db.engine.url.database
    writes: list[str] = []

    def write_meanwhile() -> None:
        conn = sqlite3.connect(path, timeout=1, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            writes.append("written")
        except sqlite3.OperationalError as exc:
            writes.append(str(exc))
        finally:
            conn.close()

    receiver.while_answering = write_meanwhile
    subscribe(receiver.url, "rma.created")
    create_rma()
    relay_once()

    assert writes == ["written"]
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.DELIVERED
    assert job_of(delivery).status == OutboxStatus.DONE
    # …and the relay does not start the same job again while it was out.
    assert relay_once() == 0
    assert len(receiver.received) == 1
