"""The admin's sales import page: upload, choose columns with a preview, import, result."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from reverse.auth.constants import Role
from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.extensions import db
from reverse.orders.models import Order
from tests.conftest import csrf_token

URL = "/staff/orders/import"


def _upload(client: FlaskClient, data: bytes, *, preset: str, name: str = "sales.csv"):  # type: ignore[no-untyped-def]
    page = client.get(URL)
    return client.post(
        URL,
        data={
            "csrf_token": csrf_token(page.text),
            "file": (io.BytesIO(data), name),
            "channel": "department_store",
            "preset": preset,
        },
        content_type="multipart/form-data",
    )


def _mapping_fields(html: str) -> dict[str, str]:
    """The selected option of every select on the mapping page."""
    chosen = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        match = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body
        )
        chosen[name] = (match.group(1) or match.group(2)) if match else ""
    return chosen


def test_admin_uploads_maps_columns_and_imports(
    app: Flask,
    client: FlaskClient,
    logged_in: Callable,
    create_channel: Callable,
    create_location: Callable,
    create_variant: Callable,
):
    logged_in(Role.ADMIN)
    create_channel(ChannelCode.DEPARTMENT_STORE, name_en="Department stores")
    create_location(LocationKind.DEPARTMENT_STORE_COUNTER, code="DS-HANKYU")
    a, b = create_variant(price_yen=12900), create_variant()
    data = (
        (
            "売上伝票,日付,品目JAN,点数,金額,メモ\r\n"
            f'H-77,２０２６/１１/２３,{a.jan},１,"¥12,900",ギフト\r\n'
            f"H-77,2026/11/23,{b.jan},2,8900,\r\n"
            f"H-78,2026/11/24,4999999999999,1,1000,\r\n"
        )
        .encode("cp932", errors="replace")
        .replace(b"?12,900", b"\\12,900")
    )

    uploaded = _upload(client, data, preset="custom")
    assert uploaded.status_code == 302
    mapping_url = uploaded.headers["Location"]
    page = client.get(mapping_url)
    assert page.status_code == 200
    assert "売上伝票" in page.text
    assert "ギフト" in page.text

    chosen = _mapping_fields(page.text)
    chosen |= {
        "map_order_number": "売上伝票",
        "map_ordered_at": "日付",
        "map_jan": "品目JAN",
        "map_quantity": "点数",
        "map_unit_price_yen": "金額",
        "location": "DS-HANKYU",
    }
    posted = client.post(
        mapping_url,
        data=chosen
        | {"csrf_token": csrf_token(page.text), "channel": "department_store", "preset": "custom"},
        headers={"Accept-Language": "en"},
    )

    assert posted.status_code == 200, posted.text
    assert "新規注文" in posted.text  # the result: orders created
    assert "4999999999999" in posted.text  # the error with its line
    assert re.search(r'class="num">4</td>', posted.text)
    with app.app_context():
        orders = db.session.scalars(sa.select(Order)).all()
        assert [o.number for o in orders] == ["H-77"]
        assert orders[0].total_yen == 12900 + 2 * 8900
        assert orders[0].location.code == "DS-HANKYU"
    # the upload is gone once imported
    assert client.get(mapping_url).status_code == 404


def test_a_required_column_left_unchosen_is_named(
    client: FlaskClient, logged_in: Callable, create_channel: Callable, create_variant: Callable
):
    logged_in(Role.ADMIN)
    create_channel(ChannelCode.DEPARTMENT_STORE)
    data = "伝票番号,売上日,JAN,数量,売価\n1,2026/11/23,4900000000017,1,100\n".encode("cp932")
    mapping_url = _upload(client, data, preset="department_store").headers["Location"]
    page = client.get(mapping_url)
    chosen = _mapping_fields(page.text)
    assert chosen["map_order_number"] == "伝票番号"  # the preset's columns are chosen
    chosen["map_unit_price_yen"] = ""

    posted = client.post(
        mapping_url,
        data=chosen | {"csrf_token": csrf_token(page.text), "channel": "department_store"},
    )

    assert posted.status_code == 422
    assert 'id="map_unit_price_yen-error"' in posted.text


def test_a_file_that_is_not_csv_is_refused(
    client: FlaskClient, logged_in: Callable, create_channel: Callable
):
    logged_in(Role.ADMIN)
    create_channel(ChannelCode.DEPARTMENT_STORE)

    response = _upload(client, b"PK\x03\x04\x00\x00binary", preset="pos", name="sales.xlsx")

    assert response.status_code == 422
    assert 'id="file-error"' in response.text


def test_store_staff_may_not_import(client: FlaskClient, logged_in: Callable):
    logged_in(Role.STORE)

    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{'0' * 32}").status_code == 403
