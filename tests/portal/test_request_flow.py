"""A customer files a request from start to confirmation, and follows it through its link."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.extensions import db
from reverse.portal.models import PortalDraft
from reverse.rmas.constants import (
    AttachmentKind,
    ProofStatus,
    PurchasePlace,
    ReturnMethod,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import Attachment, Rma
from tests.portal.conftest import photo

pytestmark = pytest.mark.databases

SCRIPT = '<script>alert("x")</script><b>bold</b>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"


def the_rma(app) -> Rma:
    with app.app_context():
        rma = db.session.scalar(sa.select(Rma))
        db.session.expunge_all()
        return rma


def test_a_web_shop_exchange_goes_from_start_to_the_status_page(
    app, portal, shop, shop_product, shop_order, mailbox
):
    sizes = shop_product(stock={"L": 2})
    order = shop_order([(sizes["M"], 1)])
    portal.start("exchange", "web")
    assert portal.lookup(order["number"], order["email"]).status_code == 302
    page = portal.client.get("/request/purchase").text
    assert order["number"] in page
    assert portal.choose(page, {order["line_ids"][0]: 1}).status_code == 302

    items = portal.client.get("/request/items").text
    assert "Crossed-out sizes are out of stock." in items
    response = portal.items({"reason": "size_too_small", "wanted": sizes["L"]})
    assert response.status_code == 302, response.text
    assert portal.method("prepaid_label").status_code == 302
    response = portal.contact(
        email=order["email"],
        postal_code="150-0041",
        prefecture="東京都",
        city="渋谷区",
        street="神南1-2-3",
    )
    assert response.status_code == 302, response.text
    review = portal.client.get("/request/review").text
    assert "I have read the return terms" in review
    assert "The exchange and its shipping are free of charge." in review
    response = portal.submit()
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == "/request/done"

    done = portal.client.get("/request/done").text
    link = re.search(r'href="(/r/[^"]+)"', done).group(1)
    with app.app_context():
        rma = db.session.scalar(sa.select(Rma))
        assert rma.type == RmaType.EXCHANGE
        assert rma.return_method == ReturnMethod.PREPAID_LABEL
        assert rma.purchase_place == PurchasePlace.WEB
        assert rma.lines[0].wanted_variant_id == sizes["L"]
        assert rma.lines[0].order_line_id == order["line_ids"][0]
        assert rma.ship_postal_code == "150-0041"
        assert rma.display_number in done
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PortalDraft)) == 0
    assert f"We sent a confirmation to {order['email']}" in done
    with portal.client.session_transaction() as session:
        assert "draft" not in session

    status = portal.client.get(link)
    assert status.status_code == 200
    assert status.headers["Cache-Control"] == "no-store"
    assert status.headers["Referrer-Policy"] == "no-referrer"
    [mail] = mailbox.messages()
    assert mail["To"] == order["email"]


def test_the_confirmation_page_needs_the_visitors_own_submission(client, shop):
    assert client.get("/request/done").headers["Location"] == "/request"


def test_a_department_store_repair_waits_for_its_receipt_to_be_checked(
    app, portal, shop, shop_product
):
    shop_product()
    portal.start("repair", "department_store")
    response = portal.post(
        "/request/purchase",
        {
            "retailer": "髙島屋日本橋店",
            "purchase_date": "2025-11-03",
            "price": "３２０００",
            "receipt": photo("receipt.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    portal.post("/request/items/describe", {"description": "革のトートバッグ"})
    response = portal.items(
        {
            "reason": "accident",
            "symptom": "持ち手が切れた",
            "photos": [photo(), photo(colour="#a88")],
        }
    )
    assert response.status_code == 302, response.text
    assert portal.method("store_drop_off", shop["DS-TAKASHIMAYA"]).status_code == 302
    assert portal.contact(phone="09012345678", email="").status_code == 302
    review = portal.client.get("/request/review").text
    assert "Our staff will check your receipt" in review
    assert portal.submit().status_code == 302

    rma = the_rma(app)
    assert rma.status == RmaStatus.SUBMITTED
    assert rma.proof_status == ProofStatus.PENDING
    assert rma.declared_retailer == "髙島屋日本橋店"
    assert rma.declared_price_yen == 32000
    assert rma.location_id == shop["DS-TAKASHIMAYA"]
    with app.app_context():
        attachments = db.session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()
        assert [(a.kind, a.line_no, a.rma_id, a.draft_id) for a in attachments] == [
            (AttachmentKind.RECEIPT, None, rma.id, None),
            (AttachmentKind.PHOTO, 0, rma.id, None),
            (AttachmentKind.PHOTO, 0, rma.id, None),
        ]
    done = portal.client.get("/request/done").text
    assert "Please keep the link below" in done  # no email: the link is the way back


def test_html_typed_anywhere_is_shown_as_text_on_every_page_and_in_the_mail(
    app, portal, shop, mailbox
):
    portal.start("repair", "other_retailer")
    response = portal.post(
        "/request/purchase",
        {"retailer_other": SCRIPT, "purchase_date": "2025-11-03", "receipt": photo()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert portal.post("/request/items/describe", {"description": SCRIPT}).status_code == 302
    assert (
        portal.items({"reason": "wear_and_tear", "symptom": SCRIPT, "comment": SCRIPT}).status_code
        == 302
    )
    portal.method("carriage_forward")
    response = portal.contact(
        name=SCRIPT,
        postal_code="150-0041",
        prefecture="東京都",
        city=SCRIPT,
        street=SCRIPT,
        building=SCRIPT,
    )
    assert response.status_code == 302

    for page in (
        portal.client.get("/request/review").text,
        portal.client.get("/request/items").text,
    ):
        assert "<script>" not in page
        assert ESCAPED in page
    review = portal.client.get("/request/review").text
    assert review.count(ESCAPED) >= 7  # shop, item, symptom, note, name, city+street, building

    portal.submit()
    done = portal.client.get("/request/done").text
    link = re.search(r'href="(/r/[^"]+)"', done).group(1)
    portal.post(f"{link}/messages", {"body": SCRIPT})
    status = portal.client.get(link).text
    assert "<script>" not in status
    assert status.count(ESCAPED) >= 3  # item, symptom, message

    [mail] = mailbox.messages()
    # Plain text only: there is no HTML part in which markup could run.
    assert mail.get_content_type() == "text/plain"
    assert not mail.is_multipart()
    assert f"{SCRIPT}," in mail.get_content()  # the greeting, as typed


def test_sending_twice_makes_one_request_and_shows_it_again(
    app, portal, shop, shop_product, shop_order
):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 1)])
    portal.start("return", "web")
    portal.lookup(order["number"], order["email"])
    portal.choose(None, {order["line_ids"][0]: 1})
    portal.items({"reason": "changed_mind"})
    portal.method("carriage_forward")
    portal.contact()
    assert portal.submit().headers["Location"] == "/request/done"
    assert portal.submit().headers["Location"] == "/request/done"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rma)) == 1
