"""The dashboard's figures, read from the summary tables (see refresh.py) and, for repairs and
recovered value, from the reports those pages already use (one computation each).

Every function takes `Filters` and returns plain dataclasses; nothing reads the HTTP request.
Return figures count cases *filed* in the range (Japan calendar days); a return rate is units
returned ÷ units sold in the same range and group — unknown (None) when we have no sales for
the group, which is the case of purchases at department stores we hold no sales CSV for.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from reverse.analytics.models import CaseFact, LineFact, ReturnDay
from reverse.analytics.refresh import PRODUCT_MONTHS
from reverse.catalog.models import Product, Variant
from reverse.extensions import db
from reverse.repairs.reports import KindRow, TurnaroundFilters, percentile, share, turnaround_rows
from reverse.resale.reports import Dimension, ValueFilters, ValueReport, recovered_value
from reverse.resolution.constants import Resolution
from reverse.rmas.constants import RmaStatus
from reverse.warehouse_queues import QUEUES, QueueName, sla_of

#: the range shown when none is asked for: the last 90 days, today included
DEFAULT_DAYS = 90
#: the longest range the dashboard reads
MAX_RANGE_DAYS = 3 * 366
#: the percentiles of each cycle time
PERCENTILES = (0.5, 0.75, 0.9)
TOP_SKUS = 10
TOP_REASONS = 3
#: a case in one of these without a resolution will not get one: not "open"
CLOSED_STATUSES = (RmaStatus.CANCELLED, RmaStatus.EXPIRED, RmaStatus.CLOSED, RmaStatus.REJECTED)


@dataclass(frozen=True)
class Filters:
    """Cases filed (and units sold) on Japan days `date_from` … `date_to`, both included;
    `channel` a channel code, `location_id` the store or counter it was sold at (else the
    place that handles the case)."""

    date_from: date
    date_to: date
    channel: str | None = None
    location_id: int | None = None


class Group(enum.StrEnum):
    REASON = "reason"
    PRODUCT = "product"
    CATEGORY = "category"
    CHANNEL = "channel"
    RETAILER = "retailer"


def rate(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent, one decimal, half up; None when `whole` is 0 (unknown)."""
    return share(part, whole)


def _where(model: Any, filters: Filters) -> list[Any]:
    conditions = [model.day >= filters.date_from, model.day <= filters.date_to]
    if filters.channel:
        conditions.append(model.channel_code == filters.channel)
    if filters.location_id is not None:
        conditions.append(model.location_id == filters.location_id)
    return conditions


# -- return rates --------------------------------------------------------------------------------


@dataclass
class RateRow:
    """Units returned and sold for one group (`key` None: the totals)."""

    key: str | None
    returned: int = 0
    #: cases behind `returned` (the totals only)
    cases: int = 0
    sold: int = 0
    label_ja: str = ""
    label_en: str = ""

    @property
    def rate(self) -> Decimal | None:
        return rate(self.returned, self.sold)

    def label(self, locale: str) -> str:
        return (self.label_ja if locale == "ja" else self.label_en) or (self.key or "")


@dataclass
class RateReport:
    group: Group
    rows: list[RateRow]
    totals: RateRow
    #: reasons have no sales of their own: their rate is over all units sold
    shared_denominator: bool = False


def _rollup(dimension: str, filters: Filters) -> list[Any]:
    return [ReturnDay.dimension == dimension, *_where(ReturnDay, filters)]


def _product_rows(filters: Filters) -> list[Any]:
    """Products: the range's whole months from the monthly rows, the days before and after
    them from the daily rows — the same sums as all daily rows, a thirtieth of the rows."""
    first = filters.date_from
    if first.day != 1:
        first = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    after_last = (filters.date_to + timedelta(days=1)).replace(day=1)
    if first >= after_last:  # no whole month in the range
        return _rollup(Group.PRODUCT.value, filters)
    scope = []
    if filters.channel:
        scope.append(ReturnDay.channel_code == filters.channel)
    if filters.location_id is not None:
        scope.append(ReturnDay.location_id == filters.location_id)
    daily = sa.and_(
        ReturnDay.dimension == Group.PRODUCT.value,
        sa.or_(
            sa.and_(ReturnDay.day >= filters.date_from, ReturnDay.day < first),
            sa.and_(ReturnDay.day >= after_last, ReturnDay.day <= filters.date_to),
        ),
    )
    months = sa.and_(
        ReturnDay.dimension == PRODUCT_MONTHS, ReturnDay.day >= first, ReturnDay.day < after_last
    )
    return [sa.or_(daily, months), *scope]


