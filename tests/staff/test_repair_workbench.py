"""The page of one repair, driven through its forms: who sees it, which next steps it offers,
and what each step does to the repair (diagnosis, quotes, the customer's answer by phone, the
work log, the quality check, sending it back, payment and the hand-over to the carrier)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.repairs.constants import Handback, PriceItemKind, QuoteState, RepairKind
from reverse.repairs.models import RepairOrder, RepairQuote, RepairWorkEntry
from reverse.rmas.constants import ReturnMethod, RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.shipping.constants import Direction
from reverse.shipping.models import Shipment
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context

S = RmaStatus
STEPS = (
    "send-to-centre",
    "take-in",
    "diagnose",
    "quote",
    "answer",
    "start",
    "work",
    "ready-for-check",
    "check",
    "send-back",
    "carrier",
    "payment",
)


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, so the texts checked below read the same once translated."""
    client.get("/lang/en")


def page_of(rma: Rma) -> str:
    return f"/staff/repairs/{rma.number}"


def step(client, rma: Rma, name: str, data: dict | None = None):
    """POST one step's form the way the page does: its token and the status it showed."""
    page = client.get(page_of(rma))
    assert page.status_code == 200, page.status_code
    status = re.search(r'name="seen" value="(\w+)"', page.text)
    form = {"csrf_token": csrf_token(page.text), "seen": status.group(1) if status else ""}
    return client.post(f"{page_of(rma)}/{name}", data=form | (data or {}))


def flashes(html: str) -> list[str]:
    found = re.findall(r'<p class="flash flash--(\w+)"[^>]*>(.*?)</p>', html, flags=re.S)
    return [f"{kind}: {' '.join(text.split())}" for kind, text in found]


def stored(app, rma: Rma) -> tuple[Rma, RepairOrder]:
    """The case and its repair order as the database has them now (loaded for reading)."""
    with in_context(app):
        case = db.session.get(Rma, rma.id)
        repair = db.session.scalar(sa.select(RepairOrder).where(RepairOrder.rma_id == rma.id))
        if repair is not None:
            _ = (repair.quotes, [q.lines for q in repair.quotes], repair.work)
        db.session.expunge_all()
        return case, repair


def shipments(app, rma: Rma) -> list[Shipment]:
    with in_context(app):
        found = list(db.session.scalars(sa.select(Shipment).where(Shipment.rma_id == rma.id)))
        db.session.expunge_all()
        return found


def quote_data(*rows: tuple, free: tuple = (), note: str = "") -> dict:
    """Price-list rows as (item, quantity), free rows as (description, price, kind[, qty])."""
    data: dict = {"do": "send", "quote_note": note}
    for i, (item, quantity) in enumerate(rows):
        data[f"items-{i}-item"] = str(item.id)
        data[f"items-{i}-quantity"] = str(quantity)
    for i, row in enumerate(free):
        description, price, kind, *qty = row
        data[f"free-{i}-description"] = description
        data[f"free-{i}-price"] = str(price)
        data[f"free-{i}-kind"] = kind
        data[f"free-{i}-quantity"] = str(qty[0]) if qty else ""
    return data


# -- who sees the page -------------------------------------------------------------------------


def test_the_page_shows_the_repair_to_a_technician(client, logged_in, make_repair):
    rma = make_repair(S.DIAGNOSED)
    logged_in(Role.TECHNICIAN)
    html = client.get(page_of(rma)).text
    assert rma.display_number in html
    assert "山田 花子" in html
    assert "hanako@example.jp" in html
    assert "持ち手の付け根がほつれている" in html  # the symptom
    assert "底に擦れ" in html  # condition when taken in
    assert "伊勢丹新宿店" in html
    assert f"/staff/repairs/{rma.number}/claim-tag.pdf" in html
    assert f"/staff/rmas/{rma.number}" in html


