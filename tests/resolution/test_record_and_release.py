"""A refund is recorded once per case, released once, and released at the channel's point."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from reverse.core.actors import Actor, EventChannel
from reverse.core.db import commit
from reverse.extensions import db
from reverse.intake.constants import Disposition
from reverse.intake.operations import receive_parcel
from reverse.jobs.models import OutboxMessage
from reverse.resolution import operations as ops
from reverse.resolution.constants import RefundRelease, RefundState
from reverse.resolution.models import Refund
from reverse.resolution.operations import on_release_point, record_refund, release_refund
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import EventKind, Rma
from reverse.shipping.constants import Carrier, Direction, ShipmentStatus
from reverse.shipping.models import Shipment
from reverse.shipping.tracking import TrackingReport, record_tracking
from tests.conftest import read_mails
from tests.resolution.conftest import WAREHOUSE, inspect_all, receive

TRACKING = "123456789013"


def refunds() -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Refund).order_by(Refund.id)))


def rma(case) -> Rma:
    return db.session.get(Rma, case.id)


def test_recording_twice_gives_the_same_refund_and_one_event(ctx, make_case):
    case = make_case(lines=[{"price": 9900}])
    first = record_refund(rma(case), WAREHOUSE)
    again = record_refund(rma(case), WAREHOUSE)
    db.session.commit()
    assert again.id == first.id
    assert [r.amount_yen for r in refunds()] == [9900]
    notes = [e for e in rma(case).events if e.note == "Refund of ¥%(amount)s recorded."]
    assert len(notes) == 1
    assert notes[0].public is True
    assert notes[0].data["params"] == {"amount": "9,900"}


def test_a_refund_inserted_meanwhile_is_returned_instead_of_a_second(ctx, make_case, monkeypatch):
    case = make_case(lines=[{"price": 9900}])
    winner = record_refund(rma(case), WAREHOUSE)
    db.session.commit()
    # As if the check had missed the other writer's row: the unique constraint catches it.
    real = ops.refund_of
    calls = iter([None])
    monkeypatch.setattr(ops, "refund_of", lambda r: next(calls, real(r)))
    assert record_refund(rma(case), WAREHOUSE).id == winner.id
    db.session.commit()
    assert len(refunds()) == 1


def test_release_happens_once_and_mails_the_amount(app, ctx, make_case):
    case = make_case(lines=[{"price": 12800}], outcome={"return_shipping_fee_yen": 990})
    refund = record_refund(rma(case), WAREHOUSE)
    assert release_refund(refund, WAREHOUSE) is True
    assert release_refund(refund, WAREHOUSE) is False
    commit()
    assert refunds()[0].state == RefundState.RELEASED
    assert refunds()[0].released_at is not None
    mails = [m for m in read_mails(app.config["MAIL_FILE_DIR"]) if "refund" in m[1].lower()]
    assert len(mails) == 1
    _to, subject, body = mails[0]
    assert case.number[:6] in subject.replace("-", "")
    assert "¥11,810" in body
    assert "Return shipping fee: − ¥990" in body


@pytest.mark.databases
def test_twenty_parallel_triggers_record_one_refund(app, make_case):
    case = make_case(lines=[{"price": 7700}])
    barrier = threading.Barrier(20)
    ids: list[int] = []
    failures: list[BaseException] = []

    def trigger() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                refund = record_refund(
                    db.session.get(Rma, case.id), Actor(WAREHOUSE.kind, EventChannel.WAREHOUSE)
                )
                db.session.commit()
                ids.append(refund.id)
            except BaseException as exc:
                db.session.rollback()
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=trigger) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert len(ids) == 20
    assert len(set(ids)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1
        events = db.session.get(Rma, case.id).events
        assert sum(1 for e in events if e.note == "Refund of ¥%(amount)s recorded.") == 1


# -- release points ----------------------------------------------------------------------------


def _with_return_parcel(case) -> None:
    db.session.add(
        Shipment(
            rma_id=case.id,
            direction=Direction.TO_CENTRE,
            carrier=Carrier.YAMATO,
            tracking_number=TRACKING,
            status=ShipmentStatus.LABEL_READY,
        )
    )
    db.session.commit()


def _scan(status: str = "in_transit", hour: int = 9) -> None:
    record_tracking(
        TrackingReport(TRACKING, status, datetime(2026, 11, 20, hour, tzinfo=UTC)), "webhook"
    )
    db.session.commit()


@pytest.mark.databases
def test_a_carrier_scan_releases_the_refund_where_the_channel_says_so(ctx, channel, make_case):
    channel(RefundRelease.CARRIER_SCAN)
    case = make_case(RmaStatus.AWAITING_ITEM, lines=[{"price": 6600}])
    _with_return_parcel(case)
    _scan()
    assert rma(case).status == RmaStatus.IN_TRANSIT
    assert [(r.amount_yen, r.state) for r in refunds()] == [(6600, RefundState.RELEASED)]
    _scan("delivered", hour=15)
    assert len(refunds()) == 1


def test_a_carrier_scan_releases_nothing_when_the_channel_waits(ctx, channel, make_case):
    channel(RefundRelease.RECEIPT)
    case = make_case(RmaStatus.AWAITING_ITEM)
    _with_return_parcel(case)
    _scan()
    assert rma(case).status == RmaStatus.IN_TRANSIT
    assert refunds() == []


@pytest.mark.parametrize(
    ("release", "refunded"),
    [
        (RefundRelease.RECEIPT, True),
        # A drop-off is never scanned by a carrier: receipt is the first point it passes.
        (RefundRelease.CARRIER_SCAN, True),
        (RefundRelease.INSPECTION, False),
    ],
)
def test_receiving_the_parcel_releases_the_refund_at_or_after_the_point(
    ctx, channel, make_case, release, refunded
):
    channel(release)
    case = make_case(RmaStatus.AWAITING_ITEM, lines=[{"price": 5500}])
    receive_parcel(case.number, WAREHOUSE)
    db.session.commit()
    assert rma(case).status == RmaStatus.RECEIVED
    expected = [(5500, RefundState.RELEASED)] if refunded else []
    assert [(r.amount_yen, r.state) for r in refunds()] == expected


def test_inspection_settles_a_clean_return_and_releases_its_refund(ctx, channel, make_case):
    channel(RefundRelease.INSPECTION)
    case = make_case(RmaStatus.INSPECTED, lines=[{"price": 4400, "quantity": 2}])
    receive(case.id)
    inspect_all(case.id)
    on_release_point(rma(case), RefundRelease.INSPECTION, WAREHOUSE)
    db.session.commit()
    assert rma(case).status == RmaStatus.RESOLVED
    assert [(r.amount_yen, r.state) for r in refunds()] == [(8800, RefundState.RELEASED)]


def test_a_unit_going_back_to_the_customer_waits_for_a_person(ctx, channel, make_case):
    channel(RefundRelease.INSPECTION)
    case = make_case(RmaStatus.INSPECTED, lines=[{"quantity": 2}])
    receive(case.id)
    inspect_all(case.id, {2: Disposition.RETURN_TO_CUSTOMER})
    on_release_point(rma(case), RefundRelease.INSPECTION, WAREHOUSE)
    db.session.commit()
    assert rma(case).status == RmaStatus.INSPECTED
    assert refunds() == []
    notes = [e for e in rma(case).events if e.kind == EventKind.NOTE]
    assert notes[-1].note == "Waiting for a person to decide how to settle this case."
    assert notes[-1].public is False


def test_an_unknown_price_never_stops_the_parcel_being_received(ctx, channel, make_case):
    channel(RefundRelease.RECEIPT)
    case = make_case(RmaStatus.AWAITING_ITEM, declared=None)
    receive_parcel(case.number, WAREHOUSE)
    db.session.commit()
    assert rma(case).status == RmaStatus.RECEIVED
    assert refunds() == []
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.task == "reverse.resolution.tasks:refund_released")
        )
        == 0
    )
