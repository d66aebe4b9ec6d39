"""Each step of the request form: what it accepts, what it refuses, and how it says so."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from reverse.core.actors import Actor
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.orders.models import Order
from reverse.portal.models import PortalDraft
from reverse.rmas.constants import AttachmentKind, RmaType
from reverse.rmas.models import Attachment
from reverse.rmas.operations import LineData, RmaData, create_rma
from tests.portal.conftest import barcode_photo, photo, photo_bytes

pytestmark = pytest.mark.databases


def errors(html: str) -> list[str]:
    """The messages shown beside fields (and above the form), in page order."""
    found = re.findall(r'class="field__error"[^>]*>(.*?)</p>', html, re.S)
    found += re.findall(r'class="notice notice--error"[^>]*>\s*<p>(.*?)</p>', html, re.S)
    return [re.sub(r"<[^>]+>", "", e).strip() for e in found]


def draft_data(app) -> dict:
    with app.app_context():
        return db.session.scalar(sa.select(PortalDraft)).data


def web_order_draft(portal, shop_product, shop_order, rma_type="return", **order_kw):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 1)], **order_kw)
    portal.start(rma_type, "web")
    assert portal.lookup(order["number"], order["email"]).status_code == 302
    return sizes, order


# -- step 1 ------------------------------------------------------------------------------------


def test_the_start_asks_what_happened_and_where_it_was_bought(portal, shop):
    response = portal.post("/request", {})
    assert response.status_code == 422
    assert errors(response.text) == [
        "Choose return, exchange or repair.",
        "Choose where you got the item.",
    ]


def test_the_browser_keeps_only_the_draft_key(app, portal, shop):
    portal.client.get("/lang/en?next=/")
    portal.start("exchange", "department_store")
    with portal.client.session_transaction() as session:
        assert set(session) >= {"draft"}
        assert "department_store" not in str(dict(session))
    assert draft_data(app)["place"] == "department_store"


def test_starting_again_keeps_the_purchase_when_only_the_type_changes(
    app, portal, shop, shop_product, shop_order
):
    web_order_draft(portal, shop_product, shop_order, "return")
    portal.start("exchange", "web")
    assert draft_data(app)["order_id"] is not None
    portal.start("exchange", "store")
    assert draft_data(app)["order_id"] is None


def test_the_return_terms_are_on_the_start_page_with_the_statutory_default(client, shop):
    page = client.get("/request").text
    assert "<details" in page
    assert "8 days of its delivery" in page


def test_the_shops_own_return_terms_replace_the_default(app, client, shop):
    from reverse.policy.models import ReturnTerms

    with app.app_context():
        db.session.add(ReturnTerms(locale="ja", body="返品特約：到着後30日以内 <b>太字</b>"))
        db.session.commit()
    page = client.get("/request").text
    assert "返品特約：到着後30日以内 &lt;b&gt;太字&lt;/b&gt;" in page
    assert "8 days of its delivery" not in page


def test_later_steps_send_a_visitor_without_a_draft_to_the_start(client, shop):
    for url in ("/request/purchase", "/request/items", "/request/review"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == "/request"


def test_a_step_cannot_be_skipped(portal, shop):
    portal.start("return", "web")
    response = portal.client.get("/request/review")
    assert response.headers["Location"] == "/request/purchase"


# -- step 2: purchases we know -----------------------------------------------------------------


def test_a_wrong_order_number_and_a_wrong_email_get_the_same_answer(
    portal, shop, shop_product, shop_order
):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 1)])
    portal.start("return", "web")
    wrong_number = portal.lookup("W99999999", order["email"])
    wrong_email = portal.lookup(order["number"], "someone-else@example.jp")
    assert wrong_number.status_code == wrong_email.status_code == 422
    assert errors(wrong_number.text) == errors(wrong_email.text)
    assert len(errors(wrong_number.text)) == 1
    # What was typed stays in the fields.
    assert 'value="W99999999"' in wrong_number.text
    assert 'value="someone-else@example.jp"' in wrong_email.text


def test_full_width_order_numbers_and_phone_numbers_find_the_order(
    portal, shop, shop_product, shop_order
):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 1)], number="W30118001", phone="+819012345678")
    portal.start("return", "web")
    response = portal.lookup("Ｗ３０１１８００１", "０９０－１２３４－５６７８")
    assert response.status_code == 302
    assert order["number"] in portal.client.get("/request/purchase").text


def test_a_receipt_is_looked_up_among_store_sales_only(portal, shop, shop_product, shop_order):
    from reverse.catalog.constants import ChannelCode

    sizes = shop_product()
    web = shop_order([(sizes["M"], 1)])
    store = shop_order([(sizes["M"], 1)], channel=ChannelCode.STORE, number="S-ST-1-000123")
    portal.start("return", "store")
    assert "Receipt number" in portal.client.get("/request/purchase").text
    assert portal.lookup(web["number"], web["email"]).status_code == 422
    assert portal.lookup("s-st-1-000123", store["email"]).status_code == 302


def test_the_order_shows_how_many_are_left_after_an_earlier_request(
    app, portal, shop, shop_product, shop_order
):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 2)])
    with app.app_context():
        stored = db.session.get(Order, order["id"])
        create_rma(
            RmaData(
                type=RmaType.RETURN,
                channel=stored.channel,
                customer=stored.customer,
                order=stored,
                lines=[LineData(variant_id=sizes["M"], order_line_id=order["line_ids"][0])],
            ),
            Actor.customer(),
        )
        db.session.commit()
    portal.start("return", "web")
    portal.lookup(order["number"], order["email"])
    page = portal.client.get("/request/purchase").text
    assert "1 already in another request" in page
    response = portal.choose(page, {order["line_ids"][0]: 2})
    assert response.status_code == 422
    assert "Choose between 1 and 1." in errors(response.text)
    assert portal.choose(page, {order["line_ids"][0]: 1}).status_code == 302


def test_a_line_past_its_window_is_refused_with_the_date(portal, shop, shop_product, shop_order):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 1)], days_ago=40)
    portal.start("return", "web")
    portal.lookup(order["number"], order["email"])
    page = portal.client.get("/request/purchase").text
    ended = today_in_japan(utcnow() - timedelta(days=40)) + timedelta(days=30)
    assert f"The period for this ended on {ended.isoformat()}." in page
    assert 'id="lines-0-selected" disabled' in page
    response = portal.choose(page, {order["line_ids"][0]: 1})
    assert response.status_code == 422
    assert "This item cannot be requested." in errors(response.text)


def test_a_final_sale_line_is_refused(portal, shop, shop_product, shop_order):
    sizes = shop_product()
    order = shop_order([(sizes["M"], 1, True), (sizes["L"], 1)])
    portal.start("return", "web")
    portal.lookup(order["number"], order["email"])
    page = portal.client.get("/request/purchase").text
    assert "This item was sold as final sale." in page
    assert portal.choose(page, {order["line_ids"][0]: 1}).status_code == 422
    assert portal.choose(page, {order["line_ids"][1]: 1}).status_code == 302


def test_at_least_one_line_must_be_ticked(portal, shop, shop_product, shop_order):
    web_order_draft(portal, shop_product, shop_order)
    response = portal.choose(None, {})
    assert response.status_code == 422
    assert "Tick at least one item." in errors(response.text)


# -- step 2: purchases we do not know ----------------------------------------------------------


def test_a_department_store_purchase_needs_retailer_date_and_receipt(app, portal, shop):
    portal.start("exchange", "department_store")
    page = portal.client.get("/request/purchase").text
    for retailer in ("伊勢丹新宿店", "髙島屋日本橋店", "阪急うめだ本店", "大丸京都店"):
        assert f'value="{retailer}"' in page
    response = portal.post("/request/purchase", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert errors(response.text) == [
        "Choose the department store.",
        "Enter the date of purchase.",
        "Add a photo of the receipt or warranty card.",
    ]


def test_a_purchase_date_in_the_future_is_refused(portal, shop):
    portal.start("exchange", "department_store")
    tomorrow = today_in_japan(utcnow()) + timedelta(days=1)
    response = portal.post(
        "/request/purchase",
        {"retailer": "伊勢丹新宿店", "purchase_date": tomorrow.isoformat(), "receipt": photo()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert errors(response.text) == ["The date of purchase cannot be in the future."]
    # The receipt that was fine is kept: only the date needs fixing.
    assert "Receipt photo added" in response.text


def test_full_width_dates_and_prices_are_accepted(app, portal, shop):
    portal.start("exchange", "department_store")
    response = portal.post(
        "/request/purchase",
        {
            "retailer": "other",
            "retailer_other": "そごう横浜店",
            "purchase_date": "２０２５／１１／０３",
            "price": "１２，８００円",
            "receipt": photo(),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, errors(response.text)
    data = draft_data(app)
    assert data["retailer"] == "そごう横浜店"
    assert data["purchase_date"] == "2025-11-03"
    assert data["price_yen"] == 12800


def test_a_price_that_is_not_a_number_is_refused_and_the_rest_kept(portal, shop):
    portal.start("exchange", "department_store")
    response = portal.post(
        "/request/purchase",
        {"retailer": "大丸京都店", "purchase_date": "2025-11-03", "price": "about 10000"},
        content_type="multipart/form-data",
    )
    assert "Enter the price in yen, digits only (e.g. 12800)." in errors(response.text)
    assert 'value="about 10000"' in response.text
    assert 'value="2025-11-03"' in response.text
    assert '<option selected value="大丸京都店">' in response.text


def test_a_file_that_is_not_a_photo_is_refused_beside_its_field(portal, shop):
    portal.start("exchange", "department_store")
    response = portal.post(
        "/request/purchase",
        {
            "retailer": "阪急うめだ本店",
            "purchase_date": "2025-11-03",
            "price": "9900",
            "receipt": (io.BytesIO(b"%PDF-1.4 not a photo at all"), "receipt.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert errors(response.text) == [
        "This file is not a photo we can read. Please send a JPEG, PNG or WebP image."
    ]
    assert 'value="9900"' in response.text
    assert 'value="2025-11-03"' in response.text


def test_a_20_mb_photo_gets_a_message_not_an_error_page(portal, shop):
    portal.start("exchange", "department_store")
    huge = photo_bytes() + b"\0" * (20 * 1024 * 1024)
    # Encoded in memory: the test client would otherwise spool it to a temporary file it
    # never closes.
    boundary, body = encode_multipart(
        MultiDict(
            {
                "csrf_token": portal.token,
                "retailer": "阪急うめだ本店",
                "purchase_date": "2025-11-03",
                "receipt": FileStorage(io.BytesIO(huge), "big.jpg", content_type="image/jpeg"),
            }
        )
    )
    response = portal.client.post(
        "/request/purchase",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 422
    assert errors(response.text) == ["This file is larger than 10 MB. Please send a smaller photo."]


def test_a_gift_needs_no_receipt_and_a_readable_tag_fills_in_the_item(
    app, portal, shop, shop_product
):
    sizes = shop_product()
    portal.start("exchange", "gift")
    assert portal.post("/request/purchase", {}).status_code == 302  # nothing is required
    with app.app_context():
        from reverse.catalog.models import Variant

        code = db.session.get(Variant, sizes["L"]).jan
    response = portal.post(
        "/request/purchase", {"tag": barcode_photo(code)}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    data = draft_data(app)
    assert [line["variant_id"] for line in data["lines"]] == [sizes["L"]]
    with app.app_context():
        tag = db.session.scalar(sa.select(Attachment))
        assert (tag.kind, tag.line_no) == (AttachmentKind.TAG, 0)


# -- step 3 ------------------------------------------------------------------------------------


def test_items_bought_elsewhere_are_found_by_a_full_width_jan(app, portal, shop, shop_product):
    shop_product()
    portal.start("repair", "gift")
    portal.post("/request/purchase", {})
    assert portal.client.get("/request/items").headers["Location"] == "/request/items/find"
    with app.app_context():
        from reverse.catalog.models import Variant

        variant = db.session.scalars(sa.select(Variant).order_by(Variant.id)).first()
        code = variant.jan
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    page = portal.client.get("/request/items/find", query_string={"q": full_width}).text
    assert f'name="variant_id" value="{variant.id}"' in page
    assert page.count('name="variant_id"') == 1


def test_a_tag_photo_without_a_known_barcode_asks_to_search(portal, shop, shop_product):
    shop_product()
    portal.start("repair", "unknown")
    portal.post("/request/purchase", {})
    response = portal.post(
        "/request/items/scan", {"tag": photo()}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert errors(response.text)[0].startswith("We could not find one of our products")


def test_a_repair_of_an_unknown_item_can_be_described_in_words(app, portal, shop):
    portal.start("repair", "unknown")
    portal.post("/request/purchase", {})
    response = portal.post("/request/items/describe", {"description": "黒い革のトートバッグ"})
    assert response.status_code == 302
    assert draft_data(app)["lines"][0]["description"] == "黒い革のトートバッグ"


def test_each_line_needs_a_reason_and_an_exchange_a_size_in_stock(
    app, portal, shop, shop_product, shop_order
):
    sizes = shop_product(stock={"L": 2})  # S is out of stock
    order = shop_order([(sizes["M"], 1)])
    portal.start("exchange", "web")
    portal.lookup(order["number"], order["email"])
    portal.choose(None, {order["line_ids"][0]: 1})
    page = portal.client.get("/request/items").text
    assert re.search(rf'value="{sizes["S"]}"[^>]*disabled', page)

    response = portal.items({})
    assert errors(response.text) == [
        "Choose a reason.",
        "Choose the size or colour you would like.",
    ]
    response = portal.items({"reason": "size_too_small", "wanted": sizes["S"]})
    assert errors(response.text) == ["This size or colour is out of stock. Please choose another."]
    response = portal.items({"reason": "size_too_small", "wanted": sizes["L"]})
    assert response.status_code == 302
    assert draft_data(app)["lines"][0]["wanted_variant_id"] == sizes["L"]


def test_a_defect_needs_a_photo_and_a_comment_is_at_most_1000_characters(
    portal, shop, shop_product, shop_order
):
    web_order_draft(portal, shop_product, shop_order)
    page = portal.client.get("/request/purchase").text
    line_id = int(re.search(r'name="lines-0-order_line_id"[^>]*value="(\d+)"', page).group(1))
    portal.choose(page, {line_id: 1})
    response = portal.items({"reason": "defective", "comment": "あ" * 1001})
    assert errors(response.text) == [
        "For this reason we need at least one photo of the item.",
        "Up to 1000 characters, please.",
    ]
    assert "あ" * 1001 in response.text
    response = portal.items(
        {"reason": "defective", "comment": "縫い目がほつれています", "photos": [photo()]}
    )
    assert response.status_code == 302


def test_a_non_image_renamed_jpg_is_refused_and_the_other_fields_are_kept(
    portal, shop, shop_product, shop_order
):
    web_order_draft(portal, shop_product, shop_order)
    page = portal.client.get("/request/purchase").text
    line_id = int(re.search(r'name="lines-0-order_line_id"[^>]*value="(\d+)"', page).group(1))
    portal.choose(page, {line_id: 1})
    fake = (io.BytesIO(b"<html><script>alert(1)</script></html>"), "photo.jpg")
    response = portal.items(
        {"reason": "damaged_in_transit", "comment": "箱が潰れていました", "photos": [fake]}
    )
    assert response.status_code == 422
    assert errors(response.text) == [
        "This file is not a photo we can read. Please send a JPEG, PNG or WebP image."
    ]
    assert "箱が潰れていました" in response.text
    assert re.search(
        r'value="damaged_in_transit"[^>]*checked|checked[^>]*value="damaged_in_transit"',
        response.text,
    )


def test_a_repair_needs_the_symptom(portal, shop, shop_product, shop_order):
    web_order_draft(portal, shop_product, shop_order, "repair")
    page = portal.client.get("/request/purchase").text
    line_id = int(re.search(r'name="lines-0-order_line_id"[^>]*value="(\d+)"', page).group(1))
    portal.choose(page, {line_id: 1})
    response = portal.items({"reason": "wear_and_tear"})
    assert errors(response.text) == ["Tell us what is wrong with the item."]
    assert portal.items({"reason": "wear_and_tear", "symptom": "ボタンが取れた"}).status_code == 302


def test_draft_photos_are_shown_only_to_the_draft_they_belong_to(
    app, portal, client, shop, shop_product, shop_order
):
    from flask.testing import FlaskClient

    web_order_draft(portal, shop_product, shop_order)
    page = portal.client.get("/request/purchase").text
    line_id = int(re.search(r'name="lines-0-order_line_id"[^>]*value="(\d+)"', page).group(1))
    portal.choose(page, {line_id: 1})
    portal.items({"reason": "defective", "photos": [photo()]})
    with app.app_context():
        attachment_id = db.session.scalar(sa.select(Attachment.id))
    with portal.client.get(f"/request/photos/{attachment_id}") as own:
        assert own.status_code == 200
        assert own.headers["X-Content-Type-Options"] == "nosniff"
        assert own.mimetype == "image/jpeg"
    stranger: FlaskClient = app.test_client()
    assert stranger.get(f"/request/photos/{attachment_id}").status_code == 404


# -- steps 4 and 5 -----------------------------------------------------------------------------


def _to_method(portal, shop_product, shop_order, rma_type="return"):
    web_order_draft(portal, shop_product, shop_order, rma_type)
    page = portal.client.get("/request/purchase").text
    line_id = int(re.search(r'name="lines-0-order_line_id"[^>]*value="(\d+)"', page).group(1))
    portal.choose(page, {line_id: 1})
    assert (
        portal.items(
            {
                "reason": "changed_mind" if rma_type == "return" else "wear_and_tear",
                "symptom": "ほつれ",
            }
        ).status_code
        == 302
    )


def test_a_drop_off_needs_a_store(app, portal, shop, shop_product, shop_order):
    _to_method(portal, shop_product, shop_order)
    response = portal.method("store_drop_off")
    assert errors(response.text) == ["Choose the store you will go to."]
    assert portal.method("store_drop_off", shop["DS-ISETAN"]).status_code == 302
    assert draft_data(app)["drop_off_location_id"] == shop["DS-ISETAN"]


def test_repairs_offer_only_carriage_forward_and_the_store(portal, shop, shop_product, shop_order):
    _to_method(portal, shop_product, shop_order, "repair")
    page = portal.client.get("/request/method").text
    assert 'value="carriage_forward"' in page
    assert 'value="store_drop_off"' in page
    assert 'value="prepaid_label"' not in page
    assert portal.method("pickup").status_code == 422


def test_contact_errors_are_beside_their_fields_in_the_page_language(
    portal, shop, shop_product, shop_order
):
    _to_method(portal, shop_product, shop_order)
    portal.method("prepaid_label")
    portal.client.get("/lang/en?next=/")
    response = portal.post(
        "/request/contact",
        {"name": "", "name_kana": "Yamada", "email": "not-an-email", "phone": "12"},
    )
    assert response.status_code == 422
    assert errors(response.text) == [
        "Enter your name.",
        "Write the reading in katakana, e.g. ヤマダ ハナコ.",
        "Enter a valid email address.",
        "Enter a phone number we can call, e.g. 090-1234-5678.",
        "Enter the postal code.",
        "Choose the prefecture.",
        "Enter the city, ward, town or village.",
        "Enter the rest of the address.",
    ]
    assert 'value="not-an-email"' in response.text
    portal.client.get("/lang/ja?next=/")
    response = portal.post("/request/contact", {"name": "山田", "email": "not-an-email"})
    assert "正しいメールアドレスを入力してください。" in response.text


def test_email_or_phone_is_enough(app, portal, shop, shop_product, shop_order):
    _to_method(portal, shop_product, shop_order)
    portal.method("carriage_forward")
    response = portal.post("/request/contact", {"name": "山田 花子"})
    assert errors(response.text) == ["Enter an email address or a phone number."]
    response = portal.post(
        "/request/contact", {"name": "山田 花子", "phone": "０９０－１２３４－５６７８"}
    )
    assert response.status_code == 302
    assert draft_data(app)["contact"]["phone"] == "+819012345678"


def test_full_width_postal_codes_and_hiragana_readings_are_normalised(
    app, portal, shop, shop_product, shop_order
):
    portal.client.get("/lang/ja")  # the page language becomes the mail language
    _to_method(portal, shop_product, shop_order)
    portal.method("pickup")
    response = portal.post(
        "/request/contact",
        {
            "name": "山田　花子",
            "name_kana": "やまだ はなこ",
            "email": "Ｈａｎａｋｏ＠Ｅｘａｍｐｌｅ．ｊｐ",
            "postal_code": "〒１５０－００４１",
            "prefecture": "東京都",
            "city": "渋谷区",
            "street": "神南１－２－３",
        },
    )
    assert response.status_code == 302, errors(response.text)
    contact = draft_data(app)["contact"]
    assert contact["postal_code"] == "150-0041"
    assert contact["name_kana"] == "ヤマダ ハナコ"
    assert contact["email"] == "hanako@example.jp"
    assert contact["street"] == "神南1-2-3"
    assert contact["locale"] == "ja"


# -- step 6 ------------------------------------------------------------------------------------


def test_the_return_terms_must_be_accepted(portal, shop, shop_product, shop_order):
    _to_method(portal, shop_product, shop_order)
    portal.method("carriage_forward")
    portal.contact()
    page = portal.client.get("/request/review").text
    assert "8 days of its delivery" in page
    response = portal.post("/request/review", {})
    assert response.status_code == 422
    assert errors(response.text) == ["Please confirm that you have read the return terms."]


def test_a_request_type_the_channel_does_not_offer_is_refused_at_the_start(portal, shop):
    portal.client.get("/lang/en?next=/")
    response = portal.post("/request", {"type": "return", "place": "department_store"})
    assert response.status_code == 422
    assert errors(response.text) == [
        "Return is not offered for items from there. Please choose another option, "
        "or ask us for help."
    ]
