"""The public pre-owned shop: browsing, an item's page and photos, reserving, and the
customer's private reservation page (cancel included), in English and Japanese."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from reverse.catalog.constants import Category, LocationKind
from reverse.catalog.models import Location, Variant
from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.core.uploads import save_image
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.intake.models import ReceiptUnit
from reverse.resale import operations as resale
from reverse.resale.constants import ResaleState, ReservationKind, ReservationState
from reverse.resale.models import ResaleItem, ResaleReservation
from reverse.rmas.constants import AttachmentKind
from reverse.rmas.models import Attachment
from tests.conftest import csrf_token, read_mails

STAFF = Actor.system("test")


@dataclass
class Shown:
    """What the shop shows of an item, read while its session was open."""

    id: int
    code: str
    name_en: str
    name_ja: str
    unit_id: int
    price_yen: int


@pytest.fixture
def item(app: Flask, make_item: Callable[..., ResaleItem]) -> Callable[..., Shown]:
    """`item(grade, listed=True, size=…, state=…)`: a resale item with its product's names."""

    def make(grade: str = "B", *, size: str | None = None, **kw: Any) -> Shown:
        made = make_item(grade, **kw)
        with app.app_context():
            found = db.session.get(ResaleItem, made.id)
            if size is not None:
                found.variant.size = size
                db.session.commit()
            product = found.variant.product
            return Shown(
                found.id,
                found.code,
                product.name_en,
                product.name_ja,
                found.unit_id,
                found.price_yen,
            )

    return make


@pytest.fixture
def store(create_location: Callable[..., Location]) -> Location:
    return create_location(LocationKind.STORE, name_ja="渋谷店", name_en="Shibuya store")


