"""The warehouse's day in a real browser: a parcel scanned in, a unit graded and sent to
resale, and the customer's status page showing the refund that this released."""

# The settling fixtures are imported from tests/resolution; using them redefines the names.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from reverse.auth.constants import Role
from reverse.catalog.models import Location
from reverse.extensions import db
from reverse.resolution.constants import RefundRelease
from reverse.rmas.constants import RmaStatus
from tests.browser.conftest import STATIC_FILES_LEFT_TO_GC, wait_for_scan_focus
from tests.browser.test_staff_journeys import log_in
from tests.fixtures.catalog import in_context
from tests.resolution.conftest import centre, channel, make_case, variant  # noqa: F401

pytestmark = [pytest.mark.browser, STATIC_FILES_LEFT_TO_GC]


def test_scan_receive_inspect_as_b_accept_resale_and_the_customer_sees_the_refund(
    app,
    live_server,
    browser,
    create_user,
    centre,
    channel,
    make_case,
):
    channel(RefundRelease.INSPECTION)
    case = make_case(RmaStatus.AWAITING_ITEM, lines=[{"price": 12900}])
    with in_context(app):
        desk = create_user(Role.WAREHOUSE, location=db.session.get(Location, centre))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server, desk.email)
    page.wait_for_url("**/staff/rmas")

    # The scanner types the printed number into the focused field and presses Enter.
    # (Checked by codes and markers, not words: the desk works in Japanese.)
    page.goto(f"{live_server}/staff/intake/")
    wait_for_scan_focus(page)
    page.keyboard.type(case.number)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".intake[data-feedback=good] .scan-result--good").count() == 1
    assert case.number[:6] in page.inner_text(".parcel__title").replace("-", "")

    page.click(".parcel__actions a[href*='/staff/inspection/unit/']")
    # Apparel checklist: tags attached, and none of the faults.
    for question in page.locator(".insp-check__set").all():
        name = question.locator("input[type=radio]").first.get_attribute("name")
        answer = "yes" if name == "check_tags_attached" else "no"
        question.locator(f"input[value={answer}]").check()
    page.locator("input[name=grade][value=B]").check()
    page.click(".insp-form__submit")
    proposed = page.locator("form.insp-accept input[name=disposition]")
    assert proposed.get_attribute("value") == "resale"
    page.click("form.insp-accept button[type=submit]")

    customer = browser.new_page(viewport={"width": 390, "height": 844})
    customer.goto(f"{live_server}/lang/en")
    customer.goto(f"{live_server}/r/{case.token}")
    outcome = customer.inner_text("#outcome")
    assert "Your refund" in outcome
    assert "¥12,900" in outcome
    page.close()
    customer.close()
