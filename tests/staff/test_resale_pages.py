"""The staff pages of pre-owned stock, driven through their HTTP forms: who may see and change
what, the list's filters and bulk actions, an item's actions, reservations at the counter,
the price rules and finding an item by the code on its shelf tag."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from reverse.auth.constants import Role
from reverse.catalog.constants import Category, LocationKind
from reverse.core.actors import Actor
from reverse.core.uploads import save_image
from reverse.extensions import db
from reverse.intake.constants import Grade
from reverse.intake.models import ReceiptUnit
from reverse.resale import operations as resale
from reverse.resale.constants import (
    ResaleState,
    ReservationKind,
    ReservationState,
    SaleChannel,
)
from reverse.resale.models import ResaleItem, ResalePriceRule, ResaleReservation
from reverse.rmas.constants import AttachmentKind
from reverse.rmas.models import Attachment
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context
from tests.fixtures.resale import STAFF


@pytest.fixture
def centre(create_location):
    return create_location(LocationKind.RETURNS_CENTRE, code="RC-PO")


@pytest.fixture
def shibuya(create_location):
    return create_location(LocationKind.STORE, code="ST-PO-SHIBUYA")


@pytest.fixture
def umeda(create_location):
    return create_location(LocationKind.STORE, code="ST-PO-UMEDA")


@pytest.fixture
def staff(client, logged_in):
    """Log in as `role` (at `location`), reading the pages in English; returns a CSRF token."""

    def make(role: Role = Role.WAREHOUSE, location=None) -> str:
        kw = {"location": location} if location is not None else {}
        logged_in(role, **kw)
        client.get("/lang/en")
        return csrf_token(client.get("/staff/resale/reservations").text)

    return make


def stored(app, item_id: int) -> ResaleItem:
    with in_context(app):
        item = db.session.get(ResaleItem, item_id)
        db.session.expunge(item)
        return item


def codes_listed(html: str) -> set[str]:
    return set(re.findall(r'href="/staff/resale/\d+">(PO\d{7})<', html))


def flashes(html: str) -> list[str]:
    found = re.findall(r'<p class="flash flash--(\w+)"[^>]*>(.*?)</p>', html, flags=re.S)
    return [f"{kind}: {' '.join(text.split())}" for kind, text in found]


def reserve(app, item, kind=ReservationKind.PICKUP, pickup=None, name="佐藤 美咲"):
    with in_context(app):
        reservation, _token = resale.reserve(
            item.id,
            kind=kind,
            contact={"name": name, "email": "misaki@example.jp", "phone": "", "locale": "ja"},
            pickup_location_id=pickup.id if pickup is not None else None,
            actor=Actor.customer(),
        )
        db.session.commit()
        return reservation.id


# -- who may see and do what -----------------------------------------------------------------------


def test_without_login_the_pages_send_to_the_login(client):
    response = client.get("/staff/resale/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_technicians_have_no_access(client, logged_in, make_item):
    item = make_item()
    logged_in(Role.TECHNICIAN)

    assert client.get("/staff/resale/").status_code == 403
    assert client.get(f"/staff/resale/{item.id}").status_code == 403
    assert client.get("/staff/resale/reservations").status_code == 403


def test_support_looks_but_changes_nothing(app, client, staff, make_item):
    item = make_item("B")
    token = staff(Role.SUPPORT)

    page = client.get(f"/staff/resale/{item.id}")
    assert page.status_code == 200
    assert item.code in page.text
    assert "Save the price" not in page.text
    assert 'name="ids"' not in client.get("/staff/resale/").text
    response = client.post(
        f"/staff/resale/{item.id}/price",
        data={"csrf_token": token, "price_yen": "5000", "reason": "試し"},
    )
    assert response.status_code == 403
    assert stored(app, item.id).price_yen == item.price_yen


def test_store_staff_see_and_change_only_their_stores_items(
    app, client, staff, make_item, shibuya, umeda
):
    ours = make_item("B", location=shibuya)
    theirs = make_item("B", location=umeda)
    token = staff(Role.STORE, shibuya)

    assert codes_listed(client.get("/staff/resale/").text) == {ours.code}
    assert client.get(f"/staff/resale/{ours.id}").status_code == 200
    assert client.get(f"/staff/resale/{theirs.id}").status_code == 404
    response = client.post(
        f"/staff/resale/{theirs.id}/withdraw", data={"csrf_token": token, "reason": "汚れ"}
    )
    assert response.status_code == 404
    assert stored(app, theirs.id).state == ResaleState.DRAFT
    # a bulk action on another store's item is refused with its code, ours is changed
    response = client.post(
        "/staff/resale/bulk",
        data={"csrf_token": token, "action": "list", "ids": [ours.id, theirs.id]},
        follow_redirects=True,
    )
    assert stored(app, ours.id).state == ResaleState.LISTED
    assert stored(app, theirs.id).state == ResaleState.DRAFT
    assert any(theirs.code in f for f in flashes(response.text) if f.startswith("error"))


# -- the list --------------------------------------------------------------------------------------


def test_filters_narrow_the_list(app, client, staff, make_item, centre, shibuya):
    coat = make_item("A", location=centre, category=Category.OUTERWEAR, listed=True)
    shirt = make_item("C", location=shibuya)
    sold = make_item("B", location=centre, listed=True)
    with in_context(app):
        resale.record_sale(sold.id, channel=SaleChannel.STORE, actor=STAFF)
        db.session.commit()
    staff(Role.WAREHOUSE)

    def listed(query: str) -> set[str]:
        page = client.get(f"/staff/resale/?{query}")
        assert page.status_code == 200
        return codes_listed(page.text)

    assert listed("") == {coat.code, shirt.code}  # sold and withdrawn are left out
    assert listed("state=sold") == {sold.code}
    assert listed("state=all") == {coat.code, shirt.code, sold.code}
    assert listed("grade=C") == {shirt.code}
    assert listed("category=outerwear") == {coat.code}
    assert listed(f"location={shibuya.id}") == {shirt.code}
    assert listed("state=listed") == {coat.code}
    # typed with full-width digits and letters, lower case
    wide = coat.code.lower().translate(str.maketrans("po0123456789", "ｐｏ０１２３４５６７８９"))
    assert listed(f"q={wide}") == {coat.code}
    with in_context(app):
        name = db.session.get(ResaleItem, shirt.id).variant.product.name_en
    assert listed(f"q={name}") == {shirt.code}


def test_state_counts_are_shown_on_top(client, staff, make_item):
    make_item("B")
    make_item("B", listed=True)
    make_item("B", listed=True)
    staff(Role.WAREHOUSE)

    page = client.get("/staff/resale/").text

    tabs = dict(
        (" ".join(label.split()), int(n))
        for label, n in re.findall(
            r'po-tabs__tab"[^>]*>\s*<span>([^<]+)</span> <span class="count">(\d+)',
            page,
        )
    )
    assert tabs["In play"] == 3
    assert tabs["Listed"] == 2
    assert tabs["Draft"] == 1
    assert tabs["Sold"] == 0


# -- bulk actions ----------------------------------------------------------------------------------


@pytest.mark.databases
def test_bulk_list_changes_drafts_and_reports_the_refused(app, client, staff, make_item):
    first, second = make_item("B"), make_item("C")
    waiting = make_item("B", refurbish=True)
    token = staff(Role.WAREHOUSE)

    response = client.post(
        "/staff/resale/bulk",
        data={"csrf_token": token, "action": "list", "ids": [first.id, second.id, waiting.id]},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert stored(app, first.id).state == ResaleState.LISTED
    assert stored(app, second.id).state == ResaleState.LISTED
    assert stored(app, waiting.id).state == ResaleState.REFURBISHING
    messages = flashes(response.text)
    assert "success: 2 items changed." in messages
    assert any(f.startswith("error") and waiting.code in f for f in messages)


def test_bulk_reprice_uses_todays_rule(app, client, staff, make_item):
    item = make_item("B", price_yen=10_000)  # 60 % → ¥6,000
    with in_context(app):
        resale.set_price(item.id, 5_500, "傷あり", STAFF)
        db.session.add(ResalePriceRule(grade=Grade.B, percent=50, rounding=100))
        db.session.commit()
    token = staff(Role.WAREHOUSE)

    client.post(
        "/staff/resale/bulk",
        data={"csrf_token": token, "action": "reprice", "ids": [item.id]},
    )

    after = stored(app, item.id)
    assert (after.price_yen, after.suggested_price_yen, after.price_reason) == (5_000, 5_000, "")


@pytest.mark.databases
def test_bulk_markdown_changes_the_others_and_refuses_a_sold_item(app, client, staff, make_item):
    one = make_item("B", price_yen=10_000, listed=True)  # ¥6,000
    two = make_item("A", price_yen=10_000)  # ¥8,000
    sold = make_item("B", price_yen=10_000, listed=True)
    with in_context(app):
        resale.record_sale(sold.id, channel=SaleChannel.STORE, actor=STAFF)
        db.session.commit()
    token = staff(Role.WAREHOUSE)

    response = client.post(
        "/staff/resale/bulk",
        data={
            "csrf_token": token,
            "action": "markdown",
            "percent": "１０",
            "reason": "シーズン末セール",
            "ids": [one.id, two.id, sold.id],
        },
        follow_redirects=True,
    )

    assert stored(app, one.id).price_yen == 5_400
    assert stored(app, two.id).price_yen == 7_200
    assert stored(app, two.id).price_reason == "シーズン末セール"
    assert stored(app, sold.id).price_yen == 6_000
    messages = flashes(response.text)
    assert "success: 2 items changed." in messages
    assert any(f.startswith("error") and sold.code in f for f in messages)


def test_a_markdown_without_a_reason_changes_nothing(app, client, staff, make_item):
    item = make_item("B", price_yen=10_000)
    token = staff(Role.WAREHOUSE)

    response = client.post(
        "/staff/resale/bulk",
        data={"csrf_token": token, "action": "markdown", "percent": "20", "ids": [item.id]},
        follow_redirects=True,
    )

    assert "error: Give a reason." in flashes(response.text)
    assert stored(app, item.id).price_yen == 6_000


def test_a_bulk_action_without_a_selection_says_so(client, staff, make_item):
    make_item("B")
    token = staff(Role.WAREHOUSE)

    response = client.post(
        "/staff/resale/bulk",
        data={"csrf_token": token, "action": "list", "next": "/staff/resale/?grade=B"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/resale/?grade=B"
    page = client.get(response.headers["Location"])
    assert any("Select the items first" in f for f in flashes(page.text))


def test_going_back_never_leaves_the_section(client, staff, make_item):
    item = make_item("B")
    token = staff(Role.WAREHOUSE)

    response = client.post(
        "/staff/resale/bulk",
        data={"csrf_token": token, "action": "list", "ids": [item.id], "next": "//evil.example"},
    )

    assert response.headers["Location"] == "/staff/resale/"


# -- one item --------------------------------------------------------------------------------------


def test_a_price_other_than_the_rules_needs_a_reason(app, client, staff, make_item):
    item = make_item("B", price_yen=12_900)  # rule: ¥7,740
    token = staff(Role.WAREHOUSE)
    url = f"/staff/resale/{item.id}/price"

    refused = client.post(url, data={"csrf_token": token, "price_yen": "6,900", "reason": ""})

    assert refused.status_code == 422
    assert "Give a reason." in refused.text
    assert stored(app, item.id).price_yen == 7_740

    saved = client.post(
        url, data={"csrf_token": token, "price_yen": "６，９００円", "reason": "袖口に小さなほつれ"}
    )
    assert saved.status_code == 302
    after = stored(app, item.id)
    assert (after.price_yen, after.price_reason) == (6_900, "袖口に小さなほつれ")

    # back to the rule's price: no reason needed, and the old one is dropped
    client.post(url, data={"csrf_token": token, "price_yen": "7740", "reason": ""})
    after = stored(app, item.id)
    assert (after.price_yen, after.price_reason) == (7_740, "")
    history = client.get(f"/staff/resale/{item.id}").text
    assert "Price ¥7,740 → ¥6,900. 袖口に小さなほつれ" in history


def test_withdrawing_needs_a_reason(app, client, staff, make_item):
    item = make_item("B", listed=True)
    token = staff(Role.WAREHOUSE)
    url = f"/staff/resale/{item.id}/withdraw"

    refused = client.post(url, data={"csrf_token": token, "reason": "  "})
    assert refused.status_code == 422
    assert stored(app, item.id).state == ResaleState.LISTED

    client.post(url, data={"csrf_token": token, "reason": "落ちない染み"})
    after = stored(app, item.id)
    assert (after.state, after.withdrawn_reason) == (ResaleState.WITHDRAWN, "落ちない染み")


def test_an_item_is_listed_unlisted_and_its_refurbishment_recorded(app, client, staff, make_item):
    item = make_item("C", refurbish=True)
    token = staff(Role.WAREHOUSE)
    page = client.get(f"/staff/resale/{item.id}").text
    assert "Refurbishment done" in page
    assert "List it on the shop" not in page

    client.post(
        f"/staff/resale/{item.id}/refurbished", data={"csrf_token": token, "note": "ボタン交換"}
    )
    assert stored(app, item.id).state == ResaleState.DRAFT
    client.post(f"/staff/resale/{item.id}/list", data={"csrf_token": token})
    assert stored(app, item.id).state == ResaleState.LISTED
    client.post(f"/staff/resale/{item.id}/unlist", data={"csrf_token": token})
    assert stored(app, item.id).state == ResaleState.DRAFT
    assert "Refurbished: ボタン交換" in client.get(f"/staff/resale/{item.id}").text


def test_bin_and_condition_notes_are_saved(app, client, staff, make_item):
    item = make_item("B")
    token = staff(Role.WAREHOUSE)

    client.post(
        f"/staff/resale/{item.id}/details",
        data={"csrf_token": token, "bin_code": "ａ－０３", "condition_notes": "裾に薄い擦れ"},
    )

    after = stored(app, item.id)
    assert (after.bin_code, after.condition_notes) == ("A-03", "裾に薄い擦れ")


def test_a_walk_in_sale_at_the_store(app, client, staff, make_item, shibuya):
    item = make_item("B", price_yen=12_900, listed=True, location=shibuya)
    token = staff(Role.STORE, shibuya)

    response = client.post(
        f"/staff/resale/{item.id}/sale", data={"csrf_token": token, "channel": "store"}
    )

    assert response.status_code == 302
    after = stored(app, item.id)
    assert after.state == ResaleState.SOLD
    assert (after.sold_price_yen, after.sold_channel) == (7_740, SaleChannel.STORE)
    assert after.sold_location_id == shibuya.id


def test_no_walk_in_sale_at_a_returns_centre(app, client, staff, make_item, centre):
    item = make_item("B", listed=True, location=centre)
    token = staff(Role.WAREHOUSE)
    assert "Record the sale" not in client.get(f"/staff/resale/{item.id}").text

    response = client.post(
        f"/staff/resale/{item.id}/sale", data={"csrf_token": token, "channel": "store"}
    )

    assert response.status_code == 302
    assert stored(app, item.id).state == ResaleState.LISTED


def test_store_staff_cannot_record_a_web_shop_sale(app, client, staff, make_item, shibuya):
    item = make_item("B", listed=True, location=shibuya)
    reserve(app, item, kind=ReservationKind.PURCHASE)
    token = staff(Role.STORE, shibuya)

    response = client.post(
        f"/staff/resale/{item.id}/sale", data={"csrf_token": token, "channel": "web_shop"}
    )

    assert response.status_code == 302
    assert stored(app, item.id).state == ResaleState.RESERVED
    page = client.get(response.headers["Location"])
    assert any(f.startswith("error") and item.code in f for f in flashes(page.text))


def test_the_warehouse_records_an_online_purchase_as_paid(app, client, staff, make_item, centre):
    item = make_item("A", price_yen=10_000, listed=True, location=centre)
    reserve(app, item, kind=ReservationKind.PURCHASE)
    token = staff(Role.WAREHOUSE)
    assert "Paid online: record sale" in client.get("/staff/resale/reservations").text

    client.post(
        f"/staff/resale/{item.id}/sale",
        data={"csrf_token": token, "channel": "web_shop", "next": "/staff/resale/reservations"},
    )

    after = stored(app, item.id)
    assert (after.state, after.sold_channel, after.sold_price_yen) == (
        ResaleState.SOLD,
        SaleChannel.WEB_SHOP,
        8_000,
    )


# -- reservations ----------------------------------------------------------------------------------


@pytest.mark.databases
def test_the_pickup_store_marks_an_arrived_item_ready_and_sells_it(
    app, client, staff, make_item, centre, shibuya
):
    item = make_item("B", price_yen=12_900, listed=True, location=centre)
    reservation_id = reserve(app, item, pickup=shibuya, name="佐藤 美咲")
    token = staff(Role.STORE, shibuya)

    page = client.get("/staff/resale/reservations").text
    assert item.code in page
    assert "佐藤 美咲" in page
    # on its way here: the counter can open it although it is not here yet
    assert client.get(f"/staff/resale/{item.id}").status_code == 200

    client.post(
        f"/staff/resale/reservations/{reservation_id}/ready",
        data={"csrf_token": token, "next": "/staff/resale/reservations"},
    )

    with in_context(app):
        reservation = db.session.get(ResaleReservation, reservation_id)
        assert reservation.state == ReservationState.READY
        assert reservation.item.location_id == shibuya.id
    assert "Paid: record sale" in client.get("/staff/resale/reservations").text

    client.post(f"/staff/resale/{item.id}/sale", data={"csrf_token": token, "channel": "store"})
    after = stored(app, item.id)
    assert (after.state, after.sold_location_id) == (ResaleState.SOLD, shibuya.id)
    history = client.get(f"/staff/resale/{item.id}").text
    assert f"Reserved by 佐藤 美咲 (Pickup at a store), reservation #{reservation_id}." in history
    assert "Sold (Store) for ¥7,740." in history


def test_another_store_neither_sees_nor_handles_the_reservation(
    app, client, staff, make_item, centre, shibuya, umeda
):
    item = make_item("B", listed=True, location=centre)
    reservation_id = reserve(app, item, pickup=shibuya)
    token = staff(Role.STORE, umeda)

    assert item.code not in client.get("/staff/resale/reservations").text
    response = client.post(
        f"/staff/resale/reservations/{reservation_id}/ready", data={"csrf_token": token}
    )
    assert response.status_code == 404
    with in_context(app):
        assert db.session.get(ResaleReservation, reservation_id).state == ReservationState.ACTIVE


def test_cancelling_a_reservation_puts_the_item_back_on_sale(
    app, client, staff, make_item, centre, shibuya
):
    item = make_item("B", listed=True, location=centre)
    reservation_id = reserve(app, item, pickup=shibuya)
    token = staff(Role.WAREHOUSE)
    page = client.get("/staff/resale/reservations").text
    assert f"Send from {centre.name_en}" in page

    client.post(
        f"/staff/resale/reservations/{reservation_id}/cancel",
        data={"csrf_token": token, "reason": "お客様から電話でキャンセル"},
    )

    with in_context(app):
        reservation = db.session.get(ResaleReservation, reservation_id)
        assert reservation.state == ReservationState.CANCELLED
        assert reservation.closed_reason == "お客様から電話でキャンセル"
    assert stored(app, item.id).state == ResaleState.LISTED


# -- finding an item by its code -------------------------------------------------------------------


def test_find_by_code_typed_with_full_width_digits(client, staff, make_item, shibuya, umeda):
    ours = make_item("B", location=shibuya)
    theirs = make_item("B", location=umeda)
    staff(Role.STORE, shibuya)
    wide = ours.code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    found = client.get("/staff/resale/find", query_string={"code": f" {wide} "})
    assert found.status_code == 302
    assert found.headers["Location"] == f"/staff/resale/{ours.id}"

    # the shelf tag's QR holds the shop address
    scanned = client.get(
        "/staff/resale/find", query_string={"code": f"http://shop.example/preowned/{ours.code}"}
    )
    assert scanned.headers["Location"] == f"/staff/resale/{ours.id}"

    for code in (theirs.code, "PO9999999", "hello"):
        missing = client.get("/staff/resale/find", query_string={"code": code})
        assert missing.headers["Location"] == "/staff/resale/reservations"
    page = client.get("/staff/resale/reservations")
    assert any("No pre-owned item" in f for f in flashes(page.text))


# -- price rules -----------------------------------------------------------------------------------


def rules_form(token: str, **changes: str) -> dict[str, str]:
    data = {"csrf_token": token}
    for grade, percent in zip("ABCD", (80, 60, 40, 20), strict=True):
        data[f"percent_{grade}"] = str(percent)
        data[f"rounding_{grade}"] = "10"
    return data | changes


def saved_rules(app) -> dict[str, tuple[int, int]]:
    with in_context(app):
        rows = db.session.scalars(sa.select(ResalePriceRule))
        return {r.grade.value: (r.percent, r.rounding) for r in rows}


def test_admins_save_the_price_rules(app, client, staff):
    token = staff(Role.ADMIN)
    page = client.get("/staff/resale/pricing")
    assert page.status_code == 200
    assert "¥6,000" in page.text  # grade B: 60 % of ¥10,000

    response = client.post(
        "/staff/resale/pricing", data=rules_form(token, percent_B="５５", rounding_B="100")
    )

    assert response.status_code == 302
    assert saved_rules(app)["B"] == (55, 100)
    assert "¥5,500" in client.get("/staff/resale/pricing").text


@pytest.mark.databases
def test_an_impossible_percentage_saves_nothing(app, client, staff):
    token = staff(Role.ADMIN)
    before = saved_rules(app)

    response = client.post(
        "/staff/resale/pricing", data=rules_form(token, percent_A="70", percent_C="150")
    )

    assert response.status_code == 422
    assert "The percentage is between 0 and 100." in response.text
    assert saved_rules(app) == before


def test_only_admins_edit_price_rules(client, staff):
    token = staff(Role.WAREHOUSE)
    assert client.get("/staff/resale/pricing").status_code == 403
    assert client.post("/staff/resale/pricing", data=rules_form(token)).status_code == 403


# -- photos ----------------------------------------------------------------------------------------


def test_the_inspection_photos_show_to_whoever_sees_the_item(
    app, client, staff, make_item, shibuya
):
    """Also to store staff, who may not open the case the unit came from."""
    item = make_item("B", location=shibuya)
    with in_context(app):
        unit_id = db.session.get(ResaleItem, item.id).unit_id
        out = io.BytesIO()
        Image.new("RGB", (64, 48), "navy").save(out, format="JPEG")
        image = save_image(io.BytesIO(out.getvalue()))
        rma_id = db.session.get(ReceiptUnit, unit_id).rma_id
        photo = Attachment.of_image(image, kind=AttachmentKind.INSPECTION, rma_id=rma_id)
        photo.unit_id = unit_id
        db.session.add(photo)
        db.session.commit()
        photo_id = photo.id
    staff(Role.STORE, shibuya)

    page = client.get(f"/staff/resale/{item.id}").text
    url = f"/staff/resale/{item.id}/photos/{photo_id}"
    assert url in page
    response = client.get(url)
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
