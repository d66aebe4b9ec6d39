"""The life of a resale item: made at inspection, refurbished, priced, listed, reserved, sold.

Each operation takes the item's row lock first, checks the move is legal (constants.TRANSITIONS),
records a ResaleEvent, flushes and never commits: the caller ends the unit of work with
`reverse.core.db.commit`. Repeating an operation changes nothing twice. Reserving takes the
item with one conditional UPDATE (listed → reserved), so of two customers asking at the same
moment exactly one gets it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.actors import Actor
from reverse.core.db import lock_query, utcnow
from reverse.core.errors import ConcurrentChange, DomainError, IllegalTransition
from reverse.core.i18n import N_
from reverse.extensions import db
from reverse.intake.constants import Disposition
from reverse.jobs.outbox import enqueue
from reverse.resale.constants import (
    KIND_LABELS,
    OPEN_RESERVATION_STATES,
    PRICEABLE_STATES,
    STATE_LABELS,
    TRANSITIONS,
    ResaleEventKind,
    ResaleState,
    ReservationKind,
    ReservationState,
    SaleChannel,
)
from reverse.resale.models import ResaleEvent, ResaleItem, ResaleReservation
from reverse.resale.pricing import price_for_grade, rounding_for
from reverse.webhooks.constants import WebhookEvent
from reverse.webhooks.operations import emit
from reverse.webhooks.payloads import purchase_requested_data, resale_sold_data

MAX_REASON_CHARS = 500
MAX_NOTES_CHARS = 2000
MAX_BIN_CHARS = 20
#: the locations a customer can pick an item up at
PICKUP_KINDS = (LocationKind.STORE, LocationKind.DEPARTMENT_STORE_COUNTER)


class ResaleRefused(DomainError):
    """An operation the item, its state or the input does not allow."""

    code = "resale_refused"


class ItemNotFound(ResaleRefused):
    status = 404
    code = "resale_item_not_found"


class ReservationNotFound(ResaleRefused):
    status = 404
    code = "reservation_not_found"


class NotAvailable(ConcurrentChange):
    """Someone else reserved or bought the item first (or it was taken off sale)."""

    code = "resale_item_not_available"


# -- reading --------------------------------------------------------------------------------


def locked_item(item_id: int) -> ResaleItem:
    """The item with its row lock (PostgreSQL; SQLite transactions are IMMEDIATE), fresh."""
    item = db.session.scalar(
        lock_query(sa.select(ResaleItem).where(ResaleItem.id == item_id)).execution_options(
            populate_existing=True
        )
    )
    if item is None:
        raise ItemNotFound(_l("No such pre-owned item."))
    return item


def open_reservation(item_id: int) -> ResaleReservation | None:
    return db.session.scalar(
        sa.select(ResaleReservation)
        .where(
            ResaleReservation.item_id == item_id,
            ResaleReservation.state.in_(list(OPEN_RESERVATION_STATES)),
        )
        .execution_options(populate_existing=True)
    )


def _record(
    item: ResaleItem,
    actor: Actor,
    kind: ResaleEventKind,
    note: str = "",
    *,
    from_state: ResaleState | None = None,
    to_state: ResaleState | None = None,
    **params: Any,
) -> ResaleEvent:
    event = ResaleEvent(
        item_id=item.id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        params={k: (str(v) if not isinstance(v, int | str) else v) for k, v in params.items()},
        actor_kind=actor.kind,
        actor_label=actor.label,
    )
    db.session.add(event)
    return event


def _move(item: ResaleItem, to: ResaleState, actor: Actor, note: str = "", **params: Any) -> None:
    if to not in TRANSITIONS[item.state]:
        raise IllegalTransition(
            _l(
                "%(code)s is %(state)s: it cannot become %(to)s.",
                code=item.code,
                state=STATE_LABELS[item.state],
                to=STATE_LABELS[to],
            ),
            state=item.state.value,
        )
    _record(item, actor, ResaleEventKind.STATE, note, from_state=item.state, to_state=to, **params)
    item.state = to
    item.updated_at = utcnow()


# -- made at inspection ---------------------------------------------------------------------


def create_from_inspection(
    *,
    unit_id: int,
    variant: Any,
    location_id: int | None,
    grade: Any,
    disposition: Disposition,
    notes: str,
    actor: Actor,
) -> ResaleItem:
    """The resale item of an inspected unit — once per unit. Resale makes a draft; refurbish
    one that waits for its repair before it can be listed."""
    item = db.session.scalar(sa.select(ResaleItem).where(ResaleItem.unit_id == unit_id))
    if item is not None:
        return item
    price = price_for_grade(variant.price_yen, grade)
    refurbish = disposition == Disposition.REFURBISH
    item = ResaleItem(
        unit_id=unit_id,
        variant_id=variant.id,
        location_id=location_id,
        grade=grade,
        source_disposition=disposition,
        condition_notes=notes,
        original_price_yen=variant.price_yen,
        suggested_price_yen=price,
        price_yen=price,
        state=ResaleState.REFURBISHING if refurbish else ResaleState.DRAFT,
    )
    db.session.add(item)
    db.session.flush()
    _record(item, actor, ResaleEventKind.CREATED, to_state=item.state, price=price)
    return item


# -- staff: the lifecycle -------------------------------------------------------------------


def mark_refurbished(item_id: int, note: str, actor: Actor) -> ResaleItem:
    """The repair is done: the item becomes a draft, ready to be listed."""
    item = locked_item(item_id)
    if item.state == ResaleState.DRAFT and item.refurbished_at is not None:
        return item
    note = (note or "").strip()
    if len(note) > MAX_NOTES_CHARS:
        raise ResaleRefused(_l("Notes: at most %(n)d characters.", n=MAX_NOTES_CHARS))
    if item.state != ResaleState.REFURBISHING:
        raise IllegalTransition(
            _l("%(code)s is not waiting for refurbishment.", code=item.code),
            state=item.state.value,
        )
    _move(item, ResaleState.DRAFT, actor, N_("Refurbished: %(work)s"), work=note or "—")
    item.refurbished_at = utcnow()
    db.session.flush()
    return item


def list_item(item_id: int, actor: Actor) -> ResaleItem:
    """Offer the item on the shop and the feeds. Listing a listed item changes nothing."""
    item = locked_item(item_id)
    if item.state == ResaleState.LISTED:
        return item
    if item.state in (ResaleState.WITHDRAWN,):
        _move(item, ResaleState.DRAFT, actor)
    if item.price_yen <= 0:
        raise ResaleRefused(
            _l("%(code)s has no price: set one before listing it.", code=item.code),
            field="price_yen",
        )
    if item.location_id is None:
        raise ResaleRefused(
            _l("%(code)s has no location: a buyer could not be served.", code=item.code)
        )
    _move(item, ResaleState.LISTED, actor)
    item.listed_at = utcnow()
    item.withdrawn_reason = ""
    db.session.flush()
    return item


def unlist_item(item_id: int, actor: Actor) -> ResaleItem:
    """Back to draft (off the shop) without withdrawing it."""
    item = locked_item(item_id)
    if item.state == ResaleState.DRAFT:
        return item
    _move(item, ResaleState.DRAFT, actor)
    db.session.flush()
    return item


def withdraw_item(item_id: int, reason: str, actor: Actor) -> ResaleItem:
    """Take the item off sale for good (damaged, lost, sent to recycling …); a reason is
    required. A reserved item is not withdrawn: cancel its reservation first."""
    item = locked_item(item_id)
    if item.state == ResaleState.WITHDRAWN:
        return item
    reason = _reason(reason, required=True)
    if item.state == ResaleState.RESERVED:
        raise IllegalTransition(
            _l("%(code)s is reserved by a customer: cancel the reservation first.", code=item.code),
            state=item.state.value,
        )
    _move(item, ResaleState.WITHDRAWN, actor, N_("Withdrawn: %(reason)s"), reason=reason)
    item.withdrawn_reason = reason
    db.session.flush()
    return item


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ResaleRefused(_l("Give a reason."), field="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise ResaleRefused(
            _l("The reason: at most %(n)d characters.", n=MAX_REASON_CHARS), field="reason"
        )
    return reason


# -- staff: prices and details --------------------------------------------------------------


def _check_priceable(item: ResaleItem) -> None:
    if item.state not in PRICEABLE_STATES:
        raise IllegalTransition(
            _l(
                "%(code)s is %(state)s: its price can no longer change.",
                code=item.code,
                state=STATE_LABELS[item.state],
            ),
            state=item.state.value,
        )


def _set_price(item: ResaleItem, price: int, reason: str, actor: Actor) -> None:
    if price == item.price_yen and reason == item.price_reason:
        return
    _record(
        item,
        actor,
        ResaleEventKind.PRICE,
        N_("Price %(old)s → %(new)s. %(reason)s"),
        old=f"¥{item.price_yen:,}",
        new=f"¥{price:,}",
        reason=reason,
    )
    item.price_yen = price
    item.price_reason = reason
    item.updated_at = utcnow()


def set_price(item_id: int, price_yen: int, reason: str, actor: Actor) -> ResaleItem:
    """A manual price. Anything but the grade rule's price needs a reason."""
    item = locked_item(item_id)
    try:
        price = int(price_yen)
    except (TypeError, ValueError):
        raise ResaleRefused(_l("Enter the price in yen."), field="price_yen") from None
    if price <= 0 or price > 10_000_000:
        raise ResaleRefused(_l("Enter a price between ¥1 and ¥10,000,000."), field="price_yen")
    reason = _reason(reason, required=price != item.suggested_price_yen)
    _check_priceable(item)
    _set_price(item, price, reason if price != item.suggested_price_yen else "", actor)
    db.session.flush()
    return item