def test_a_past_promised_date_is_marked_overdue(app, client, logged_in, make_repair):
    rma = make_repair(S.IN_REPAIR)
    with in_context(app):
        repair = db.session.scalar(sa.select(RepairOrder).where(RepairOrder.rma_id == rma.id))
        repair.promised_on = repair.promised_on.replace(year=2020)
        db.session.commit()
    logged_in(Role.TECHNICIAN)
    assert "Overdue" in client.get(page_of(rma)).text


def test_store_staff_of_another_store_find_nothing_on_the_page_or_any_step(
    client, logged_in, make_repair, create_location
):
    rma = make_repair(S.ACCEPTED)
    logged_in(Role.STORE, location=create_location(LocationKind.STORE))
    assert client.get(page_of(rma)).status_code == 404
    token = csrf_token(client.get("/staff/rmas").text)
    for name in STEPS:
        response = client.post(f"{page_of(rma)}/{name}", data={"csrf_token": token})
        assert response.status_code == 404, name


def test_the_warehouse_cannot_see_repairs(client, logged_in, make_repair):
    rma = make_repair(S.AT_REPAIR_CENTRE)
    logged_in(Role.WAREHOUSE)
    assert client.get(page_of(rma)).status_code == 404
    token = csrf_token(client.get("/staff/rmas").text)
    assert client.post(f"{page_of(rma)}/diagnose", data={"csrf_token": token}).status_code == 404


def test_a_return_is_not_a_repair_page(client, logged_in, create_rma):
    rma = create_rma()
    logged_in(Role.ADMIN)
    assert client.get(page_of(rma)).status_code == 404


def test_technicians_may_not_take_the_store_steps(app, client, logged_in, make_repair):
    rma = make_repair(S.ACCEPTED)
    logged_in(Role.TECHNICIAN)
    html = client.get(page_of(rma)).text
    assert "send-to-centre" not in html
    assert step(client, rma, "send-to-centre").status_code == 403
    assert step(client, rma, "take-in").status_code == 403
    assert stored(app, rma)[0].status == S.ACCEPTED


def test_store_staff_may_not_diagnose(client, logged_in, make_repair):
    rma = make_repair(S.AT_REPAIR_CENTRE)
    logged_in(Role.STORE, location=rma.store)
    assert client.get(page_of(rma)).status_code == 200
    assert step(client, rma, "diagnose", {"diagnosis": "x", "kind": "zip"}).status_code == 403


# -- store: to the repair centre ---------------------------------------------------------------


def test_the_intake_store_sends_an_accepted_repair_by_in_house_courier(
    app, client, logged_in, make_repair
):
    rma = make_repair(S.ACCEPTED)
    logged_in(Role.STORE, location=rma.store)
    assert "Send to the repair centre" in client.get(page_of(rma)).text
    response = step(client, rma, "send-to-centre", {"send_carrier": "own"})
    assert response.status_code == 302
    assert stored(app, rma)[0].status == S.IN_TRANSIT
    [parcel] = shipments(app, rma)
    assert parcel.direction == Direction.TRANSFER
    assert parcel.to_location_id == rma.centre.id
    html = client.get(response.location).text
    assert "in-house courier" in " ".join(flashes(html))


def test_sending_by_a_carrier_without_an_account_says_so(app, client, logged_in, make_repair):
    rma = make_repair(S.ACCEPTED)
    logged_in(Role.STORE, location=rma.store)
    response = step(client, rma, "send-to-centre", {"send_carrier": "sagawa"})
    assert response.status_code == 409
    assert "has no carrier account" in response.text
    assert stored(app, rma)[0].status == S.ACCEPTED
    assert shipments(app, rma) == []


def test_sending_twice_changes_nothing_the_second_time(app, client, logged_in, make_repair):
    rma = make_repair(S.ACCEPTED)
    logged_in(Role.STORE, location=rma.store)
    page = client.get(page_of(rma)).text
    form = {"csrf_token": csrf_token(page), "seen": "accepted", "send_carrier": "own"}
    assert client.post(f"{page_of(rma)}/send-to-centre", data=form).status_code == 302
    again = client.post(f"{page_of(rma)}/send-to-centre", data=form, follow_redirects=True)
    assert "Nothing changed" in " ".join(flashes(again.text))
    assert len(shipments(app, rma)) == 1


