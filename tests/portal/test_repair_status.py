"""A repair customer on their status page: the quote to approve or decline, where and when the
item comes back, and what to pay at pickup."""

from __future__ import annotations

import pytest

from reverse.core.db import commit
from reverse.extensions import db
from reverse.repairs import operations as ops
from reverse.repairs.constants import Handback, QuoteState
from reverse.repairs.models import RepairOrder, RepairQuote
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import Rma
from reverse.shipping.models import Shipment
from tests.conftest import csrf_token
from tests.fixtures.repairs import CENTRE_ACTOR

S = RmaStatus


def answer(client, rma, quote_id, action, data=None):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(f"/r/{rma.token}").text)
    return client.post(
        f"/r/{rma.token}/quote/{quote_id}/{action}", data={"csrf_token": token, **(data or {})}
    )


def stored(app, rma):  # type: ignore[no-untyped-def]
    """(status, amount due, {quote id: state}) of the case as the database has it now."""
    with app.app_context():
        case = db.session.get(Rma, rma.id)
        return (
            case.status,
            case.repair.amount_due_yen,
            {q.id: q.state for q in case.repair.quotes},
        )


def quote_id(rma) -> int:  # type: ignore[no-untyped-def]
    return rma.repair.open_quote.id


def pickup_store(app, rma):  # type: ignore[no-untyped-def]
    """(English name, street) of the store the item is collected at."""
    with app.app_context():
        store = db.session.get(Rma, rma.id).repair.pickup_location
        return store.name_en, store.street


@pytest.mark.databases
def test_a_quoted_repair_shows_the_lines_the_total_and_both_answers(client, make_repair):
    rma = make_repair(S.QUOTED)
    page = client.get(f"/r/{rma.token}").text
    assert "Your repair quote" in page
    assert "L-HANDLE 作業" in page
    assert "¥8,800 × 1" in page
    assert "Total (tax included)" in page
    assert "持ち手の縫製が切れている" in page  # the diagnosis
    assert f'action="/r/{rma.token}/quote/{quote_id(rma)}/approve"' in page
    assert "Approve and repair" in page
    assert "Decline — return it unrepaired" in page


@pytest.mark.databases
def test_approving_moves_the_repair_on_and_the_page_says_so(app, client, make_repair):
    rma = make_repair(S.QUOTED)
    response = answer(client, rma, quote_id(rma), "approve")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/r/{rma.token}"
    assert stored(app, rma) == (S.QUOTE_APPROVED, 8800, {quote_id(rma): QuoteState.APPROVED})
    page = client.get(f"/r/{rma.token}").text
    assert "Thank you. We will start the repair" in page
    assert "Thank you for approving the quote." in page
    assert "Approve and repair" not in page
    assert "Approved" in page  # the quote, kept for the record


def test_approving_twice_changes_nothing(app, client, make_repair):
    rma = make_repair(S.QUOTED)
    answer(client, rma, quote_id(rma), "approve")
    with app.app_context():
        events = len(db.session.get(Rma, rma.id).events)
    response = answer(client, rma, quote_id(rma), "approve")
    assert response.status_code == 302
    assert "Your answer was already recorded" in client.get(f"/r/{rma.token}").text
    assert stored(app, rma) == (S.QUOTE_APPROVED, 8800, {quote_id(rma): QuoteState.APPROVED})
    with app.app_context():
        assert len(db.session.get(Rma, rma.id).events) == events


@pytest.mark.databases
def test_declining_shows_the_fee_first_and_records_it_as_owed(app, client, make_repair):
    rma = make_repair(S.QUOTED)
    with app.app_context():
        db.session.get(RepairOrder, rma.repair.id).decline_fee_yen = 3300
        db.session.commit()
    confirm = client.get(f"/r/{rma.token}/quote/{quote_id(rma)}/decline")
    assert confirm.status_code == 200
    assert "Fee for declining" in confirm.text
    assert "¥3,300" in confirm.text
    assert "I understand that the item is returned unrepaired." in confirm.text

    unconfirmed = answer(client, rma, quote_id(rma), "decline")
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm" in unconfirmed.text
    assert stored(app, rma)[0] == S.QUOTED

    response = answer(client, rma, quote_id(rma), "decline", {"understood": "y"})
    assert response.status_code == 302
    assert stored(app, rma) == (S.QUOTE_DECLINED, 3300, {quote_id(rma): QuoteState.DECLINED})
    page = client.get(f"/r/{rma.token}").text
    assert "A fee of ¥3,300 applies for declining." in page


def test_declining_without_a_fee_says_it_costs_nothing(client, make_repair):
    rma = make_repair(S.QUOTED)
    page = client.get(f"/r/{rma.token}").text
    assert "No charge" in page