@dataclass
class BulkResult:
    """What a bulk action did: the items changed, and why the others were not."""

    changed: list[ResaleItem] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def _each(ids: Iterable[int], change: Any) -> BulkResult:
    """Apply `change(item_id)` to each id in its own savepoint: one refusal leaves the rest."""
    result = BulkResult()
    for item_id in dict.fromkeys(int(i) for i in ids):
        try:
            with db.session.begin_nested():
                result.changed.append(change(item_id))
        except DomainError as exc:
            result.refused.append((item_id, str(exc.message)))
    return result


def reprice_by_rule(ids: Iterable[int], actor: Actor) -> BulkResult:
    """Price the items by the current rule of their grade (dropping manual prices)."""

    def change(item_id: int) -> ResaleItem:
        item = locked_item(item_id)
        _check_priceable(item)
        price = price_for_grade(item.original_price_yen, item.grade)
        if price <= 0:
            raise ResaleRefused(_l("%(code)s: its grade's rule gives no price.", code=item.code))
        item.suggested_price_yen = price
        _set_price(item, price, "", actor)
        db.session.flush()
        return item

    return _each(ids, change)


def markdown(ids: Iterable[int], percent: int, reason: str, actor: Actor) -> BulkResult:
    """Lower each item's price by `percent` %, rounded down to its grade rule's step."""
    try:
        percent = int(percent)
    except (TypeError, ValueError):
        raise ResaleRefused(_l("Enter a percentage."), field="percent") from None
    if not 1 <= percent <= 90:
        raise ResaleRefused(_l("A markdown is between 1 and 90 %."), field="percent")
    reason = _reason(reason, required=True)

    def change(item_id: int) -> ResaleItem:
        item = locked_item(item_id)
        _check_priceable(item)
        step = rounding_for(item.grade)
        price = item.price_yen * (100 - percent) // 100 // step * step
        if price <= 0:
            raise ResaleRefused(_l("%(code)s: the markdown leaves no price.", code=item.code))
        _set_price(item, price, reason, actor)
        db.session.flush()
        return item

    return _each(ids, change)