# -- technician: diagnosis and quotes ----------------------------------------------------------


def test_a_technician_diagnoses_an_item_at_the_centre(app, client, logged_in, make_repair):
    rma = make_repair(S.AT_REPAIR_CENTRE)
    logged_in(Role.TECHNICIAN)
    response = step(
        client,
        rma,
        "diagnose",
        {"diagnosis": "ファスナーの務歯が欠けている", "kind": "zip", "warranty": ""},
    )
    assert response.status_code == 302
    case, repair = stored(app, rma)
    assert case.status == S.DIAGNOSED
    assert repair.kind == RepairKind.ZIP
    assert repair.diagnosis == "ファスナーの務歯が欠けている"


def test_changing_the_warranty_needs_a_reason_beside_its_field(app, client, logged_in, make_repair):
    rma = make_repair(S.AT_REPAIR_CENTRE)  # a paid repair: bought 800 days ago
    logged_in(Role.TECHNICIAN)
    response = step(
        client, rma, "diagnose", {"diagnosis": "縫製不良", "kind": "stitching", "warranty": "y"}
    )
    assert response.status_code == 422
    assert 'id="warranty_note-error"' in response.text
    assert "Say why the warranty decision changes" in response.text
    assert stored(app, rma)[0].status == S.AT_REPAIR_CENTRE


def test_a_quote_of_price_list_and_free_rows_is_sent_to_the_customer(
    app, client, logged_in, make_repair, price_item, mailbox
):
    rma = make_repair(S.DIAGNOSED)
    mails_before = len(mailbox.mails())
    handle = price_item("L-EDGE", 6600)
    part = price_item("P-RING", 2200, kind=PriceItemKind.PART)
    logged_in(Role.TECHNICIAN)
    response = step(
        client,
        rma,
        "quote",
        quote_data((handle, 1), (part, "２"), free=(("コバ塗り直し", "1,650", "labour"),)),
    )
    assert response.status_code == 302, response.text
    case, repair = stored(app, rma)
    assert case.status == S.QUOTED
    [quote] = repair.quotes
    assert quote.total_yen == 6600 + 2 * 2200 + 1650
    assert [(line.description, line.quantity) for line in quote.lines] == [
        ("L-EDGE 作業", 1),
        ("P-RING 作業", 2),
        ("コバ塗り直し", 1),
    ]
    [(to, subject, body)] = mailbox.mails()[mails_before:]
    assert to == "hanako@example.jp"
    assert "お見積り" in subject  # the customer reads Japanese
    assert "12,650" in body


@pytest.mark.parametrize(
    "bad",
    [
        {"free-0-description": "コバ塗り", "free-0-price": "-500", "free-0-kind": "labour"},
        {"free-0-description": "コバ塗り", "free-0-price": "ー500", "free-0-kind": "labour"},
        {"items-0-quantity": "0"},
        {},
    ],
    ids=["negative-price", "japanese-minus", "quantity-zero", "no-rows"],
)
def test_a_quote_that_cannot_stand_is_refused_and_nothing_is_written(
    app, client, logged_in, make_repair, price_item, bad
):
    rma = make_repair(S.DIAGNOSED)
    item = price_item("L-HANDLE", 6600)
    logged_in(Role.TECHNICIAN)
    data = {"do": "send"} | bad
    if "items-0-quantity" in bad:
        data["items-0-item"] = str(item.id)
    response = step(client, rma, "quote", data)
    assert response.status_code == 422
    assert 'class="field__error' in response.text or 'class="form-alert"' in response.text
    case, repair = stored(app, rma)
    assert case.status == S.DIAGNOSED
    assert repair.quotes == []


def test_calculate_adds_up_the_rows_without_sending(
    app, client, logged_in, make_repair, price_item
):
    rma = make_repair(S.DIAGNOSED)
    item = price_item("L-EDGE", 6600)
    logged_in(Role.TECHNICIAN)
    data = quote_data((item, 2), free=(("コバ塗り直し", "1650", "labour"),)) | {"do": "calculate"}
    response = step(client, rma, "quote", data)
    assert response.status_code == 200
    assert re.search(r"data-total>¥14,850<", response.text)
    assert stored(app, rma)[1].quotes == []


