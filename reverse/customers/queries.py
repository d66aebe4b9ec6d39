"""Finding a customer by whatever they can tell us, and their whole history as one timeline.

Read-only queries for the support console: plain typed functions, no request, no commit.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from reverse.catalog.models import Variant
from reverse.core.codes import parse_rma_number
from reverse.core.normalise import InvalidInput, code_text, nfkc, phone_display
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.repairs.models import RepairOrder, RepairQuote
from reverse.resale.models import ResaleItem, ResaleReservation
from reverse.resolution.models import Refund
from reverse.rmas.models import EventKind, Rma, RmaEvent, RmaLine
from reverse.shipping.models import Shipment

#: customers listed for one search; the page says when more matched
SEARCH_LIMIT = 50
#: orders and cases read for one customer page (newest first); older ones are left out
HISTORY_LIMIT = 200
#: timeline entries drawn on one page
TIMELINE_LIMIT = 400

_TRACKING_RE = re.compile(r"^\d{12}$")
# What a phone number, order number, RMA or tracking number can look like once normalised:
# no letters beyond a short prefix, no kana or kanji.
_CODE_RE = re.compile(r"^[A-Za-z]{0,4}[0-9][0-9A-Za-z()+\- ]*$")
# 0 + 9 or 10 digits (a Japanese number as written at home) or +country: read as a phone
_PHONE_LIKE_RE = re.compile(r"^(0\d{9,10}|\+\d{8,15})$")
_HIRAGANA = re.compile(r"[\u3041-\u3096]")


class QueryKind(enum.StrEnum):
    """What the support console decided was typed."""

    EMPTY = "empty"
    EMAIL = "email"
    PHONE = "phone"
    RMA = "rma"
    TRACKING = "tracking"
    ORDER = "order"
    NAME = "name"


@dataclass
class CustomerRow:
    """One customer in the search results, with the counts an agent checks first."""

    customer: Customer
    orders: int = 0
    cases: int = 0
    last_activity: datetime | None = None


@dataclass
class SearchResult:
    kind: QueryKind
    rows: list[CustomerRow] = field(default_factory=list)
    #: how many customers matched in all (rows holds at most the limit)
    total: int = 0
    #: an exact identifier: go straight to this customer
    customer_id: int | None = None
    #: the case the identifier points at (RMA or tracking number), to highlight
    rma_number: str | None = None
    #: the order the identifier points at, to highlight
    order_id: int | None = None

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


# -- search ------------------------------------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _katakana(text: str) -> str:
    """Hiragana typed where the reading is stored in katakana (やまだ → ヤマダ)."""
    return _HIRAGANA.sub(lambda m: chr(ord(m.group()) + 0x60), text)


def _no_spaces(column: Any) -> Any:
    # Names are stored as typed: "山田 花子" must match "山田花子" and the other way round.
    return sa.func.replace(sa.func.replace(column, " ", ""), "\u3000", "")


def _customers_matching(condition: Any, *, limit: int) -> tuple[list[Customer], int]:
    total = db.session.scalar(sa.select(sa.func.count(Customer.id)).where(condition)) or 0
    stmt = sa.select(Customer).where(condition).order_by(Customer.name_kana, Customer.id)
    return list(db.session.scalars(stmt.limit(limit))), total


def _rows(customers: list[Customer]) -> list[CustomerRow]:
    """Order and case counts and the last activity of each, in three grouped queries."""
    ids = [c.id for c in customers]
    if not ids:
        return []
    orders = {
        cid: (n, last)
        for cid, n, last in db.session.execute(
            sa.select(Order.customer_id, sa.func.count(Order.id), sa.func.max(Order.ordered_at))
            .where(Order.customer_id.in_(ids))
            .group_by(Order.customer_id)
        )
    }
    cases = {
        cid: n
        for cid, n in db.session.execute(
            sa.select(Rma.customer_id, sa.func.count(Rma.id))
            .where(Rma.customer_id.in_(ids))
            .group_by(Rma.customer_id)
        )
    }
    events = {
        cid: last
        for cid, last in db.session.execute(
            sa.select(Rma.customer_id, sa.func.max(RmaEvent.created_at))
            .join(RmaEvent, RmaEvent.rma_id == Rma.id)
            .where(Rma.customer_id.in_(ids))
            .group_by(Rma.customer_id)
        )
    }
    rows = []
    for customer in customers:
        n_orders, last_order = orders.get(customer.id, (0, None))
        times = [t for t in (last_order, events.get(customer.id)) if t is not None]
        rows.append(
            CustomerRow(
                customer=customer,
                orders=n_orders,
                cases=cases.get(customer.id, 0),
                last_activity=max(times) if times else None,
            )
        )
    return rows


def _exact(kind: QueryKind, customer_id: int, **highlight: Any) -> SearchResult:
    customer = db.session.get(Customer, customer_id)
    assert customer is not None  # a foreign key points at it
    return SearchResult(
        kind=kind, rows=_rows([customer]), total=1, customer_id=customer_id, **highlight
    )


def _by_rma(text: str) -> SearchResult | None:
    number = parse_rma_number(text)
    if number is None:
        return None
    customer_id = db.session.scalar(sa.select(Rma.customer_id).where(Rma.number == number))
    return _exact(QueryKind.RMA, customer_id, rma_number=number) if customer_id else None


def _by_tracking(digits: str) -> SearchResult | None:
    if not _TRACKING_RE.match(digits):
        return None
    row = db.session.execute(
        sa.select(Rma.customer_id, Rma.number)
        .join(Shipment, Shipment.rma_id == Rma.id)
        .where(Shipment.tracking_number == digits)
        .order_by(Shipment.id.desc())
        .limit(1)
    ).first()
    return _exact(QueryKind.TRACKING, row[0], rma_number=row[1]) if row else None


def _by_order(text: str, *, limit: int) -> SearchResult | None:
    candidates = {text, text.upper(), text.replace(" ", "")}
    found = db.session.execute(
        sa.select(Order.id, Order.customer_id)
        .where(Order.number.in_(candidates), Order.customer_id.is_not(None))
        .limit(limit + 1)
    ).all()
    if not found:
        return None
    customer_ids = {cid for _oid, cid in found}
    if len(customer_ids) == 1:
        return _exact(QueryKind.ORDER, found[0][1], order_id=found[0][0])
    # The same receipt number in two channels: let the agent pick the customer.
    customers, total = _customers_matching(Customer.id.in_(customer_ids), limit=limit)
    return SearchResult(kind=QueryKind.ORDER, rows=_rows(customers), total=total)


def phone_matches(e164: str) -> sa.ColumnElement[bool]:
    """Customers with this number. E.164 is how our forms store it; records created by
    imports or older code may hold the number as written at home, with or without hyphens."""
    written = {e164, phone_display(e164), phone_display(e164).replace("-", "")}
    return Customer.phone.in_(written)


def _by_phone(text: str, *, limit: int) -> SearchResult | None:
    try:
        e164 = normalise_phone(text)
    except InvalidInput:
        return None
    customers, total = _customers_matching(phone_matches(e164), limit=limit)
    return SearchResult(kind=QueryKind.PHONE, rows=_rows(customers), total=total)


def _by_email(text: str, *, limit: int) -> SearchResult:
    try:
        condition = Customer.email == normalise_email(text)
    except InvalidInput:
        # Half an address ("hanako@exa"): a partial match is still useful on the phone.
        condition = Customer.email.ilike(f"%{_like_escape(text.lower())}%", escape="\\")
    customers, total = _customers_matching(condition, limit=limit)
    return SearchResult(kind=QueryKind.EMAIL, rows=_rows(customers), total=total)


def _by_name(text: str, *, limit: int) -> SearchResult:
    term = _like_escape(text.replace(" ", "").lower())
    kana = _like_escape(_katakana(text.replace(" ", "")))
    condition = sa.or_(
        _no_spaces(Customer.name).ilike(f"%{term}%", escape="\\"),
        _no_spaces(Customer.name_kana).ilike(f"%{kana}%", escape="\\"),
        # the local part of an address ("hanako" finds hanako@example.jp)
        Customer.email.ilike(f"%{term}%@%", escape="\\"),
    )
    customers, total = _customers_matching(condition, limit=limit)
    return SearchResult(kind=QueryKind.NAME, rows=_rows(customers), total=total)


def detect_kind(query: str) -> QueryKind:
    """What the text most likely is, for the message when nothing matched."""
    text = code_text(query)
    if not text:
        return QueryKind.EMPTY
    if "@" in text:
        return QueryKind.EMAIL
    if parse_rma_number(text):
        return QueryKind.RMA
    digits = text.replace("-", "").replace(" ", "")
    if _TRACKING_RE.match(digits):
        return QueryKind.TRACKING
    if _PHONE_LIKE_RE.match(digits):
        return QueryKind.PHONE
    if _CODE_RE.match(text):
        return QueryKind.ORDER
    return QueryKind.NAME


def search_customers(query: str, *, limit: int = SEARCH_LIMIT) -> SearchResult:
    """Customers matching what a caller told us: an email, a phone number, an RMA, tracking,
    order or receipt number (exact), or part of a name in kanji or kana (partial).

    Numbers are tried from the most specific to the least: a 10-digit landline can also read
    as an RMA number, and only what exists wins.
    """
    text = nfkc(query)
    code = code_text(query)
    if not text:
        return SearchResult(kind=QueryKind.EMPTY)
    if "@" in text:
        return _by_email(text, limit=limit)
    if _CODE_RE.match(code):
        digits = code.replace("-", "").replace(" ", "")
        for attempt in (
            lambda: _by_rma(code),
            lambda: _by_tracking(digits),
            lambda: _by_order(code, limit=limit),
            lambda: _by_phone(code, limit=limit),
        ):
            result = attempt()
            if result is not None and result.total:
                return result
        if not re.search(r"[A-Za-z]{2}", code):
            return SearchResult(kind=detect_kind(query))
    return _by_name(text, limit=limit)


# -- the customer's history --------------------------------------------------------------------


class EntryKind(enum.StrEnum):
    ORDER = "order"
    CASE_OPENED = "created"
    STATUS = "status_changed"
    NOTE = "note"
    MESSAGE = "message"
    REFUND = "refund"
    QUOTE = "quote"
    RESERVATION = "reservation"


class TimelineFilter(enum.StrEnum):
    ALL = "all"
    ORDERS = "orders"
    CASES = "cases"
    REFUNDS = "refunds"
    MESSAGES = "messages"


_EVENT_ENTRY = {
    EventKind.CREATED: EntryKind.CASE_OPENED,
    EventKind.STATUS_CHANGED: EntryKind.STATUS,
    EventKind.NOTE: EntryKind.NOTE,
    EventKind.MESSAGE: EntryKind.MESSAGE,
}
_FILTERS = {
    TimelineFilter.ORDERS: {EntryKind.ORDER, EntryKind.RESERVATION},
    TimelineFilter.CASES: {
        EntryKind.CASE_OPENED,
        EntryKind.STATUS,
        EntryKind.NOTE,
        EntryKind.MESSAGE,
        EntryKind.QUOTE,
    },
    TimelineFilter.REFUNDS: {EntryKind.REFUND},
    TimelineFilter.MESSAGES: {EntryKind.MESSAGE},
}


@dataclass
class Entry:
    """One line of the customer's timeline; exactly one of the objects is set (with its case
    for events, refunds and quotes)."""

    at: datetime
    kind: EntryKind
    rma: Rma | None = None
    order: Order | None = None
    event: RmaEvent | None = None
    refund: Refund | None = None
    quote: RepairQuote | None = None
    reservation: ResaleReservation | None = None


@dataclass
class History:
    customer: Customer
    orders: list[Order]
    rmas: list[Rma]
    refunds: list[Refund]
    quotes: list[RepairQuote]
    reservations: list[ResaleReservation]
    entries: list[Entry]
    #: entries before the filter and the page limit
    total_entries: int
    #: orders or cases beyond HISTORY_LIMIT were left out
    truncated: bool
    counts: dict[TimelineFilter, int]

    @property
    def open_rmas(self) -> list[Rma]:
        return [rma for rma in self.rmas if rma.is_open]

    @property
    def address_lines(self) -> list[str]:
        """The address of the customer's latest case that has one (customers have none)."""
        for rma in self.rmas:
            if rma.ship_address_lines:
                return rma.ship_address_lines
        return []

    @property
    def address_rma(self) -> Rma | None:
        return next((rma for rma in self.rmas if rma.ship_postal_code), None)