def list_items(ids: Iterable[int], actor: Actor) -> BulkResult:
    return _each(ids, lambda item_id: list_item(item_id, actor))


def update_details(
    item_id: int, *, bin_code: str, condition_notes: str, actor: Actor
) -> ResaleItem:
    """Where it sits (bin) and how it looks (shown on the shop)."""
    item = locked_item(item_id)
    bin_code = (bin_code or "").strip().upper()
    condition_notes = (condition_notes or "").strip()
    if len(bin_code) > MAX_BIN_CHARS:
        raise ResaleRefused(_l("Bin: at most %(n)d characters.", n=MAX_BIN_CHARS), field="bin_code")
    if len(condition_notes) > MAX_NOTES_CHARS:
        raise ResaleRefused(
            _l("Notes: at most %(n)d characters.", n=MAX_NOTES_CHARS), field="condition_notes"
        )
    if item.state == ResaleState.SOLD:
        raise IllegalTransition(_l("%(code)s is sold.", code=item.code), state=item.state.value)
    if (bin_code, condition_notes) == (item.bin_code, item.condition_notes):
        return item
    _record(item, actor, ResaleEventKind.DETAILS, N_("Bin %(bin)s; notes changed."), bin=bin_code)
    item.bin_code = bin_code
    item.condition_notes = condition_notes
    item.updated_at = utcnow()
    db.session.flush()
    return item


