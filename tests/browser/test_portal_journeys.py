"""Customers on a phone: filing a request without an account, and keeping it to themselves."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from reverse.core.uploads import save_image
from reverse.extensions import db
from reverse.rmas.constants import AttachmentKind, RmaStatus, RmaType
from reverse.rmas.models import Attachment, Rma
from tests.browser.conftest import STATIC_FILES_LEFT_TO_GC
from tests.portal import conftest as portal_fixtures

pytestmark = [pytest.mark.browser, STATIC_FILES_LEFT_TO_GC]

# The shop of the customer pages' tests: channels, centres, counters, products, orders.
shop = portal_fixtures.shop
shop_product = portal_fixtures.shop_product
shop_order = portal_fixtures.shop_order


@pytest.fixture
def phone_without_js(browser):  # type: ignore[no-untyped-def]
    """A phone with JavaScript switched off: every step is a plain form."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=1, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    # Playwright's evaluate runs even with the page's JavaScript switched off.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def next_step(page) -> None:  # type: ignore[no-untyped-def]
    no_sideways_scroll(page)
    page.click("form.flow-form .flow-actions button[type=submit]")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_web_shop_customer_exchanges_for_another_size(
    app, live_server, phone_without_js, shop_product, shop_order, lang
):
    phone = phone_without_js
    sizes = shop_product(sizes=("M", "L"), stock={"L": 2})
    order = shop_order([(sizes["M"], 1)])
    phone.goto(f"{live_server}/lang/{lang}?next=/")
    assert phone.locator("html").get_attribute("lang") == lang
    phone.click(".hero__actions a[href='/request']")

    phone.check("input[value=exchange]")
    phone.check("input[value=web]")
    next_step(phone)

    phone.fill("input[name=number]", order["number"])
    phone.fill("input[name=contact]", order["email"])
    next_step(phone)

    assert order["number"] in phone.inner_text("main")
    phone.check("input.pick__check")
    next_step(phone)

    phone.click("label.chip:has(input[value=size_too_small])")
    phone.click(f"label.size:has(input[value='{sizes['L']}'])")
    next_step(phone)

    phone.click("label.choice:has(input[value=carriage_forward])")
    next_step(phone)

    # The order's customer is filled in already.
    assert phone.input_value("input[name=email]") == order["email"]
    next_step(phone)

    review = phone.inner_text("main")
    assert "L" in review
    phone.check("input[name=accept_terms]")
    phone.click("form.submit-box button[type=submit]")

    phone.wait_for_url("**/request/done")
    with app.app_context():
        rma = db.session.scalar(sa.select(Rma))
        number = rma.display_number
        assert rma.type == RmaType.EXCHANGE
        assert rma.lines[0].wanted_variant_id == sizes["L"]
    assert number in phone.inner_text("main")
    assert phone.locator("html").get_attribute("lang") == lang
    no_sideways_scroll(phone)

    phone.click(".done ~ .card a.button--primary")
    phone.wait_for_url(re.compile(r".*/r/[\w-]+$"))
    assert number in phone.inner_text("h1")
    assert phone.locator("html").get_attribute("lang") == lang
    no_sideways_scroll(phone)


