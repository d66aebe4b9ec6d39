"""Cases ready to be settled: a returns centre with a carrier account, orders with prices and
discounts, receipts with unit states, inspections with dispositions, stock for exchanges."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from reverse.catalog.constants import Category, ChannelCode, LocationKind
from reverse.catalog.models import Channel, Location, Product, StockLevel, Variant
from reverse.core.actors import Actor
from reverse.core.codes import jan_check_digit
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade, UnitState
from reverse.intake.models import Inspection, Receipt, ReceiptUnit
from reverse.intake.operations import add_expected_units
from reverse.orders.models import Order, OrderLine
from reverse.resolution.constants import RefundRelease, Resolution
from reverse.rmas.constants import ReturnMethod, RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import LineData, RmaData, create_rma
from reverse.shipping.constants import Carrier
from reverse.shipping.models import CarrierAccount
from reverse.shipping.operations import add_range
from tests.fixtures.catalog import in_context
from tests.fixtures.rmas import path_to

WAREHOUSE = Actor.system("倉庫 次郎")
_n = itertools.count(1)


@dataclass
class Case:
    id: int
    number: str
    token: str
    line_ids: list[int]
    order_id: int | None


@pytest.fixture(autouse=True)
def _empty_mail_folder(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with no mail: the app (and its folder) lives all session."""
    if "app" not in request.fixturenames:
        yield
        return
    folder = Path(request.getfixturevalue("app").config["MAIL_FILE_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    yield
    shutil.rmtree(folder, ignore_errors=True)


def _location(code: str, kind: LocationKind) -> Location:
    return Location(
        code=code,
        kind=kind,
        name_ja=code,
        name_en=code,
        postal_code="270-1234",
        prefecture="千葉県",
        city="印西市",
        street="草深1-1",
    )


def with_carrier(location: Location, first: str) -> None:
    account = CarrierAccount(location=location, carrier=Carrier.YAMATO, customer_code="0471000")
    db.session.add(account)
    db.session.flush()
    add_range(account, first, str(int(first) + 999))


@pytest.fixture
def centre(app: Flask) -> int:
    """The returns centre (with a Yamato account and numbers) and a store; the centre's id."""
    with in_context(app):
        rc = _location("RC-TEST", LocationKind.RETURNS_CENTRE)
        store = _location("ST-TEST", LocationKind.STORE)
        db.session.add_all([rc, store])
        db.session.flush()
        with_carrier(rc, "40012000000")
        with_carrier(store, "40014000000")
        db.session.commit()
        return rc.id


@pytest.fixture
def channel(app: Flask) -> Callable[..., int]:
    """The web channel, with the refund settings given; its id."""

    def make(release: RefundRelease = RefundRelease.INSPECTION, bonus: int = 0, **kw: Any) -> int:
        with in_context(app):
            found = db.session.scalar(sa.select(Channel).where(Channel.code == ChannelCode.WEB))
            if found is None:
                found = Channel(
                    code=ChannelCode.WEB,
                    name_ja="公式オンラインストア",
                    name_en="Online store",
                    allowed_types=["return", "exchange", "repair"],
                )
                db.session.add(found)
            found.refund_release = release
            found.store_credit_bonus_percent = bonus
            db.session.commit()
            return found.id

    return make


@pytest.fixture
def variant(app: Flask) -> Callable[..., int]:
    """A variant at `price`, with stock {location id: on hand}; its id."""

    def make(price: int = 10000, stock: dict[int, int] | None = None) -> int:
        with in_context(app):
            n = next(_n)
            product = Product(
                style_code=f"RS-{n}",
                name_ja=f"シャツ{n}",
                name_en=f"Shirt {n}",
                category=Category.TOPS,
            )
            body = f"4955555{n:05d}"
            v = Variant(
                sku=f"RS-{n}-M",
                jan=body + str(jan_check_digit(body)),
                size="M",
                colour_en="Navy",
                price_yen=price,
                product=product,
            )
            db.session.add(v)
            db.session.flush()
            for location_id, on_hand in (stock or {}).items():
                db.session.add(
                    StockLevel(variant_id=v.id, location_id=location_id, on_hand=on_hand)
                )
            db.session.commit()
            return v.id

    return make


@pytest.fixture
def make_case(
    app: Flask,
    centre: int,
    channel: Callable[..., int],
    variant: Callable[..., int],
    create_customer: Callable[..., Any],
) -> Callable[..., Case]:
    """A return (or exchange) in `status`, reached through legal moves.

    `lines`: dicts with quantity (asked), price, ordered (quantity on the order), discount
    (on the order line), reason, wanted (variant id, exchanges). With `declared` the purchase
    is not known (its declared price, or None for unknown) and there is no order. `order_id`
    adds the case to an existing order (its first lines). `outcome`: the policy snapshot."""

    def make(
        status: RmaStatus = RmaStatus.INSPECTED,
        *,
        rma_type: RmaType = RmaType.RETURN,
        lines: list[dict[str, Any]] | None = None,
        declared: int | bool | None = False,
        outcome: dict[str, Any] | None = None,
        resolution: Resolution | None = None,
        order_id: int | None = None,
        method: ReturnMethod = ReturnMethod.CARRIAGE_FORWARD,
    ) -> Case:
        lines = lines or [{}]
        with in_context(app):
            if not db.session.scalar(sa.select(Channel.id)):
                channel()
            web = db.session.scalar(sa.select(Channel).where(Channel.code == ChannelCode.WEB))
            customer = db.session.merge(create_customer(locale="en"))
            order = db.session.get(Order, order_id) if order_id else None
            if declared is False and order is None:
                order = Order(
                    channel=web,
                    customer=customer,
                    number=f"W{next(_n):08d}",
                    ordered_at=utcnow(),
                )
                for spec in lines:
                    price = spec.get("price", 10000)
                    order.lines.append(
                        OrderLine(
                            variant_id=variant(price),
                            quantity=spec.get("ordered", spec.get("quantity", 1)),
                            unit_price_yen=price,
                            discount_yen=spec.get("discount", 0),
                        )
                    )
                db.session.add(order)
                db.session.flush()
            rma_lines = []
            for i, spec in enumerate(lines):
                order_line = order.lines[i] if order is not None else None
                rma_lines.append(
                    LineData(
                        variant_id=order_line.variant_id if order_line else variant(),
                        order_line_id=order_line.id if order_line else None,
                        quantity=spec.get("quantity", 1),
                        reason=spec.get("reason", "size_too_small"),
                        wanted_variant_id=spec.get("wanted"),
                    )
                )
            rma, token = create_rma(
                RmaData(
                    type=rma_type,
                    channel=web,
                    customer=customer,
                    order=order,
                    location=db.session.get(Location, centre),
                    return_method=method,
                    declared_price_yen=None if declared is False else declared,
                    lines=rma_lines,
                ),
                Actor.customer(),
            )
            rma.outcome = outcome or {}
            rma.resolution = resolution
            rma.ship_name = "Hanako Yamada"
            rma.ship_postal_code = "150-0041"
            rma.ship_prefecture = "東京都"
            rma.ship_city = "渋谷区"
            rma.ship_street = "神南1-2-3"
            for step in path_to(rma_type, RmaStatus.SUBMITTED, status):
                rma.transition(step, Actor.system("test"))
            db.session.commit()
            return Case(
                rma.id, rma.number, token, [x.id for x in rma.lines], order.id if order else None
            )

    return make


def receive(
    rma_id: int, states: dict[int, UnitState] | None = None, *, location_id: int | None = None
) -> None:
    """A receipt with one unit per unit asked; `states` marks units (by number) otherwise."""
    rma = db.session.get(Rma, rma_id)
    receipt = Receipt(rma_id=rma.id, location_id=location_id, scanned_code=rma.number)
    db.session.add(receipt)
    db.session.flush()
    for unit in add_expected_units(receipt, rma, WAREHOUSE):
        unit.state = (states or {}).get(unit.unit_no, UnitState.RECEIVED)
    db.session.flush()


def inspect_all(rma_id: int, dispositions: dict[int, Disposition] | None = None) -> None:
    """Every unit present graded A and decided (restock unless `dispositions` says)."""
    units = db.session.scalars(
        sa.select(ReceiptUnit).where(
            ReceiptUnit.rma_id == rma_id, ReceiptUnit.state != UnitState.SHORT
        )
    ).all()
    for unit in units:
        disposition = (dispositions or {}).get(unit.unit_no, Disposition.RESTOCK)
        db.session.add(
            Inspection(
                unit_id=unit.id,
                rma_id=rma_id,
                grade=Grade.A,
                proposed_disposition=disposition,
                disposition=disposition,
                decided_at=utcnow(),
            )
        )
    db.session.flush()


def stock_of(variant_id: int) -> dict[int, tuple[int, int]]:
    """{location id: (on hand, reserved)} as committed."""
    db.session.expire_all()
    return {
        s.location_id: (s.on_hand, s.reserved)
        for s in db.session.scalars(
            sa.select(StockLevel).where(StockLevel.variant_id == variant_id)
        )
    }