@pytest.mark.databases
def test_a_replaced_quote_cannot_be_approved(app, client, make_repair, price_item):
    rma = make_repair(S.QUOTED)
    old = quote_id(rma)
    with app.app_context():
        item = price_item("P-ZIP", 2200)
        ops.send_quote(
            db.session.get(Rma, rma.id), [ops.quote_line_from(item, 2, "ja")], CENTRE_ACTOR
        )
        commit()
        new = db.session.get(Rma, rma.id).repair.open_quote.id
    response = answer(client, rma, old, "approve")
    assert response.status_code == 409
    assert "This quote was replaced by a newer one" in response.text
    assert stored(app, rma) == (
        S.QUOTED,
        0,
        {old: QuoteState.SUPERSEDED, new: QuoteState.SENT},
    )
    # the page offers the new quote instead
    assert f"/r/{rma.token}/quote/{new}/approve" in response.text
    assert "¥4,400" in response.text


def test_a_quote_answered_the_other_way_cannot_be_changed(app, client, make_repair):
    rma = make_repair(S.QUOTED)
    answer(client, rma, quote_id(rma), "approve")
    response = answer(client, rma, quote_id(rma), "decline", {"understood": "y"})
    assert response.status_code == 409
    assert "This quote was already answered." in response.text
    assert stored(app, rma)[0] == S.QUOTE_APPROVED


def test_another_customers_link_cannot_answer_this_quote(app, client, make_repair):
    mine = make_repair(S.QUOTED)
    theirs = make_repair(S.QUOTED, email="taro@example.jp", phone="08098765432")
    response = answer(client, theirs, quote_id(mine), "approve")
    assert response.status_code == 404
    assert client.get(f"/r/{theirs.token}/quote/{quote_id(mine)}/decline").status_code == 404
    token = csrf_token(client.get(f"/r/{theirs.token}").text)
    wrong = client.post(
        f"/r/not-a-token/quote/{quote_id(mine)}/approve", data={"csrf_token": token}
    )
    assert wrong.status_code == 404
    assert stored(app, mine)[0] == S.QUOTED
    assert stored(app, theirs)[0] == S.QUOTED


def test_answering_needs_the_form_token(app, client, make_repair):
    rma = make_repair(S.QUOTED)
    response = client.post(f"/r/{rma.token}/quote/{quote_id(rma)}/approve")
    assert response.status_code == 400
    assert stored(app, rma)[0] == S.QUOTED


def test_ready_for_pickup_names_the_store_and_the_amount_to_pay(app, client, make_repair):
    rma = make_repair(S.READY)
    name, street = pickup_store(app, rma)
    page = client.get(f"/r/{rma.token}").text
    assert f"Ready for pickup at {name}" in page
    assert street in page
    assert "To pay at pickup" in page
    assert "¥8,800" in page
    assert "Please bring your claim tag (お預かり票)." in page


def test_a_warranty_repair_has_nothing_to_pay_at_pickup(client, make_repair):
    rma = make_repair(S.READY, warranty=True)
    page = client.get(f"/r/{rma.token}").text
    assert "Free repair under warranty" in page
    assert "Nothing to pay" in page


def test_a_returning_repair_says_where_it_is_going(app, client, make_repair):
    rma = make_repair(S.RETURNING)
    page = client.get(f"/r/{rma.token}").text
    assert f"On its way back to {pickup_store(app, rma)[0]}" in page
    assert "Expected back by" in page


def test_a_delivered_repair_shows_its_tracking_number(app, client, make_repair):
    rma = make_repair(S.READY, handback=Handback.SHIP)
    with app.app_context():
        parcel = db.session.scalar(
            db.select(Shipment).where(Shipment.rma_id == rma.id).order_by(Shipment.id.desc())
        )
        number = parcel.tracking_number
    page = client.get(f"/r/{rma.token}").text
    assert "We are sending your item back" in page
    assert number in page
    assert "Ready for pickup" not in page


def test_the_repair_page_is_japanese_by_default_and_english_on_request(app, make_repair):
    rma = make_repair(S.QUOTED)
    browser = app.test_client()
    japanese = browser.get(f"/r/{rma.token}").text
    assert 'lang="ja"' in japanese
    assert "8,800円" in japanese
    assert "修理のお見積りをお送りしました。ご回答をお待ちしております。" in japanese
    english = browser.get(f"/lang/en?next=/r/{rma.token}", follow_redirects=True).text
    assert 'lang="en"' in english
    assert "¥8,800" in english
    assert "Approve and repair" in english


def test_past_quotes_stay_listed_after_a_revision(app, client, make_repair, price_item):
    rma = make_repair(S.QUOTED)
    with app.app_context():
        item = price_item("P-ZIP", 2200)
        ops.send_quote(
            db.session.get(Rma, rma.id), [ops.quote_line_from(item, 1, "ja")], CENTRE_ACTOR
        )
        commit()
        numbers = [q.number for q in db.session.scalars(db.select(RepairQuote))]
    assert numbers == [1, 2]
    page = client.get(f"/r/{rma.token}").text
    assert "Quote 2, sent on" in page
    assert "Replaced by a new quote" in page
    assert "The quote was revised: ¥2,200. Please answer the new quote." in page
