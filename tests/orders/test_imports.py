"""Importing sales CSVs: presets, encodings, the upsert and its refusals, the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.catalog.models import Channel, Location, Variant
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.imports import import_orders
from reverse.orders.models import Order, OrderLine
from reverse.rmas.models import Rma, RmaLine

#: the COPY path on PostgreSQL and the executemany on SQLite both count
pytestmark = pytest.mark.databases

DS_HEADER = "伝票番号,売上日,売場コード,行No,JAN,数量,売価,値引額,顧客名,顧客電話"


def _fw(text: str) -> str:
    """Full-width digits, as a department store's system writes them."""
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.fixture
def shop(
    ctx: Flask,
    create_channel: Callable[..., Channel],
    create_location: Callable[..., Location],
    create_variant: Callable[..., Variant],
) -> dict:
    channel = create_channel(ChannelCode.DEPARTMENT_STORE)
    counter = create_location(LocationKind.DEPARTMENT_STORE_COUNTER, code="DS-ISETAN")
    a, b, c = create_variant(price_yen=12900), create_variant(price_yen=5900), create_variant()
    return {"channel": channel, "counter": counter, "a": a, "b": b, "c": c}


def ds_file(shop: dict, *, extra: str = "", b_quantity: int = 2) -> bytes:
    a, b, c = shop["a"], shop["b"], shop["c"]
    rows = [
        DS_HEADER,
        f"D1001,2026/11/23,DS-ISETAN,1,{_fw(a.jan)},１,"
        '"￥12,900",0,伊勢丹 花子,０９０－１２３４－５６７８',
        # a backslash is the yen sign of Shift_JIS
        f"D1001,2026/11/23,DS-ISETAN,2,{_fw(b.jan)},{_fw(str(b_quantity))},"
        "\\5900,500,伊勢丹 花子,090-1234-5678",
        f"D1002,2026-11-24 10:15,DS-ISETAN,1,{c.jan},1,8900,,,",
    ]
    if extra:
        rows.append(extra)
    return ("\r\n".join(rows) + "\r\n").encode("cp932")


def orders_by_number() -> dict[str, Order]:
    return {o.number: o for o in db.session.scalars(sa.select(Order))}


def test_department_store_file_in_cp932_imports_orders_prices_and_customers(shop):
    result = import_orders(ds_file(shop), "department_store", shop["channel"])

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged, result.lines_written) == (2, 0, 0, 3)
    orders = orders_by_number()
    first = orders["D1001"]
    assert [
        (ln.variant_id, ln.quantity, ln.unit_price_yen, ln.discount_yen) for ln in first.lines
    ] == [
        (shop["a"].id, 1, 12900, 0),
        (shop["b"].id, 2, 5900, 500),
    ]
    assert first.total_yen == 12900 + 2 * 5900 - 500
    assert first.customer.phone == "+819012345678"
    assert first.customer.name == "伊勢丹 花子"
    assert first.location.code == "DS-ISETAN"
    assert first.ordered_at.isoformat() == "2026-11-22T15:00:00+00:00"  # 23 Nov, Japan time
    assert orders["D1002"].customer is None
    assert db.session.scalar(sa.select(sa.func.count(Customer.id))) == 1


def test_importing_the_same_file_again_changes_nothing(shop):
    data = ds_file(shop)
    import_orders(data, "department_store", shop["channel"])
    db.session.commit()
    line_ids = db.session.scalars(sa.select(OrderLine.id).order_by(OrderLine.id)).all()

    again = import_orders(data, "department_store", shop["channel"])

    assert (again.created, again.updated, again.unchanged, again.lines_written) == (0, 0, 2, 0)
    assert again.errors == []
    assert db.session.scalars(sa.select(OrderLine.id).order_by(OrderLine.id)).all() == line_ids
    assert db.session.scalar(sa.select(sa.func.count(Customer.id))) == 1


def test_an_unknown_jan_skips_only_its_order_and_names_the_line(shop):
    extra = "D1003,2026/11/25,DS-ISETAN,1,4999999999999,1,1000,0,,"
    data = ds_file(shop, extra=extra).replace(
        f"D1002,2026-11-24 10:15,DS-ISETAN,1,{shop['c'].jan}".encode(),
        b"D1002,2026-11-24 10:15,DS-ISETAN,1,4900000000000",
    )

    result = import_orders(data, "department_store", shop["channel"])

    assert result.created == 1
    assert result.skipped == 2
    assert [(e.line, e.column, e.order_number) for e in result.errors] == [
        (4, "JAN", "D1002"),
        (5, "JAN", "D1003"),
    ]
    assert "4999999999999" in str(result.errors[1].message)
    assert set(orders_by_number()) == {"D1001"}