def test_add_rows_gives_more_empty_rows(client, logged_in, make_repair):
    rma = make_repair(S.DIAGNOSED)
    logged_in(Role.TECHNICIAN)
    response = step(client, rma, "quote", {"do": "add"})
    assert response.status_code == 200
    assert 'name="items-11-item"' in response.text
    assert 'name="free-5-description"' in response.text


def test_revising_an_open_quote_replaces_it(app, client, logged_in, make_repair, price_item):
    rma = make_repair(S.QUOTED)
    item = price_item("L-HANDLE", 8800)
    logged_in(Role.TECHNICIAN)
    html = client.get(page_of(rma)).text
    assert "Revise the quote" in html
    response = step(
        client, rma, "quote", quote_data((item, 1), free=(("染め直し", 3300, "labour"),))
    )
    assert response.status_code == 302
    case, repair = stored(app, rma)
    assert case.status == S.QUOTED
    assert [q.state for q in repair.quotes] == [QuoteState.SUPERSEDED, QuoteState.SENT]
    assert repair.quotes[-1].total_yen == 8800 + 3300


def test_a_warranty_repair_is_started_without_a_quote(app, client, logged_in, make_repair):
    rma = make_repair(S.DIAGNOSED, warranty=True)
    logged_in(Role.TECHNICIAN)
    html = client.get(page_of(rma)).text
    assert "Send quote to the customer" not in html
    assert "Start the repair" in html
    assert step(client, rma, "start").status_code == 302
    assert stored(app, rma)[0].status == S.IN_REPAIR


def test_a_paid_repair_does_not_start_before_its_quote(app, client, logged_in, make_repair):
    rma = make_repair(S.DIAGNOSED)
    logged_in(Role.TECHNICIAN)
    response = step(client, rma, "start")
    assert response.status_code == 422
    assert "Send the customer a quote first" in response.text
    assert stored(app, rma)[0].status == S.DIAGNOSED


def test_a_form_drawn_before_a_colleague_moved_the_repair_saves_nothing(
    app, client, logged_in, make_repair, price_item
):
    rma = make_repair(S.DIAGNOSED)
    item = price_item("L-HANDLE", 6600)
    logged_in(Role.TECHNICIAN)
    token = csrf_token(client.get(page_of(rma)).text)
    data = {"csrf_token": token, "seen": "at_repair_centre", "diagnosis": "別の所見", "kind": "zip"}
    response = client.post(f"{page_of(rma)}/diagnose", data=data)
    assert response.status_code == 409
    assert "while this page was open" in response.text
    assert stored(app, rma)[1].diagnosis == "持ち手の縫製が切れている"
    form = {"csrf_token": token, "seen": "diagnosed"} | quote_data((item, 1))
    assert client.post(f"{page_of(rma)}/quote", data=form).status_code == 302


# -- the customer's answer by phone ------------------------------------------------------------


def test_support_records_an_approval_given_by_phone(app, client, logged_in, make_repair):
    rma = make_repair(S.QUOTED)
    logged_in(Role.SUPPORT)
    html = client.get(page_of(rma)).text
    quote_id = re.search(r'name="quote_id" value="(\d+)"', html).group(1)
    response = step(client, rma, "answer", {"quote_id": quote_id, "answer": "approve"})
    assert response.status_code == 302
    case, repair = stored(app, rma)
    assert case.status == S.QUOTE_APPROVED
    assert repair.quotes[-1].state == QuoteState.APPROVED
    assert repair.amount_due_yen == repair.quotes[-1].total_yen
    again = client.post(
        f"{page_of(rma)}/answer",
        data={"csrf_token": csrf_token(html), "quote_id": quote_id, "answer": "approve"},
        follow_redirects=True,
    )
    assert "already recorded" in " ".join(flashes(again.text))