def return_rates(filters: Filters, group: Group, *, limit: int | None = None) -> RateReport:
    """Units returned per group against units sold in the same group, most returned first;
    two small queries over the daily rollup."""
    totals = RateRow(None)
    returned, sold, cases = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(ReturnDay.returned), 0),
            sa.func.coalesce(sa.func.sum(ReturnDay.sold), 0),
            sa.func.coalesce(sa.func.sum(ReturnDay.cases), 0),
        ).where(*_rollup("total", filters))
    ).one()
    totals.returned, totals.sold, totals.cases = int(returned), int(sold), int(cases)
    rows: dict[str | None, RateRow] = {}
    stmt = (
        sa.select(ReturnDay.key, sa.func.sum(ReturnDay.returned), sa.func.sum(ReturnDay.sold))
        .where(
            *(_product_rows(filters) if group == Group.PRODUCT else _rollup(group.value, filters))
        )
        .group_by(ReturnDay.key)
    )
    for key, group_returned, group_sold in db.session.execute(stmt):
        rows[key] = RateRow(key, returned=int(group_returned), sold=int(group_sold))
    shared = group == Group.REASON
    if shared:
        for row in rows.values():
            row.sold = totals.sold
    ordered = sorted(rows.values(), key=lambda r: (-r.returned, -r.sold, r.key or ""))
    if limit is not None:
        ordered = ordered[:limit]
    if group == Group.PRODUCT:
        _name_products(ordered)
    return RateReport(group, ordered, totals, shared_denominator=shared)


def _name_products(rows: list[RateRow]) -> None:
    ids = [int(r.key) for r in rows if r.key is not None]
    if not ids:
        return
    names = {
        str(pid): (style, ja, en)
        for pid, style, ja, en in db.session.execute(
            sa.select(Product.id, Product.style_code, Product.name_ja, Product.name_en).where(
                Product.id.in_(ids)
            )
        )
    }
    for row in rows:
        style, ja, en = names.get(row.key or "", ("", "", ""))
        row.label_ja = f"{style} {ja}".strip()
        row.label_en = f"{style} {en}".strip()


@dataclass
class TrendPoint:
    """One bucket (a week or a month, by its first day) of the range."""

    start: date
    returned: int = 0
    sold: int = 0

    @property
    def rate(self) -> Decimal | None:
        return rate(self.returned, self.sold)


def bucket_of(day: date, monthly: bool) -> date:
    if monthly:
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def trend(filters: Filters) -> tuple[list[TrendPoint], bool]:
    """Units returned and sold per week (ranges up to 26 weeks) or month: read per day (at
    most a thousand rows), bucketed here, which needs no date SQL of either database."""
    monthly = (filters.date_to - filters.date_from).days > 182
    points: dict[date, TrendPoint] = {}
    day = bucket_of(filters.date_from, monthly)
    while day <= filters.date_to:
        points[day] = TrendPoint(day)
        day = (day + timedelta(days=32)).replace(day=1) if monthly else day + timedelta(days=7)

    def _day(value: Any) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    stmt = (
        sa.select(ReturnDay.day, sa.func.sum(ReturnDay.returned), sa.func.sum(ReturnDay.sold))
        .where(*_rollup("total", filters))
        .group_by(ReturnDay.day)
    )
    for value, returned, sold in db.session.execute(stmt):
        point = points[bucket_of(_day(value), monthly)]
        point.returned += int(returned)
        point.sold += int(sold)
    return list(points.values()), monthly


# -- outcomes ------------------------------------------------------------------------------------


@dataclass
class OutcomeRow:
    resolution: str | None
    cases: int = 0
    #: what the returned units were worth; for refunds also what was paid back
    value_yen: int = 0
    refund_yen: int = 0


@dataclass
class OutcomeReport:
    rows: list[OutcomeRow]
    #: cases filed in the range and still undecided
    open_cases: int
    decided: int

    @property
    def kept_yen(self) -> int:
        """Revenue kept: the value of returns settled by an exchange or store credit."""
        keep = {Resolution.EXCHANGE.value, Resolution.STORE_CREDIT.value}
        return sum(r.value_yen for r in self.rows if r.resolution in keep)

    @property
    def settled_value_yen(self) -> int:
        return sum(r.value_yen for r in self.rows if r.resolution != Resolution.REJECTED.value)

    @property
    def kept_rate(self) -> Decimal | None:
        return rate(self.kept_yen, self.settled_value_yen)

    def share(self, row: OutcomeRow) -> Decimal | None:
        return rate(row.cases, self.decided)