@pytest.fixture
def english(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.get("/lang/en")
    return client


@pytest.fixture(autouse=True)
def _empty_mail_folder(app: Flask) -> Iterator[Path]:
    """The app (and its mail folder) lives all session: each test starts with no mail."""
    folder = Path(app.config["MAIL_FILE_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def mails(app: Flask) -> list[tuple[str, str, str]]:
    folder = Path(app.config["MAIL_FILE_DIR"])
    return read_mails(folder) if folder.exists() else []


def add_photo(app: Flask, unit_id: int, colour: str = "#8aa") -> int:
    """An inspection photo of a unit, stored the way the inspection page stores one."""
    data = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(data, format="JPEG")
    data.seek(0)
    with app.app_context():
        unit = db.session.get(ReceiptUnit, unit_id)
        attachment = Attachment.of_image(
            save_image(data),
            kind=AttachmentKind.INSPECTION,
            rma_id=unit.rma_id,
            unit_id=unit.id,
            added_by="test",
        )
        db.session.add(attachment)
        db.session.commit()
        return attachment.id


def reserve_form(
    client: FlaskClient, code: str, store: Location | None = None, **changes: str | None
) -> dict[str, str]:
    data = {
        "csrf_token": csrf_token(client.get(f"/preowned/{code}").text),
        "kind": "pickup",
        "pickup_location": str(store.id) if store else "",
        "name": "山田 花子",
        "email": "hanako@example.jp",
        "phone": "",
        "consent": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def reserve(client: FlaskClient, code: str, store: Location | None = None, **changes: Any):  # type: ignore[no-untyped-def]
    return client.post(
        f"/preowned/{code}/reserve", data=reserve_form(client, code, store, **changes)
    )


def field_errors(html: str) -> list[str]:
    found = re.findall(r'class="field__error"[^>]*>(.*?)</p>', html, re.S)
    return [re.sub(r"<[^>]+>", "", e).strip() for e in found]


def reservations(app: Flask) -> list[ResaleReservation]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(ResaleReservation)))
        db.session.expunge_all()
        return found


def item_state(app: Flask, item_id: int) -> ResaleState:
    with app.app_context():
        return db.session.get(ResaleItem, item_id).state


# -- browsing ---------------------------------------------------------------------------------


def test_browse_shows_listed_items_only_with_grade_and_price(app, english, item, store):
    listed = item("B", price_yen=12_900, listed=True)
    draft = item("A")
    withdrawn = item("C", listed=True)
    taken = item("B", listed=True)
    with app.app_context():
        resale.withdraw_item(withdrawn.id, "damaged", STAFF)
        resale.reserve(
            taken.id,
            kind=ReservationKind.PURCHASE,
            contact={"name": "X", "email": "x@example.jp", "locale": "en"},
            pickup_location_id=None,
            actor=Actor.customer(),
        )
        db.session.commit()

    page = english.get("/preowned/")

    assert page.status_code == 200
    assert listed.name_en in page.text
    for hidden in (draft, withdrawn, taken):
        assert hidden.name_en not in page.text
    assert f'href="/preowned/{listed.code}"' in page.text
    assert "¥7,740" in page.text  # 60 % of ¥12,900 for grade B
    assert "(tax incl.)" in page.text
    assert "<s>¥12,900</s>" in page.text
    assert "40% off" in page.text
    assert 'class="grade grade--b"' in page.text
    assert "1 item" in page.text


def test_filters_narrow_the_items_and_sorting_orders_them(app, english, item):
    bag = item("A", category=Category.BAGS, price_yen=30_000, listed=True)
    top_small = item("C", size="S", price_yen=8_000, listed=True)
    top_large = item("B", size="L", price_yen=20_000, listed=True)

    by_category = english.get("/preowned/?category=bags").text
    assert bag.name_en in by_category
    assert top_small.name_en not in by_category
    assert top_large.name_en not in by_category

    by_size = english.get("/preowned/?size=L").text
    assert top_large.name_en in by_size
    assert bag.name_en not in by_size
    assert top_small.name_en not in by_size
    assert '<option value="S">S</option>' in by_size  # sizes on sale are offered

    by_grade = english.get("/preowned/?grade=C").text
    assert top_small.name_en in by_grade
    assert bag.name_en not in by_grade
    assert top_large.name_en not in by_grade

    cheapest_first = english.get("/preowned/?sort=price_asc").text
    positions = [cheapest_first.index(i.name_en) for i in (top_small, top_large, bag)]
    assert positions == sorted(positions)
    dearest_first = english.get("/preowned/?sort=price_desc").text
    positions = [dearest_first.index(i.name_en) for i in (bag, top_large, top_small)]
    assert positions == sorted(positions)

    nothing = english.get("/preowned/?grade=D")
    assert nothing.status_code == 200
    assert "No items match these filters." in nothing.text

    # a bad value in an old bookmark drops that filter instead of failing
    bad = english.get("/preowned/?grade=Z&sort=cheap&page=x")
    assert bad.status_code == 200
    assert all(i.name_en in bad.text for i in (bag, top_small, top_large))


def test_browse_pages_hold_24_items(app, english, item):
    for _ in range(25):
        item("B", listed=True)
    first = english.get("/preowned/").text
    assert first.count('class="po-card"') == 24
    assert "page 1 of 2" in first
    assert english.get("/preowned/?page=2").text.count('class="po-card"') == 1


def test_an_empty_shop_says_so(english):
    page = english.get("/preowned/")
    assert page.status_code == 200
    assert "Nothing on offer right now." in page.text


# -- an item ----------------------------------------------------------------------------------


def test_item_page_shows_the_item_with_its_grade_and_notes(app, english, item):
    shown = item("C", listed=True, refurbish=False, notes="裾に擦れ <b>あり</b>")
    page = english.get(f"/preowned/{shown.code}")
    assert page.status_code == 200
    assert shown.name_en in page.text
    assert "Fair: visible signs of use" in page.text
    assert "裾に擦れ &lt;b&gt;あり&lt;/b&gt;" in page.text
    assert f'action="/preowned/{shown.code}/reserve' in page.text
    assert "How we grade" in page.text
    assert "Worn: clear wear or faults" in page.text  # every grade explained


def test_item_codes_are_read_in_lower_case_and_full_width(english, item):
    shown = item("B", listed=True)
    full_width = shown.code.translate(str.maketrans("PO0123456789", "ＰＯ０１２３４５６７８９"))
    for code in (shown.code.lower(), quote(full_width)):
        page = english.get(f"/preowned/{code}")
        assert page.status_code == 200
        assert shown.name_en in page.text


def test_items_not_on_sale_and_unknown_codes_are_not_found(app, english, item):
    draft = item("B")
    refurbishing = item("C", refurbish=True)
    withdrawn = item("B", listed=True)
    with app.app_context():
        resale.withdraw_item(withdrawn.id, "lost", STAFF)
        db.session.commit()
    for code in (draft.code, refurbishing.code, withdrawn.code, "PO9999999", "hello"):
        page = english.get(f"/preowned/{code}")
        assert page.status_code == 404, code
        assert "This page does not exist." in page.text


def test_sold_and_reserved_items_say_so_without_a_form(app, english, item):
    sold = item("B", listed=True)
    reserved = item("B", listed=True)
    with app.app_context():
        resale.record_sale(sold.id, channel="store", actor=STAFF)
        resale.reserve(
            reserved.id,
            kind=ReservationKind.PURCHASE,
            contact={"name": "X", "phone": "+819012345678", "locale": "en"},
            pickup_location_id=None,
            actor=Actor.customer(),
        )
        db.session.commit()
    sold_page = english.get(f"/preowned/{sold.code}")
    assert sold_page.status_code == 200
    assert "Sold. This item has found a new owner." in sold_page.text
    assert "/reserve" not in sold_page.text
    reserved_page = english.get(f"/preowned/{reserved.code}")
    assert reserved_page.status_code == 200
    assert "Reserved by another customer." in reserved_page.text
    assert "/reserve" not in reserved_page.text


def test_photos_are_served_only_for_their_own_items_unit(app, english, item):
    mine = item("B", listed=True)
    other = item("B", listed=True)
    draft = item("B")
    mine_photo = add_photo(app, mine.unit_id)
    other_photo = add_photo(app, other.unit_id, "#a88")
    draft_photo = add_photo(app, draft.unit_id)

    page = english.get(f"/preowned/{mine.code}").text
    assert f"/preowned/{mine.code}/photos/{mine_photo}" in page

    with english.get(f"/preowned/{mine.code}/photos/{mine_photo}") as served:
        assert served.status_code == 200
        assert served.mimetype == "image/jpeg"
        assert served.get_data()[:2] == b"\xff\xd8"
        assert "public" in served.headers["Cache-Control"]
    assert english.get(f"/preowned/{mine.code}/photos/{other_photo}").status_code == 404
    assert english.get(f"/preowned/{draft.code}/photos/{draft_photo}").status_code == 404
    assert english.get(f"/preowned/{mine.code}/photos/999999").status_code == 404


def test_a_photo_of_another_kind_on_the_unit_is_not_served(app, english, item):
    shown = item("B", listed=True)
    photo_id = add_photo(app, shown.unit_id)
    with app.app_context():
        db.session.get(Attachment, photo_id).kind = AttachmentKind.RECEIPT
        db.session.commit()
    assert english.get(f"/preowned/{shown.code}/photos/{photo_id}").status_code == 404


# -- reserving --------------------------------------------------------------------------------


@pytest.mark.databases
def test_reserving_for_pickup_holds_the_item_and_mails_the_link(app, english, item, store):
    shown = item("B", listed=True)

    response = reserve(english, shown.code, store)

    assert response.status_code == 302
    token = response.location.rsplit("/", 1)[1]
    assert response.location == f"/preowned/reservations/{token}"
    [held] = reservations(app)
    assert held.kind == ReservationKind.PICKUP
    assert held.state == ReservationState.ACTIVE
    assert held.pickup_location_id == store.id
    assert held.price_yen == shown.price_yen
    assert item_state(app, shown.id) == ResaleState.RESERVED
    with app.app_context():
        customer = db.session.get(Customer, held.customer_id)
        assert (customer.email, customer.name, customer.locale) == (
            "hanako@example.jp",
            "山田 花子",
            "en",
        )
    [(to, subject, body)] = mails(app)
    assert to == "hanako@example.jp"
    assert shown.code in subject
    assert f"/preowned/reservations/{token}" in body
    assert "Shibuya store\n〒150-0041\n東京都渋谷区神南" in body  # where to go

    page = english.get(response.location)
    assert page.status_code == 200
    assert "Reserved: we are sending it to Shibuya store." in page.text
    assert "〒150-0041" in page.text


@pytest.mark.databases
def test_an_item_already_reserved_is_refused_with_409(app, english, item, store):
    shown = item("B", listed=True)
    similar = item("B", listed=True)
    late = app.test_client()
    late.get("/lang/en")
    form = reserve_form(late, shown.code, store, email="late@example.jp")
    assert reserve(english, shown.code, store).status_code == 302

    response = late.post(f"/preowned/{shown.code}/reserve", data=form)

    assert response.status_code == 409
    assert "someone else reserved this item a moment ago" in response.text
    assert f'href="/preowned/{similar.code}"' in response.text
    assert len(reservations(app)) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Customer)
                .where(Customer.email == "late@example.jp")
            )
            == 0
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Enter your name."),
        ({"email": "", "phone": ""}, "Enter an email address or a phone number."),
        ({"email": "not an email"}, "Enter a valid email address."),
        ({"phone": "12"}, "Enter a phone number we can call, e.g. 090-1234-5678."),
        ({"pickup_location": ""}, "Choose the store to pick it up at."),
        ({"kind": None}, "Choose pickup at a store or buying online."),
        ({"consent": None}, "Please confirm the hold period."),
    ],
)
def test_a_form_with_errors_records_nothing(app, english, item, store, changes, message):
    shown = item("B", listed=True)

    response = reserve(english, shown.code, store, **changes)

    assert response.status_code == 422
    assert message in response.text
    assert reservations(app) == []
    assert item_state(app, shown.id) == ResaleState.LISTED
    assert mails(app) == []
    if "name" not in changes:
        assert 'value="山田 花子"' in response.text  # what was typed is kept


