"""Shelf tags of pre-owned items, read back the way a shopper's phone and a cashier would:
printed at 300 dpi, the QR code decoded, the text extracted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.extensions import db
from reverse.resale import operations as resale
from reverse.resale.constants import SaleChannel
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context
from tests.fixtures.resale import STAFF

QR = zxingcpp.BarcodeFormat.QRCode


def pages(pdf: bytes, tmp_path: Path, dpi: int = 300) -> list[Image.Image]:
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-", str(tmp_path / "page")], input=pdf, check=True
    )
    images = []
    for path in sorted(tmp_path.glob("page-*.png")):
        with Image.open(path) as image:
            images.append(image.copy())
    return images


def qr_codes(image: Image.Image) -> set[str]:
    return {r.text for r in zxingcpp.read_barcodes(image, formats=[QR])}


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def shop_url(app, code: str) -> str:
    return f"{app.config['PUBLIC_BASE_URL']}/preowned/{code}"


def test_one_tag_carries_price_code_and_a_qr_of_the_shop_page(
    app, client, logged_in, make_item, tmp_path
):
    logged_in(Role.WAREHOUSE)
    item = make_item("B", price_yen=12_900)  # grade B: 60 % → ¥7,740

    response = client.get(f"/staff/resale/{item.id}/tag.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="shelf-tags.pdf"'
    pdf = response.data
    text = pdf_text(pdf)
    assert "¥7,740" in text
    assert "税込" in text
    assert item.code in text
    assert "¥12,900" in text  # the original price, struck through
    assert "中古品" in text
    (page,) = pages(pdf, tmp_path)
    assert qr_codes(page) == {shop_url(app, item.code)}


def test_tags_of_the_ticked_items_leave_out_sold_ones(app, client, logged_in, make_item, tmp_path):
    logged_in(Role.WAREHOUSE)
    first = make_item("A", price_yen=20_000, listed=True)
    second = make_item("C", price_yen=9_900)
    sold = make_item("B", listed=True)
    with in_context(app):
        resale.record_sale(sold.id, channel=SaleChannel.STORE, actor=STAFF)
        db.session.commit()
    page = client.get("/staff/resale/?state=all")

    response = client.post(
        "/staff/resale/tags",
        data={"csrf_token": csrf_token(page.text), "ids": [first.id, second.id, sold.id]},
    )

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert first.code in text
    assert second.code in text
    assert sold.code not in text
    assert "¥16,000" in text  # A: 80 % of ¥20,000
    (image,) = pages(response.data, tmp_path, dpi=200)
    assert qr_codes(image) == {shop_url(app, first.code), shop_url(app, second.code)}


def test_thirteen_tags_fill_a_sheet_and_start_another(app, client, logged_in, make_item, tmp_path):
    logged_in(Role.ADMIN)
    items = [make_item("B") for _ in range(13)]
    page = client.get("/staff/resale/")

    response = client.post(
        "/staff/resale/tags",
        data={"csrf_token": csrf_token(page.text), "ids": [i.id for i in items]},
    )

    assert response.status_code == 200
    sheets = pages(response.data, tmp_path, dpi=150)
    assert len(sheets) == 2
    assert sheets[0].width < sheets[0].height  # A4 portrait


def test_no_tag_for_a_withdrawn_item_or_another_stores_item(
    app, client, logged_in, make_item, create_location
):
    store = create_location(LocationKind.STORE)
    logged_in(Role.STORE, location=store)
    withdrawn = make_item("B", location=store)
    elsewhere = make_item("B")
    with in_context(app):
        resale.withdraw_item(withdrawn.id, "汚れが落ちない", STAFF)
        db.session.commit()

    assert client.get(f"/staff/resale/{withdrawn.id}/tag.pdf").status_code == 404
    assert client.get(f"/staff/resale/{elsewhere.id}/tag.pdf").status_code == 404


def test_printing_nothing_taggable_goes_back_with_a_message(app, client, logged_in, make_item):
    logged_in(Role.WAREHOUSE)
    item = make_item("B", listed=True)
    with in_context(app):
        resale.record_sale(item.id, channel=SaleChannel.STORE, actor=STAFF)
        db.session.commit()
    page = client.get("/staff/resale/?state=all")

    response = client.post(
        "/staff/resale/tags",
        data={"csrf_token": csrf_token(page.text), "ids": [item.id], "next": "/staff/resale/"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "flash--error" in response.text
