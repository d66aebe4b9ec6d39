"""The repair operations: legal moves only, money right, repeats change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.core.actors import Actor
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.policy.models import PolicyRule
from reverse.repairs import operations as ops
from reverse.repairs.constants import Handback, PriceItemKind, QuoteState, RepairKind
from reverse.repairs.models import RepairQuote
from reverse.rmas.constants import PurchasePlace, RmaStatus, RmaType
from reverse.rmas.models import EventKind, Rma, RmaEvent
from reverse.shipping.constants import Carrier, Direction, ShipmentStatus
from reverse.shipping.models import Shipment
from reverse.shipping.tracking import TrackingReport, record_tracking
from tests.concurrency import at_once
from tests.fixtures.repairs import CENTRE_ACTOR, STORE_ACTOR

S = RmaStatus
CUSTOMER = Actor.customer()


def _rma(rma_id: int) -> Rma:
    return db.session.get(Rma, rma_id)


def _intake(store, **changes) -> ops.CounterIntake:
    fields = {
        "location": store,
        "contact": {"name": "佐藤 一郎", "email": "ichiro@example.jp", "phone": "", "locale": "ja"},
        "place": PurchasePlace.DEPARTMENT_STORE,
        "retailer": "髙島屋日本橋店",
        "purchase_date": utcnow().date() - timedelta(days=30),
        "description": "革のショルダーバッグ",
        "reason": "defective",
        "symptom": "金具が外れた",
        "receipt_seen": True,
    }
    return ops.CounterIntake(**(fields | changes))


def test_a_counter_intake_opens_an_accepted_repair_with_its_order(
    ctx, create_channel, create_location
):
    create_channel(ChannelCode.DEPARTMENT_STORE)
    store = create_location(LocationKind.STORE)
    rma, token, outcome = ops.accept_at_counter(
        _intake(store, estimate_min_yen=3300, estimate_max_yen=6600), STORE_ACTOR
    )
    db.session.commit()
    assert rma.status == S.ACCEPTED
    assert rma.location_id == store.id
    assert token
    repair = rma.repair
    assert repair.warranty  # a defect 30 days after purchase: free
    assert outcome.lines[0].warranty
    assert (repair.estimate_min_yen, repair.estimate_max_yen) == (3300, 6600)
    assert repair.handback == Handback.STORE_PICKUP
    assert repair.pickup_location_id == store.id
    # the promise counts days in Japan, where the counter is, whatever the hour in UTC
    assert repair.promised_on == today_in_japan(utcnow()) + timedelta(days=21)
    assert repair.received_at is not None


def test_a_bad_estimate_or_a_past_promise_writes_nothing(ctx, create_channel, create_location):
    create_channel(ChannelCode.DEPARTMENT_STORE)
    store = create_location(LocationKind.STORE)
    with pytest.raises(ops.RepairError) as exc:
        ops.accept_at_counter(
            _intake(store, estimate_min_yen=9000, estimate_max_yen=3000), STORE_ACTOR
        )
    assert exc.value.details["field"] == "estimate_max_yen"
    with pytest.raises(ops.RepairError):
        ops.accept_at_counter(
            _intake(store, promised_on=utcnow().date() - timedelta(days=2)), STORE_ACTOR
        )
    with pytest.raises(ops.RepairError):
        ops.accept_at_counter(_intake(store, handback=Handback.SHIP), STORE_ACTOR)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rma)) == 0


def test_a_returns_centre_cannot_take_a_walk_in_repair(ctx, create_channel, create_location):
    create_channel(ChannelCode.DEPARTMENT_STORE)
    centre = create_location(LocationKind.RETURNS_CENTRE)
    with pytest.raises(ops.RepairError):
        ops.accept_at_counter(_intake(centre), STORE_ACTOR)


def test_receiving_twice_at_the_centre_changes_nothing_the_second_time(make_repair, ctx):
    rma = make_repair(S.IN_TRANSIT)
    first = ops.receive_at_centre(rma.display_number, CENTRE_ACTOR)
    db.session.commit()
    second = ops.receive_at_centre(rma.number, CENTRE_ACTOR)
    db.session.commit()
    assert first.new
    assert not second.new
    stored = _rma(rma.id)
    assert stored.status == S.AT_REPAIR_CENTRE
    moves = [e for e in stored.events if e.to_status == S.AT_REPAIR_CENTRE]
    assert len(moves) == 1
    courier = db.session.scalar(sa.select(Shipment).where(Shipment.rma_id == rma.id))
    assert courier.carrier == Carrier.OWN
    assert courier.status == ShipmentStatus.DELIVERED


def test_a_return_cannot_be_received_as_a_repair(ctx, create_rma):
    rma = create_rma(RmaType.RETURN, S.AWAITING_ITEM)
    from reverse.intake.operations import ScanError

    with pytest.raises(ScanError):
        ops.receive_at_centre(rma.number, CENTRE_ACTOR)


def test_a_paid_repair_needs_a_quote_before_it_starts(make_repair, ctx):
    rma = make_repair(S.DIAGNOSED)
    with pytest.raises(ops.RepairError):
        ops.start_repair(_rma(rma.id), CENTRE_ACTOR)
    db.session.rollback()
    assert _rma(rma.id).status == S.DIAGNOSED


def test_a_warranty_repair_is_not_quoted(make_repair, ctx, price_item):
    rma = make_repair(S.DIAGNOSED, warranty=True)
    with pytest.raises(ops.RepairError):
        ops.send_quote(_rma(rma.id), [ops.QuoteLineData("作業", 3300)], CENTRE_ACTOR)
    db.session.rollback()
    ops.start_repair(_rma(rma.id), CENTRE_ACTOR)
    db.session.commit()
    assert _rma(rma.id).status == S.IN_REPAIR


def test_changing_the_warranty_at_diagnosis_needs_a_reason(make_repair, ctx):
    rma = make_repair(S.AT_REPAIR_CENTRE, warranty=True)
    with pytest.raises(ops.RepairError) as exc:
        ops.diagnose(
            _rma(rma.id),
            CENTRE_ACTOR,
            diagnosis="落下による破損",
            kind=RepairKind.HARDWARE,
            warranty=False,
        )
    assert exc.value.details["field"] == "warranty_note"
    db.session.rollback()
    ops.diagnose(
        _rma(rma.id),
        CENTRE_ACTOR,
        diagnosis="落下による破損",
        kind=RepairKind.HARDWARE,
        warranty=False,
        warranty_note="落下による破損のため保証対象外です。",
    )
    db.session.commit()
    assert _rma(rma.id).repair.warranty is False


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (ops.QuoteLineData("", 1000), "lines-0"),
        (ops.QuoteLineData("作業", -1), "lines-0"),
        (ops.QuoteLineData("作業", 1000, quantity=0), "lines-0"),
        (ops.QuoteLineData("作業", 999_999, quantity=99), "lines"),
    ],
)
def test_a_bad_quote_line_is_refused_and_nothing_is_written(make_repair, ctx, line, field):
    rma = make_repair(S.DIAGNOSED)
    with pytest.raises(ops.RepairError) as exc:
        ops.send_quote(_rma(rma.id), [line], CENTRE_ACTOR)
    assert exc.value.details["field"] == field
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RepairQuote)) == 0
    assert _rma(rma.id).status == S.DIAGNOSED


def test_a_revised_quote_replaces_the_open_one_and_the_old_one_cannot_be_approved(
    make_repair, ctx, price_item
):
    rma = make_repair(S.QUOTED)
    old = _rma(rma.id).repair.open_quote
    new = ops.send_quote(
        _rma(rma.id),
        [
            ops.quote_line_from(price_item(), 1, "ja"),
            ops.QuoteLineData("部品", 1100, quantity=2, kind=PriceItemKind.PART),
        ],
        CENTRE_ACTOR,
        note="金具も交換が必要です",
    )
    db.session.commit()
    assert new.total_yen == 8800 + 2200
    assert db.session.get(RepairQuote, old.id).state == QuoteState.SUPERSEDED
    with pytest.raises(ops.RepairError):
        ops.answer_quote(_rma(rma.id), old.id, True, CUSTOMER)
    db.session.rollback()
    assert ops.answer_quote(_rma(rma.id), new.id, True, CUSTOMER)
    db.session.commit()
    assert _rma(rma.id).repair.amount_due_yen == 11_000
    # the customer is told about the revision on their page
    notes = [e for e in _rma(rma.id).events if e.kind == EventKind.NOTE and e.public]
    assert notes
    assert notes[-1].data["params"]["total"] == "¥11,000"


def test_the_same_answer_twice_changes_nothing_and_a_different_one_is_refused(make_repair, ctx):
    rma = make_repair(S.QUOTED)
    quote_id = _rma(rma.id).repair.open_quote.id
    assert ops.answer_quote(_rma(rma.id), quote_id, False, CUSTOMER)
    db.session.commit()
    assert not ops.answer_quote(_rma(rma.id), quote_id, False, CUSTOMER)
    with pytest.raises(ops.RepairError):
        ops.answer_quote(_rma(rma.id), quote_id, True, CUSTOMER)
    db.session.rollback()
    stored = _rma(rma.id)
    assert stored.status == S.QUOTE_DECLINED
    assert len([e for e in stored.events if e.to_status == S.QUOTE_DECLINED]) == 1


def test_a_declined_quote_costs_the_fee_the_policy_names(
    ctx, create_channel, create_location, make_repair
):
    create_channel(ChannelCode.DEPARTMENT_STORE)
    db.session.add(
        PolicyRule(channel_code=ChannelCode.DEPARTMENT_STORE, repair_decline_fee_yen=1100)
    )
    db.session.commit()
    rma = make_repair(S.QUOTED)
    ops.answer_quote(_rma(rma.id), _rma(rma.id).repair.open_quote.id, False, CUSTOMER)
    db.session.commit()
    repair = _rma(rma.id).repair
    assert repair.decline_fee_yen == 1100
    assert repair.amount_due_yen == 1100
    ops.send_back(_rma(rma.id), CENTRE_ACTOR)
    db.session.commit()
    assert _rma(rma.id).status == S.RETURNING


def test_an_unrepairable_item_goes_back_with_a_reason(make_repair, ctx):
    rma = make_repair(S.DIAGNOSED)
    with pytest.raises(ops.RepairError):
        ops.send_back(_rma(rma.id), CENTRE_ACTOR)
    db.session.rollback()
    ops.send_back(_rma(rma.id), CENTRE_ACTOR, reason="同じ革が入手できないため修理できません。")
    db.session.commit()
    stored = _rma(rma.id)
    assert stored.status == S.RETURNING
    assert stored.events[-1].note.startswith("同じ革")


def test_the_work_needs_a_log_before_the_quality_check(make_repair, ctx, price_item):
    rma = make_repair(S.IN_REPAIR)
    with pytest.raises(ops.RepairError):
        ops.ready_for_check(_rma(rma.id), CENTRE_ACTOR)
    db.session.rollback()
    with pytest.raises(ops.RepairError):
        ops.log_work(_rma(rma.id), CENTRE_ACTOR, note="", minutes=10)
    db.session.rollback()
    part = price_item("P-RING", 550, kind=PriceItemKind.PART, repair_kind=RepairKind.HARDWARE)
    entry = ops.log_work(_rma(rma.id), CENTRE_ACTOR, minutes=15, part=part, quantity=2)
    ops.ready_for_check(_rma(rma.id), CENTRE_ACTOR)
    db.session.commit()
    assert entry.quantity == 2
    assert _rma(rma.id).status == S.QUALITY_CHECK


def test_a_failed_check_goes_back_into_repair_with_a_staff_note(make_repair, ctx):
    rma = make_repair(S.QUALITY_CHECK)
    ops.fail_quality_check(_rma(rma.id), CENTRE_ACTOR, "縫い目が曲がっている")
    db.session.commit()
    stored = _rma(rma.id)
    assert stored.status == S.IN_REPAIR
    note = next(e for e in stored.events if e.note == "縫い目が曲がっている")
    assert note.public is False


def test_only_the_pickup_store_receives_and_hands_back(make_repair, ctx, create_location):
    rma = make_repair(S.RETURNING)
    elsewhere = create_location(LocationKind.STORE)
    with pytest.raises(ops.WrongPlace):
        ops.receive_at_store(rma.number, elsewhere, STORE_ACTOR)
    db.session.rollback()
    assert ops.receive_at_store(rma.number, rma.store, STORE_ACTOR).new
    db.session.commit()
    assert not ops.receive_at_store(rma.number, rma.store, STORE_ACTOR).new
    with pytest.raises(ops.WrongPlace):
        ops.hand_back(_rma(rma.id), elsewhere, STORE_ACTOR, paid=True)
    db.session.rollback()
    assert _rma(rma.id).status == S.READY


def test_money_owed_is_collected_before_the_hand_back(make_repair, ctx):
    rma = make_repair(S.READY)
    assert _rma(rma.id).repair.amount_due_yen == 8800
    with pytest.raises(ops.RepairError) as exc:
        ops.hand_back(_rma(rma.id), rma.store, STORE_ACTOR)
    assert exc.value.details["field"] == "paid"
    db.session.rollback()
    assert ops.hand_back(_rma(rma.id), rma.store, STORE_ACTOR, paid=True, payment_note="レジ")
    db.session.commit()
    assert not ops.hand_back(_rma(rma.id), rma.store, STORE_ACTOR, paid=True)
    stored = _rma(rma.id)
    assert stored.status == S.CLOSED
    assert stored.repair.paid_at is not None
    assert stored.repair.handed_back_at is not None
    assert [e.to_status for e in stored.events][-2:] == [S.HANDED_BACK, S.CLOSED]


def test_carrier_news_hands_a_delivered_repair_back_and_closes_it(make_repair, ctx):
    rma = make_repair(S.READY, handback=Handback.SHIP)
    repair = _rma(rma.id).repair
    ops.record_payment(_rma(rma.id), CENTRE_ACTOR, "振込")
    db.session.commit()
    assert repair.amount_outstanding_yen == 0
    parcel = db.session.scalar(
        sa.select(Shipment).where(
            Shipment.rma_id == rma.id, Shipment.direction == Direction.TO_CUSTOMER
        )
    )
    now = utcnow()
    for status, at in (("in_transit", now), ("delivered", now + timedelta(hours=20))):
        record_tracking(TrackingReport(parcel.tracking_number, status, at, "羽田", ""), "webhook")
        db.session.commit()
    assert _rma(rma.id).status == S.CLOSED
    assert _rma(rma.id).repair.handed_back_at is not None


def test_a_delivered_repair_does_not_leave_while_money_is_owed(make_repair, ctx):
    rma = make_repair(S.READY, handback=Handback.SHIP)
    with pytest.raises(ops.RepairError):
        ops.handed_to_carrier(_rma(rma.id), CENTRE_ACTOR)
    db.session.rollback()
    ops.record_payment(_rma(rma.id), CENTRE_ACTOR, "振込")
    assert ops.handed_to_carrier(_rma(rma.id), CENTRE_ACTOR)
    db.session.commit()
    assert _rma(rma.id).status == S.HANDED_BACK


def test_a_web_repair_waits_for_its_item_and_a_drop_off_store_takes_it_in(
    ctx, create_channel, create_location, create_variant
):
    from reverse.catalog.constants import Category
    from reverse.portal.operations import new_draft, submit_draft, update_draft

    create_channel(ChannelCode.WEB)
    create_location(LocationKind.REPAIR_CENTRE)
    store = create_location(LocationKind.STORE)
    variant = create_variant(Category.BAGS)
    draft, _ = new_draft()
    update_draft(
        draft,
        type="repair",
        place="gift",
        order_id=None,
        retailer="",
        purchase_date=None,
        price_yen=None,
        lines=[
            {
                "order_line_id": None,
                "variant_id": variant.id,
                "description": "",
                "quantity": 1,
                "reason": "wear_and_tear",
                "comment": "",
                "wanted_variant_id": None,
                "symptom": "持ち手が切れた",
            }
        ],
        method="store_drop_off",
        drop_off_location_id=store.id,
        contact={"name": "高橋", "email": "t@example.jp", "phone": "", "locale": "ja"},
    )
    create_channel(ChannelCode.OTHER)
    rma, _token = submit_draft(draft, CUSTOMER)
    db.session.commit()
    assert rma.status == S.AWAITING_ITEM
    assert rma.repair.handback == Handback.STORE_PICKUP
    assert rma.repair.pickup_location_id == store.id
    other = create_location(LocationKind.STORE)
    with pytest.raises(ops.WrongPlace):
        ops.take_in_dropped_off(_rma(rma.id), other, STORE_ACTOR)
    db.session.rollback()
    ops.take_in_dropped_off(_rma(rma.id), store, STORE_ACTOR)
    db.session.commit()
    assert _rma(rma.id).status == S.ACCEPTED
    ops.send_to_centre(_rma(rma.id), STORE_ACTOR)
    db.session.commit()
    assert _rma(rma.id).status == S.IN_TRANSIT


@pytest.mark.postgres
def test_ten_parallel_scans_at_the_centre_receive_the_item_once(app, make_repair):
    rma = make_repair(S.IN_TRANSIT)
    results, raised = at_once(
        app, 10, lambda _n: ops.receive_at_centre(rma.number, CENTRE_ACTOR).new
    )
    assert raised == []
    assert sorted(results) == [False] * 9 + [True]
    with app.app_context():
        moves = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RmaEvent)
            .where(RmaEvent.rma_id == rma.id, RmaEvent.to_status == S.AT_REPAIR_CENTRE)
        )
        assert moves == 1
        assert db.session.get(Rma, rma.id).status == S.AT_REPAIR_CENTRE


@pytest.mark.postgres
def test_twenty_answers_at_once_approve_the_quote_once(app, make_repair):
    rma = make_repair(S.QUOTED)
    with app.app_context():
        quote_id = db.session.get(Rma, rma.id).repair.open_quote.id
    results, raised = at_once(
        app, 20, lambda _n: ops.answer_quote(db.session.get(Rma, rma.id), quote_id, True, CUSTOMER)
    )
    assert raised == []
    assert sorted(results) == [False] * 19 + [True]
    with app.app_context():
        approvals = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RmaEvent)
            .where(RmaEvent.rma_id == rma.id, RmaEvent.to_status == S.QUOTE_APPROVED)
        )
        assert approvals == 1
        assert db.session.get(Rma, rma.id).repair.amount_due_yen == 8800
