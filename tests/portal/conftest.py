"""A small shop for the customer pages: channels as the demo sets them, centres, a store and
department-store counters, products in sizes with stock, web orders; a client that walks the
request form; the mailbox of the file mail backend; photos made on the fly."""

from __future__ import annotations

import io
import itertools
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from reverse.catalog.constants import Category, ChannelCode, LocationKind, WindowStart
from reverse.catalog.models import Channel, Location, Product, StockLevel, Variant
from reverse.core.codes import jan_check_digit
from reverse.core.db import utcnow
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context

_n = itertools.count(1)

CHANNELS = (
    # code, window days, window starts, allowed types, proof required
    (ChannelCode.WEB, 30, WindowStart.DELIVERY, ["return", "exchange", "repair"], False),
    (ChannelCode.STORE, 30, WindowStart.PURCHASE, ["return", "exchange", "repair"], False),
    (ChannelCode.DEPARTMENT_STORE, 14, WindowStart.PURCHASE, ["exchange", "repair"], True),
    (ChannelCode.OTHER, 0, WindowStart.PURCHASE, ["exchange", "repair"], True),
)
COUNTERS = (
    ("DS-ISETAN", "伊勢丹新宿店", "Reverse Isetan Shinjuku"),
    ("DS-TAKASHIMAYA", "髙島屋日本橋店", "Reverse Takashimaya Nihombashi"),
    ("DS-HANKYU", "阪急うめだ本店", "Reverse Hankyu Umeda"),
    ("DS-DAIMARU", "大丸京都店", "Reverse Daimaru Kyoto"),
)


def jan(n: int) -> str:
    body = f"4912345{n:05d}"
    return body + str(jan_check_digit(body))


def _location(code: str, kind: LocationKind, ja: str, en: str, retailer: str = "") -> Location:
    return Location(
        code=code,
        kind=kind,
        name_ja=ja,
        name_en=en,
        retailer=retailer,
        postal_code="150-0041",
        prefecture="東京都",
        city="渋谷区",
        street="神南1-14-5",
        phone="03-5456-1234",
    )


@pytest.fixture
def shop(app: Flask) -> dict[str, Any]:
    """Channels, a returns centre, a repair centre, a store and four counters (ids)."""
    with in_context(app):
        for code, days, start, types, proof in CHANNELS:
            db.session.add(
                Channel(
                    code=code,
                    name_ja=str(code),
                    name_en=str(code),
                    return_window_days=days,
                    window_starts=start,
                    allowed_types=types,
                    proof_required=proof,
                )
            )
        places = [
            _location("RC", LocationKind.RETURNS_CENTRE, "返品センター", "Returns centre"),
            _location("REPAIR", LocationKind.REPAIR_CENTRE, "修理センター", "Repair centre"),
            _location("ST-SHIBUYA", LocationKind.STORE, "Reverse 渋谷店", "Reverse Shibuya"),
            *[
                _location(code, LocationKind.DEPARTMENT_STORE_COUNTER, f"Reverse {r}", en, r)
                for code, r, en in COUNTERS
            ],
        ]
        db.session.add_all(places)
        db.session.commit()
        return {loc.code: loc.id for loc in places}


@pytest.fixture
def shop_product(app: Flask) -> Callable[..., dict[str, int]]:
    """A product in sizes; `stock` gives units available per size. Returns {size: variant id}."""

    def make(
        sizes: tuple[str, ...] = ("M", "L", "S"),
        stock: dict[str, int] | None = None,
        *,
        name_ja: str | None = None,
        category: Category = Category.TOPS,
        returnable: bool = True,
        repairable: bool = True,
        price_yen: int = 12800,
    ) -> dict[str, int]:
        stock = {"L": 3} if stock is None else stock
        with in_context(app):
            n = next(_n)
            product = Product(
                style_code=f"LS-{1000 + n}",
                name_ja=name_ja or f"リネンシャツ{n}",
                name_en=f"Linen shirt {n}",
                category=category,
                returnable=returnable,
                repairable=repairable,
            )
            for i, size in enumerate(sizes):
                product.variants.append(
                    Variant(
                        sku=f"LS-{1000 + n}-{size}",
                        jan=jan(n * 10 + i),
                        size=size,
                        colour_ja="生成り",
                        colour_en="Natural",
                        price_yen=price_yen,
                    )
                )
            db.session.add(product)
            db.session.flush()
            centre = db.session.query(Location).filter_by(code="RC").one()
            for variant in product.variants:
                if stock.get(variant.size):
                    db.session.add(
                        StockLevel(
                            variant_id=variant.id,
                            location_id=centre.id,
                            on_hand=stock[variant.size],
                        )
                    )
            db.session.commit()
            return {v.size: v.id for v in product.variants}

    return make


