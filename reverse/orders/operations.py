"""Writing orders, shared by the CSV import and the API: customers matched by email or phone
(new ones created), orders upserted by channel and number, set-based (a few queries however
many orders). Lines of an order that a return, exchange or repair points at are never
replaced. Flushes; never commits.

Concurrent writers are serialised where they would otherwise race (two pushes of one new
order, two new orders of one new customer): on PostgreSQL by transaction-scoped advisory
locks — one for creating customers, one per channel for its orders — taken in that order;
SQLite runs every transaction `BEGIN IMMEDIATE`, one writer at a time.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import joinedload, selectinload

from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel, Location, Variant
from reverse.core.db import is_postgresql, utcnow
from reverse.core.errors import DomainError
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.rmas.models import RmaLine

#: rows per IN (…) list: below SQLite's smallest variable limit
CHUNK = 900


class Written(enum.StrEnum):
    """What writing one order did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    #: its lines differ but a case points at them: nothing was written
    HELD = "held"


class ContactRecord(Protocol):
    """An order's customer as a file row or an API payload gives it (normalised)."""

    email: str | None
    phone: str | None
    name: str
    customer_id: int | None


class OrderRecord(Protocol):
    number: str
    ordered_at: datetime
    delivered_at: datetime | None
    customer_id: int | None
    location_id: int | None

    def line_values(self) -> list[tuple]:
        """(variant_id, quantity, unit_price_yen, discount_yen, final_sale) in line order."""
        ...


@dataclass
class WriteResult:
    #: per order, in the order given
    outcomes: list[Written] = field(default_factory=list)
    lines_written: int = 0


