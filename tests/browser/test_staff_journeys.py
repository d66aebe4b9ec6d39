"""Staff log in with a real browser and see what their role allows."""

from __future__ import annotations

import pytest

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.rmas.constants import RmaStatus, RmaType
from tests.browser.conftest import STATIC_FILES_LEFT_TO_GC
from tests.fixtures.auth import PASSWORD

pytestmark = [pytest.mark.browser, STATIC_FILES_LEFT_TO_GC]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_store_staff_see_their_store_on_a_phone_in_japanese_and_english(
    live_server, phone, create_user, create_location, create_rma
):
    shibuya = create_location(LocationKind.STORE, code="ST-SHIBUYA", name_ja="渋谷店")
    umeda = create_location(LocationKind.STORE, code="ST-UMEDA", name_ja="梅田店")
    ours = create_rma(RmaType.REPAIR, RmaStatus.ACCEPTED, location=shibuya)
    theirs = create_rma(RmaType.REPAIR, RmaStatus.ACCEPTED, location=umeda)
    user = create_user(Role.STORE, location=shibuya)

    log_in(phone, live_server, user.email)
    phone.wait_for_url("**/staff/rmas")
    assert phone.locator("html").get_attribute("lang") == "ja"
    body = phone.inner_text("main")
    assert ours.display_number in body
    assert theirs.display_number not in body
    assert phone.locator("a[href='/staff/users']").count() == 0
    # Nothing wider than the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.click("text=English")
    assert phone.locator("html").get_attribute("lang") == "en"
    assert "Accepted at counter" in phone.inner_text("main")

    phone.get_by_role("link", name=ours.display_number).click()
    assert "Timeline" in phone.inner_text("main")
    phone.select_option("select[name=to_status]", "at_repair_centre")
    phone.click("form.status-form button[type=submit], form[action$='/status'] button")
    assert "At repair centre" in phone.inner_text("main")

    phone.click("text=Log out")
    phone.goto(f"{live_server}/staff/rmas")
    assert "/staff/login" in phone.url


def test_an_admin_sees_the_user_list(live_server, phone, create_user):
    admin = create_user(Role.ADMIN)
    log_in(phone, live_server, admin.email)
    phone.wait_for_url("**/staff/rmas")
    phone.click("a[href='/staff/users']")
    assert admin.email in phone.inner_text("main")