def _line_options() -> Any:
    return joinedload(RmaLine.variant).joinedload(Variant.product)


def customer_history(
    customer: Customer,
    *,
    only: TimelineFilter = TimelineFilter.ALL,
    limit: int = HISTORY_LIMIT,
    entry_limit: int = TIMELINE_LIMIT,
) -> History:
    """Everything we know about one customer, newest first, in a fixed number of queries."""
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.customer_id == customer.id)
            .order_by(Order.ordered_at.desc(), Order.id.desc())
            .limit(limit + 1)
            .options(
                joinedload(Order.channel),
                joinedload(Order.location),
                selectinload(Order.lines).joinedload(OrderLine.variant).joinedload(Variant.product),
            )
        )
    )
    rmas = list(
        db.session.scalars(
            sa.select(Rma)
            .where(Rma.customer_id == customer.id)
            .order_by(Rma.created_at.desc(), Rma.id.desc())
            .limit(limit + 1)
            .options(
                joinedload(Rma.channel),
                joinedload(Rma.location),
                selectinload(Rma.events),
                selectinload(Rma.lines).options(_line_options()),
            )
        )
    )
    truncated = len(orders) > limit or len(rmas) > limit
    orders, rmas = orders[:limit], rmas[:limit]
    rma_ids = [rma.id for rma in rmas]
    refunds = (
        list(db.session.scalars(sa.select(Refund).where(Refund.rma_id.in_(rma_ids))))
        if rma_ids
        else []
    )
    quotes = (
        list(
            db.session.scalars(
                sa.select(RepairQuote)
                .join(RepairOrder, RepairQuote.repair_id == RepairOrder.id)
                .where(RepairOrder.rma_id.in_(rma_ids))
                .options(joinedload(RepairQuote.repair))
            )
        )
        if rma_ids
        else []
    )
    reservations = list(
        db.session.scalars(
            sa.select(ResaleReservation)
            .where(ResaleReservation.customer_id == customer.id)
            .order_by(ResaleReservation.created_at.desc())
            .limit(limit)
            .options(
                joinedload(ResaleReservation.item)
                .joinedload(ResaleItem.variant)
                .joinedload(Variant.product),
                joinedload(ResaleReservation.pickup_location),
            )
        )
    )

    by_id = {rma.id: rma for rma in rmas}
    entries: list[Entry] = [Entry(o.ordered_at, EntryKind.ORDER, order=o) for o in orders]
    for rma in rmas:
        entries.extend(
            Entry(e.created_at, _EVENT_ENTRY[e.kind], rma=rma, event=e) for e in rma.events
        )
    entries.extend(
        Entry(r.created_at, EntryKind.REFUND, rma=by_id.get(r.rma_id), refund=r) for r in refunds
    )
    entries.extend(
        Entry(q.created_at, EntryKind.QUOTE, rma=by_id.get(q.repair.rma_id), quote=q)
        for q in quotes
    )
    entries.extend(Entry(r.created_at, EntryKind.RESERVATION, reservation=r) for r in reservations)
    # Newest first; the order of creation breaks ties (events made in one transaction).
    entries.sort(key=lambda e: (e.at, _tiebreak(e)), reverse=True)

    counts: dict[TimelineFilter, int] = defaultdict(int)
    counts[TimelineFilter.ALL] = len(entries)
    for entry in entries:
        for name, kinds in _FILTERS.items():
            if entry.kind in kinds:
                counts[name] += 1
    shown = entries
    if only != TimelineFilter.ALL:
        shown = [e for e in entries if e.kind in _FILTERS[only]]
    return History(
        customer=customer,
        orders=orders,
        rmas=rmas,
        refunds=refunds,
        quotes=quotes,
        reservations=reservations,
        entries=shown[:entry_limit],
        total_entries=len(shown),
        truncated=truncated,
        counts=dict(counts),
    )


def _tiebreak(entry: Entry) -> int:
    if entry.event is not None:
        return entry.event.id
    return 0


def contact_prefill(customer: Customer) -> dict[str, str]:
    """The contact fields of the filing form for a known customer: what we hold about them,
    and the address of their latest case that had one."""
    fields = {
        "name": customer.name,
        "name_kana": customer.name_kana,
        "email": customer.email or "",
        "phone": phone_display(customer.phone),
        "locale": customer.locale,
    }
    rma = db.session.scalar(
        sa.select(Rma)
        .where(Rma.customer_id == customer.id, Rma.ship_postal_code != "")
        .order_by(Rma.created_at.desc(), Rma.id.desc())
        .limit(1)
    )
    if rma is not None:
        fields.update(
            postal_code=rma.ship_postal_code,
            prefecture=rma.ship_prefecture,
            city=rma.ship_city,
            street=rma.ship_street,
            building=rma.ship_building,
        )
    return fields
