"""What the repair desk reads: the work lists (tabs) of the store and the repair centre,
repairs past their promised date, and turnaround figures per kind of repair.

Plain query functions: they take the user whose view it is (for `scope_rmas`), the day in
Japan and filters, and never read the HTTP request. Counts and pages are computed by the
database; turnaround days are differences of two timestamps, which SQLite and PostgreSQL
compute differently, so they are read one row per repair and summarised in Python — fine for
the few thousand repairs a range holds.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from reverse.auth.constants import Role
from reverse.auth.models import User
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location, Variant
from reverse.core.dates import TOKYO, utc_bounds
from reverse.core.db import is_postgresql
from reverse.extensions import db
from reverse.repairs.constants import Handback, QuoteState, RepairKind
from reverse.repairs.models import RepairOrder, RepairQuote
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaLine
from reverse.rmas.policies import scope_rmas

S = RmaStatus

#: a case in one of these is finished for the customer: never overdue, not "open" work
DONE_STATUSES = frozenset({S.HANDED_BACK, S.CLOSED, S.CANCELLED, S.EXPIRED, S.REJECTED})
#: the longest turnaround range read at once (its per-repair rows are held in memory)
MAX_RANGE_DAYS = 3 * 366
#: the turnaround range shown when none is asked for: the last 90 days, today included
DEFAULT_DAYS = 90


# -- the work lists ----------------------------------------------------------------------------


class Tab(enum.StrEnum):
    #: store: taken in here (or to be brought here) and not yet sent to the centre
    COUNTER = "counter"
    #: store: repaired, on its way back here
    RETURNING = "returning"
    #: store: here, waiting for the customer
    PICKUP = "pickup"
    #: centre: on its way to the centre, or still at a counter
    TO_RECEIVE = "to_receive"
    #: centre: arrived, not diagnosed yet (or diagnosed and waiting for its quote)
    TO_DIAGNOSE = "to_diagnose"
    #: centre: a quote waits for the customer's answer
    WAITING = "waiting"
    TO_REPAIR = "to_repair"
    QUALITY_CHECK = "quality_check"
    #: centre: declined quotes going back unrepaired, repaired items waiting for the carrier
    TO_SEND = "to_send"
    OVERDUE = "overdue"
    OPEN = "open"


@dataclass(frozen=True)
class TabSpec:
    name: Tab
    label: Any
    #: what the people working the tab do next, shown above its rows
    lead: Any


TAB_SPECS: dict[Tab, TabSpec] = {
    spec.name: spec
    for spec in (
        TabSpec(
            Tab.COUNTER,
            _l("At the counter"),
            _l("Taken in here, or to be brought here: send them to the repair centre."),
        ),
        TabSpec(
            Tab.RETURNING,
            _l("On the way back"),
            _l("Coming back from the repair centre: scan each one in when it arrives."),
        ),
        TabSpec(
            Tab.PICKUP,
            _l("Ready for pickup"),
            _l("Here and waiting for the customer: scan the claim tag to hand one over."),
        ),
        TabSpec(
            Tab.TO_RECEIVE,
            _l("To receive"),
            _l("On their way to the centre or still at a counter: scan each one as it arrives."),
        ),
        TabSpec(
            Tab.TO_DIAGNOSE,
            _l("To diagnose"),
            _l("At the centre and not diagnosed yet, or diagnosed and waiting for their quote."),
        ),
        TabSpec(
            Tab.WAITING,
            _l("Awaiting answer"),
            _l("A quote waits for the customer's answer: call those waiting longest."),
        ),
        TabSpec(
            Tab.TO_REPAIR,
            _l("To repair"),
            _l("Quote approved, warranty repairs after diagnosis, and repairs in progress."),
        ),
        TabSpec(
            Tab.QUALITY_CHECK,
            _l("Quality check"),
            _l("Repaired and waiting for their quality check."),
        ),
        TabSpec(
            Tab.TO_SEND,
            _l("To send back"),
            _l("Declined quotes to return unrepaired, and repaired items waiting for the carrier."),
        ),
        TabSpec(
            Tab.OVERDUE,
            _l("Overdue"),
            _l("Past the date promised to the customer and not handed back yet."),
        ),
        TabSpec(Tab.OPEN, _l("All open"), _l("Every repair that is not closed, overdue first.")),
    )
}

STORE_TABS = (Tab.COUNTER, Tab.RETURNING, Tab.PICKUP, Tab.OVERDUE, Tab.OPEN)
CENTRE_TABS = (
    Tab.TO_RECEIVE,
    Tab.TO_DIAGNOSE,
    Tab.WAITING,
    Tab.TO_REPAIR,
    Tab.QUALITY_CHECK,
    Tab.TO_SEND,
    Tab.OVERDUE,
    Tab.OPEN,
)


def tabs_for(user: User) -> tuple[Tab, ...]:
    """Store staff work the counter's tabs; technicians, support and admins the centre's."""
    return STORE_TABS if user.role == Role.STORE else CENTRE_TABS


def _warranty() -> Any:
    return sa.func.coalesce(RepairOrder.warranty, sa.false())


def _overdue(today: date) -> Any:
    return sa.and_(
        RepairOrder.promised_on.is_not(None),
        RepairOrder.promised_on < today,
        Rma.status.not_in(list(DONE_STATUSES)),
    )


def tab_condition(tab: Tab, today: date) -> Any:
    """The WHERE clause of a tab, over `repair_cases` (a case outer-joined to its order)."""
    status = Rma.status
    if tab == Tab.COUNTER:
        return status.in_([S.ACCEPTED, S.AWAITING_ITEM])
    if tab == Tab.RETURNING:
        return status == S.RETURNING
    if tab == Tab.PICKUP:
        return sa.and_(status == S.READY, RepairOrder.handback == Handback.STORE_PICKUP)
    if tab == Tab.TO_RECEIVE:
        return status.in_([S.IN_TRANSIT, S.ACCEPTED, S.AWAITING_ITEM])
    if tab == Tab.TO_DIAGNOSE:
        return sa.or_(
            status == S.AT_REPAIR_CENTRE, sa.and_(status == S.DIAGNOSED, sa.not_(_warranty()))
        )
    if tab == Tab.WAITING:
        return status == S.QUOTED
    if tab == Tab.TO_REPAIR:
        return sa.or_(
            status.in_([S.QUOTE_APPROVED, S.IN_REPAIR]),
            sa.and_(status == S.DIAGNOSED, _warranty()),
        )
    if tab == Tab.QUALITY_CHECK:
        return status == S.QUALITY_CHECK
    if tab == Tab.TO_SEND:
        return sa.or_(
            status == S.QUOTE_DECLINED,
            sa.and_(status == S.READY, RepairOrder.handback == Handback.SHIP),
        )
    if tab == Tab.OVERDUE:
        return _overdue(today)
    return status.not_in([S.CLOSED, S.CANCELLED, S.EXPIRED])


def repair_cases(user: User) -> sa.Select[tuple[Rma]]:
    """The repair cases `user` may see, each with its repair order (outer join: a case filed
    before repair orders existed has none yet)."""
    stmt = (
        sa.select(Rma)
        .outerjoin(RepairOrder, RepairOrder.rma_id == Rma.id)
        .where(Rma.type == RmaType.REPAIR)
    )
    return scope_rmas(stmt, user)


def tab_counts(user: User, tabs: Iterable[Tab], today: date) -> dict[Tab, int]:
    """How many cases each tab holds, in one query."""
    tabs = list(tabs)
    columns = [
        sa.func.coalesce(sa.func.sum(sa.case((tab_condition(tab, today), 1), else_=0)), 0)
        for tab in tabs
    ]
    stmt = repair_cases(user).with_only_columns(*columns)
    values = db.session.execute(stmt).one()
    return {tab: int(value) for tab, value in zip(tabs, values, strict=True)}


def _list_order(today: date) -> list[Any]:
    """Overdue first (longest overdue first), then the earliest promise, then the oldest."""
    overdue = sa.case((_overdue(today), 0), else_=1)
    return [
        overdue,
        sa.case((RepairOrder.promised_on.is_(None), 1), else_=0),
        RepairOrder.promised_on,
        Rma.status_changed_at,
        Rma.id,
    ]


def _row_options() -> tuple[Any, ...]:
    """What a list row reads of each case, loaded with the page."""
    return (
        contains_eager(Rma.repair),
        joinedload(Rma.customer),
        joinedload(Rma.location),
        selectinload(Rma.lines).joinedload(RmaLine.variant).joinedload(Variant.product),
    )


def tab_page(user: User, tab: Tab, today: date, *, page: int, per_page: int) -> Pagination:
    """One page of a tab's cases, overdue first."""
    stmt = (
        repair_cases(user)
        .where(tab_condition(tab, today))
        .options(*_row_options())
        .order_by(*_list_order(today))
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)