def test_a_store_is_not_needed_to_buy_online(app, english, item):
    shown = item("B", listed=True)
    response = reserve(english, shown.code, None, kind="purchase")
    assert response.status_code == 302
    [held] = reservations(app)
    assert (held.kind, held.pickup_location_id) == (ReservationKind.PURCHASE, None)
    page = english.get(response.location).text
    assert "Our web shop emails you a link to pay" in page


def test_full_width_phone_digits_are_accepted(app, english, item, store):
    shown = item("B", listed=True)
    response = reserve(english, shown.code, store, email="", phone="０９０－１２３４－５６７８")
    assert response.status_code == 302
    [held] = reservations(app)
    with app.app_context():
        customer = db.session.get(Customer, held.customer_id)
        assert (customer.phone, customer.email) == ("+819012345678", None)
    assert mails(app) == []  # no email address: nothing to send, the page is the link


def test_a_lapsed_hold_does_not_stop_the_next_customer(app, english, item, store):
    shown = item("B", listed=True)
    assert reserve(english, shown.code, store).status_code == 302
    with app.app_context():
        held = db.session.scalar(sa.select(ResaleReservation))
        held.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    other = app.test_client()
    other.get("/lang/en")
    page = other.get(f"/preowned/{shown.code}").text
    assert "Reserved by another customer." not in page
    assert reserve(other, shown.code, store, email="next@example.jp").status_code == 302
    states = sorted(r.state.value for r in reservations(app))
    assert states == ["active", "expired"]


