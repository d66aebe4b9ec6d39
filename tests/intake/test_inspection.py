"""Inspecting received units: grade, checklist, photos, the proposal, and a decision that is
applied exactly once; the last decision moves the case to inspected."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from unittest import mock

import pytest
import sqlalchemy as sa
from PIL import Image

from reverse.catalog.constants import Category, LocationKind
from reverse.catalog.models import StockLevel
from reverse.core.actors import Actor, ActorKind, EventChannel
from reverse.core.errors import ConcurrentChange, IllegalTransition
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade, UnitState
from reverse.intake.dispositions import RuleValues, create_rule
from reverse.intake.inspection import (
    AlreadyDecided,
    InspectionRefused,
    decide_disposition,
    inspect_unit,
)
from reverse.intake.models import Inspection, ReceiptUnit
from reverse.intake.operations import receive_parcel
from reverse.resale.constants import ResaleState
from reverse.resale.models import ResaleItem
from reverse.resolution.constants import RefundRelease
from reverse.rmas.constants import AttachmentKind, RmaStatus, RmaType
from reverse.rmas.models import Attachment, EventKind, Rma, RmaLine
from tests.fixtures.catalog import in_context

INSPECTOR = Actor(ActorKind.STAFF, EventChannel.WAREHOUSE, None, "倉庫 次郎")
GOOD_APPAREL = {
    "tags_attached": True,
    "worn": False,
    "stains": False,
    "odour": False,
    "damage": False,
}


@pytest.fixture
def centre(create_location):
    return create_location(LocationKind.RETURNS_CENTRE, code="RC-TEST")


@pytest.fixture
def received(app, create_rma, create_variant, centre) -> Callable[..., Rma]:
    """`received(quantity, category=…, price_yen=…, reason=…)`: a return whose parcel was
    taken in at the centre, with one unit per item asked for."""

    def make(
        quantity: int = 1,
        *,
        category: Category = Category.TOPS,
        price_yen: int = 8_900,
        reason: str = "size_too_small",
        status: RmaStatus = RmaStatus.AWAITING_ITEM,
    ) -> Rma:
        rma = create_rma(RmaType.RETURN, status)
        variant = create_variant(category, price_yen)
        with in_context(app):
            line = db.session.scalars(sa.select(RmaLine).where(RmaLine.rma_id == rma.id)).one()
            line.variant_id, line.quantity, line.reason = variant.id, quantity, reason
            db.session.commit()
            receive_parcel(rma.number, INSPECTOR, location_id=centre.id)
            db.session.commit()
            return db.session.get(Rma, rma.id)

    return make


def units_of(rma: Rma) -> list[ReceiptUnit]:
    stmt = sa.select(ReceiptUnit).where(ReceiptUnit.rma_id == rma.id).order_by(ReceiptUnit.unit_no)
    return list(db.session.scalars(stmt))


def jpeg(colour: str = "navy") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, format="JPEG")
    out.seek(0)
    return out


def inspect(unit: ReceiptUnit, grade: Grade = Grade.B, **kw) -> Inspection:
    kw.setdefault("checklist", GOOD_APPAREL)
    kw.setdefault("notes", "")
    inspection = inspect_unit(unit.id, grade=grade, actor=INSPECTOR, **kw)
    db.session.commit()
    return inspection


def decide(inspection: Inspection, disposition: Disposition, reason: str = "") -> Inspection:
    decided = decide_disposition(
        inspection.id, disposition=disposition, actor=INSPECTOR, override_reason=reason
    )
    db.session.commit()
    return decided


def staff_notes(rma_id: int) -> list:
    rma = db.session.get(Rma, rma_id)
    db.session.refresh(rma)
    return [e for e in rma.events if e.kind == EventKind.NOTE]


@pytest.mark.databases
def test_resale_accepted_twice_makes_one_resale_item_at_the_grade_price(ctx, received, centre):
    rma = received(1, price_yen=12_900)
    unit = units_of(rma)[0]
    inspection = inspect(unit, Grade.B, photos=[jpeg("navy"), jpeg("teal")], notes=" 袖に軽いしわ ")
    assert inspection.proposed_disposition == Disposition.RESALE
    assert inspection.rule_id is None
    assert inspection.notes == "袖に軽いしわ"

    decide(inspection, Disposition.RESALE)
    decide(inspection, Disposition.RESALE)

    item = db.session.scalars(sa.select(ResaleItem)).one()
    assert item.unit_id == unit.id
    assert item.grade == Grade.B
    assert item.suggested_price_yen == item.price_yen == 12_900 * 60 // 100
    assert item.location_id == centre.id
    assert item.state == ResaleState.DRAFT
    photos = db.session.scalars(sa.select(Attachment).where(Attachment.unit_id == unit.id)).all()
    assert [p.kind for p in photos] == [AttachmentKind.INSPECTION] * 2
    assert {p.added_by for p in photos} == {"倉庫 次郎"}
    notes = staff_notes(rma.id)
    assert notes
    assert not any(e.public for e in notes)


@pytest.mark.databases
def test_restock_adds_exactly_one_to_the_centres_stock(ctx, received, centre):
    rma = received(2, price_yen=5_500)
    first, second = units_of(rma)
    variant_id = first.variant_id
    db.session.add(StockLevel(variant_id=variant_id, location_id=centre.id, on_hand=3))
    db.session.commit()

    decide(inspect(first, Grade.A), Disposition.RESTOCK)
    decide(inspect(first, Grade.A), Disposition.RESTOCK)  # a repeat changes nothing
    level = db.session.scalars(sa.select(StockLevel)).one()
    assert level.on_hand == 4

    decide(inspect(second, Grade.A), Disposition.RESTOCK)
    db.session.refresh(level)
    assert level.on_hand == 5


@pytest.mark.databases
def test_restock_creates_the_stock_row_when_there_is_none(ctx, received, centre):
    rma = received(1)
    decide(inspect(units_of(rma)[0], Grade.A), Disposition.RESTOCK)
    level = db.session.scalars(sa.select(StockLevel)).one()
    assert (level.location_id, level.on_hand, level.reserved) == (centre.id, 1, 0)


def test_an_override_needs_a_reason_and_keeps_it(ctx, received):
    rma = received(1)
    inspection = inspect(units_of(rma)[0], Grade.B)
    with pytest.raises(InspectionRefused) as refused:
        decide(inspection, Disposition.DISPOSE, reason="   ")
    assert refused.value.details == {"field": "override_reason"}
    db.session.rollback()
    assert db.session.get(Inspection, inspection.id).disposition is None

    decided = decide(inspection, Disposition.DISPOSE, reason="カビ臭が強く販売不可")
    assert decided.disposition == Disposition.DISPOSE
    assert decided.proposed_disposition == Disposition.RESALE
    assert decided.override_reason == "カビ臭が強く販売不可"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResaleItem)) == 0


def test_a_decided_disposition_cannot_be_changed(ctx, received):
    rma = received(2)
    first = inspect(units_of(rma)[0], Grade.C)
    decide(first, Disposition.REFURBISH)
    with pytest.raises(AlreadyDecided):
        decide(first, Disposition.RECYCLE, reason="やはり修理不可")
    db.session.rollback()
    # Nor can its grading, once decided.
    with pytest.raises(ConcurrentChange):
        inspect(units_of(rma)[0], Grade.D)
    db.session.rollback()
    assert db.session.get(Inspection, first.id).grade == Grade.C


def test_a_checklist_answer_from_another_category_is_refused(ctx, received):
    rma = received(1, category=Category.SHOES)
    unit = units_of(rma)[0]
    with pytest.raises(InspectionRefused) as refused:
        inspect(unit, checklist={**GOOD_APPAREL})
    assert "tags_attached" in refused.value.details["unknown"]
    db.session.rollback()
    shoes = {"box_present": True, "sole_wear": False, "creases": False, "scuffs": False}
    with pytest.raises(InspectionRefused) as missing:
        inspect(unit, checklist=shoes)
    assert missing.value.details == {"missing": ["odour"]}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0

    inspection = inspect(unit, checklist={**shoes, "odour": False})
    assert list(inspection.checklist) == ["box_present", "sole_wear", "creases", "scuffs", "odour"]


def test_units_of_a_case_not_received_cannot_be_inspected(ctx, received):
    rma = received(2)
    unit = units_of(rma)[0]
    stored = db.session.get(Rma, rma.id)
    stored.transition(RmaStatus.INSPECTED, INSPECTOR)
    db.session.commit()
    with pytest.raises(IllegalTransition) as refused:
        inspect(unit)
    assert refused.value.details == {"status": "inspected"}


def test_a_short_unit_is_not_inspected(ctx, received):
    rma = received(2)
    unit = units_of(rma)[1]
    unit.state = UnitState.SHORT
    db.session.commit()
    with pytest.raises(InspectionRefused):
        inspect(unit)


def test_the_same_inspection_again_changes_nothing_and_regrading_updates_it(ctx, received):
    rma = received(1)
    unit = units_of(rma)[0]
    first = inspect(unit, Grade.B, photos=[jpeg()])
    notes_before = len(staff_notes(rma.id))
    again = inspect(unit, Grade.B, photos=[jpeg()])  # the same photo once more, too
    assert again.id == first.id
    assert len(staff_notes(rma.id)) == notes_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1

    regraded = inspect(unit, Grade.A)
    assert regraded.id == first.id
    assert (regraded.grade, regraded.proposed_disposition) == (Grade.A, Disposition.RESTOCK)
    assert len(staff_notes(rma.id)) == notes_before + 1


def test_the_proposal_names_the_rule_that_made_it(ctx, received):
    rule = create_rule(
        RuleValues(reason="defective", grade=Grade.C, disposition=Disposition.RETURN_TO_VENDOR)
    )
    db.session.commit()
    rma = received(1, reason="defective")
    inspection = inspect(units_of(rma)[0], Grade.C)
    assert (inspection.proposed_disposition, inspection.rule_id) == (
        Disposition.RETURN_TO_VENDOR,
        rule.id,
    )


@pytest.mark.databases
def test_the_last_decision_moves_the_case_to_inspected_once(ctx, received):
    rma = received(3)
    first, second, third = units_of(rma)
    third.state = UnitState.SHORT  # missing from the parcel: needs no disposition
    db.session.commit()
    with mock.patch("reverse.resolution.operations.on_release_point") as release:
        decide(inspect(first, Grade.A), Disposition.RESTOCK)
        assert db.session.get(Rma, rma.id).status == RmaStatus.RECEIVED
        release.assert_not_called()

        decide(inspect(second, Grade.D), Disposition.RECYCLE)
        case = db.session.get(Rma, rma.id)
        assert case.status == RmaStatus.INSPECTED
        moves = [
            (e.from_status, e.to_status) for e in case.events if e.kind == EventKind.STATUS_CHANGED
        ]
        assert moves[-1] == (RmaStatus.RECEIVED, RmaStatus.INSPECTED)
        release.assert_called_once()
        assert release.call_args.args[1] == RefundRelease.INSPECTION

        decide(db.session.get(Inspection, second.inspection.id), Disposition.RECYCLE)
        release.assert_called_once()


@pytest.mark.databases
def test_parallel_decisions_apply_once_and_move_the_case_once(app, received, centre):
    with app.app_context():
        rma_id = received(2).id
        first, second = units_of(db.session.get(Rma, rma_id))
        ids = [inspect(first, Grade.A).id, inspect(second, Grade.A).id]
        db.session.remove()
    barrier = threading.Barrier(10)
    failures: list[BaseException] = []

    def decide_one(inspection_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                decide_disposition(inspection_id, disposition=Disposition.RESTOCK, actor=INSPECTOR)
                db.session.commit()
            except BaseException as exc:
                db.session.rollback()
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide_one, args=(ids[n % 2],)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    with app.app_context():
        level = db.session.scalars(sa.select(StockLevel)).one()
        assert level.on_hand == 2
        case = db.session.get(Rma, rma_id)
        assert case.status == RmaStatus.INSPECTED
        inspected = [e for e in case.events if e.to_status == RmaStatus.INSPECTED]
        assert len(inspected) == 1
