"""Rebuild the summary tables from the live ones, in one transaction, with INSERT … SELECT
(the database does the work: a million cases and ten million events never pass through
Python). Time differences and Japan calendar days are the only SQL that differs between
SQLite and PostgreSQL; both are written once here."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from reverse.analytics.models import CaseFact, LineFact, Refresh, ReturnDay, SalesDay
from reverse.catalog.models import Channel, Location, Product, Variant
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.resolution.constants import Resolution
from reverse.resolution.models import Refund
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaEvent, RmaLine

#: the cases the dashboard's return figures cover (repairs have their own turnaround view)
RETURN_TYPES = (RmaType.RETURN.value, RmaType.EXCHANGE.value)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def seconds_between(later: Any, earlier: Any) -> Any:
    """Whole seconds from `earlier` to `later` (NULL when either is NULL)."""
    if _dialect() == "postgresql":
        diff = sa.func.extract("epoch", later - earlier)
    else:
        diff = (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86_400
    return sa.cast(sa.func.round(diff), sa.Integer)


def japan_day(moment: Any) -> Any:
    """The Japan calendar day of a UTC timestamp (Japan keeps no summer time: +9 hours)."""
    if _dialect() == "postgresql":
        return sa.cast(sa.func.timezone("Asia/Tokyo", moment), sa.Date)
    return sa.func.date(moment, "+9 hours")


def month_start(day: Any) -> Any:
    """The first day of the month of a DATE column."""
    if _dialect() == "postgresql":
        return sa.cast(sa.func.date_trunc("month", day), sa.Date)
    return sa.func.date(day, "start of month")


def _first(status: RmaStatus) -> Any:
    return sa.func.min(sa.case((RmaEvent.to_status == status, RmaEvent.created_at)))


def _insert_cases() -> None:
    stages = (
        sa.select(
            RmaEvent.rma_id.label("rma_id"),
            _first(RmaStatus.AWAITING_ITEM).label("awaiting_at"),
            _first(RmaStatus.RECEIVED).label("received_at"),
            _first(RmaStatus.INSPECTED).label("inspected_at"),
            _first(RmaStatus.RESOLVED).label("resolved_at"),
        )
        .where(
            RmaEvent.to_status.in_(
                [
                    RmaStatus.AWAITING_ITEM,
                    RmaStatus.RECEIVED,
                    RmaStatus.INSPECTED,
                    RmaStatus.RESOLVED,
                ]
            )
        )
        .group_by(RmaEvent.rma_id)
        .subquery("stages")
    )
    refunds = (
        sa.select(Refund.rma_id.label("rma_id"), sa.func.sum(Refund.amount_yen).label("yen"))
        .group_by(Refund.rma_id)
        .subquery("refunds")
    )
    unit_price = sa.func.coalesce(
        OrderLine.unit_price_yen, Rma.declared_price_yen, Variant.price_yen, 0
    )
    values = (
        sa.select(
            RmaLine.rma_id.label("rma_id"),
            sa.func.sum(RmaLine.quantity * unit_price).label("yen"),
        )
        .join(Rma, Rma.id == RmaLine.rma_id)
        .outerjoin(OrderLine, OrderLine.id == RmaLine.order_line_id)
        .outerjoin(Variant, Variant.id == RmaLine.variant_id)
        .where(Rma.type.in_(RETURN_TYPES))
        .group_by(RmaLine.rma_id)
        .subquery("line_values")
    )
    s = stages.c
    # A case resolved without a recorded resolution (imported, or settled before resolutions
    # were recorded) settled the way `after_inspection` settles: exchange, else refund.
    resolution = sa.func.coalesce(
        Rma.resolution,
        sa.case(
            (s.resolved_at.is_(None), None),
            (Rma.type == RmaType.EXCHANGE, Resolution.EXCHANGE.value),
            else_=Resolution.REFUND.value,
        ),
    )
    select = (
        sa.select(
            Rma.id,
            Rma.type,
            Rma.status,
            Channel.code,
            Rma.location_id,
            japan_day(Rma.created_at),
            Rma.created_at,
            s.awaiting_at,
            s.received_at,
            s.inspected_at,
            s.resolved_at,
            seconds_between(s.received_at, Rma.created_at),
            seconds_between(s.inspected_at, s.received_at),
            seconds_between(s.resolved_at, s.inspected_at),
            seconds_between(s.resolved_at, Rma.created_at),
            seconds_between(s.received_at, s.awaiting_at),
            resolution,
            sa.func.coalesce(refunds.c.yen, 0),
            sa.func.coalesce(values.c.yen, 0),
        )
        .join(Channel, Channel.id == Rma.channel_id)
        .outerjoin(stages, s.rma_id == Rma.id)
        .outerjoin(refunds, refunds.c.rma_id == Rma.id)
        .outerjoin(values, values.c.rma_id == Rma.id)
        .where(Rma.type.in_(RETURN_TYPES))
    )
    columns = [
        "rma_id",
        "type",
        "status",
        "channel_code",
        "location_id",
        "day",
        "submitted_at",
        "awaiting_at",
        "received_at",
        "inspected_at",
        "resolved_at",
        "to_receive_s",
        "to_inspect_s",
        "to_resolve_s",
        "total_s",
        "receipt_wait_s",
        "resolution",
        "refund_yen",
        "value_yen",
    ]
    db.session.execute(sa.insert(CaseFact).from_select(columns, select))


def _insert_lines() -> None:
    sold_at = sa.orm.aliased(Location, name="sold_at")
    handled_at = sa.orm.aliased(Location, name="handled_at")
    retailer = sa.case(
        (Rma.declared_retailer != "", Rma.declared_retailer),
        else_=sa.func.coalesce(sold_at.retailer, handled_at.retailer, ""),
    )
    select = (
        sa.select(
            RmaLine.id,
            RmaLine.rma_id,
            japan_day(Rma.created_at),
            Channel.code,
            sa.func.coalesce(Order.location_id, Rma.location_id),
            retailer,
            RmaLine.reason,
            RmaLine.variant_id,
            Variant.product_id,
            Product.category,
            RmaLine.quantity,
        )
        .select_from(RmaLine)
        .join(Rma, Rma.id == RmaLine.rma_id)
        .join(Channel, Channel.id == Rma.channel_id)
        .outerjoin(Variant, Variant.id == RmaLine.variant_id)
        .outerjoin(Product, Product.id == Variant.product_id)
        .outerjoin(Order, Order.id == Rma.order_id)
        .outerjoin(sold_at, sold_at.id == Order.location_id)
        .outerjoin(handled_at, handled_at.id == Rma.location_id)
        .where(Rma.type.in_(RETURN_TYPES))
    )
    columns = [
        "line_id",
        "rma_id",
        "day",
        "channel_code",
        "location_id",
        "retailer",
        "reason",
        "variant_id",
        "product_id",
        "category",
        "quantity",
    ]
    db.session.execute(sa.insert(LineFact).from_select(columns, select))


def _insert_sales() -> None:
    day = japan_day(Order.ordered_at)
    retailer = sa.func.coalesce(Location.retailer, "")
    select = (
        sa.select(
            day,
            Channel.code,
            Order.location_id,
            retailer,
            Variant.product_id,
            Product.category,
            sa.func.sum(OrderLine.quantity),
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(Location, Location.id == Order.location_id)
        .group_by(
            day, Channel.code, Order.location_id, retailer, Variant.product_id, Product.category
        )
    )
    columns = ["day", "channel_code", "location_id", "retailer", "product_id", "category", "units"]
    db.session.execute(sa.insert(SalesDay).from_select(columns, select))


#: the groupings of `ReturnDay` and their columns in the line facts and in the sales (None: a
#: reason has no sales of its own)
ROLLUPS: dict[str, tuple[Any, Any]] = {
    "total": (sa.literal(""), sa.literal("")),
    "reason": (LineFact.reason, None),
    "product": (sa.cast(LineFact.product_id, sa.String), sa.cast(SalesDay.product_id, sa.String)),
    "category": (LineFact.category, SalesDay.category),
    "channel": (LineFact.channel_code, SalesDay.channel_code),
    "retailer": (LineFact.retailer, SalesDay.retailer),
}


#: the `ReturnDay` grouping of products by month (`day` is the month's first day)
PRODUCT_MONTHS = "product_month"


def _insert_rollups() -> None:
    columns = [
        "dimension",
        "key",
        "day",
        "channel_code",
        "location_id",
        "returned",
        "sold",
        "cases",
    ]
    for dimension, (line_key, sales_key) in ROLLUPS.items():
        _insert_rollup(columns, dimension, line_key, sales_key, monthly=False)
    # products have hundreds of rows a day: their full months are summed once more
    line_key, sales_key = ROLLUPS["product"]
    _insert_rollup(columns, PRODUCT_MONTHS, line_key, sales_key, monthly=True)


def _insert_rollup(
    columns: list[str], dimension: str, line_key: Any, sales_key: Any, *, monthly: bool
) -> None:
    """One grouping's rows: returned units from the line facts, sold units from the sales."""
    line_day = month_start(LineFact.day) if monthly else LineFact.day
    sales_day = month_start(SalesDay.day) if monthly else SalesDay.day
    line_key = sa.func.coalesce(line_key, "")
    # lines of one case share its day, channel and location: distinct cases add up
    cases = sa.func.count(sa.distinct(LineFact.rma_id)) if dimension == "total" else 0
    returned = sa.select(
        sa.literal(dimension),
        line_key,
        line_day,
        LineFact.channel_code,
        LineFact.location_id,
        sa.func.sum(LineFact.quantity),
        sa.literal(0),
        sa.literal(cases) if isinstance(cases, int) else cases,
    ).group_by(line_key, line_day, LineFact.channel_code, LineFact.location_id)
    # stored in day order, so that a range of days reads few pages
    returned = returned.order_by(line_day)
    db.session.execute(sa.insert(ReturnDay).from_select(columns, returned))
    if sales_key is None:
        return
    sales_key = sa.func.coalesce(sales_key, "")
    sold = sa.select(
        sa.literal(dimension),
        sales_key,
        sales_day,
        SalesDay.channel_code,
        SalesDay.location_id,
        sa.literal(0),
        sa.func.sum(SalesDay.units),
        sa.literal(0),
    ).group_by(sales_key, sales_day, SalesDay.channel_code, SalesDay.location_id)
    sold = sold.order_by(sales_day)
    db.session.execute(sa.insert(ReturnDay).from_select(columns, sold))