def _photo_of(rma_id: int) -> int:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "#9ab").save(buffer, format="JPEG")
    buffer.seek(0)
    stored = save_image(buffer)
    attachment = Attachment(
        rma_id=rma_id,
        kind=AttachmentKind.PHOTO,
        stored_name=stored.name,
        content_type=stored.content_type,
        size_bytes=stored.size,
        added_by="customer",
    )
    db.session.add(attachment)
    db.session.commit()
    return attachment.id


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_customer_cannot_open_someone_elses_request(app, live_server, phone, create_rma, lang):
    phone.goto(f"{live_server}/lang/{lang}")
    first = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    second = create_rma(RmaType.REPAIR, RmaStatus.SUBMITTED)
    with app.app_context():
        photo_id = _photo_of(first.id)

    # The second customer's own link works …
    response = phone.goto(f"{live_server}/r/{second.token}")
    assert response.status == 200
    assert second.display_number in phone.inner_text("main")

    # … but nothing of the first can be reached from it, whatever is put in the address.
    for guess in (
        f"/r/{first.number}",
        f"/r/{first.display_number}",
        f"/r/{first.id}",
        f"/r/{first.access_token_hash}",
        f"/r/{second.token}/photos/{photo_id}",
        f"/r/{first.number}/photos/{photo_id}",
        f"/r/{first.number}/slip.pdf",
        f"/r/{first.id}/cancel",
        f"/request/photos/{photo_id}",
    ):
        response = phone.goto(f"{live_server}{guess}")
        assert response.status == 404, guess
        assert first.display_number not in phone.inner_text("main")

    # The first customer's photo is there for the first customer.
    response = phone.goto(f"{live_server}/r/{first.token}/photos/{photo_id}")
    assert response.status == 200


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_department_store_repair_is_filed_with_a_receipt_and_verified_by_staff(
    app, live_server, browser, phone, tmp_path, shop, shop_product, create_user, lang
):
    from reverse.auth.constants import Role
    from reverse.catalog.models import Variant
    from tests.fixtures.auth import PASSWORD

    sizes = shop_product(sizes=("F",), stock={}, name_ja="レザートートバッグ")
    with app.app_context():
        style_code = db.session.get(Variant, sizes["F"]).product.style_code
    picture = tmp_path / "receipt.jpg"
    Image.new("RGB", (300, 400), "#f4f1ea").save(picture, format="JPEG")

    # The customer, on their phone, in their language.
    phone.goto(f"{live_server}/lang/{lang}?next=/request")
    phone.check("input[value=repair]")
    phone.check("input[value=department_store]")
    next_step(phone)

    phone.select_option("select[name=retailer]", "伊勢丹新宿店")
    phone.fill("input[name=purchase_date]", "2025-10-12")
    phone.fill("input[name=price]", "４２，０００")
    phone.set_input_files("input[name=receipt]", str(picture))
    next_step(phone)

    phone.fill("input[name=q]", style_code)
    phone.press("input[name=q]", "Enter")
    phone.click(f"button.size--button[value='{sizes['F']}']")
    phone.click("label.chip:has(input[value=defective])")
    phone.fill("textarea[name=lines-0-symptom]", "The handle came off at the seam.")
    phone.set_input_files("input[name=lines-0-photos]", str(picture))
    next_step(phone)

    phone.click("label.choice:has(input[value=store_drop_off])")
    phone.click(f"label.choice:has(input[value='{shop['DS-ISETAN']}'])")
    next_step(phone)

    phone.fill("input[name=name]", "Emily Carter")
    phone.fill("input[name=email]", "emily@example.com")
    next_step(phone)

    assert phone.locator(".notice--warn").count() == 1  # staff will check the receipt
    phone.check("input[name=accept_terms]")
    phone.click("form.submit-box button[type=submit]")
    phone.wait_for_url("**/request/done")
    phone.click(".done ~ .card a.button--primary")
    status_url = phone.url
    with app.app_context():
        rma = db.session.scalar(sa.select(Rma))
        number, display = rma.number, rma.display_number
        assert rma.proof_status.value == "pending"
        assert rma.declared_price_yen == 42000
    assert phone.locator(".qr-card").count() == 0  # nothing to show at the counter yet

    # Support staff check the receipt in their queue and accept it.
    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    user = create_user(Role.SUPPORT)
    staff.goto(f"{live_server}/staff/login")
    staff.fill("input[name=email]", user.email)
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.goto(f"{live_server}/staff/verification")
    case = staff.locator(f"#rma-{number}")
    assert "伊勢丹新宿店" in case.inner_text()
    receipt = case.locator("img").first
    assert receipt.evaluate("img => img.complete && img.naturalWidth > 0")
    case.locator("button[value=accept]").click()
    staff.wait_for_load_state()
    assert display in staff.inner_text("main")
    staff.context.close()

    # The customer's page now shows the code to present at the counter.
    phone.goto(status_url)
    assert phone.locator(".qr-card svg").count() == 1
    counter = "Reverse Isetan Shinjuku" if lang == "en" else "伊勢丹新宿店"
    assert counter in phone.inner_text("main")
