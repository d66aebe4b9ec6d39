"""Exchanges: the replacement is promised from stock at approval, shipped when the customer's
item is received, and given back to stock when the case ends without it.

Stock is one pool across stores and centres (StockLevel: on hand, reserved). A unit is
reserved by a single conditional UPDATE, so two approvals racing for the last unit cannot
both get it: PostgreSQL makes the second wait for the first's row lock and re-checks the
condition, SQLite runs one write transaction at a time, and the CHECK reserved <= on_hand
is the last guard.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location, StockLevel, Variant
from reverse.core.actors import Actor
from reverse.core.errors import DomainError
from reverse.core.i18n import N_
from reverse.extensions import db
from reverse.intake.constants import UnitState
from reverse.intake.models import ReceiptUnit
from reverse.resolution.constants import RefundKind, ReservationState
from reverse.resolution.models import StockReservation
from reverse.resolution.operations import RefundQuote, apply_cap, unit_paid_yen
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaLine
from reverse.rmas.operations import get_rma_for_update
from reverse.shipping.models import Shipment

SYSTEM = Actor.system("stock")
#: statuses that give reserved replacements back to stock
RELEASING = frozenset({RmaStatus.CANCELLED, RmaStatus.EXPIRED, RmaStatus.REJECTED})
#: statuses at which an exchange's replacements are reserved (a proof accepted later moves a
#: case through APPROVED quietly and announces AWAITING_ITEM)
RESERVING = frozenset({RmaStatus.APPROVED, RmaStatus.AWAITING_ITEM})


class ReplacementNotShipped(DomainError):
    status = 409
    code = "replacement_not_shipped"


def reservations(rma: Rma) -> list[StockReservation]:
    return list(
        db.session.scalars(
            sa.select(StockReservation)
            .where(StockReservation.rma_id == rma.id)
            .order_by(StockReservation.id)
        )
    )


def live_reservations(rma: Rma) -> list[StockReservation]:
    """Replacements still promised or already on their way."""
    return [r for r in reservations(rma) if r.state != ReservationState.RELEASED]


def replacement_shipment_ids(rma: Rma) -> set[int]:
    return {r.shipment_id for r in reservations(rma) if r.shipment_id is not None}


def _available() -> sa.ColumnElement[int]:
    return StockLevel.on_hand - StockLevel.reserved


def _take(variant_id: int, quantity: int) -> int | None:
    """Reserve `quantity` of a variant at one location; returns the location id, or None
    when no location has that many available. Returns centres first (they ship every day),
    then the location with the most available."""
    candidates = db.session.scalars(
        sa.select(StockLevel.id)
        .join(Location, StockLevel.location_id == Location.id)
        .where(StockLevel.variant_id == variant_id, Location.active, _available() >= quantity)
        .order_by(
            sa.case((Location.kind == LocationKind.RETURNS_CENTRE, 0), else_=1),
            _available().desc(),
            StockLevel.id,
        )
    ).all()
    for level_id in candidates:
        # The condition is re-checked by the UPDATE itself, after any parallel reservation
        # of the same row committed: the candidate list may be stale, the UPDATE is not.
        location_id = db.session.execute(
            sa.update(StockLevel)
            .where(StockLevel.id == level_id, _available() >= quantity)
            .values(reserved=StockLevel.reserved + quantity)
            .returning(StockLevel.location_id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if location_id is not None:
            return location_id
    return None


def _noted(rma: Rma, msgid: str, item: str) -> bool:
    return any(
        e.note == msgid and (e.data or {}).get("params", {}).get("item") == item for e in rma.events
    )


def reserve_replacements(rma: Rma, actor: Actor | None = None) -> list[StockReservation]:
    """Promise each line's wanted variant from stock (once per line). A line no location
    can serve is left for a person, with a note; the approval goes ahead either way.
    Returns the reservations made now."""
    rma = get_rma_for_update(rma.id)
    if rma.type != RmaType.EXCHANGE:
        return []
    actor = actor or SYSTEM
    existing = {r.rma_line_id for r in reservations(rma)}
    made = []
    for line in rma.lines:
        if line.wanted_variant_id is None or line.id in existing:
            continue
        variant = db.session.get(Variant, line.wanted_variant_id)
        sku = variant.sku if variant else str(line.wanted_variant_id)
        location_id = _take(line.wanted_variant_id, line.quantity)
        if location_id is None:
            msgid = N_("No stock of %(item)s for the exchange: a person has to arrange it.")
            if not _noted(rma, msgid, sku):
                rma.add_note(actor, msgid, msgid=True, params={"item": sku})
            continue
        reservation = StockReservation(
            rma_id=rma.id,
            rma_line_id=line.id,
            variant_id=line.wanted_variant_id,
            location_id=location_id,
            quantity=line.quantity,
        )
        db.session.add(reservation)
        location = db.session.get(Location, location_id)
        rma.add_note(
            actor,
            N_("%(item)s reserved for the exchange at %(location)s."),
            msgid=True,
            params={"item": sku, "location": location.code if location else ""},
        )
        made.append(reservation)
    db.session.flush()
    return made


def _fully_short(rma: Rma) -> set[int]:
    """Lines of which no unit arrived (the desk marked them all missing)."""
    rows = db.session.execute(
        sa.select(ReceiptUnit.rma_line_id, ReceiptUnit.state).where(ReceiptUnit.rma_id == rma.id)
    ).all()
    states: dict[int, set[UnitState]] = defaultdict(set)
    for line_id, state in rows:
        if line_id is not None:
            states[line_id].add(state)
    return {line_id for line_id, seen in states.items() if seen == {UnitState.SHORT}}


def ship_replacements(rma: Rma, actor: Actor, *, strict: bool = False) -> list[Shipment]:
    """Send the reserved replacements: one parcel per stock location, the stock taken
    (on hand and reserved both go down), the reservations SHIPPED. Lines whose item never
    arrived are not shipped. A location without a carrier account or numbers leaves its
    replacements reserved with a note for staff — or raises, when `strict`."""
    from reverse.shipping.operations import ship_to_customer

    rma = get_rma_for_update(rma.id)
    skip = _fully_short(rma)
    waiting: dict[int, list[StockReservation]] = defaultdict(list)
    for reservation in reservations(rma):
        if reservation.state == ReservationState.RESERVED and reservation.rma_line_id not in skip:
            waiting[reservation.location_id].append(reservation)
    shipments = []
    for location_id, group in waiting.items():
        location = db.session.get(Location, location_id)
        try:
            shipment = ship_to_customer(rma, location)
        except DomainError as exc:
            if strict:
                raise ReplacementNotShipped(exc.message) from exc
            rma.add_note(
                actor,
                N_("The replacement could not be shipped from %(location)s: %(problem)s"),
                msgid=True,
                params={"location": location.code, "problem": str(exc.message)},
            )
            continue
        for reservation in group:
            db.session.execute(
                sa.update(StockLevel)
                .where(
                    StockLevel.variant_id == reservation.variant_id,
                    StockLevel.location_id == reservation.location_id,
                )
                .values(
                    on_hand=StockLevel.on_hand - reservation.quantity,
                    reserved=StockLevel.reserved - reservation.quantity,
                )
                .execution_options(synchronize_session=False)
            )
            reservation.state = ReservationState.SHIPPED
            reservation.shipment_id = shipment.id
        rma.add_note(
            actor,
            N_("Your replacement is on its way (tracking number %(number)s)."),
            public=True,
            msgid=True,
            params={"number": shipment.tracking_number or ""},
        )
        shipments.append(shipment)
    db.session.flush()
    return shipments


def release_reservations(rma: Rma, actor: Actor | None = None) -> int:
    """Give a case's still-reserved replacements back to stock; returns how many."""
    released = 0
    for reservation in reservations(rma):
        if reservation.state != ReservationState.RESERVED:
            continue
        db.session.execute(
            sa.update(StockLevel)
            .where(
                StockLevel.variant_id == reservation.variant_id,
                StockLevel.location_id == reservation.location_id,
            )
            .values(reserved=StockLevel.reserved - reservation.quantity)
            .execution_options(synchronize_session=False)
        )
        reservation.state = ReservationState.RELEASED
        released += 1
    if released:
        rma.add_note(actor or SYSTEM, N_("Reserved replacement stock given back."), msgid=True)
        db.session.flush()
    return released


