"""A walk-in repair in a real browser: a bag bought at a department store is taken in at a
store counter and its claim tag printed, sent to the repair centre and scanned in there,
quoted by a technician, approved by the customer on their phone, repaired and checked, sent
back to the store, and handed over when the store scans the claim tag. Another store never
sees it."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from tests.browser.conftest import STATIC_FILES_LEFT_TO_GC, wait_for_scan_focus
from tests.browser.test_staff_journeys import log_in
from tests.conftest import read_mails
from tests.fixtures.catalog import in_context

pytestmark = [pytest.mark.browser, STATIC_FILES_LEFT_TO_GC]


def _scan(page, base: str, code: str) -> str:
    """Type a code into the scan desk as a wedge scanner does (Enter at the end)."""
    page.goto(f"{base}/staff/repairs/scan")
    wait_for_scan_focus(page)
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return page.inner_text("main")


def _submit(page, action: str, button: str = "button[type=submit]") -> None:
    with page.expect_navigation():
        page.click(f"form[action$='/{action}'] {button}")


def test_walk_in_bag_repair_from_counter_to_hand_back(
    app, live_server, browser, create_channel, create_location, create_user, price_item
):
    create_channel(ChannelCode.DEPARTMENT_STORE)
    create_location(LocationKind.REPAIR_CENTRE, name_ja="修理センター", name_en="Repair centre")
    store = create_location(LocationKind.STORE, name_ja="渋谷店", name_en="Shibuya")
    other_store = create_location(LocationKind.STORE, name_ja="梅田店", name_en="Umeda")
    labour = price_item("L-HANDLE", 8800)
    counter = create_user(Role.STORE, location=store).email
    technician = create_user(Role.TECHNICIAN).email
    stranger = create_user(Role.STORE, location=other_store).email
    mail_dir = Path(app.config["MAIL_FILE_DIR"])
    shutil.rmtree(mail_dir, ignore_errors=True)
    bought = (utcnow() - timedelta(days=800)).date().isoformat()

    # At the counter, on a tablet: the customer is new, the bag came from Isetan.
    shop = browser.new_page(viewport={"width": 1024, "height": 768})
    log_in(shop, live_server, counter)
    shop.wait_for_url("**/staff/rmas")
    shop.goto(f"{live_server}/staff/repairs/counter")
    shop.fill("#phone", "０９０－１２３４－５６７８")
    shop.fill("#email", "hanako@example.jp")
    shop.fill("#name", "山田 花子")
    shop.fill("#description", "レザートートバッグ（黒）")
    shop.select_option("#place", "department_store")
    shop.fill("#retailer", "伊勢丹新宿店")
    shop.fill("#purchase_date", bought)
    shop.select_option("#reason", "wear_and_tear")
    shop.fill("#symptom", "持ち手の付け根がほつれている")
    shop.fill("#condition_notes", "底の角に擦れ")
    shop.fill("#estimate_min_yen", "５０００")
    shop.fill("#estimate_max_yen", "12000")
    with shop.expect_navigation():
        shop.click("button[name=action][value=submit]")
    assert re.search(r"/staff/repairs/counter/R\d+$", shop.url), shop.url
    with in_context(app):
        rma = db.session.scalars(sa.select(Rma).where(Rma.type == RmaType.REPAIR)).one()
        number, display = rma.number, rma.display_number
        assert rma.status == RmaStatus.ACCEPTED
        assert rma.location_id == store.id
        assert rma.repair.warranty is False
        assert (rma.repair.estimate_min_yen, rma.repair.estimate_max_yen) == (5000, 12000)

    # The claim tag prints from the confirmation.
    tag_link = shop.locator(f"a[href$='/staff/repairs/{number}/claim-tag.pdf']").first
    tag = shop.request.get(live_server + tag_link.get_attribute("href"))
    assert tag.status == 200
    assert tag.headers["content-type"] == "application/pdf"
    assert tag.body().startswith(b"%PDF")

    # The customer got the private link by mail.
    mails = [m for m in read_mails(mail_dir) if m[0] == "hanako@example.jp"]
    assert mails, "no mail to the customer"
    link = re.search(r"https?://\S+/r/[\w-]+", mails[0][2]).group(0)
    token_path = link[link.index("/r/") :]

    # The store sends it to the repair centre with the in-house courier.
    shop.goto(f"{live_server}/staff/repairs/{number}")
    _submit(shop, "send-to-centre")

    # Another store's staff cannot see it, by page or by action.
    nosy = browser.new_page()
    log_in(nosy, live_server, stranger)
    nosy.wait_for_url("**/staff/rmas")
    assert nosy.goto(f"{live_server}/staff/repairs/{number}").status == 404
    assert nosy.goto(f"{live_server}/staff/rmas/{number}").status == 404
    assert nosy.goto(f"{live_server}/staff/repairs/{number}/claim-tag.pdf").status == 404
    assert "山田" not in _scan(nosy, live_server, number)  # its scan desk refuses it
    nosy.close()

    # The repair centre scans the claim tag in, diagnoses and quotes from the price list.
    bench = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(bench, live_server, technician)
    bench.wait_for_url("**/staff/**")
    assert display in _scan(bench, live_server, number.lower())
    bench.goto(f"{live_server}/staff/repairs/{number}")
    bench.fill("#diagnosis", "持ち手の縫製が切れ、付け根の革が伸びている")
    bench.select_option("#kind", "handle_strap")
    _submit(bench, "diagnose")
    bench.select_option("#items-0-item", str(labour.id))
    bench.fill("#items-0-quantity", "1")
    _submit(bench, "quote", "button[name=do][value=send]")

    # The customer approves the quote on their phone.
    customer = browser.new_page(viewport={"width": 390, "height": 844})
    customer.goto(live_server + token_path)
    body = customer.inner_text("main")
    assert "8,800" in body
    _submit(customer, "approve")
    with in_context(app):
        assert db.session.get(Rma, rma.id).status == RmaStatus.QUOTE_APPROVED

    # The technician repairs, logs the work, passes the check: it goes back to the store.
    bench.goto(f"{live_server}/staff/repairs/{number}")
    _submit(bench, "start")
    bench.fill("#work_note", "持ち手を新しい革で作り直し、付け根を補強")
    bench.fill("#minutes", "90")
    _submit(bench, "work")
    _submit(bench, "ready-for-check")
    bench.fill("#qc_note", "縫製・強度とも良好")
    _submit(bench, "check", "button[name=result][value=pass]")
    with in_context(app):
        assert db.session.get(Rma, rma.id).status == RmaStatus.RETURNING

    # The store scans it in (the customer is told), then hands it over against the tag.
    _scan(shop, live_server, number)
    with in_context(app):
        assert db.session.get(Rma, rma.id).status == RmaStatus.READY
    _scan(shop, live_server, display)
    shop.check("form.repair-scan__handover input[type=checkbox]")
    with shop.expect_navigation():
        shop.click("form.repair-scan__handover button[type=submit]")

    with in_context(app):
        done = db.session.get(Rma, rma.id)
        assert done.status == RmaStatus.CLOSED
        assert done.repair.amount_due_yen == 8800
        assert done.repair.paid_at is not None
        walked = [e.to_status for e in done.events if e.to_status is not None]
        assert walked == [
            RmaStatus.ACCEPTED,
            RmaStatus.IN_TRANSIT,
            RmaStatus.AT_REPAIR_CENTRE,
            RmaStatus.DIAGNOSED,
            RmaStatus.QUOTED,
            RmaStatus.QUOTE_APPROVED,
            RmaStatus.IN_REPAIR,
            RmaStatus.QUALITY_CHECK,
            RmaStatus.RETURNING,
            RmaStatus.READY,
            RmaStatus.HANDED_BACK,
            RmaStatus.CLOSED,
        ]
    # The customer's page says it is done.
    customer.goto(live_server + token_path)
    assert "8,800" in customer.inner_text("main")
    for page in (shop, bench, customer):
        page.close()