def test_reserving_is_rate_limited(app, english, item, store):
    shown = item("B", listed=True)
    form = reserve_form(english, shown.code, store, name="")
    statuses = [
        english.post(f"/preowned/{shown.code}/reserve", data=form).status_code for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_reserving_needs_the_form_token(app, english, item, store):
    shown = item("B", listed=True)
    form = reserve_form(english, shown.code, store)
    del form["csrf_token"]
    assert english.post(f"/preowned/{shown.code}/reserve", data=form).status_code == 400
    assert reservations(app) == []


# -- the reservation page -------------------------------------------------------------------------


@pytest.mark.databases
def test_cancelling_through_the_link_puts_the_item_back_on_sale_once(app, english, item, store):
    shown = item("B", listed=True)
    link = reserve(english, shown.code, store).location
    page = english.get(link)
    assert "Yes, cancel my reservation" in page.text
    token = csrf_token(page.text)

    first = english.post(f"{link}/cancel", data={"csrf_token": token})
    second = english.post(f"{link}/cancel", data={"csrf_token": token})

    assert first.status_code == 302
    assert second.status_code == 302
    [held] = reservations(app)
    assert held.state == ReservationState.CANCELLED
    assert item_state(app, shown.id) == ResaleState.LISTED
    subjects = [subject for _to, subject, _body in mails(app)]
    assert len(subjects) == 2  # confirmed, cancelled — not cancelled twice
    after = english.get(link).text
    assert "This reservation is cancelled." in after
    assert "Yes, cancel my reservation" not in after
    assert shown.name_en in english.get("/preowned/").text


def test_cancelling_needs_the_form_token(app, english, item, store):
    shown = item("B", listed=True)
    link = reserve(english, shown.code, store).location
    assert english.post(f"{link}/cancel").status_code == 400
    assert item_state(app, shown.id) == ResaleState.RESERVED


def test_the_reservation_page_is_private(app, english, item, store):
    shown = item("B", listed=True)
    link = reserve(english, shown.code, store).location
    page = english.get(link)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in page.text
    assert english.get("/preowned/reservations/not-a-token").status_code == 404
    assert english.get(f"{link}x").status_code == 404


def test_a_reservation_ready_at_the_store_shows_the_code_to_show(app, english, item, store):
    shown = item("B", listed=True, location=store)
    link = reserve(english, shown.code, store).location
    [held] = reservations(app)
    assert held.state == ReservationState.READY  # it is at that store already
    page = english.get(link).text
    assert "Ready for you at Shibuya store." in page
    assert "Show this code at the counter." in page
    assert shown.code in page


# -- languages ------------------------------------------------------------------------------------


def test_japanese_is_the_default_and_english_is_offered(app, client, item):
    shown = item("B", price_yen=12_900, listed=True)
    with app.app_context():
        variant = db.session.get(Variant, db.session.get(ResaleItem, shown.id).variant_id)
        variant.colour_ja, variant.colour_en = "生成り", "Natural"
        db.session.commit()

    japanese = client.get("/preowned/").text
    assert '<html lang="ja">' in japanese
    assert shown.name_ja in japanese
    assert shown.name_en not in japanese
    assert "7,740円" in japanese
    assert "生成り" in japanese
    item_ja = client.get(f"/preowned/{shown.code}").text
    assert "トップス" in item_ja  # the category in Japanese

    client.get("/lang/en")
    english = client.get("/preowned/").text
    assert '<html lang="en">' in english
    assert shown.name_en in english
    assert shown.name_ja not in english
    assert "¥7,740" in english
    assert "Natural" in english