# -- set-based helpers -------------------------------------------------------------------------


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def is_in(column: sa.ColumnElement, values: Iterable[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """`column IN values` as few conditions as the database allows: one `= ANY(array)` on
    PostgreSQL (one parameter, however many values), IN lists of CHUNK values on SQLite."""
    wanted = sorted(set(values))
    if not wanted:
        return
    if is_postgresql():
        yield column == sa.any_(sa.bindparam(None, wanted, type_=postgresql.ARRAY(column.type)))
        return
    for chunk in chunks(wanted):
        yield column.in_(chunk)


def lookup(column: sa.ColumnElement, wanted: Iterable[Any], *selected: Any) -> list[sa.Row]:
    found: list[sa.Row] = []
    for condition in is_in(column, wanted):
        found.extend(db.session.execute(sa.select(*selected).where(condition)).all())
    return found


def insert_rows(table: sa.Table, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert many rows; with `ids`, their new ids in the order of `rows`.

    PostgreSQL: COPY (after taking the ids from the sequence in one query), several times
    faster than an INSERT executemany of the same rows. Elsewhere: executemany."""
    if not rows:
        return []
    columns = list(rows[0])
    if not is_postgresql():
        if not ids:
            db.session.execute(table.insert(), rows)
            return []
        stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return list(db.session.scalars(stmt, rows))
    new_ids: list[int] = []
    if ids:
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        new_ids = list(
            db.session.scalars(
                sa.select(sa.func.nextval(sequence)).select_from(
                    sa.func.generate_series(1, len(rows))
                )
            )
        )
        columns = ["id", *columns]
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        write = copy.write_row
        if ids:
            for new_id, row in zip(new_ids, rows, strict=True):
                write((new_id, *row.values()))
        else:
            for row in rows:
                write(tuple(row.values()))
    return new_ids


def match_customers(orders: Sequence[ContactRecord]) -> None:
    """Set each order's `customer_id`: an existing customer by email, then phone; the
    others created in one insert (merged by email or phone across `orders`)."""
    emails = {o.email for o in orders if o.email}
    phones = {o.phone for o in orders if o.phone}
    if not emails and not phones:
        return
    by_email, by_phone = _known_customers(emails, phones)
    if any(
        (o.email or o.phone)
        and (o.email is None or o.email not in by_email)
        and (o.phone is None or o.phone not in by_phone)
        for o in orders
    ):
        # Some are new: look again under the lock, where a concurrent writer's new
        # customers are committed and visible.
        _serialise("customers")
        by_email, by_phone = _known_customers(emails, phones)
    # customers new to us, merged by email or phone across the file: index → values
    new: list[dict[str, Any]] = []
    new_email: dict[str, int] = {}
    new_phone: dict[str, int] = {}
    pending: list[tuple[ContactRecord, int]] = []
    for order in orders:
        if not (order.email or order.phone):
            continue
        known = by_email.get(order.email) if order.email else None
        if known is None and order.phone:
            known = by_phone.get(order.phone)
        if known is not None:
            order.customer_id = known
            continue
        k = new_email.get(order.email) if order.email else None
        if k is None and order.phone:
            k = new_phone.get(order.phone)
        if k is None:
            k = len(new)
            new.append({"email": None, "phone": None, "name": order.name})
        entry = new[k]
        if order.email and entry["email"] is None:
            entry["email"] = order.email
            new_email[order.email] = k
        if order.phone and entry["phone"] is None and order.phone not in new_phone:
            entry["phone"] = order.phone
            new_phone[order.phone] = k
        entry["name"] = entry["name"] or order.name
        pending.append((order, k))
    if not new:
        return
    now = utcnow()
    rows = [
        e | {"name_kana": "", "locale": "ja", "created_at": now, "updated_at": now} for e in new
    ]
    ids = insert_rows(Customer.__table__, rows, ids=True)
    for order, k in pending:
        order.customer_id = ids[k]


def _known_customers(emails: set[str], phones: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    by_email = dict(lookup(Customer.email, emails, Customer.email, Customer.id))
    by_phone = dict(lookup(Customer.phone, phones, Customer.phone, Customer.id))
    return by_email, by_phone


def _serialise(name: str) -> None:
    """Wait for, then hold until the end of the transaction, the lock called `name`
    (PostgreSQL; SQLite transactions already run one at a time)."""
    if is_postgresql():
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def write_orders(orders: Sequence[OrderRecord], channel: Channel) -> WriteResult:
    """Create or update `orders` (distinct numbers) in `channel`, customers already matched.

    An existing order keeps its customer, location and delivery time when the new data has
    none; its lines are replaced when they differ — unless a case points at them (HELD:
    nothing of that order is written)."""
    result = WriteResult()
    _serialise(f"orders:{channel.id}")
    existing: dict[str, sa.Row] = {}
    for condition in is_in(Order.number, (o.number for o in orders)):
        stmt = sa.select(
            Order.number,
            Order.id,
            Order.customer_id,
            Order.location_id,
            Order.ordered_at,
            Order.delivered_at,
        ).where(Order.channel_id == channel.id, condition)
        existing.update((row.number, row) for row in db.session.execute(stmt))
    ids = [r.id for r in existing.values()]
    old_lines: dict[int, list[sa.Row]] = {}
    for row in lookup(
        OrderLine.order_id,
        ids,
        OrderLine.order_id,
        OrderLine.id,
        OrderLine.variant_id,
        OrderLine.quantity,
        OrderLine.unit_price_yen,
        OrderLine.discount_yen,
        OrderLine.final_sale,
    ):
        old_lines.setdefault(row.order_id, []).append(row)
    held = orders_with_rmas(ids)

    now = utcnow()
    to_create: list[OrderRecord] = []
    to_replace: list[tuple[OrderRecord, int]] = []
    header_updates: list[dict[str, Any]] = []
    for order in orders:
        current = existing.get(order.number)
        if current is None:
            to_create.append(order)
            result.outcomes.append(Written.CREATED)
            continue
        wanted = order.line_values()
        have = [
            (r.variant_id, r.quantity, r.unit_price_yen, r.discount_yen, bool(r.final_sale))
            for r in sorted(old_lines.get(current.id, []), key=lambda r: r.id)
        ]
        header = {
            "customer_id": order.customer_id or current.customer_id,
            "location_id": order.location_id or current.location_id,
            "ordered_at": order.ordered_at,
            "delivered_at": order.delivered_at or current.delivered_at,
        }
        header_same = (
            header["customer_id"] == current.customer_id
            and header["location_id"] == current.location_id
            and header["ordered_at"] == current.ordered_at
            and header["delivered_at"] == current.delivered_at
        )
        lines_same = wanted == have
        if lines_same and header_same:
            result.outcomes.append(Written.UNCHANGED)
            continue
        if not lines_same and current.id in held:
            result.outcomes.append(Written.HELD)
            continue
        header_updates.append(header | {"b_id": current.id, "updated_at": now})
        if not lines_same:
            to_replace.append((order, current.id))
        result.outcomes.append(Written.UPDATED)

    table = Order.__table__
    if header_updates:
        db.session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("b_id"))
            .values(
                customer_id=sa.bindparam("customer_id"),
                location_id=sa.bindparam("location_id"),
                ordered_at=sa.bindparam("ordered_at"),
                delivered_at=sa.bindparam("delivered_at"),
                updated_at=sa.bindparam("updated_at"),
            ),
            header_updates,
            execution_options={"synchronize_session": False},
        )
    for condition in is_in(OrderLine.order_id, (order_id for _, order_id in to_replace)):
        db.session.execute(sa.delete(OrderLine.__table__).where(condition))

    if to_create:
        new_ids = insert_rows(
            table,
            [
                {
                    "channel_id": channel.id,
                    "number": o.number,
                    "customer_id": o.customer_id,
                    "location_id": o.location_id,
                    "ordered_at": o.ordered_at,
                    "delivered_at": o.delivered_at,
                    "created_at": now,
                    "updated_at": now,
                }
                for o in to_create
            ],
            ids=True,
        )
        to_replace.extend(zip(to_create, new_ids, strict=True))
    lines = [
        dict(zip(LINE_COLUMNS, (order_id, *line), strict=True))
        for order, order_id in to_replace
        for line in order.line_values()
    ]
    insert_rows(OrderLine.__table__, lines)
    result.lines_written = len(lines)
    return result


LINE_COLUMNS = (
    "order_id",
    "variant_id",
    "quantity",
    "unit_price_yen",
    "discount_yen",
    "final_sale",
)


def orders_with_rmas(order_ids: Sequence[int]) -> set[int]:
    """Orders whose lines a return, exchange or repair points at: their lines must stay."""
    held: set[int] = set()
    for condition in is_in(OrderLine.order_id, order_ids):
        held.update(
            db.session.scalars(
                sa.select(OrderLine.order_id)
                .join(RmaLine, RmaLine.order_line_id == OrderLine.id)
                .where(condition)
                .distinct()
            )
        )
    return held


# -- orders pushed one by one or in batches (the API) -------------------------------------------


class OrderError(DomainError):
    """An order names a channel, store or SKU that does not exist: 422 with field details."""

    code = "validation_error"


class OrderLinesHeld(DomainError):
    """New lines for an order whose lines a case points at: they are kept as they are."""

    status = 409
    code = "order_lines_held"


@dataclass
class OrderInput:
    """One order as a channel pushes it, resolved against the catalogue (an OrderRecord)."""

    channel: Channel
    number: str
    ordered_at: datetime
    delivered_at: datetime | None
    location_id: int | None
    email: str | None
    phone: str | None
    name: str
    lines: list[tuple[int, int, int, int, bool]]
    customer_id: int | None = None

    def line_values(self) -> list[tuple]:
        return list(self.lines)


def _put(details: dict[str, Any], index: int, problems: dict[str, Any], bulk: bool) -> None:
    """File one order's problems: under orders.<index> in a batch, at the top for one order."""
    if bulk:
        details.setdefault("orders", {})[str(index)] = problems
    else:
        details.update(problems)


def _resolve(items: Sequence[dict[str, Any]], bulk: bool) -> list[OrderInput]:
    """Channels, locations and SKUs of the orders (as OrderCreateSchema loads them) looked up
    in three queries; OrderError names every one that is unknown."""
    channels = {
        c.code: c
        for c in db.session.scalars(
            sa.select(Channel).where(Channel.code.in_({i["channel"] for i in items}))
        )
    }
    codes = {i["location"] for i in items if i.get("location")}
    locations = {
        code.upper(): lid
        for code, lid in db.session.execute(
            sa.select(Location.code, Location.id).where(sa.func.upper(Location.code).in_(codes))
        )
    }
    skus = {line["sku"] for i in items for line in i["lines"]}
    variants = dict(lookup(Variant.sku, skus, Variant.sku, Variant.id))
    problems: dict[str, Any] = {}
    resolved = []
    for index, item in enumerate(items):
        found: dict[str, Any] = {}
        channel = channels.get(item["channel"])
        if channel is None:
            found["channel"] = [_l("No channel %(code)s is set up.", code=item["channel"].value)]
        location_id = locations.get(item["location"]) if item.get("location") else None
        if item.get("location") and location_id is None:
            found["location"] = [
                _l("No store or counter has the code %(code)s.", code=item["location"])
            ]
        lines = {}
        for n, line in enumerate(item["lines"]):
            if line["sku"] not in variants:
                lines[str(n)] = {"sku": [_l("No product has the SKU %(code)s.", code=line["sku"])]}
        if lines:
            found["lines"] = lines
        if found:
            _put(problems, index, found, bulk)
            continue
        customer = item.get("customer") or {}
        assert channel is not None
        resolved.append(
            OrderInput(
                channel=channel,
                number=item["number"],
                ordered_at=item["ordered_at"],
                delivered_at=item.get("delivered_at"),
                location_id=location_id,
                email=customer.get("email"),
                phone=customer.get("phone"),
                name=customer.get("name", ""),
                lines=[
                    (
                        variants[line["sku"]],
                        line["quantity"],
                        line["unit_price_yen"],
                        line["discount_yen"],
                        line["final_sale"],
                    )
                    for line in item["lines"]
                ],
            )
        )
    if problems:
        raise OrderError(_l("Some orders name things that do not exist."), **problems)
    return resolved


def upsert_orders(
    items: Sequence[dict[str, Any]], *, bulk: bool = True
) -> list[tuple[Order, Written]]:
    """Create or update orders (as OrderCreateSchema loads them; distinct channel and number)
    all or nothing: OrderError when one names an unknown channel, location or SKU,
    OrderLinesHeld when one would replace lines a case points at. Returns each order and what
    happened to it, in the order given. `bulk` nests error details under orders.<index>."""
    inputs = _resolve(items, bulk)
    match_customers(inputs)
    outcomes: dict[int, Written] = {}
    by_channel: dict[int, list[int]] = {}
    for index, order in enumerate(inputs):
        by_channel.setdefault(order.channel.id, []).append(index)
    # Channel locks always in the same order: two batches never wait on each other in a ring.
    for channel_id in sorted(by_channel):
        indexes = by_channel[channel_id]
        written = write_orders([inputs[i] for i in indexes], inputs[indexes[0]].channel)
        outcomes.update(zip(indexes, written.outcomes, strict=True))
    held = [i for i, outcome in outcomes.items() if outcome == Written.HELD]
    if held:
        details: dict[str, Any] = {}
        for i in held:
            _put(details, i, {"lines": [_l("A request points at these lines.")]}, bulk)
        raise OrderLinesHeld(
            _l(
                "Order %(number)s has return, exchange or repair requests on its lines: its"
                " lines cannot be replaced.",
                number=inputs[held[0]].number,
            ),
            **details,
        )
    db.session.expire_all()
    found = []
    for i, order in enumerate(inputs):
        saved = order_by_number(order.channel.code, order.number)
        assert saved is not None  # written above, in this transaction
        found.append((saved, outcomes[i]))
    return found


def order_by_number(channel: ChannelCode | str, number: str) -> Order | None:
    """The order `number` of the channel with code `channel`; None when there is none."""
    return db.session.scalar(
        sa.select(Order)
        .join(Channel, Order.channel_id == Channel.id)
        .where(Channel.code == channel, Order.number == number)
        .options(
            joinedload(Order.channel),
            joinedload(Order.customer),
            joinedload(Order.location),
            selectinload(Order.lines).joinedload(OrderLine.variant),
        )
    )