def outcomes(filters: Filters) -> OutcomeReport:
    stmt = (
        sa.select(
            CaseFact.resolution,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(CaseFact.value_yen), 0),
            sa.func.coalesce(sa.func.sum(CaseFact.refund_yen), 0),
        )
        .where(*_where(CaseFact, filters))
        .group_by(CaseFact.resolution)
    )
    found = {
        res: OutcomeRow(res, int(n), int(value), int(refund))
        for res, n, value, refund in db.session.execute(stmt)
    }
    rows = [found.get(r.value) or OutcomeRow(r.value) for r in Resolution]
    open_cases = db.session.scalar(
        sa.select(sa.func.count()).where(
            *_where(CaseFact, filters),
            CaseFact.resolution.is_(None),
            CaseFact.status.not_in([s.value for s in CLOSED_STATUSES]),
        )
    )
    return OutcomeReport(rows, int(open_cases or 0), sum(r.cases for r in rows))


# -- cycle times and SLA ---------------------------------------------------------------------------


class Stage(enum.StrEnum):
    TO_RECEIVE = "to_receive"
    TO_INSPECT = "to_inspect"
    TO_RESOLVE = "to_resolve"
    TOTAL = "total"


_STAGE_COLUMNS: dict[Stage, Any] = {
    Stage.TO_RECEIVE: CaseFact.to_receive_s,
    Stage.TO_INSPECT: CaseFact.to_inspect_s,
    Stage.TO_RESOLVE: CaseFact.to_resolve_s,
    Stage.TOTAL: CaseFact.total_s,
}


@dataclass
class CycleRow:
    stage: Stage
    count: int
    #: hours at each of PERCENTILES (None: no case finished the stage)
    hours: dict[float, float | None]


def _roomy_sorts() -> None:
    """Let this transaction's sorts of a year of cases stay in memory (PostgreSQL's default
    4 MB spills them to disk, which is what made percentiles slow)."""
    if _postgresql():
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def cycle_times(filters: Filters) -> list[CycleRow]:
    """Count and PERCENTILES (in hours) of each stage. PostgreSQL's percentile_cont, in one
    scan for every stage, and `repairs.reports.percentile` on SQLite are the same
    definition: linear between closest ranks."""
    conditions = _where(CaseFact, filters)
    if _postgresql():
        _roomy_sorts()
        fractions = sa.literal(list(PERCENTILES), sa.ARRAY(sa.Float))
        columns = []
        for column in _STAGE_COLUMNS.values():
            # one sort per stage for all its percentiles
            columns += [
                sa.func.count(column),
                sa.func.percentile_cont(fractions).within_group(column),
            ]
        values = list(db.session.execute(sa.select(*columns).where(*conditions)).one())
        rows = []
        for n, stage in enumerate(_STAGE_COLUMNS):
            count, found = values[2 * n], values[2 * n + 1] or [None] * len(PERCENTILES)
            hours = [None if v is None else float(v) / 3600 for v in found]
            rows.append(CycleRow(stage, int(count), dict(zip(PERCENTILES, hours, strict=True))))
        return rows
    rows = []
    for stage, column in _STAGE_COLUMNS.items():
        stmt = sa.select(column).where(*conditions, column.is_not(None))
        seconds = [float(v) for v in db.session.scalars(stmt)]
        hours = [None if (v := percentile(seconds, p)) is None else v / 3600 for p in PERCENTILES]
        rows.append(CycleRow(stage, len(seconds), dict(zip(PERCENTILES, hours, strict=True))))
    return rows


@dataclass
class SlaRow:
    queue: QueueName
    sla: timedelta
    #: cases that entered the stage, and those of them over the SLA (finished late, or still
    #: waiting and already older than the SLA at the refresh)
    entered: int
    breached: int
    still_open: int

    @property
    def rate(self) -> Decimal | None:
        return rate(self.breached, self.entered)


def sla_breaches(filters: Filters, config: Mapping[str, Any], as_of: datetime) -> list[SlaRow]:
    """Per warehouse queue (the same REVERSE_SLA_* and stages as the work queues)."""
    stages = {
        QueueName.RECEIPT: (CaseFact.awaiting_at, CaseFact.received_at, CaseFact.receipt_wait_s),
        QueueName.INSPECTION: (CaseFact.received_at, CaseFact.inspected_at, CaseFact.to_inspect_s),
        QueueName.DECISION: (CaseFact.inspected_at, CaseFact.resolved_at, CaseFact.to_resolve_s),
    }
    columns, slas = [], {}
    for name, (start, end, seconds) in stages.items():
        sla = slas[name] = sla_of(QUEUES[name], config)
        late_finished = sa.and_(end.is_not(None), seconds > sla.total_seconds())
        # a case that never reached the end of the stage waits only while its status is one
        # of the queue's (a cancelled or expired case left the queue without finishing)
        statuses = [s.value for s in QUEUES[name].statuses]
        waiting = sa.and_(end.is_(None), CaseFact.status.in_(statuses))
        late_open = sa.and_(waiting, start < as_of - sla)
        entered = start.is_not(None)
        columns += [
            _count_if(entered),
            _count_if(sa.and_(entered, sa.or_(late_finished, late_open))),
            _count_if(sa.and_(entered, waiting)),
        ]
    values = db.session.execute(sa.select(*columns).where(*_where(CaseFact, filters))).one()
    return [
        SlaRow(name, slas[name], *(int(v) for v in values[3 * n : 3 * n + 3]))
        for n, name in enumerate(stages)
    ]