@pytest.fixture
def shop_order(app: Flask, shop: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """A web (or store) order of one customer: `lines` are (variant id, quantity[, final_sale]).
    Returns its number, the customer's email and phone, and the order line ids."""

    def make(
        lines: list[tuple],
        *,
        channel: ChannelCode = ChannelCode.WEB,
        days_ago: int = 5,
        email: str | None = None,
        phone: str | None = None,
        number: str | None = None,
    ) -> dict[str, Any]:
        with in_context(app):
            n = next(_n)
            customer = Customer(
                email=email or f"hanako{n}@example.jp",
                phone=phone,
                name="山田 花子",
                name_kana="ヤマダ ハナコ",
            )
            when = utcnow() - timedelta(days=days_ago)
            order = Order(
                channel=db.session.query(Channel).filter_by(code=channel).one(),
                number=number or f"W{30118000 + n:08d}",
                customer=customer,
                ordered_at=when - timedelta(days=2),
                delivered_at=when if channel == ChannelCode.WEB else None,
            )
            for variant_id, quantity, *rest in lines:
                variant = db.session.get(Variant, variant_id)
                order.lines.append(
                    OrderLine(
                        variant_id=variant_id,
                        quantity=quantity,
                        unit_price_yen=variant.price_yen,
                        final_sale=bool(rest and rest[0]),
                    )
                )
            db.session.add(order)
            db.session.commit()
            return {
                "number": order.number,
                "email": customer.email,
                "phone": customer.phone,
                "line_ids": [line.id for line in order.lines],
                "id": order.id,
            }

    return make


# -- photos ------------------------------------------------------------------------------------


def photo_bytes(size: tuple[int, int] = (64, 48), colour: str = "#8aa", fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def photo(name: str = "photo.jpg", **kw: Any) -> tuple[io.BytesIO, str]:
    return io.BytesIO(photo_bytes(**kw)), name


def barcode_photo(code: str) -> tuple[io.BytesIO, str]:
    """A photo of an EAN-13 barcode, as a phone would take of a tag (PNG, quiet zones)."""
    import zxingcpp

    symbol = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.EAN13).to_image(scale=4)
    view = memoryview(symbol)
    image = Image.frombytes("L", (view.shape[1], view.shape[0]), bytes(view)).convert("RGB")
    canvas = Image.new("RGB", (image.width + 80, image.height + 80), "white")
    canvas.paste(image, (40, 40))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return io.BytesIO(out.getvalue()), "tag.png"


# -- the mailbox -------------------------------------------------------------------------------


class Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        if not self.folder.exists():
            return []
        return [
            BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            for path in sorted(self.folder.glob("*.eml"))
        ]


@pytest.fixture
def mailbox(app: Flask) -> Mailbox:
    return Mailbox(Path(app.config["MAIL_FILE_DIR"]))


@pytest.fixture(autouse=True)
def _empty_mail_folder(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts and ends with no mail: the app (and its folder) lives all session."""
    if "app" not in request.fixturenames:
        yield
        return
    folder = Path(request.getfixturevalue("app").config["MAIL_FILE_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    yield
    shutil.rmtree(folder, ignore_errors=True)


# -- walking the form --------------------------------------------------------------------------


class Portal:
    """The test client, filling in the request form step by step like a customer."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.client.get("/request").text)
        return self._token

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kw)

    def start(self, rma_type: str = "return", place: str = "web"):  # type: ignore[no-untyped-def]
        response = self.post("/request", {"type": rma_type, "place": place})
        assert response.status_code == 302, response.text
        return response

    def lookup(self, number: str, contact: str):  # type: ignore[no-untyped-def]
        return self.post("/request/purchase", {"number": number, "contact": contact})

    def choose(self, page_text: str | None = None, picks: dict[int, int] | None = None):  # type: ignore[no-untyped-def]
        """Tick order lines {order line id: quantity}; every line of the page is posted."""
        text = page_text or self.client.get("/request/purchase").text
        ids = re.findall(r'name="(lines-\d+)-order_line_id"[^>]*value="(\d+)"', text)
        if not ids:
            ids = [
                (m[1], m[0])
                for m in re.findall(r'value="(\d+)"[^>]*name="(lines-\d+)-order_line_id"', text)
            ]
        data: dict[str, Any] = {}
        for prefix, line_id in ids:
            data[f"{prefix}-order_line_id"] = line_id
            if picks and int(line_id) in picks:
                data[f"{prefix}-selected"] = "y"
                data[f"{prefix}-quantity"] = str(picks[int(line_id)])
        return self.post("/request/purchase/lines", data)

    def items(self, *lines: dict[str, Any], files: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = {}
        for i, line in enumerate(lines):
            data[f"lines-{i}-reason"] = line.get("reason", "")
            data[f"lines-{i}-comment"] = line.get("comment", "")
            data[f"lines-{i}-symptom"] = line.get("symptom", "")
            if line.get("wanted"):
                data[f"lines-{i}-wanted"] = str(line["wanted"])
            for photo_ in line.get("photos", []):
                data.setdefault(f"lines-{i}-photos", []).append(photo_)
        return self.post("/request/items", data, content_type="multipart/form-data")

    def method(self, method: str = "carriage_forward", location: int | None = None):  # type: ignore[no-untyped-def]
        data = {"method": method}
        if location:
            data["location"] = str(location)
        return self.post("/request/method", data)

    def contact(self, **values: str):  # type: ignore[no-untyped-def]
        data = {"name": "山田 花子", "email": "hanako@example.jp"} | values
        return self.post("/request/contact", data)

    def submit(self):  # type: ignore[no-untyped-def]
        return self.post("/request/review", {"accept_terms": "y"})


@pytest.fixture
def portal(client: FlaskClient) -> Portal:
    return Portal(client)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """These tests read the pages' English wording; Japanese is checked where it is the
    point (tests/portal/test_status_page.py and the browser journeys)."""
    english = app.test_client()
    english.get("/lang/en")
    return english
