"""A person settles an inspected case: refund, store credit, exchange or rejection."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.core.db import commit
from reverse.core.errors import IllegalTransition
from reverse.extensions import db
from reverse.resolution.constants import RefundKind, RefundRelease, RefundState, Resolution
from reverse.resolution.exchanges import reservations
from reverse.resolution.models import Refund
from reverse.resolution.operations import (
    AlreadyResolved,
    ResolutionError,
    after_inspection,
    resolve,
)
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import move_rma
from reverse.shipping.constants import Direction
from reverse.shipping.models import Shipment
from tests.conftest import read_mails
from tests.resolution.conftest import WAREHOUSE, inspect_all, receive, stock_of


def rma(case) -> Rma:
    return db.session.get(Rma, case.id)


def the_refunds() -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Refund)))


def test_store_credit_is_recorded_with_the_bonus_and_released_now(ctx, channel, make_case):
    # The channel releases refunds at receipt; a decision after inspection releases at once.
    channel(RefundRelease.RECEIPT, bonus=20)
    case = make_case(lines=[{"price": 10000}])
    resolve(rma(case), Resolution.STORE_CREDIT, WAREHOUSE)
    db.session.commit()
    assert rma(case).status == RmaStatus.RESOLVED
    assert rma(case).resolution == Resolution.STORE_CREDIT
    [refund] = the_refunds()
    assert (refund.kind, refund.amount_yen, refund.bonus_yen, refund.state) == (
        RefundKind.STORE_CREDIT,
        12000,
        2000,
        RefundState.RELEASED,
    )


def test_the_same_decision_twice_changes_nothing_and_another_is_refused(ctx, make_case):
    case = make_case(lines=[{"price": 10000}])
    resolve(rma(case), Resolution.REFUND, WAREHOUSE)
    db.session.commit()
    events = len(rma(case).events)
    resolve(rma(case), Resolution.REFUND, WAREHOUSE)
    db.session.commit()
    assert len(rma(case).events) == events
    with pytest.raises(AlreadyResolved):
        resolve(rma(case), Resolution.REJECTED, WAREHOUSE, reason="late")
    db.session.rollback()
    assert len(the_refunds()) == 1


def test_only_an_inspected_case_can_be_settled(ctx, make_case):
    case = make_case(RmaStatus.RECEIVED)
    with pytest.raises(IllegalTransition):
        resolve(rma(case), Resolution.REFUND, WAREHOUSE)
    db.session.rollback()
    assert the_refunds() == []


def test_a_rejection_needs_a_reason_sends_the_item_back_and_refunds_nothing(
    app, ctx, centre, make_case
):
    case = make_case(lines=[{"price": 10000}])
    receive(case.id, location_id=centre)
    db.session.commit()
    with pytest.raises(ResolutionError):
        resolve(rma(case), Resolution.REJECTED, WAREHOUSE, reason="  ")
    db.session.rollback()
    resolve(rma(case), Resolution.REJECTED, WAREHOUSE, reason="Worn and washed: not returnable.")
    commit()
    case_now = rma(case)
    assert case_now.status == RmaStatus.RESOLVED
    assert case_now.decision_reason == "Worn and washed: not returnable."
    assert the_refunds() == []
    [parcel] = db.session.scalars(sa.select(Shipment).where(Shipment.rma_id == case.id)).all()
    assert (parcel.direction, parcel.from_location_id) == (Direction.TO_CUSTOMER, centre)
    mails = read_mails(app.config["MAIL_FILE_DIR"])
    settled = [body for _to, subject, body in mails if "is settled" in subject]
    assert "Worn and washed: not returnable." in settled[0]
    assert parcel.tracking_number in settled[0]


def test_an_exchange_for_a_cheaper_item_refunds_the_difference(ctx, centre, variant, make_case):
    cheaper = variant(price=7000, stock={centre: 1})
    case = make_case(
        RmaStatus.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"price": 9000, "wanted": cheaper}]
    )
    for status in (RmaStatus.APPROVED, RmaStatus.AWAITING_ITEM):
        move_rma(rma(case), status, WAREHOUSE)
    db.session.commit()
    for status in (RmaStatus.RECEIVED, RmaStatus.INSPECTED):
        rma(case).transition(status, WAREHOUSE)
    receive(case.id)
    inspect_all(case.id)
    assert after_inspection(rma(case), WAREHOUSE) == Resolution.EXCHANGE
    db.session.commit()
    assert rma(case).status == RmaStatus.RESOLVED
    assert [r.state.value for r in reservations(rma(case))] == ["shipped"]
    [refund] = the_refunds()
    assert (refund.amount_yen, refund.breakdown["basis"]) == (2000, "price_difference")
    assert stock_of(cheaper) == {centre: (0, 0)}


def test_an_exchange_without_stock_can_be_settled_by_refund_instead(
    ctx, centre, variant, make_case
):
    gone = variant(stock={centre: 0})
    case = make_case(rma_type=RmaType.EXCHANGE, lines=[{"price": 9000, "wanted": gone}])
    receive(case.id)
    inspect_all(case.id)
    assert after_inspection(rma(case), WAREHOUSE) is None  # no replacement: a person decides
    with pytest.raises(ResolutionError):
        resolve(rma(case), Resolution.EXCHANGE, WAREHOUSE)
    db.session.rollback()
    resolve(rma(case), Resolution.REFUND, WAREHOUSE)
    db.session.commit()
    assert [r.amount_yen for r in the_refunds()] == [9000]


def test_a_settlement_that_cannot_ship_leaves_the_case_to_a_person(
    ctx, create_location, variant, make_case
):
    from reverse.catalog.constants import LocationKind
    from reverse.resolution.exchanges import reserve_replacements

    no_carrier = create_location(LocationKind.RETURNS_CENTRE)
    wanted = variant(stock={no_carrier.id: 1})
    case = make_case(rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
    reserve_replacements(rma(case), WAREHOUSE)
    receive(case.id)
    inspect_all(case.id)
    assert after_inspection(rma(case), WAREHOUSE) is None
    db.session.commit()
    assert rma(case).status == RmaStatus.INSPECTED
    assert [r.state.value for r in reservations(rma(case))] == ["reserved"]
    assert stock_of(wanted) == {no_carrier.id: (1, 1)}
    assert rma(case).events[-1].note.startswith("The case could not be settled automatically")
