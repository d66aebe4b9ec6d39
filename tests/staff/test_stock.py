"""The stock view: available units per variant and location, search however it is typed,
filters, and every staff member sees every location with their own marked."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from reverse.auth.constants import Role
from reverse.catalog.constants import Category, LocationKind
from reverse.catalog.models import StockLevel, Variant
from reverse.extensions import db
from tests.fixtures.catalog import in_context


class StockTable(HTMLParser):
    """The stock table as {SKU: {column label: cell text}} (the SKU / JAN cell as "codes");
    the column headers, with their classes, in `headers`."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.headers: list[tuple[str, str]] = []
        self._row: list[tuple[str, str]] | None = None
        self._cell: tuple[str, list[str]] | None = None
        self._head: tuple[str, list[str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            codes = "stock-table__codes" in (attrs.get("class") or "")
            self._cell = ("codes" if codes else attrs.get("data-label", ""), [])
        elif tag == "th" and attrs.get("scope") == "col":
            self._head = (attrs.get("class") or "", [])

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)
        if self._head is not None:
            self._head[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append((self._cell[0], " ".join("".join(self._cell[1]).split())))
            self._cell = None
        elif tag == "th" and self._head is not None:
            self.headers.append((" ".join("".join(self._head[1]).split()), self._head[0]))
            self._head = None
        elif tag == "tr" and self._row:
            cells = dict(self._row)
            sku = cells.get("codes", "").split(" ")[0]
            self.rows[sku] = cells
            self._row = None


def stock(app, variant: Variant, location, on_hand: int, reserved: int = 0) -> None:
    with in_context(app):
        db.session.add(
            StockLevel(
                variant_id=variant.id,
                location_id=location.id,
                on_hand=on_hand,
                reserved=reserved,
            )
        )
        db.session.commit()


@pytest.fixture
def sites(create_location):
    centre = create_location(LocationKind.RETURNS_CENTRE, code="RC-T", name_en="Centre T")
    shibuya = create_location(LocationKind.STORE, code="ST-T", name_en="Shibuya T")
    return centre, shibuya


def page(client, query: str = "") -> StockTable:
    response = client.get("/staff/stock/" + query)
    assert response.status_code == 200
    return StockTable(response.text)


@pytest.mark.databases
def test_each_location_shows_what_is_available_with_on_hand_and_reserved(
    app, client, logged_in, create_variant, sites
):
    centre, shibuya = sites
    shirt = create_variant()
    stock(app, shirt, centre, on_hand=5, reserved=2)
    stock(app, shirt, shibuya, on_hand=1)
    logged_in(Role.WAREHOUSE, location=centre)
    client.get("/lang/en")

    row = page(client).rows[shirt.sku]

    assert row["Centre T (your location)"].startswith("3 ")
    assert "on hand 5 · reserved 2" in row["Centre T (your location)"]
    assert row["Shibuya T"].startswith("1 ")
    assert row["Total"] == "4"


def test_a_variant_not_stocked_somewhere_shows_a_dash_there(
    app, client, logged_in, create_variant, sites
):
    centre, shibuya = sites
    shirt = create_variant()
    stock(app, shirt, centre, on_hand=2)
    other = create_variant()
    stock(app, other, shibuya, on_hand=1)
    logged_in(Role.SUPPORT)
    client.get("/lang/en")

    row = page(client).rows[shirt.sku]

    assert row["Shibuya T"].startswith("—")
    assert "Not stocked here" in row["Shibuya T"]


FULL_WIDTH = str.maketrans(
    "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "０１２３４５６７８９－ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
)


def _q(text: str) -> str:
    return urlencode({"q": text})


@pytest.mark.databases
@pytest.mark.parametrize(
    "typed",
    ["full-width JAN", "JAN with a Japanese dash", "full-width SKU", "name with full-width digits"],
)
def test_search_finds_the_variant_however_it_is_typed(
    app, client, logged_in, create_variant, sites, typed
):
    centre, _ = sites
    wanted, other = create_variant(), create_variant()
    for v in (wanted, other):
        stock(app, v, centre, on_hand=1)
    with in_context(app):
        name = db.session.get(Variant, wanted.id).product.name_ja
    query = {
        "full-width JAN": wanted.jan.translate(FULL_WIDTH),
        "JAN with a Japanese dash": f"{wanted.jan[:7]}ー{wanted.jan[7:]}",
        "full-width SKU": wanted.sku.translate(FULL_WIDTH),
        "name with full-width digits": name.translate(FULL_WIDTH),
    }[typed]
    logged_in(Role.STORE)

    found = page(client, "?" + _q(query)).rows

    assert list(found) == [wanted.sku]


def test_a_search_with_wildcards_matches_them_literally(
    app, client, logged_in, create_variant, sites
):
    centre, _ = sites
    stock(app, create_variant(), centre, on_hand=1)
    logged_in(Role.WAREHOUSE)
    assert page(client, "?" + _q("%")).rows == {}


def test_category_location_and_availability_filters(app, client, logged_in, create_variant, sites):
    centre, shibuya = sites
    shirt = create_variant(Category.TOPS)
    bag = create_variant(Category.BAGS)
    sold_out = create_variant(Category.TOPS)
    stock(app, shirt, centre, on_hand=3)
    stock(app, bag, shibuya, on_hand=2)
    stock(app, sold_out, centre, on_hand=1, reserved=1)
    logged_in(Role.ADMIN)
    client.get("/lang/en")

    assert set(page(client, "?category=bags").rows) == {bag.sku}
    assert set(page(client, "?category=tops").rows) == {shirt.sku, sold_out.sku}
    assert set(page(client, "?in_stock=y").rows) == {shirt.sku, bag.sku}

    one_site = page(client, f"?location={shibuya.id}&in_stock=y")
    assert set(one_site.rows) == {bag.sku}
    assert [h for h, _ in one_site.headers][2:] == ["Shibuya T"]


def test_store_staff_see_every_location_with_their_own_first_and_marked(
    app, client, logged_in, create_variant, sites
):
    centre, shibuya = sites
    shirt = create_variant()
    stock(app, shirt, centre, on_hand=4)
    stock(app, shirt, shibuya, on_hand=1)
    logged_in(Role.STORE, location=shibuya)
    client.get("/lang/en")

    table = page(client)

    sites_shown = [(h, cls) for h, cls in table.headers if "stock-table__site" in cls]
    assert sites_shown[0] == ("Shibuya T your location", "stock-table__site is-own")
    assert ("Centre T", "stock-table__site") in sites_shown
    assert table.rows[shirt.sku]["Centre T"].startswith("4 ")


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.SUPPORT, Role.WAREHOUSE, Role.STORE, Role.TECHNICIAN]
)
def test_every_staff_role_may_look(client, logged_in, role):
    logged_in(role)
    assert client.get("/staff/stock/").status_code == 200


def test_stock_needs_a_login(client):
    assert client.get("/staff/stock/").status_code == 302