def _count_if(condition: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


# -- repairs and recovered value (the existing reports) --------------------------------------------


@dataclass
class RepairSummary:
    rows: list[KindRow]
    totals: KindRow


def repairs(filters: Filters) -> RepairSummary:
    """The turnaround report's figures (handed back in the range; location = store)."""
    rows, totals = turnaround_rows(
        TurnaroundFilters(filters.date_from, filters.date_to, store_id=filters.location_id)
    )
    return RepairSummary(rows, totals)


def recovered(filters: Filters, dimension: Dimension) -> ValueReport:
    """The recovered-value report (sold in the range; location = where sold)."""
    return recovered_value(
        ValueFilters(
            filters.date_from, filters.date_to, dimension=dimension, location_id=filters.location_id
        )
    )


# -- most returned SKUs ----------------------------------------------------------------------------


@dataclass
class SkuRow:
    variant_id: int
    sku: str = ""
    name_ja: str = ""
    name_en: str = ""
    returned: int = 0
    #: case lines of the variant (a case lists a variant once: the cases it was returned in)
    cases: int = 0
    #: (reason, units) of its most frequent reasons, most first
    reasons: list[tuple[str, int]] = field(default_factory=list)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


def top_skus(filters: Filters, limit: int = TOP_SKUS) -> list[SkuRow]:
    conditions = [*_where(LineFact, filters), LineFact.variant_id.is_not(None)]
    units = sa.func.sum(LineFact.quantity)
    top = db.session.execute(
        sa.select(LineFact.variant_id, units, sa.func.count())
        .where(*conditions)
        .group_by(LineFact.variant_id)
        .order_by(units.desc(), LineFact.variant_id)
        .limit(limit)
    ).all()
    rows = {vid: SkuRow(vid, returned=int(n), cases=int(c)) for vid, n, c in top}
    if not rows:
        return []
    ids = list(rows)
    for vid, sku, size, ja, en in db.session.execute(
        sa.select(Variant.id, Variant.sku, Variant.size, Product.name_ja, Product.name_en)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id.in_(ids))
    ):
        row = rows[vid]
        row.sku = sku
        row.name_ja = " / ".join(p for p in (ja, size) if p)
        row.name_en = " / ".join(p for p in (en, size) if p)
    reasons = db.session.execute(
        sa.select(LineFact.variant_id, LineFact.reason, units)
        .where(*conditions, LineFact.variant_id.in_(ids))
        .group_by(LineFact.variant_id, LineFact.reason)
    )
    for vid, reason, n in reasons:
        rows[vid].reasons.append((reason, int(n)))
    for row in rows.values():
        row.reasons = sorted(row.reasons, key=lambda r: (-r[1], r[0]))[:TOP_REASONS]
    return list(rows.values())


# -- the views, as the page and the bench call them ------------------------------------------------


class View(enum.StrEnum):
    RETURNS = "returns"
    OUTCOMES = "outcomes"
    CYCLE = "cycle"
    SLA = "sla"
    REPAIRS = "repairs"
    RECOVERED = "recovered"
    SKUS = "skus"


def view_data(
    view: View,
    filters: Filters,
    *,
    group: Group = Group.REASON,
    config: Mapping[str, Any],
    as_of: datetime,
) -> dict[str, Any]:
    """Everything one view shows (the page renders it, the bench times it)."""
    if view == View.RETURNS:
        points, monthly = trend(filters)
        return {
            "trend": points,
            "monthly": monthly,
            "rates": return_rates(filters, group, limit=50),
        }
    if view == View.OUTCOMES:
        return {"outcomes": outcomes(filters)}
    if view == View.CYCLE:
        return {"cycle": cycle_times(filters)}
    if view == View.SLA:
        return {"sla": sla_breaches(filters, config, as_of)}
    if view == View.REPAIRS:
        return {"repairs": repairs(filters)}
    if view == View.RECOVERED:
        return {
            "by_grade": recovered(filters, Dimension.GRADE),
            "by_disposition": recovered(filters, Dimension.DISPOSITION),
        }
    return {"skus": top_skus(filters)}


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def quantize_hours(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)
