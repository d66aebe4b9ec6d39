"""Receiving unit by unit: items checked by their tags, units marked short, wrong or damaged,
extras added once; items of another case refused without recording anything."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.intake.constants import UnitState
from reverse.intake.models import ReceiptUnit
from reverse.intake.operations import (
    ScanError,
    UnknownCode,
    WrongCase,
    add_extra_unit,
    check_item_code,
    receive_parcel,
    set_unit_states,
)
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaEvent
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context

DESK = Actor.system("倉庫 次郎")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture
def received(app, create_rma):
    """A return taken in at the desk, with its one expected unit."""
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    with in_context(app):
        receive_parcel(rma.number, DESK)
        db.session.commit()
    return rma


def units_of(rma_id: int) -> list[ReceiptUnit]:
    return list(
        db.session.scalars(
            sa.select(ReceiptUnit).where(ReceiptUnit.rma_id == rma_id).order_by(ReceiptUnit.unit_no)
        )
    )


def event_count(rma_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(RmaEvent).where(RmaEvent.rma_id == rma_id)
    )


@pytest.mark.databases
def test_receiving_writes_one_unit_per_requested_unit(ctx, received):
    units = units_of(received.id)
    rma = db.session.get(Rma, received.id)
    assert [(u.unit_no, u.state) for u in units] == [(1, UnitState.RECEIVED)]
    assert units[0].variant_id == rma.lines[0].variant_id


@pytest.mark.databases
def test_an_item_tag_finds_its_unit_even_typed_full_width(ctx, received):
    rma = db.session.get(Rma, received.id)
    jan = rma.lines[0].variant.jan
    check = check_item_code(rma, jan.translate(FULL_WIDTH))
    assert [u.unit_no for u in check.units] == [1]


@pytest.mark.databases
def test_an_item_of_another_waiting_case_is_refused_naming_that_case(ctx, received, create_rma):
    other = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    other = db.session.get(Rma, other.id)
    rma = db.session.get(Rma, received.id)
    before = event_count(rma.id)
    with pytest.raises(WrongCase) as refused:
        check_item_code(rma, other.lines[0].variant.jan)
    assert other.display_number in str(refused.value.message)
    assert event_count(rma.id) == before
    assert len(units_of(rma.id)) == 1


@pytest.mark.databases
def test_unknown_item_codes_and_parcel_codes_in_the_item_field_are_refused(ctx, received):
    rma = db.session.get(Rma, received.id)
    with pytest.raises(UnknownCode):
        check_item_code(rma, "4900000000000")
    with pytest.raises(ScanError) as parcel_code:
        check_item_code(rma, rma.number)
    assert not isinstance(parcel_code.value, UnknownCode)


@pytest.mark.databases
def test_units_are_marked_and_a_repeat_changes_nothing(ctx, received):
    changed = set_unit_states(received.id, {1: (UnitState.DAMAGED, "箱つぶれ")}, DESK)
    db.session.commit()
    events = event_count(received.id)
    again = set_unit_states(received.id, {1: (UnitState.DAMAGED, "箱つぶれ")}, DESK)
    db.session.commit()
    assert [u.unit_no for u in changed] == [1]
    assert again == []
    assert event_count(received.id) == events
    assert units_of(received.id)[0].state == UnitState.DAMAGED
    with pytest.raises(ScanError):
        set_unit_states(received.id, {1: (UnitState.EXTRA, "")}, DESK)
    with pytest.raises(ScanError):
        set_unit_states(received.id, {7: (UnitState.SHORT, "")}, DESK)


@pytest.mark.databases
def test_an_extra_unit_is_added_once_even_when_submitted_twice(ctx, received, create_variant):
    jan = create_variant().jan
    first = add_extra_unit(received.id, jan, DESK, units_seen=1)
    db.session.commit()
    second = add_extra_unit(received.id, jan, DESK, units_seen=1)
    db.session.commit()
    assert first is not None
    assert (first.unit_no, first.state) == (2, UnitState.EXTRA)
    assert second is None
    assert len(units_of(received.id)) == 2


@pytest.mark.databases
def test_units_cannot_change_before_receipt(ctx, create_rma):
    waiting = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    with pytest.raises(ScanError):
        set_unit_states(waiting.id, {1: (UnitState.SHORT, "")}, DESK)


def test_the_desk_checks_items_and_marks_a_unit_short_on_the_screen(
    app, client, logged_in, received, create_rma
):
    other = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    with in_context(app):
        jan = db.session.get(Rma, received.id).lines[0].variant.jan
        other_jan = db.session.get(Rma, other.id).lines[0].variant.jan
    logged_in(Role.WAREHOUSE)
    client.get("/lang/en")
    page = client.get(f"/staff/intake/{received.number}")
    assert page.status_code == 200
    assert 'name="state-1"' in page.text
    token = csrf_token(page.text)

    ok = client.post(
        f"/staff/intake/{received.number}/item", data={"item-code": jan, "csrf_token": token}
    )
    assert "unit 1 of this request" in ok.text
    assert 'data-feedback="good"' in ok.text

    wrong = client.post(
        f"/staff/intake/{received.number}/item", data={"item-code": other_jan, "csrf_token": token}
    )
    assert wrong.status_code == 422
    assert other.display_number in wrong.text
    assert 'data-feedback="bad"' in wrong.text

    saved = client.post(
        f"/staff/intake/{received.number}/units",
        data={"state-1": "short", "note-1": "", "csrf_token": token},
    )
    assert saved.status_code == 200
    with in_context(app):
        assert units_of(received.id)[0].state == UnitState.SHORT
        assert units_of(other.id) == []


def test_the_lookup_answers_json_for_a_code_and_an_error_body_otherwise(
    client, logged_in, create_rma
):
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    logged_in(Role.WAREHOUSE)
    found = client.get("/staff/intake/lookup", query_string={"code": rma.display_number})
    assert found.status_code == 200
    assert found.json["number"] == rma.number
    assert found.json["lines"][0]["quantity"] == 1
    assert found.json["status"] == "awaiting_item"
    bad = client.get("/staff/intake/lookup", query_string={"code": "123456789014"})
    assert bad.status_code == 422
    assert bad.json["error"]["code"] == "scan_error"
    missing = client.get("/staff/intake/lookup", query_string={"code": "999999999994"})
    assert missing.status_code == 404


def test_store_staff_cannot_use_the_desk(client, logged_in):
    logged_in(Role.STORE)
    assert client.get("/staff/intake/lookup", query_string={"code": "x"}).status_code == 403