# -- customers: reservations ----------------------------------------------------------------


def reservation_token(reservation: ResaleReservation) -> str:
    """The customer's private link token: derived from the server secret and the row, so the
    mail job can give the same link again; only its hash is stored."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"resale-reservation:{reservation.id}:{reservation.created_at.timestamp():.6f}"
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def reservation_for_token(token: str) -> ResaleReservation | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(ResaleReservation).where(
            ResaleReservation.token_hash == ResaleReservation.hash_token(token)
        )
    )


def pickup_locations() -> list[Location]:
    return list(
        db.session.scalars(
            sa.select(Location)
            .where(Location.active, Location.kind.in_(list(PICKUP_KINDS)))
            .order_by(Location.code)
        )
    )


def _hold(kind: ReservationKind) -> timedelta:
    cfg = current_app.config
    if kind == ReservationKind.PICKUP:
        return timedelta(days=cfg["RESALE_PICKUP_HOLD_DAYS"])
    return timedelta(hours=cfg["RESALE_PURCHASE_HOLD_HOURS"])


def reserve(
    item_id: int,
    *,
    kind: ReservationKind | str,
    contact: dict[str, Any],
    pickup_location_id: int | None,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[ResaleReservation, str]:
    """Hold a listed item for a customer; returns the reservation and its private token.

    `contact` is normalised already (name, email and/or phone, locale). The item is taken by
    one conditional UPDATE: a second customer at the same moment gets NotAvailable."""
    from reverse.portal.operations import find_or_create_customer

    now = now or utcnow()
    try:
        kind = ReservationKind(kind)
    except ValueError:
        raise ResaleRefused(
            _l("Choose pickup at a store or buying online."), field="kind"
        ) from None
    pickup = None
    if kind == ReservationKind.PICKUP:
        pickup = db.session.get(Location, pickup_location_id) if pickup_location_id else None
        if pickup is None or not pickup.active or pickup.kind not in PICKUP_KINDS:
            raise ResaleRefused(_l("Choose the store to pick it up at."), field="pickup_location")
    if not (contact.get("email") or contact.get("phone")):
        raise ResaleRefused(_l("Give an email address or a phone number."), field="email")
    if not (contact.get("name") or "").strip():
        raise ResaleRefused(_l("Enter your name."), field="name")

    expire_overdue(item_id=item_id, now=now)
    taken = db.session.execute(
        sa.update(ResaleItem)
        .where(ResaleItem.id == item_id, ResaleItem.state == ResaleState.LISTED)
        .values(state=ResaleState.RESERVED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        if db.session.get(ResaleItem, item_id) is None:
            raise ItemNotFound(_l("No such pre-owned item."))
        raise NotAvailable(
            _l(
                "Sorry — someone else reserved this item a moment ago, or it is no longer "
                "for sale. Have a look at the other items."
            )
        )
    item = locked_item(item_id)
    customer = find_or_create_customer(contact)
    reservation = ResaleReservation(
        item_id=item.id,
        kind=kind,
        customer_id=customer.id,
        pickup_location_id=pickup.id if pickup else None,
        token_hash=secrets.token_hex(32),  # replaced below, once the row has its id
        price_yen=item.price_yen,
        expires_at=now + _hold(kind),
        created_at=now,
    )
    if pickup is not None and item.location_id == pickup.id:
        reservation.state = ReservationState.READY
        reservation.ready_at = now
    db.session.add(reservation)
    db.session.flush()
    token = reservation_token(reservation)
    reservation.token_hash = ResaleReservation.hash_token(token)
    _record(
        item,
        actor,
        ResaleEventKind.STATE,
        N_("Reserved by %(name)s (%(how)s), reservation #%(id)d."),
        from_state=ResaleState.LISTED,
        to_state=ResaleState.RESERVED,
        name=customer.name,
        how=kind.value,
        id=reservation.id,
    )
    db.session.flush()
    _mail(reservation, "confirmed")
    if kind == ReservationKind.PURCHASE:
        # The web shop takes the payment, then records the sale (channel web_shop).
        emit(WebhookEvent.RESALE_PURCHASE_REQUESTED, purchase_requested_data(reservation), now)
    return reservation, token


def is_reservable(item: ResaleItem, now: datetime | None = None) -> bool:
    """Listed, or reserved by a hold that has run out (reserving ends that hold first)."""
    if item.state == ResaleState.LISTED:
        return True
    held = open_reservation(item.id) if item.state == ResaleState.RESERVED else None
    return held is not None and held.expires_at < (now or utcnow())


def _mail(reservation: ResaleReservation, what: str) -> None:
    enqueue("reverse.resale.tasks:reservation_mail", reservation.id, what, queue="notifications")


def _locked_reservation(reservation_id: int) -> tuple[ResaleReservation, ResaleItem]:
    found = db.session.get(ResaleReservation, reservation_id)
    if found is None:
        raise ReservationNotFound(_l("No such reservation."))
    item = locked_item(found.item_id)  # the item's lock guards its reservations too
    db.session.refresh(found)
    return found, item


def _release(
    reservation: ResaleReservation,
    item: ResaleItem,
    to: ReservationState,
    reason: str,
    actor: Actor,
    now: datetime,
) -> None:
    reservation.state = to
    reservation.closed_at = now
    reservation.closed_reason = reason
    if item.state == ResaleState.RESERVED:
        note = (
            N_("Reservation #%(id)d expired: back on sale.")
            if to == ReservationState.EXPIRED
            else N_("Reservation #%(id)d cancelled: back on sale.")
        )
        _move(item, ResaleState.LISTED, actor, note, id=reservation.id)


def cancel_reservation(
    reservation_id: int, actor: Actor, reason: str = "", *, now: datetime | None = None
) -> ResaleReservation:
    """The customer (through their link) or staff cancel; the item goes back on sale."""
    now = now or utcnow()
    reservation, item = _locked_reservation(reservation_id)
    if reservation.state == ReservationState.CANCELLED:
        return reservation
    if not reservation.is_open:
        raise IllegalTransition(
            _l("This reservation has ended already."), state=reservation.state.value
        )
    reason = _reason(reason, required=False)
    _release(reservation, item, ReservationState.CANCELLED, reason, actor, now)
    db.session.flush()
    _mail(reservation, "cancelled")
    return reservation


def mark_ready(
    reservation_id: int, actor: Actor, *, now: datetime | None = None
) -> ResaleReservation:
    """The item arrived at the pickup store: it is there now, and the customer is told."""
    now = now or utcnow()
    reservation, item = _locked_reservation(reservation_id)
    if reservation.state == ReservationState.READY:
        return reservation
    if reservation.state != ReservationState.ACTIVE or reservation.kind != ReservationKind.PICKUP:
        raise IllegalTransition(
            _l("This reservation is not waiting to reach a store."), state=reservation.state.value
        )
    reservation.state = ReservationState.READY
    reservation.ready_at = now
    # a few days at the counter from the day it arrived
    reservation.expires_at = max(
        reservation.expires_at, now + timedelta(days=current_app.config["RESALE_READY_HOLD_DAYS"])
    )
    if item.location_id != reservation.pickup_location_id:
        _record(
            item,
            actor,
            ResaleEventKind.DETAILS,
            N_("Moved to %(location)s for reservation #%(id)d."),
            location=reservation.pickup_location.code,
            id=reservation.id,
        )
        item.location_id = reservation.pickup_location_id
        item.bin_code = ""
        item.updated_at = now
    db.session.flush()
    _mail(reservation, "ready")
    return reservation


def record_sale(
    item_id: int,
    *,
    channel: SaleChannel | str,
    actor: Actor,
    location_id: int | None = None,
    now: datetime | None = None,
) -> ResaleItem:
    """The item is paid for: at a store counter (a reservation picked up, or a walk-in buyer
    of a listed item), in the web shop, or through another resale channel. Once."""
    now = now or utcnow()
    item = locked_item(item_id)
    channel = SaleChannel(channel)
    if item.state == ResaleState.SOLD:
        return item
    if item.state not in (ResaleState.LISTED, ResaleState.RESERVED):
        raise IllegalTransition(
            _l(
                "%(code)s is %(state)s: it cannot be sold.",
                code=item.code,
                state=STATE_LABELS[item.state],
            ),
            state=item.state.value,
        )
    reservation = open_reservation(item.id)
    _check_sale_fits(item, reservation, channel)
    price = reservation.price_yen if reservation is not None else item.price_yen
    if reservation is not None:
        reservation.state = ReservationState.COMPLETED
        reservation.closed_at = now
    _move(
        item,
        ResaleState.SOLD,
        actor,
        N_("Sold (%(channel)s) for %(price)s."),
        channel=channel.value,
        price=f"¥{price:,}",
    )
    item.sold_at = now
    item.sold_price_yen = price
    item.sold_channel = channel
    item.sold_location_id = location_id or item.location_id
    db.session.flush()
    emit(WebhookEvent.RESALE_SOLD, resale_sold_data(item), now)
    return item


def _check_sale_fits(
    item: ResaleItem, reservation: ResaleReservation | None, channel: SaleChannel
) -> None:
    """A reserved item is sold the way its reservation says: a pickup at the store once it is
    there, an online purchase through the web shop."""
    if reservation is None:
        return
    fits = (
        reservation.kind == ReservationKind.PICKUP
        and channel == SaleChannel.STORE
        and reservation.state == ReservationState.READY
    ) or (reservation.kind == ReservationKind.PURCHASE and channel == SaleChannel.WEB_SHOP)
    if not fits:
        raise IllegalTransition(
            _l(
                "%(code)s is reserved for %(how)s: it is sold that way, once it is ready.",
                code=item.code,
                how=KIND_LABELS[reservation.kind],
            ),
            state=item.state.value,
        )


def expire_overdue(*, item_id: int | None = None, now: datetime | None = None) -> int:
    """End open reservations past their hold; their items go back on sale. Returns how many."""
    now = now or utcnow()
    stmt = sa.select(ResaleReservation.id).where(
        ResaleReservation.state.in_(list(OPEN_RESERVATION_STATES)),
        ResaleReservation.expires_at < now,
    )
    if item_id is not None:
        stmt = stmt.where(ResaleReservation.item_id == item_id)
    ended = 0
    for reservation_id in list(db.session.scalars(stmt)):
        reservation, item = _locked_reservation(reservation_id)
        if not reservation.is_open or reservation.expires_at >= now:
            continue  # picked up or cancelled meanwhile
        _release(reservation, item, ReservationState.EXPIRED, "", Actor.system("expiry"), now)
        _mail(reservation, "expired")
        ended += 1
    db.session.flush()
    return ended
