"""A returned unit's second life in a real browser: graded B at intake, listed on the
pre-owned shop at the grade's price, reserved by a customer for pickup at a store, handed over
and paid there, and counted by the recovered-value report."""

# The settling fixtures are imported from tests/resolution; using them redefines the names.
# ruff: noqa: F811

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.models import Location
from reverse.extensions import db
from reverse.resale.constants import ResaleState, ReservationState, SaleChannel
from reverse.resale.models import ResaleItem, ResaleReservation
from reverse.resolution.constants import RefundRelease
from reverse.rmas.constants import RmaStatus
from tests.browser.conftest import STATIC_FILES_LEFT_TO_GC, wait_for_scan_focus
from tests.browser.test_staff_journeys import log_in
from tests.fixtures.catalog import in_context
from tests.resolution.conftest import centre, channel, make_case, variant  # noqa: F401

pytestmark = [pytest.mark.browser, STATIC_FILES_LEFT_TO_GC]


def _grade_b_and_accept(page, base: str, number: str) -> None:
    """The intake desk's part, as in the warehouse journey: scan, inspect as B, accept resale."""
    page.goto(f"{base}/staff/intake/")
    wait_for_scan_focus(page)
    page.keyboard.type(number)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.click(".parcel__actions a[href*='/staff/inspection/unit/']")
    for question in page.locator(".insp-check__set").all():
        name = question.locator("input[type=radio]").first.get_attribute("name")
        question.locator(f"input[value={'yes' if name == 'check_tags_attached' else 'no'}]").check()
    page.locator("input[name=grade][value=B]").check()
    page.click(".insp-form__submit")
    assert page.locator("form.insp-accept input[name=disposition]").get_attribute("value") == (
        "resale"
    )
    page.click("form.insp-accept button[type=submit]")


def test_graded_b_listed_reserved_for_pickup_sold_at_the_store_and_counted(
    app, live_server, browser, create_user, centre, channel, make_case
):
    channel(RefundRelease.INSPECTION)
    case = make_case(RmaStatus.AWAITING_ITEM, lines=[{"price": 12900}])
    with in_context(app):
        store = db.session.scalar(sa.select(Location).where(Location.code == "ST-TEST"))
        desk = create_user(Role.WAREHOUSE, location=db.session.get(Location, centre)).email
        counter = create_user(Role.STORE, location=store).email
        store_id = store.id

    staff = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(staff, live_server, desk)
    staff.wait_for_url("**/staff/rmas")
    _grade_b_and_accept(staff, live_server, case.number)

    with in_context(app):
        item = db.session.scalars(sa.select(ResaleItem)).one()
        item_id, code, expected = item.id, item.code, item.price_yen
    assert expected == 12_900 * 60 // 100  # grade B: 60 % of the list price, to ¥10

    # The desk lists the new draft on the shop from the pre-owned stock list.
    staff.goto(f"{live_server}/staff/resale/?state=draft")
    staff.check(f"input[name=ids][value='{item_id}']")
    with staff.expect_navigation():
        staff.click("button[name=action][value=list]")

    # A customer on a phone finds it on the shop at the grade price and reserves it for pickup.
    customer = browser.new_page(viewport={"width": 390, "height": 844})
    customer.goto(f"{live_server}/lang/en")
    customer.goto(f"{live_server}/preowned/")
    card = customer.locator(f".po-card__link[href$='/preowned/{code}']")
    assert "¥7,740" in card.inner_text()
    card.click()
    customer.locator("input[name=kind][value=pickup]").check()
    customer.select_option("select[name=pickup_location]", str(store_id))
    customer.fill("input[name=name]", "佐藤 花子")
    customer.fill("input[name=email]", "hanako@example.jp")
    customer.check("input[name=consent]")
    with customer.expect_navigation():
        customer.click("#reserve button[type=submit]")
    assert "/preowned/reservations/" in customer.url
    assert code in customer.inner_text("main")

    # At the store: the counter scans the code when it arrives, tells the customer, and
    # records the sale when she pays.
    shop_floor = browser.new_page(viewport={"width": 1024, "height": 768})
    log_in(shop_floor, live_server, counter)
    shop_floor.wait_for_url("**/staff/rmas")
    shop_floor.goto(f"{live_server}/staff/resale/reservations")
    shop_floor.fill("#po-find-code", code.lower())
    with shop_floor.expect_navigation():
        shop_floor.keyboard.press("Enter")
    with shop_floor.expect_navigation():
        shop_floor.click("form[action$='/ready'] button[type=submit]")
    with shop_floor.expect_navigation():
        shop_floor.click("form[action$='/sale'] button[type=submit]")

    with in_context(app):
        db.session.expire_all()
        sold = db.session.get(ResaleItem, item_id)
        reservation = db.session.scalars(sa.select(ResaleReservation)).one()
        assert (sold.state, sold.sold_price_yen, sold.sold_channel) == (
            ResaleState.SOLD,
            7_740,
            SaleChannel.STORE,
        )
        assert sold.sold_location_id == store_id
        assert reservation.state == ReservationState.COMPLETED

    # The recovered-value report counts the sale: ¥7,740 of the ¥12,900 original.
    staff.goto(f"{live_server}/staff/recovered-value/?group=grade")
    report = staff.inner_text("main")
    assert "7,740" in report  # (the staff page is in Japanese: 7,740円)
    assert "12,900" in report
    assert "60.0" in report
    for page in (staff, customer, shop_floor):
        page.close()
