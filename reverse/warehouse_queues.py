"""The warehouse's work queues — cases waiting for their parcel, for inspection, for a decision —
with the age of each case against its service level (SLA), counted and paged in SQL."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination

from reverse.auth.models import User
from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel, Location
from reverse.core.codes import format_rma_number
from reverse.core.db import UTCDateTime
from reverse.core.normalise import phone_display
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaLine
from reverse.rmas.policies import scope_rmas


class QueueName(enum.StrEnum):
    RECEIPT = "receipt"
    INSPECTION = "inspection"
    DECISION = "decision"


class SlaState(enum.StrEnum):
    OK = "ok"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class QueueSpec:
    name: QueueName
    #: the statuses a case waits in while it is in this queue
    statuses: tuple[RmaStatus, ...]
    #: the setting holding the SLA, and the unit it is given in
    setting: str
    unit: str
    label: Any
    #: what the people working the queue do next, shown above its rows
    lead: Any


#: the three queues, in the order a case passes through them
QUEUES: dict[QueueName, QueueSpec] = {
    spec.name: spec
    for spec in (
        QueueSpec(
            QueueName.RECEIPT,
            (RmaStatus.AWAITING_ITEM, RmaStatus.IN_TRANSIT),
            "SLA_RECEIPT_DAYS",
            "days",
            _l("Awaiting receipt"),
            _l(
                "Parcels we are waiting for. Overdue cases come first: chase the carrier "
                "or the customer."
            ),
        ),
        QueueSpec(
            QueueName.INSPECTION,
            (RmaStatus.RECEIVED,),
            "SLA_INSPECTION_HOURS",
            "hours",
            _l("Awaiting inspection"),
            _l("Received and not yet inspected, oldest first."),
        ),
        QueueSpec(
            QueueName.DECISION,
            (RmaStatus.INSPECTED,),
            "SLA_DECISION_HOURS",
            "hours",
            _l("Awaiting decision"),
            _l("Inspected; the refund, credit or exchange is still to be decided, oldest first."),
        ),
    )
}

#: only returns and exchanges pass through a returns centre (repairs go to the repair centre)
QUEUE_TYPES = (RmaType.RETURN, RmaType.EXCHANGE)


def sla_of(spec: QueueSpec, config: Mapping[str, Any]) -> timedelta:
    """How long a case may wait in this queue, from the settings."""
    amount = float(config[spec.setting])
    return timedelta(days=amount) if spec.unit == "days" else timedelta(hours=amount)


def due_soon_fraction(config: Mapping[str, Any]) -> float:
    return float(config["SLA_DUE_SOON_PERCENT"]) / 100


def sla_state(age: timedelta, sla: timedelta, due_soon: float) -> SlaState:
    """Overdue once a case is older than its SLA (exactly at the SLA it is still due soon);
    due soon from `due_soon` (a fraction) of the SLA on."""
    if age > sla:
        return SlaState.OVERDUE
    if age >= sla * due_soon:
        return SlaState.DUE_SOON
    return SlaState.OK


@dataclass(frozen=True)
class QueueRow:
    """One case as a queue shows it (plain values: the page needs no ORM objects)."""

    number: str
    type: RmaType
    status: RmaStatus
    customer_name: str
    #: units asked for across the case's lines
    items: int
    channel: ChannelCode
    location_ja: str | None
    location_en: str | None
    status_changed_at: datetime
    age: timedelta
    sla: SlaState

    @property
    def display_number(self) -> str:
        return format_rma_number(self.number)

    def location(self, locale: str) -> str | None:
        return self.location_ja if locale == "ja" else self.location_en


@dataclass(frozen=True)
class QueueCount:
    total: int
    overdue: int


class RowsPage(Pagination):
    """A page of rows fetched by one query, whose total is already known (from the counts)."""

    def _query_items(self) -> list[Any]:
        return self._query_args["fetch"](self._query_offset, self.per_page)

    def _query_count(self) -> int:
        return self._query_args["total"]


def _scoped(stmt: sa.Select, user: User, location_id: int | None) -> sa.Select:
    """The cases of the queues this user may work on: returns and exchanges, of their own
    location when they have one; otherwise of `location_id` when given, else everywhere."""
    stmt = scope_rmas(stmt, user).where(Rma.type.in_(QUEUE_TYPES))
    here = user.location_id if user.location_id is not None else location_id
    if here is not None:
        stmt = stmt.where(Rma.location_id == here)
    return stmt


def _overdue_before(spec: QueueSpec, config: Mapping[str, Any], now: datetime) -> Any:
    """The moment before which a case of this queue is overdue, as a typed SQL literal."""
    return sa.literal(now - sla_of(spec, config), UTCDateTime())


def queue_counts(
    user: User, config: Mapping[str, Any], now: datetime, *, location_id: int | None = None
) -> dict[QueueName, QueueCount]:
    """Cases and overdue cases per queue, in one grouped query."""
    statuses = [s for spec in QUEUES.values() for s in spec.statuses]
    cutoff = sa.case(
        *[
            (Rma.status.in_(spec.statuses), _overdue_before(spec, config, now))
            for spec in QUEUES.values()
        ],
    )
    overdue = sa.func.sum(sa.case((Rma.status_changed_at < cutoff, 1), else_=0))
    stmt = _scoped(
        sa.select(Rma.status, sa.func.count(), overdue).where(Rma.status.in_(statuses)),
        user,
        location_id,
    ).group_by(Rma.status)
    by_status = {status: (n, int(late or 0)) for status, n, late in db.session.execute(stmt)}
    return {
        name: QueueCount(
            total=sum(by_status.get(s, (0, 0))[0] for s in spec.statuses),
            overdue=sum(by_status.get(s, (0, 0))[1] for s in spec.statuses),
        )
        for name, spec in QUEUES.items()
    }


def _rows_statement(spec: QueueSpec, user: User, location_id: int | None) -> sa.Select:
    """The queue's rows, oldest first: with one SLA per queue the oldest cases are exactly the
    overdue ones, so overdue cases lead the queue. Page with .limit() / .offset()."""
    # OFFSET 0 fences the subquery: PostgreSQL then finds the waiting cases by status and sorts
    # them, instead of walking the status_changed_at index from the oldest case on file —
    # through every settled case first, since settled cases are the old ones.
    waiting = (
        _scoped(
            sa.select(Rma.id, Rma.status_changed_at).where(Rma.status.in_(spec.statuses)),
            user,
            location_id,
        )
        .offset(0)
        .subquery("waiting")
    )
    return sa.select(waiting).order_by(waiting.c.status_changed_at, waiting.c.id)


def _with_details(page: sa.Subquery) -> sa.Select:
    """One page of waiting cases with what a row shows, in the page's order."""
    items = (
        sa.select(sa.func.coalesce(sa.func.sum(RmaLine.quantity), 0))
        .where(RmaLine.rma_id == Rma.id)
        .correlate(Rma)
        .scalar_subquery()
    )
    return (
        sa.select(
            Rma.number,
            Rma.type,
            Rma.status,
            Rma.status_changed_at,
            Customer.name,
            Customer.email,
            Customer.phone,
            Channel.code,
            Location.name_ja,
            Location.name_en,
            items.label("items"),
        )
        .join(page, page.c.id == Rma.id)
        .join(Customer, Customer.id == Rma.customer_id)
        .join(Channel, Channel.id == Rma.channel_id)
        .outerjoin(Location, Location.id == Rma.location_id)
        .order_by(page.c.status_changed_at, page.c.id)
    )


