"""The repair desk: lists per role, the scan desk at the centre and at the counter (receive,
hand over, refusals that change nothing), the turnaround page and the price list."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.core.codes import damm_digit, format_rma_number
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.repairs.constants import PriceItemKind, RepairKind
from reverse.repairs.models import PriceListItem, RepairOrder
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import EventKind, Rma, RmaEvent
from tests.conftest import csrf_token

S = RmaStatus
LIST = "/staff/repairs/"
SCAN = "/staff/repairs/scan"
PRICES = "/staff/repairs/prices"


def status_of(app, rma: Rma) -> RmaStatus:
    with app.app_context():
        return db.session.get(Rma, rma.id).status


def repair_of(app, rma: Rma) -> RepairOrder:
    with app.app_context():
        repair = db.session.scalar(sa.select(RepairOrder).where(RepairOrder.rma_id == rma.id))
        db.session.expunge(repair)
        return repair


def moves_to(app, rma: Rma, status: RmaStatus) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RmaEvent)
            .where(
                RmaEvent.rma_id == rma.id,
                RmaEvent.kind == EventKind.STATUS_CHANGED,
                RmaEvent.to_status == status,
            )
        )


def scan(client, code: str, **extra: str):
    token = csrf_token(client.get(SCAN).text)
    return client.post(SCAN, data={"code": code, "csrf_token": token, **extra})


def feedback(response) -> str | None:
    match = re.search(r'data-feedback="(\w+)"', response.text)
    return match.group(1) if match else None


def english(client) -> None:
    client.get("/lang/en")


# -- lists -------------------------------------------------------------------------------------


def test_store_staff_see_their_own_repairs_and_not_another_stores(client, logged_in, make_repair):
    ours = make_repair(S.ACCEPTED)
    theirs = make_repair(S.ACCEPTED, email="other@example.jp", phone="09087654321")
    logged_in(Role.STORE, location=ours.store)
    english(client)

    page = client.get(LIST)

    assert page.status_code == 200
    assert "At the counter" in page.text
    assert "New walk-in repair" in page.text
    assert ours.display_number in page.text
    assert theirs.display_number not in page.text
    assert theirs.display_number not in client.get(LIST + "?tab=open").text


def test_technicians_see_every_store_in_the_centre_tabs(client, logged_in, make_repair):
    first = make_repair(S.IN_TRANSIT)
    second = make_repair(S.IN_TRANSIT, email="other@example.jp", phone="09087654321")
    quoted = make_repair(S.QUOTED, email="third@example.jp", phone="09011112222")
    logged_in(Role.TECHNICIAN)
    english(client)

    to_receive = client.get(LIST).text
    waiting = client.get(LIST + "?tab=waiting").text

    assert first.display_number in to_receive
    assert second.display_number in to_receive
    assert quoted.display_number not in to_receive
    assert quoted.display_number in waiting
    assert "At the counter" not in to_receive
    assert re.search(r"To receive</span>\s*<span class=\"count\">2<", to_receive)


@pytest.mark.databases
def test_an_overdue_repair_comes_first_in_red_and_in_the_csv(app, client, logged_in, make_repair):
    on_time = make_repair(S.AT_REPAIR_CENTRE)
    late = make_repair(S.AT_REPAIR_CENTRE, email="late@example.jp", phone="09033334444")
    with app.app_context():
        repair = db.session.scalar(sa.select(RepairOrder).where(RepairOrder.rma_id == late.id))
        repair.promised_on = today_in_japan(utcnow()) - timedelta(days=5)
        db.session.commit()
    logged_in(Role.TECHNICIAN)
    english(client)

    page = client.get(LIST + "?tab=to_diagnose").text
    assert page.index(late.display_number) < page.index(on_time.display_number)
    assert re.search(r"overdue [45] days", page)
    overdue = client.get(LIST + "?tab=overdue").text
    assert late.display_number in overdue
    assert on_time.display_number not in overdue

    export = client.get("/staff/repairs/overdue.csv")
    assert export.status_code == 200
    assert export.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.data[3:].decode("utf-8"), newline="")))
    assert [row[0] for row in rows[1:]] == [late.display_number]


def test_support_reads_the_lists_but_has_no_scan_desk(client, logged_in, make_repair):
    make_repair(S.ACCEPTED)
    logged_in(Role.SUPPORT)
    assert client.get(LIST).status_code == 200
    assert client.get(SCAN).status_code == 403


# -- scan desk: the repair centre --------------------------------------------------------------


def test_the_centre_receives_a_scanned_item_once_and_a_second_scan_changes_nothing(
    app, client, logged_in, make_repair
):
    rma = make_repair(S.IN_TRANSIT)
    logged_in(Role.TECHNICIAN)
    english(client)

    first = scan(client, rma.display_number)
    assert first.status_code == 200
    assert feedback(first) == "good"
    assert "received at the repair centre" in first.text
    assert status_of(app, rma) == S.AT_REPAIR_CENTRE

    # typed with full-width digits and a long-vowel mark for the hyphen
    typed = rma.display_number.translate(str.maketrans("0123456789-", "０１２３４５６７８９ー"))
    second = scan(client, typed)
    assert second.status_code == 200
    assert feedback(second) == "warn"
    assert "nothing changed" in second.text
    assert moves_to(app, rma, S.AT_REPAIR_CENTRE) == 1


def test_a_wrong_check_digit_or_an_unknown_number_is_red_and_records_nothing(
    app, client, logged_in, make_repair
):
    rma = make_repair(S.IN_TRANSIT)
    logged_in(Role.TECHNICIAN)
    english(client)
    last = int(rma.number[-1])
    wrong = rma.number[:-1] + str((last + 1) % 10)
    body = "987654321" if rma.number[1:10] != "987654321" else "123456789"
    unknown = f"R{body}{damm_digit(body)}"

    for code, says in ((wrong, "check digit"), (format_rma_number(unknown), "No request")):
        response = scan(client, code)
        assert response.status_code == 422
        assert feedback(response) == "bad"
        assert says in response.text
        assert "Nothing was recorded." in response.text
    assert status_of(app, rma) == S.IN_TRANSIT


def test_an_admin_scan_only_looks_unless_told_to_receive(app, client, logged_in, make_repair):
    rma = make_repair(S.IN_TRANSIT)
    logged_in(Role.ADMIN)

    assert scan(client, rma.number).status_code == 200
    assert status_of(app, rma) == S.IN_TRANSIT
    assert scan(client, rma.number, mode="centre").status_code == 200
    assert status_of(app, rma) == S.AT_REPAIR_CENTRE


# -- scan desk: the store counter --------------------------------------------------------------


def test_the_store_receives_a_returning_item_and_the_customer_is_told(
    app, client, logged_in, make_repair, mailbox
):
    rma = make_repair(S.RETURNING)
    logged_in(Role.STORE, location=rma.store)
    english(client)
    before = len([m for m in mailbox.mails() if "hanako@example.jp" in m[0]])

    response = scan(client, rma.number)

    assert response.status_code == 200
    assert feedback(response) == "good"
    assert "the customer is told it is ready" in response.text
    assert status_of(app, rma) == S.READY
    mails = [m for m in mailbox.mails() if "hanako@example.jp" in m[0]]
    assert len(mails) == before + 1


@pytest.mark.databases
def test_a_hand_back_with_money_owed_needs_the_payment_confirmed(
    app, client, logged_in, make_repair
):
    rma = make_repair(S.READY)
    assert repair_of(app, rma).amount_outstanding_yen == 8800
    logged_in(Role.STORE, location=rma.store)
    english(client)

    shown = scan(client, rma.number)
    assert shown.status_code == 200
    assert "Collect" in shown.text
    assert "¥8,800" in shown.text
    action = f"/staff/repairs/scan/{rma.number}/hand-over"
    assert action in shown.text

    refused = client.post(action, data={"csrf_token": csrf_token(shown.text)})
    assert refused.status_code == 422
    assert "Collect ¥8,800 first" in refused.text
    assert status_of(app, rma) == S.READY
    assert repair_of(app, rma).paid_at is None

    done = client.post(
        action,
        data={"csrf_token": csrf_token(shown.text), "paid": "y", "payment_note": "レジ2 カード"},
    )
    assert done.status_code == 200
    assert feedback(done) == "good"
    assert "The case is closed." in done.text
    assert status_of(app, rma) == S.CLOSED
    repair = repair_of(app, rma)
    assert repair.paid_at is not None
    assert repair.handed_back_at is not None
    assert repair.payment_note == "レジ2 カード"

    again = scan(client, rma.number)
    assert feedback(again) == "warn"
    assert "already handed over" in again.text


def test_another_store_scanning_gets_409_and_nothing_changes(
    app, client, logged_in, create_location, make_repair
):
    returning = make_repair(S.RETURNING)
    ready = make_repair(
        S.READY, store=returning.store, email="ready@example.jp", phone="09055556666"
    )
    logged_in(Role.STORE, location=create_location(LocationKind.STORE))
    english(client)

    for rma in (returning, ready):
        response = scan(client, rma.number)
        assert response.status_code == 409
        assert feedback(response) == "bad"
        assert "is not collected at this store" in response.text
        assert "山田" not in response.text  # nothing of another store's customer
    assert status_of(app, returning) == S.RETURNING
    assert status_of(app, ready) == S.READY
    handover = client.post(
        f"/staff/repairs/scan/{ready.number}/hand-over",
        data={"csrf_token": csrf_token(client.get(SCAN).text), "paid": "y"},
    )
    assert handover.status_code == 404
    assert status_of(app, ready) == S.READY


def test_an_accepted_item_at_the_counter_links_to_its_repair_page(client, logged_in, make_repair):
    rma = make_repair(S.ACCEPTED)
    logged_in(Role.STORE, location=rma.store)
    english(client)

    response = scan(client, rma.number)

    assert response.status_code == 200
    assert feedback(response) == "warn"
    assert f'href="/staff/repairs/{rma.number}"' in response.text
    assert "Send it to the repair centre" in response.text


# -- turnaround --------------------------------------------------------------------------------


def test_turnaround_shows_the_handed_back_repairs_and_downloads_as_csv(
    app, client, logged_in, make_repair
):
    make_repair(S.CLOSED)
    logged_in(Role.TECHNICIAN)
    english(client)

    page = client.get("/staff/repairs/turnaround")
    assert page.status_code == 200
    assert "Handle or strap" in page.text

    export = client.get("/staff/repairs/turnaround.csv")
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert export.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.data[3:].decode("utf-8"), newline="")))
    assert rows[0][0] == "Kind of repair"
    assert rows[1][:2] == ["Handle or strap", "1"]
    assert rows[-1][:2] == ["Total", "1"]


def test_store_staff_read_turnaround_of_their_own_store_only(
    client, logged_in, create_location, make_repair
):
    make_repair(S.CLOSED)
    logged_in(Role.STORE, location=create_location(LocationKind.STORE))
    english(client)

    page = client.get("/staff/repairs/turnaround")

    assert page.status_code == 200
    assert "No repair was handed back in this period." in page.text


def test_turnaround_dates_typed_with_full_width_digits_are_read(client, logged_in):
    logged_in(Role.TECHNICIAN)
    english(client)
    page = client.get(
        "/staff/repairs/turnaround?date_from=２０２６／０１／０１&date_to=２０２６－０１－３１"
    )
    assert page.status_code == 200
    assert "Handed back 2026-01-01 – 2026-01-31" in page.text
    bad = client.get("/staff/repairs/turnaround?date_from=2026-02-01&date_to=2026-01-01")
    assert bad.status_code == 422


# -- price list --------------------------------------------------------------------------------


def new_item(client, **changes: str):
    token = csrf_token(client.get(PRICES).text)
    data = {
        "csrf_token": token,
        "new-code": "l-zip-long",
        "new-kind": "labour",
        "new-repair_kind": "zip",
        "new-name_ja": "長いファスナー交換",
        "new-name_en": "Long zip replacement",
        "new-price_yen": "６，６００",
    } | changes
    return client.post(PRICES, data=data)


def stored_item(app, code: str) -> PriceListItem | None:
    with app.app_context():
        item = db.session.scalar(sa.select(PriceListItem).where(PriceListItem.code == code))
        if item is not None:
            db.session.expunge(item)
        return item


def test_a_technician_adds_an_item_typed_with_full_width_digits(app, client, logged_in):
    logged_in(Role.TECHNICIAN)
    english(client)

    response = new_item(client)

    assert response.status_code == 302
    item = stored_item(app, "L-ZIP-LONG")
    assert item is not None
    assert (item.price_yen, item.kind, item.repair_kind) == (
        6600,
        PriceItemKind.LABOUR,
        RepairKind.ZIP,
    )
    page = client.get(PRICES).text
    assert "L-ZIP-LONG" in page
    assert "¥6,600" in page


def test_a_duplicate_code_or_a_negative_price_is_refused_beside_the_field(
    app, client, logged_in, price_item
):
    price_item("L-HANDLE")
    logged_in(Role.ADMIN)
    english(client)

    duplicate = new_item(client, **{"new-code": "ｌ－ｈａｎｄｌｅ"})
    assert duplicate.status_code == 422
    assert "Another item already has the code L-HANDLE." in duplicate.text
    negative = new_item(client, **{"new-price_yen": "-100"})
    assert negative.status_code == 422
    assert "Give a price between ¥0 and ¥1,000,000." in negative.text
    too_much = new_item(client, **{"new-price_yen": "1000001"})
    assert too_much.status_code == 422
    assert stored_item(app, "L-ZIP-LONG") is None


def test_editing_an_item_changes_its_price_and_keeps_its_code_unique(
    app, client, logged_in, price_item
):
    item = price_item("L-HANDLE", 8800)
    price_item("P-HANDLE", 2200, kind=PriceItemKind.PART)
    logged_in(Role.TECHNICIAN)
    english(client)
    url = f"{PRICES}/{item.id}"
    form = client.get(url)
    assert form.status_code == 200
    assert 'value="8800"' in form.text

    fields = {
        "csrf_token": csrf_token(form.text),
        "edit-code": "L-HANDLE",
        "edit-kind": "labour",
        "edit-repair_kind": "handle_strap",
        "edit-name_ja": "持ち手交換",
        "edit-name_en": "Handle replacement",
        "edit-price_yen": "¥9,350",
    }
    assert client.post(url, data=fields).status_code == 302
    assert stored_item(app, "L-HANDLE").price_yen == 9350

    clash = client.post(url, data=fields | {"edit-code": "P-HANDLE"})
    assert clash.status_code == 422
    assert "Another item already has the code P-HANDLE." in clash.text
    assert stored_item(app, "L-HANDLE") is not None


def test_switching_an_item_off_and_on(app, client, logged_in, price_item):
    item = price_item("L-HANDLE")
    logged_in(Role.TECHNICIAN)
    token = csrf_token(client.get(PRICES).text)

    off = client.post(f"{PRICES}/{item.id}/active", data={"csrf_token": token, "active": "off"})
    assert off.status_code == 302
    assert stored_item(app, "L-HANDLE").active is False
    client.post(f"{PRICES}/{item.id}/active", data={"csrf_token": token, "active": "on"})
    assert stored_item(app, "L-HANDLE").active is True


def test_store_staff_may_not_open_or_change_the_price_list(client, logged_in, price_item):
    item = price_item("L-HANDLE")
    logged_in(Role.STORE)
    token = csrf_token(client.get(LIST).text)

    assert client.get(PRICES).status_code == 403
    assert client.post(PRICES, data={"csrf_token": token}).status_code == 403
    assert client.get(f"{PRICES}/{item.id}").status_code == 403
    assert (
        client.post(f"{PRICES}/{item.id}/active", data={"csrf_token": token, "active": "off"})
    ).status_code == 403


def test_the_scan_page_is_built_for_the_scanner(client, logged_in):
    logged_in(Role.STORE)
    page = client.get(SCAN).text
    assert "data-scan-field" in page
    assert "autofocus" in page
    assert 'class="container intake repair-scan"' in page
