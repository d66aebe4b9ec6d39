"""A small known data set for the dashboard: March 2026, ten units sold, four cases filed in
March (and one just after), every timestamp chosen so the figures can be computed by hand.

Sold in March: product A (tops, ¥10,000) × 4 and product B (shoes, ¥20,000) × 1 on the web
shop; A × 5 at the 伊勢丹新宿店 counter (department store) — 10 units.

| case | channel | line | filed (UTC) | awaiting → received → inspected → resolved | outcome |
|---|---|---|---|---|---|
| R1 | web, order | A × 2 too small | 03-05 00:00 | +1 h → +48 h → +12 h → +12 h | refund ¥20,000 |
| R2 | web | B × 1 too large | 03-10 00:00 | +0 h → +96 h → +24 h → +72 h | exchange |
| R3 | dept. store ¥9,000 (1) | A × 1 defective | 03-20 00:00 | +0 → +48 → +60 → +6 h | credit |
| R4 | web | A × 1 too small | 03-25 00:00 | +0 h, never received | open |
| R5 | web | B × 1 too small | 03-31 16:00 (April 1st in Japan) | — | — |

(1) bought at 髙島屋日本橋店, a store we hold no sales figures of.
The figures are refreshed as of 2026-04-30 00:00 UTC.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from reverse.analytics.refresh import refresh_summaries
from reverse.catalog.constants import Category, ChannelCode, LocationKind
from reverse.catalog.models import Location
from reverse.core.actors import ActorKind, EventChannel
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.resolution.constants import RefundKind, Resolution
from reverse.resolution.models import Refund
from reverse.rmas.constants import RmaSource, RmaStatus, RmaType
from reverse.rmas.models import EventKind, Rma, RmaEvent, RmaLine
from tests.fixtures.catalog import in_context

AS_OF = datetime(2026, 4, 30, tzinfo=UTC)
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _order(channel, customer, variant, quantity, when, location=None) -> Order:
    order = Order(
        channel_id=channel.id,
        customer_id=customer.id,
        number=f"K{next(_numbers):06d}",
        ordered_at=when,
        location_id=location.id if location else None,
    )
    order.lines.append(
        OrderLine(variant_id=variant.id, quantity=quantity, unit_price_yen=variant.price_yen)
    )
    db.session.add(order)
    db.session.flush()
    return order


def _case(
    rma_type,
    status,
    channel,
    customer,
    variant,
    quantity,
    reason,
    filed,
    stages,
    *,
    order=None,
    retailer="",
    declared_price=None,
    resolution=None,
) -> Rma:
    """A case with its line and a timeline: `stages` are (status, hours after the previous)."""
    n = next(_numbers)
    rma = Rma(
        number=f"R{n:010d}",
        access_token_hash=f"{n:064d}",
        type=rma_type,
        status=status,
        source=RmaSource.WEB,
        channel_id=channel.id,
        customer_id=customer.id,
        order_id=order.id if order else None,
        declared_retailer=retailer,
        declared_price_yen=declared_price,
        resolution=resolution,
        status_changed_at=filed,
        created_at=filed,
        updated_at=filed,
    )
    db.session.add(rma)
    db.session.flush()
    db.session.add(
        RmaLine(
            rma_id=rma.id,
            variant_id=variant.id,
            order_line_id=order.lines[0].id if order else None,
            quantity=quantity,
            reason=reason,
        )
    )
    moment, previous = filed, RmaStatus.SUBMITTED
    events = [(EventKind.CREATED, None, RmaStatus.SUBMITTED, filed)]
    for target, hours in stages:
        moment += timedelta(hours=hours)
        events.append((EventKind.STATUS_CHANGED, previous, target, moment))
        previous = target
    for kind, before, after, when in events:
        db.session.add(
            RmaEvent(
                rma_id=rma.id,
                kind=kind,
                from_status=before,
                to_status=after,
                actor_kind=ActorKind.SYSTEM,
                channel=EventChannel.WAREHOUSE,
                created_at=when,
            )
        )
    db.session.flush()
    return rma


@dataclass(frozen=True)
class Known:
    a_id: int
    a_product_id: int
    b_id: int
    b_product_id: int
    #: the 伊勢丹新宿店 counter (detached, loaded)
    counter: Location


@pytest.fixture
def known_data(app, create_channel, create_customer, create_variant, create_location) -> Known:
    """The data set above, refreshed and committed (no app context left pushed)."""
    counter = create_location(LocationKind.DEPARTMENT_STORE_COUNTER, retailer="伊勢丹新宿店")
    with in_context(app):
        return _build(create_channel, create_customer, create_variant, counter)


@pytest.fixture
def known(known_data: Known, ctx) -> Known:
    """The data set, with an app context for calling the queries directly."""
    return known_data


def _build(create_channel, create_customer, create_variant, counter_location) -> Known:
    S = RmaStatus
    web = db.session.merge(create_channel(ChannelCode.WEB))
    dept = db.session.merge(create_channel(ChannelCode.DEPARTMENT_STORE))
    counter = db.session.get(Location, counter_location.id)
    customer = db.session.merge(create_customer())
    a = db.session.merge(create_variant(Category.TOPS, price_yen=10_000))
    b = db.session.merge(create_variant(Category.SHOES, price_yen=20_000))

    web_order = _order(web, customer, a, 4, at(3, 2))
    _order(web, customer, b, 1, at(3, 3))
    _order(dept, customer, a, 5, at(3, 4), location=counter)
    _order(web, customer, a, 7, at(4, 2))  # April: outside the range

    received = [(S.APPROVED, 0), (S.AWAITING_ITEM, 0)]
    r1 = _case(
        RmaType.RETURN, S.RESOLVED, web, customer, a, 2, "size_too_small", at(3, 5),
        [(S.APPROVED, 0), (S.AWAITING_ITEM, 1), (S.IN_TRANSIT, 0), (S.RECEIVED, 47),
         (S.INSPECTED, 12), (S.RESOLVED, 12)],
        order=web_order, resolution=Resolution.REFUND,
    )  # fmt: skip
    db.session.add(Refund(rma_id=r1.id, kind=RefundKind.REFUND, amount_yen=20_000))
    _case(
        RmaType.EXCHANGE, S.RESOLVED, web, customer, b, 1, "size_too_large", at(3, 10),
        [*received, (S.RECEIVED, 96), (S.INSPECTED, 24), (S.RESOLVED, 72)],
        resolution=Resolution.EXCHANGE,
    )  # fmt: skip
    _case(
        RmaType.RETURN, S.RESOLVED, dept, customer, a, 1, "defective", at(3, 20),
        [*received, (S.RECEIVED, 48), (S.INSPECTED, 60), (S.RESOLVED, 6)],
        retailer="髙島屋日本橋店", declared_price=9_000, resolution=Resolution.STORE_CREDIT,
    )  # fmt: skip
    _case(
        RmaType.RETURN, S.AWAITING_ITEM, web, customer, a, 1, "size_too_small", at(3, 25),
        received,
    )  # fmt: skip
    _case(RmaType.RETURN, S.SUBMITTED, web, customer, b, 1, "size_too_small", at(3, 31, 16), [])
    known = Known(a.id, a.product_id, b.id, b.product_id, counter_location)
    refresh_summaries(now=AS_OF)
    db.session.commit()
    return known
