"""Taking parcels in by scanning: found by any code, received once, refused clearly."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from reverse.core.actors import Actor, EventChannel
from reverse.core.codes import format_rma_number
from reverse.extensions import db
from reverse.intake.models import Receipt
from reverse.intake.operations import ScanError, UnknownCode, find_case, receive_parcel
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import EventKind, Rma
from reverse.shipping.constants import Carrier, Direction
from reverse.shipping.models import Shipment
from tests.fixtures.catalog import in_context

WAREHOUSE = Actor.system("倉庫 次郎")
FULL_WIDTH = str.maketrans("0123456789-R", "０１２３４５６７８９－Ｒ")


@pytest.fixture
def waiting(app, create_rma):
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    with in_context(app):
        db.session.add(
            Shipment(
                rma_id=rma.id,
                direction=Direction.TO_CENTRE,
                carrier=Carrier.YAMATO,
                tracking_number="123456789013",
            )
        )
        db.session.commit()
    return rma


def test_a_case_is_found_by_its_number_as_printed_scanned_or_typed(ctx, waiting):
    shown = format_rma_number(waiting.number)
    for code in (
        waiting.number,
        shown,
        shown.translate(FULL_WIDTH),
        shown.lower(),
        "1234-5678-9013",
        "123456789013",
    ):
        assert find_case(code).id == waiting.id, code


def test_unknown_and_mistyped_codes_are_refused_clearly(ctx, waiting):
    # A wrong check digit is a typing or scanning error, told apart from an unknown parcel.
    with pytest.raises(ScanError) as mistyped:
        find_case("123456789014")
    assert not isinstance(mistyped.value, UnknownCode)
    assert "123456789014" in str(mistyped.value.message)
    with pytest.raises(UnknownCode):
        find_case("999999999994")
    wrong = waiting.number[:-1] + str((int(waiting.number[-1]) + 1) % 10)
    with pytest.raises(ScanError) as mistyped_number:
        find_case(wrong)
    assert not isinstance(mistyped_number.value, UnknownCode)
    with pytest.raises(UnknownCode):
        find_case("hello")


def test_a_parcel_is_received_once_and_a_second_scan_changes_nothing(ctx, waiting):
    first = receive_parcel(waiting.number, WAREHOUSE)
    db.session.commit()
    again = receive_parcel("1234-5678-9013", WAREHOUSE)
    db.session.commit()

    assert first.new is True
    assert again.new is False
    assert again.receipt.id == first.receipt.id
    rma = db.session.get(Rma, waiting.id)
    assert rma.status == RmaStatus.RECEIVED
    assert [e.to_status for e in rma.events if e.kind == EventKind.STATUS_CHANGED][-1] == (
        RmaStatus.RECEIVED
    )


def test_a_case_not_waiting_for_a_parcel_is_refused_and_nothing_recorded(ctx, create_rma):
    rma = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    with pytest.raises(ScanError) as refused:
        receive_parcel(rma.number, WAREHOUSE)
    assert refused.value.details == {"status": "submitted"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 0


@pytest.mark.databases
def test_fifty_parallel_scans_of_one_parcel_make_one_receipt(app, waiting):
    barrier = threading.Barrier(50)
    outcomes: list[bool] = []
    failures: list[BaseException] = []

    def scan() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                result = receive_parcel(
                    waiting.number, Actor(WAREHOUSE.kind, EventChannel.WAREHOUSE)
                )
                db.session.commit()
                outcomes.append(result.new)
            except BaseException as exc:
                db.session.rollback()
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scan) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert sorted(outcomes) == [False] * 49 + [True]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1
        rma = db.session.get(Rma, waiting.id)
        received = [e for e in rma.events if e.to_status == RmaStatus.RECEIVED]
        assert len(received) == 1