def test_support_may_not_diagnose_or_quote(client, logged_in, make_repair):
    rma = make_repair(S.DIAGNOSED)
    logged_in(Role.SUPPORT)
    assert step(client, rma, "quote", {"do": "send"}).status_code == 403


# -- the work ----------------------------------------------------------------------------------


def test_the_work_log_needs_a_note_or_a_part(app, client, logged_in, make_repair, price_item):
    rma = make_repair(S.IN_REPAIR)
    part = price_item("P-HANDLE", 2200, kind=PriceItemKind.PART)
    logged_in(Role.TECHNICIAN)
    empty = step(client, rma, "work", {"minutes": "30"})
    assert empty.status_code == 422
    assert 'id="work_note-error"' in empty.text
    with_part = step(client, rma, "work", {"part": str(part.id), "part_quantity": "２"})
    assert with_part.status_code == 302
    with_note = step(client, rma, "work", {"work_note": "持ち手を縫い直した", "minutes": "４５"})
    assert with_note.status_code == 302
    with in_context(app):
        entries = list(db.session.scalars(sa.select(RepairWorkEntry).order_by(RepairWorkEntry.id)))
        assert [(e.price_item_id, e.quantity, e.minutes) for e in entries] == [
            (part.id, 2, 0),
            (None, 0, 45),
        ]
    assert "Total: 45 min" in client.get(page_of(rma)).text


def test_ready_for_check_after_the_work(app, client, logged_in, make_repair):
    rma = make_repair(S.IN_REPAIR)
    logged_in(Role.TECHNICIAN)
    assert "Log the work first" in client.get(page_of(rma)).text
    step(client, rma, "work", {"work_note": "縫い直し", "minutes": "20"})
    assert step(client, rma, "ready-for-check").status_code == 302
    assert stored(app, rma)[0].status == S.QUALITY_CHECK


def test_a_failed_check_needs_a_note_and_goes_back_into_repair(app, client, logged_in, make_repair):
    rma = make_repair(S.QUALITY_CHECK)
    logged_in(Role.TECHNICIAN)
    bare = step(client, rma, "check", {"result": "fail"})
    assert bare.status_code == 422
    assert "Say what must be fixed" in bare.text
    assert stored(app, rma)[0].status == S.QUALITY_CHECK
    failed = step(client, rma, "check", {"result": "fail", "qc_note": "糸の色が違う"})
    assert failed.status_code == 302
    assert stored(app, rma)[0].status == S.IN_REPAIR


def test_a_passed_check_sends_a_store_pickup_back_to_its_store(app, client, logged_in, make_repair):
    rma = make_repair(S.QUALITY_CHECK)
    logged_in(Role.TECHNICIAN)
    response = step(
        client, rma, "check", {"result": "pass", "qc_note": "良好", "qc_carrier": "own"}
    )
    assert response.status_code == 302
    case, repair = stored(app, rma)
    assert case.status == S.RETURNING
    assert repair.qc_passed_at is not None
    back = [s for s in shipments(app, rma) if s.to_location_id == rma.store.id]
    assert [s.direction for s in back] == [Direction.TRANSFER]
    assert "scan desk" in client.get(page_of(rma)).text


def test_a_delivered_repair_leaves_only_once_paid(app, client, logged_in, make_repair):
    rma = make_repair(S.QUALITY_CHECK, handback=Handback.SHIP)
    logged_in(Role.TECHNICIAN)
    assert step(client, rma, "check", {"result": "pass", "qc_carrier": ""}).status_code == 302
    case, repair = stored(app, rma)
    assert case.status == S.READY
    assert [s.direction for s in shipments(app, rma) if s.direction == Direction.TO_CUSTOMER] == [
        Direction.TO_CUSTOMER
    ]
    assert repair.amount_outstanding_yen > 0
    owed = step(client, rma, "carrier")
    assert owed.status_code == 422
    assert "record the payment before the item leaves" in owed.text
    assert stored(app, rma)[0].status == S.READY
    assert step(client, rma, "payment", {"payment_note": "振込 2026-03-01"}).status_code == 302
    assert stored(app, rma)[1].paid_at is not None
    assert step(client, rma, "carrier").status_code == 302
    assert stored(app, rma)[0].status == S.HANDED_BACK