def test_a_bad_number_in_one_row_skips_the_whole_order(shop):
    data = ds_file(shop).replace(b"\\5900", "五千".encode("cp932"))

    result = import_orders(data, "department_store", shop["channel"])

    assert [(e.line, e.column) for e in result.errors] == [(3, "売価")]
    assert set(orders_by_number()) == {"D1002"}
    assert db.session.scalar(sa.select(sa.func.count(OrderLine.id))) == 1


def test_a_missing_column_is_reported_and_nothing_is_written(shop):
    data = ds_file(shop).replace("売価".encode("cp932"), "価格".encode("cp932"))

    result = import_orders(data, "department_store", shop["channel"])

    assert [(e.line, e.column) for e in result.errors] == [(1, "売価")]
    assert result.created == 0
    assert orders_by_number() == {}


def test_reimport_with_changed_lines_replaces_them_except_for_an_order_with_a_case(
    shop, create_rma: Callable[..., Rma]
):
    import_orders(ds_file(shop), "department_store", shop["channel"])
    db.session.commit()
    # D1002 gets a return request on its line
    rma = db.session.merge(create_rma())
    d1002 = orders_by_number()["D1002"]
    db.session.scalar(
        sa.select(RmaLine).where(RmaLine.rma_id == rma.id)
    ).order_line_id = d1002.lines[0].id
    db.session.commit()
    changed = ds_file(shop, b_quantity=3).replace(b"8900,", b"7900,")

    result = import_orders(changed, "department_store", shop["channel"])
    db.session.commit()

    assert (result.created, result.updated, result.unchanged, result.skipped) == (0, 1, 0, 1)
    assert [e.order_number for e in result.errors] == ["D1002"]
    assert "D1002" in str(result.errors[0].message)
    orders = orders_by_number()
    assert [ln.quantity for ln in orders["D1001"].lines] == [1, 3]
    assert [ln.unit_price_yen for ln in orders["D1002"].lines] == [8900]


def test_utf8_with_bom_is_read(shop):
    text = ds_file(shop).decode("cp932")

    result = import_orders(
        "\ufeff".encode() + text.encode("utf-8"), "department_store", shop["channel"]
    )

    assert result.errors == []
    assert result.created == 2


def test_a_custom_mapping_with_skus_and_a_default_location(shop):
    a, b = shop["a"], shop["b"]
    data = (
        "Order,Date,Item,Qty,Price,Off,Mail,Final\n"
        f'W-1,2026-11-23 10:15,{a.sku},1,"12,900",-1000,Hanako@Example.JP,1\n'
        f"W-1,2026-11-23 10:15,{b.sku},1,5900,,hanako@example.jp,0\n"
    ).encode()
    mapping = {
        "order_number": "Order",
        "ordered_at": "Date",
        "sku": "Item",
        "quantity": "Qty",
        "unit_price_yen": "Price",
        "discount_yen": "Off",
        "customer_email": "Mail",
        "final_sale": "Final",
    }

    result = import_orders(data, mapping, shop["channel"], location=shop["counter"])

    assert result.errors == []
    assert result.created == 1
    order = orders_by_number()["W-1"]
    assert [(ln.variant_id, ln.discount_yen, ln.final_sale) for ln in order.lines] == [
        (a.id, 1000, True),
        (b.id, 0, False),
    ]
    assert order.customer.email == "hanako@example.jp"
    assert order.location_id == shop["counter"].id


def test_the_pos_preset_reads_receipts(shop):
    a = shop["a"]
    data = (
        "レシート番号,販売日時,店舗コード,JANコード,数量,単価,値引\n"
        f"0001-0042,2026/11/23 18:05,ds-isetan,{a.jan},2,12900,-900\n"
    ).encode("cp932")

    result = import_orders(data, "pos", shop["channel"])

    assert result.errors == []
    line = orders_by_number()["0001-0042"].lines[0]
    assert (line.quantity, line.discount_yen) == (2, 900)


def test_cli_imports_a_file_and_fails_on_errors(app: Flask, shop, tmp_path: Path):
    good = tmp_path / "good.csv"
    good.write_bytes(ds_file(shop))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(ds_file(shop, extra="D1009,2026/11/25,DS-ISETAN,1,4999999999999,1,1000,0,,"))
    runner = app.test_cli_runner()
    db.session.remove()

    dry = runner.invoke(
        args=[
            "orders",
            "import",
            str(good),
            "--channel",
            "department_store",
            "--preset",
            "department_store",
            "--dry-run",
        ]
    )
    assert dry.exit_code == 0, dry.output
    assert "created 2" in dry.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0

    done = runner.invoke(
        args=[
            "orders",
            "import",
            str(bad),
            "--channel",
            "department_store",
            "--map",
            "order_number=伝票番号",
            "--map",
            "ordered_at=売上日",
            "--map",
            "jan=JAN",
            "--map",
            "quantity=数量",
            "--map",
            "unit_price_yen=売価",
            "--location",
            "DS-ISETAN",
        ]
    )
    assert done.exit_code == 1
    assert "created 2" in done.output
    assert "line 5, column JAN (order D1009)" in done.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 2