def overdue_repairs(
    user: User, today: date, *, store_id: int | None = None, limit: int | None = None
) -> list[Rma]:
    """Open repairs past their promised date that `user` may see, longest overdue first;
    `store_id` keeps those taken in or collected at that store."""
    stmt = (
        repair_cases(user)
        .where(_overdue(today))
        .options(*_row_options())
        .order_by(*_list_order(today))
    )
    if store_id is not None:
        stmt = stmt.where(_at_store(store_id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt).unique())


def days_overdue(repair: RepairOrder | None, status: RmaStatus, today: date) -> int | None:
    """Whole days past the promised date of a repair not yet handed back; None otherwise."""
    if repair is None or repair.promised_on is None or status in DONE_STATUSES:
        return None
    late = (today - repair.promised_on).days
    return late if late > 0 else None


def item_label(rma: Rma, locale: str) -> str:
    """The repaired item as staff read it in a list (the first line; repairs have one)."""
    return rma.lines[0].label(locale) if rma.lines else ""


# -- turnaround --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnaroundFilters:
    """Repairs handed back on Japan calendar days `date_from` … `date_to` (both included);
    `store_id` keeps those taken in or collected at that store."""

    date_from: date
    date_to: date
    store_id: int | None = None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` (0 … 1) percentile by linear interpolation between closest ranks —
    Excel's PERCENTILE.INC, numpy's default: sort the n values, take position (n − 1) ×
    fraction (counted from 0), and interpolate between the two values around it. The median
    is the 0.5 percentile. None for no values.

    For 1, 2, 3, 4, 10 days: the median is 3, the 90th percentile is 4 + 0.6 × (10 − 4) = 7.6.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def share(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent with one decimal (half up); None when `whole` is 0."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class KindRow:
    """The repairs of one kind handed back in the range (the totals: `total` True)."""

    kind: RepairKind | None
    total: bool = False
    count: int = 0
    #: days from receipt to hand-back of each repair received with a known time
    days: list[float] = field(default_factory=list, repr=False)
    #: repairs with a promised date, and those of them handed back on or before it
    promised: int = 0
    on_time: int = 0
    #: quotes answered (a replaced quote counts for nothing)
    quotes_approved: int = 0
    quotes_declined: int = 0
    #: what each repair with an approved quote cost the customer
    costs: list[int] = field(default_factory=list, repr=False)
    #: median, 90th percentile and average cost as PostgreSQL aggregated them (no lists then)
    aggregated: tuple[float | None, float | None, Decimal | None] | None = None

    @property
    def median_days(self) -> float | None:
        if self.aggregated is not None:
            return self.aggregated[0]
        return percentile(self.days, 0.5)

    @property
    def p90_days(self) -> float | None:
        if self.aggregated is not None:
            return self.aggregated[1]
        return percentile(self.days, 0.9)

    @property
    def on_time_share(self) -> Decimal | None:
        return share(self.on_time, self.promised)

    @property
    def approval_rate(self) -> Decimal | None:
        return share(self.quotes_approved, self.quotes_approved + self.quotes_declined)

    @property
    def average_cost_yen(self) -> int | None:
        if self.aggregated is not None:
            average = self.aggregated[2]
        else:
            average = Decimal(sum(self.costs)) / len(self.costs) if self.costs else None
        return None if average is None else int(average.quantize(Decimal("1"), ROUND_HALF_UP))

    def add(self, other: KindRow) -> None:
        self.count += other.count
        self.days.extend(other.days)
        self.promised += other.promised
        self.on_time += other.on_time
        self.quotes_approved += other.quotes_approved
        self.quotes_declined += other.quotes_declined
        self.costs.extend(other.costs)


@dataclass(frozen=True)
class OverduePlace:
    """Where overdue repairs wait now: a store, or the repair centre (`location` may be None
    when no centre is set up), and how many."""

    location: Location | None
    centre: bool
    count: int


@dataclass
class TurnaroundReport:
    filters: TurnaroundFilters
    rows: list[KindRow]
    totals: KindRow
    #: open repairs past their promised date now, per place and one by one
    overdue_places: list[OverduePlace]
    overdue: list[Rma]

    @property
    def empty(self) -> bool:
        return not self.rows


def _at_store(store_id: int) -> Any:
    return sa.or_(
        RepairOrder.intake_location_id == store_id, RepairOrder.pickup_location_id == store_id
    )


def _handed_back_in(filters: TurnaroundFilters) -> list[Any]:
    start, end = utc_bounds(filters.date_from, filters.date_to)
    conditions = [RepairOrder.handed_back_at >= start, RepairOrder.handed_back_at < end]
    if filters.store_id is not None:
        conditions.append(_at_store(filters.store_id))
    return conditions


def _japan_date(moment: datetime) -> date:
    return moment.astimezone(TOKYO).date()


def turnaround_rows(filters: TurnaroundFilters) -> tuple[list[KindRow], KindRow]:
    """Per kind of repair (kinds in their own order, "not diagnosed" last) and in total:
    repairs handed back in the range, days from receipt to hand-back, the share handed back
    by the promised date (its Japan calendar day), the quote approval rate and the average
    cost of the approved repairs. PostgreSQL aggregates it in one query (years of repairs
    stay fast); elsewhere two queries, the repairs and their answered quotes, are summed up
    here with the same definitions."""
    conditions = _handed_back_in(filters)
    rows = _aggregated_rows(conditions) if is_postgresql() else _summed_rows(conditions)
    order = {kind: n for n, kind in enumerate(RepairKind)}
    totals = rows.pop("total", None) or KindRow(None, total=True)
    ordered = sorted(rows.values(), key=lambda r: order.get(r.kind, len(order)))  # type: ignore[arg-type]
    if totals.aggregated is None:
        for row in ordered:
            totals.add(row)
    return ordered, totals


def _aggregated_rows(conditions: list[Any]) -> dict[Any, KindRow]:
    """Per kind and in total (GROUPING SETS), with percentile_cont — the same linear
    interpolation as `percentile`."""
    quotes = (
        sa.select(
            RepairQuote.repair_id,
            sa.func.count().filter(RepairQuote.state == QuoteState.APPROVED).label("approved"),
            sa.func.count().filter(RepairQuote.state == QuoteState.DECLINED).label("declined"),
        )
        .where(RepairQuote.state.in_([QuoteState.APPROVED, QuoteState.DECLINED]))
        .group_by(RepairQuote.repair_id)
        .subquery()
    )
    days = (
        sa.extract("epoch", RepairOrder.handed_back_at - RepairOrder.received_at) / 86_400
    ).cast(sa.Float)
    handed_back_day = sa.cast(sa.func.timezone("Asia/Tokyo", RepairOrder.handed_back_at), sa.Date)
    stmt = (
        sa.select(
            RepairOrder.kind,
            sa.func.grouping(RepairOrder.kind),
            sa.func.count(),
            sa.func.percentile_cont(0.5).within_group(days),
            sa.func.percentile_cont(0.9).within_group(days),
            sa.func.count(RepairOrder.promised_on),
            sa.func.count().filter(handed_back_day <= RepairOrder.promised_on),
            sa.func.coalesce(sa.func.sum(quotes.c.approved), 0),
            sa.func.coalesce(sa.func.sum(quotes.c.declined), 0),
            sa.func.avg(RepairOrder.amount_due_yen).filter(quotes.c.approved > 0),
        )
        .outerjoin(quotes, quotes.c.repair_id == RepairOrder.id)
        .where(*conditions)
        .group_by(sa.func.grouping_sets(sa.tuple_(RepairOrder.kind), sa.tuple_()))
    )
    rows: dict[Any, KindRow] = {}
    for kind, grouped, count, median, p90, promised, on_time, yes, no, cost in db.session.execute(
        stmt
    ):
        if not count:
            continue
        row = KindRow(
            kind,
            total=bool(grouped),
            count=count,
            promised=promised,
            on_time=on_time,
            quotes_approved=int(yes),
            quotes_declined=int(no),
            aggregated=(median, p90, None if cost is None else Decimal(cost)),
        )
        rows["total" if grouped else kind] = row
    return rows


def _summed_rows(conditions: list[Any]) -> dict[Any, KindRow]:
    rows: dict[Any, KindRow] = {}
    kind_of: dict[int, RepairKind | None] = {}
    due: dict[int, int] = {}
    repairs = sa.select(
        RepairOrder.id,
        RepairOrder.kind,
        RepairOrder.received_at,
        RepairOrder.handed_back_at,
        RepairOrder.promised_on,
        RepairOrder.amount_due_yen,
    ).where(*conditions)
    for repair_id, kind, received_at, handed_back_at, promised_on, amount in db.session.execute(
        repairs
    ):
        row = rows.setdefault(kind, KindRow(kind))
        kind_of[repair_id], due[repair_id] = kind, amount
        row.count += 1
        if received_at is not None:
            row.days.append((handed_back_at - received_at).total_seconds() / 86_400)
        if promised_on is not None:
            row.promised += 1
            row.on_time += _japan_date(handed_back_at) <= promised_on

    answered = (
        sa.select(RepairQuote.repair_id, RepairQuote.state)
        .join(RepairOrder, RepairOrder.id == RepairQuote.repair_id)
        .where(*conditions, RepairQuote.state.in_([QuoteState.APPROVED, QuoteState.DECLINED]))
    )
    approved_repairs: set[int] = set()
    for repair_id, state in db.session.execute(answered):
        row = rows[kind_of[repair_id]]
        if state == QuoteState.APPROVED:
            row.quotes_approved += 1
            approved_repairs.add(repair_id)
        else:
            row.quotes_declined += 1
    for repair_id in sorted(approved_repairs):
        rows[kind_of[repair_id]].costs.append(due[repair_id])
    return rows


def where_now(rma: Rma) -> Location | None:
    """The store an open repair waits at (or is on its way back to); None: the centre's."""
    repair = rma.repair
    if rma.status in (S.ACCEPTED, S.AWAITING_ITEM):
        return rma.location
    pickup = repair is not None and repair.handback == Handback.STORE_PICKUP
    if rma.status == S.RETURNING or (rma.status == S.READY and pickup):
        return (repair.pickup_location if repair else None) or rma.location
    return None


def overdue_by_place(repairs: Iterable[Rma]) -> list[OverduePlace]:
    """Overdue repairs counted where they wait: each store (by code), then the centre."""
    stores: dict[int, tuple[Location, int]] = {}
    at_centre = 0
    for rma in repairs:
        place = where_now(rma)
        if place is None:
            at_centre += 1
        else:
            location, count = stores.get(place.id, (place, 0))
            stores[place.id] = (location, count + 1)
    places = [
        OverduePlace(location, False, count)
        for location, count in sorted(stores.values(), key=lambda s: s[0].code)
    ]
    if at_centre:
        centre = db.session.scalar(
            sa.select(Location)
            .where(Location.active, Location.kind == LocationKind.REPAIR_CENTRE)
            .order_by(Location.id)
        )
        places.append(OverduePlace(centre, True, at_centre))
    return places


def turnaround(filters: TurnaroundFilters, user: User, today: date) -> TurnaroundReport:
    """The turnaround page: figures of the range, and what is overdue today."""
    rows, totals = turnaround_rows(filters)
    overdue = overdue_repairs(user, today, store_id=filters.store_id)
    return TurnaroundReport(
        filters=filters,
        rows=rows,
        totals=totals,
        overdue_places=overdue_by_place(overdue),
        overdue=overdue,
    )