def test_a_declined_quote_goes_back_unrepaired(app, client, logged_in, make_repair):
    rma = make_repair(S.QUOTED)
    logged_in(Role.TECHNICIAN)
    html = client.get(page_of(rma)).text
    quote_id = re.search(r'name="quote_id" value="(\d+)"', html).group(1)
    assert (
        step(client, rma, "answer", {"quote_id": quote_id, "answer": "decline"}).status_code == 302
    )
    assert stored(app, rma)[0].status == S.QUOTE_DECLINED
    assert step(client, rma, "send-back", {"back_carrier": "own"}).status_code == 302
    assert stored(app, rma)[0].status == S.RETURNING


def test_sending_back_from_diagnosis_needs_a_reason(app, client, logged_in, make_repair):
    rma = make_repair(S.DIAGNOSED)
    logged_in(Role.TECHNICIAN)
    bare = step(client, rma, "send-back", {"back_carrier": "own"})
    assert bare.status_code == 422
    assert 'id="back_reason-error"' in bare.text
    assert stored(app, rma)[0].status == S.DIAGNOSED


def test_each_status_offers_only_its_steps(client, logged_in, make_repair):
    logged_in(Role.ADMIN)
    expected = {
        S.ACCEPTED: {"send-to-centre"},
        S.AT_REPAIR_CENTRE: {"diagnose"},
        S.QUOTE_APPROVED: {"start", "payment"},
        S.IN_REPAIR: {"work", "quote", "payment"},
        S.RETURNING: {"payment"},
    }
    for status, steps in expected.items():
        html = client.get(page_of(make_repair(status))).text
        offered = set(re.findall(r'action="/staff/repairs/R\d+/([\w-]+)"', html))
        assert offered == steps, status


def test_the_quote_history_shows_every_quote(app, client, logged_in, make_repair):
    rma = make_repair(S.IN_REPAIR)
    logged_in(Role.TECHNICIAN)
    html = client.get(page_of(rma)).text
    with in_context(app):
        quote = db.session.scalar(sa.select(RepairQuote))
        assert f"Quote {quote.number}" in html
    assert "Approved" in html


def web_repair_brought_to(app, create_rma, store: object) -> Rma:
    """A repair filed on the web, to be brought to `store`."""
    return awaiting(app, create_rma, store, ReturnMethod.STORE_DROP_OFF)


def awaiting(app, create_rma, location, method: ReturnMethod) -> Rma:
    rma = create_rma(RmaType.REPAIR, S.SUBMITTED, location=location)
    with in_context(app):
        case = db.session.get(Rma, rma.id)
        case.return_method = method
        case.transition(S.AWAITING_ITEM, Actor.system("test"))
        db.session.commit()
    return rma


def test_the_chosen_store_takes_a_web_repair_in_at_the_counter(
    app, client, logged_in, create_rma, create_location
):
    store = create_location(LocationKind.STORE)
    rma = web_repair_brought_to(app, create_rma, store)
    logged_in(Role.STORE, location=store)
    assert "Take in at the counter" in client.get(page_of(rma)).text
    assert step(client, rma, "take-in").status_code == 302
    case, repair = stored(app, rma)
    assert case.status == S.ACCEPTED
    assert repair.intake_location_id == store.id
    assert "Send to the repair centre" in client.get(page_of(rma)).text


def test_a_repair_sent_by_parcel_is_not_taken_in_at_a_counter(
    app, client, logged_in, create_rma, create_location
):
    centre = create_location(LocationKind.REPAIR_CENTRE)
    rma = awaiting(app, create_rma, centre, ReturnMethod.PREPAID_LABEL)
    logged_in(Role.ADMIN)
    assert "Take in at the counter" not in client.get(page_of(rma)).text
    response = step(client, rma, "take-in")
    assert response.status_code == 422
    assert stored(app, rma)[0].status == S.AWAITING_ITEM
