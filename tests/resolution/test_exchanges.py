"""Exchanges: the replacement is reserved at approval, shipped at receipt, given back when the
case ends without it; two approvals never get the same last unit."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location, StockLevel
from reverse.core.actors import Actor, EventChannel
from reverse.extensions import db
from reverse.intake.constants import UnitState
from reverse.intake.operations import receive_parcel
from reverse.resolution.constants import RefundRelease, ReservationState
from reverse.resolution.exchanges import price_difference, reservations
from reverse.resolution.models import StockReservation
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import move_rma
from reverse.shipping.constants import Direction
from reverse.shipping.models import Shipment
from tests.resolution.conftest import WAREHOUSE, receive, stock_of

SUPPORT = Actor(WAREHOUSE.kind, EventChannel.CALL_CENTRE, label="サポート")


def approve(case) -> Rma:
    rma = db.session.get(Rma, case.id)
    move_rma(rma, RmaStatus.APPROVED, SUPPORT)
    db.session.commit()
    return db.session.get(Rma, case.id)


def store_id() -> int:
    return db.session.scalar(sa.select(Location.id).where(Location.kind == LocationKind.STORE))


def test_approval_reserves_from_the_returns_centre_first(ctx, centre, variant, make_case):
    wanted = variant(stock={centre: 1, store_id(): 5})
    case = make_case(RmaStatus.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
    rma = approve(case)
    [reservation] = reservations(rma)
    assert (reservation.location_id, reservation.state) == (centre, ReservationState.RESERVED)
    assert stock_of(wanted) == {centre: (1, 1), store_id(): (5, 0)}


def test_the_location_with_most_available_serves_when_the_centre_cannot(
    ctx, centre, variant, make_case
):
    wanted = variant(stock={centre: 1, store_id(): 5})
    case = make_case(
        RmaStatus.SUBMITTED,
        rma_type=RmaType.EXCHANGE,
        lines=[{"wanted": wanted, "quantity": 2, "ordered": 2}],
    )
    [reservation] = reservations(approve(case))
    assert (reservation.location_id, reservation.quantity) == (store_id(), 2)
    assert stock_of(wanted)[store_id()] == (5, 2)


def test_no_stock_leaves_the_exchange_to_a_person_and_approves_anyway(
    ctx, centre, variant, make_case
):
    wanted = variant(stock={centre: 0})
    case = make_case(RmaStatus.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
    rma = approve(case)
    assert rma.status == RmaStatus.APPROVED
    assert reservations(rma) == []
    note = rma.events[-1]
    assert note.note.startswith("No stock of %(item)s")
    assert note.public is False
    # Moving on to waiting for the item tries again, without a second note.
    move_rma(rma, RmaStatus.AWAITING_ITEM, SUPPORT)
    db.session.commit()
    rma = db.session.get(Rma, case.id)
    assert sum(1 for e in rma.events if e.note.startswith("No stock of")) == 1


def test_a_cancelled_exchange_gives_its_replacement_back(ctx, centre, variant, make_case):
    wanted = variant(stock={centre: 2})
    case = make_case(RmaStatus.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
    rma = approve(case)
    move_rma(rma, RmaStatus.CANCELLED, Actor.customer())
    db.session.commit()
    assert [r.state for r in reservations(rma)] == [ReservationState.RELEASED]
    assert stock_of(wanted) == {centre: (2, 0)}


@pytest.mark.databases
def test_two_parallel_approvals_for_the_last_unit_reserve_it_once(app, centre, variant, make_case):
    wanted = variant(stock={centre: 1})
    cases = [
        make_case(RmaStatus.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def approve_in_parallel(case_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                move_rma(db.session.get(Rma, case_id), RmaStatus.APPROVED, SUPPORT)
                db.session.commit()
            except BaseException as exc:
                db.session.rollback()
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve_in_parallel, args=(c.id,)) for c in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StockReservation)) == 1
        assert stock_of(wanted) == {centre: (1, 1)}
        statuses = [db.session.get(Rma, c.id).status for c in cases]
        assert statuses == [RmaStatus.APPROVED, RmaStatus.APPROVED]


def test_receiving_the_item_ships_the_replacement(ctx, centre, channel, variant, make_case):
    channel(RefundRelease.INSPECTION)
    wanted = variant(stock={centre: 3})
    case = make_case(RmaStatus.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
    rma = approve(case)
    move_rma(rma, RmaStatus.AWAITING_ITEM, SUPPORT)
    db.session.commit()
    receive_parcel(case.number, WAREHOUSE)
    db.session.commit()
    [reservation] = reservations(db.session.get(Rma, case.id))
    assert reservation.state == ReservationState.SHIPPED
    parcel = db.session.get(Shipment, reservation.shipment_id)
    assert (parcel.direction, parcel.from_location_id) == (Direction.TO_CUSTOMER, centre)
    assert stock_of(wanted) == {centre: (2, 0)}
    rma = db.session.get(Rma, case.id)
    shipped = [e for e in rma.events if e.note.startswith("Your replacement is on its way")]
    assert shipped[0].public
    assert shipped[0].data["params"]["number"] == parcel.tracking_number


def test_a_replacement_whose_item_never_arrived_is_not_shipped(ctx, centre, variant, make_case):
    from reverse.resolution.exchanges import ship_replacements

    wanted = variant(stock={centre: 3})
    case = make_case(RmaStatus.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
    approve(case)
    receive(case.id, {1: UnitState.SHORT})
    assert ship_replacements(db.session.get(Rma, case.id), WAREHOUSE) == []
    db.session.commit()
    assert stock_of(wanted) == {centre: (3, 1)}


def test_the_price_difference_is_wanted_price_less_what_was_paid(ctx, variant, make_case):
    dearer, cheaper = variant(price=12000), variant(price=8000)
    case = make_case(
        RmaStatus.SUBMITTED,
        rma_type=RmaType.EXCHANGE,
        lines=[
            {"price": 10000, "discount": 1000, "wanted": dearer},
            {"price": 10000, "wanted": cheaper},
        ],
    )
    difference = price_difference(db.session.get(Rma, case.id))
    assert [x.difference_yen for x in difference.lines] == [3000, -2000]
    assert difference.total_yen == 1000
    assert db.session.scalar(sa.select(StockLevel.id)) is None