def queue_page(
    name: QueueName,
    user: User,
    config: Mapping[str, Any],
    now: datetime,
    *,
    total: int,
    page: int = 1,
    per_page: int = 50,
    location_id: int | None = None,
) -> RowsPage:
    """One page of a queue, fetched in one query; `total` comes from `queue_counts`."""
    spec = QUEUES[name]
    sla = sla_of(spec, config)
    fraction = due_soon_fraction(config)
    stmt = _rows_statement(spec, user, location_id)

    def fetch(offset: int, limit: int) -> list[QueueRow]:
        page_ = stmt.offset(offset).limit(limit).subquery("page")
        rows = db.session.execute(_with_details(page_))
        return [_row(r, now, sla, fraction) for r in rows]

    return RowsPage(
        page=page, per_page=per_page, max_per_page=None, error_out=False, fetch=fetch, total=total
    )


def _row(r: sa.Row, now: datetime, sla: timedelta, fraction: float) -> QueueRow:
    age = max(now - r.status_changed_at, timedelta(0))
    return QueueRow(
        number=r.number,
        type=r.type,
        status=r.status,
        customer_name=r.name or r.email or phone_display(r.phone),
        items=int(r.items),
        channel=r.code,
        location_ja=r.name_ja,
        location_en=r.name_en,
        status_changed_at=r.status_changed_at,
        age=age,
        sla=sla_state(age, sla, fraction),
    )


def age_parts(age: timedelta) -> tuple[int, str]:
    """The age in the largest whole unit that is at least one: (3, "days"), (5, "hours"),
    (12, "minutes")."""
    seconds = int(age.total_seconds())
    if seconds >= 86_400:
        return seconds // 86_400, "days"
    if seconds >= 3_600:
        return seconds // 3_600, "hours"
    return seconds // 60, "minutes"