def on_case_moved(rma: Rma, to: RmaStatus, actor: Actor) -> None:
    """The hook move_rma calls after a move: reserve at approval, give back at the exits."""
    if rma.type != RmaType.EXCHANGE:
        return
    if to in RESERVING:
        reserve_replacements(rma, actor)
    elif to in RELEASING:
        release_reservations(rma, actor)


# -- the price difference ----------------------------------------------------------------------


@dataclass
class LineDifference:
    line: RmaLine
    wanted: Variant | None
    #: what one unit cost the customer; None when unknown
    unit_paid_yen: int | None
    #: (wanted price − paid) × quantity: positive the customer owes, negative we refund
    difference_yen: int | None


@dataclass
class ExchangeDifference:
    lines: list[LineDifference]

    @property
    def total_yen(self) -> int | None:
        values = [x.difference_yen for x in self.lines]
        if any(v is None for v in values):
            return None
        return sum(v or 0 for v in values)


def price_difference(rma: Rma) -> ExchangeDifference:
    """Wanted variant's price − the paid unit price, line by line (shown to staff and to
    the customer)."""
    lines = []
    for line in rma.lines:
        wanted = line.wanted_variant
        paid = unit_paid_yen(rma, line)
        difference = None
        if wanted is not None and paid is not None:
            difference = (wanted.price_yen - paid) * line.quantity
        lines.append(LineDifference(line, wanted, paid, difference))
    return ExchangeDifference(lines)


def compute_difference_refund(rma: Rma) -> RefundQuote | None:
    """The refund of a cheaper replacement, or None when nothing is owed back. A dearer
    replacement is not charged here: staff and the customer see what is owed."""
    difference = price_difference(rma)
    total = difference.total_yen
    if total is None or total >= 0:
        return None
    quote = RefundQuote(
        kind=RefundKind.REFUND,
        paid_yen=sum((x.unit_paid_yen or 0) * x.line.quantity for x in difference.lines),
        amount_yen=-total,
        basis="price_difference",
    )
    apply_cap(rma, quote)
    return quote