def refresh_summaries(now: datetime | None = None) -> Refresh:
    """Empty and refill the summary tables and log the refresh; flushes, never commits (the
    caller's one commit makes the new figures visible all at once). On PostgreSQL the tables
    are locked first, so two refreshes at the same moment run one after the other."""
    started = time.perf_counter()
    as_of = now or utcnow()
    if _dialect() == "postgresql":
        db.session.execute(
            sa.text(
                "LOCK TABLE analytics_case_facts, analytics_line_facts, analytics_sales_days,"
                " analytics_return_days IN EXCLUSIVE MODE"
            )
        )
    for model in (CaseFact, LineFact, SalesDay, ReturnDay):
        db.session.execute(sa.delete(model))
    _insert_cases()
    _insert_lines()
    _insert_sales()
    _insert_rollups()
    count = db.session.scalar
    refresh = Refresh(
        as_of=as_of,
        cases=count(sa.select(sa.func.count()).select_from(CaseFact)) or 0,
        lines=count(sa.select(sa.func.count()).select_from(LineFact)) or 0,
        sales_rows=count(sa.select(sa.func.count()).select_from(SalesDay)) or 0,
    )
    if _dialect() == "postgresql":
        # the planner's statistics of the new rows (autovacuum would take its time)
        db.session.execute(
            sa.text(
                "ANALYZE analytics_case_facts, analytics_line_facts, analytics_sales_days,"
                " analytics_return_days"
            )
        )
    refresh.duration_ms = int((time.perf_counter() - started) * 1000)
    db.session.add(refresh)
    db.session.flush()
    return refresh


SUMMARY_TABLES = (
    "analytics_case_facts",
    "analytics_line_facts",
    "analytics_sales_days",
    "analytics_return_days",
)


def vacuum_summaries() -> None:
    """After a committed refresh on PostgreSQL: reclaim the rows it replaced at once, rather
    than leaving years of dead rows for the next readers to step over until autovacuum comes
    (VACUUM runs outside any transaction, so the caller has committed)."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(SUMMARY_TABLES)}")


def latest_refresh() -> Refresh | None:
    return db.session.scalar(sa.select(Refresh).order_by(Refresh.as_of.desc(), Refresh.id.desc()))
