"""Graded units offered again as pre-owned stock: states, reservations, pricing."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext


class ResaleState(enum.StrEnum):
    REFURBISHING = "refurbishing"  # waiting for its repair; listed only after it
    DRAFT = "draft"  # graded (and repaired where needed), not yet offered
    LISTED = "listed"
    RESERVED = "reserved"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"


#: the legal moves of a resale item; anything else is refused
TRANSITIONS: dict[ResaleState, frozenset[ResaleState]] = {
    ResaleState.REFURBISHING: frozenset({ResaleState.DRAFT, ResaleState.WITHDRAWN}),
    ResaleState.DRAFT: frozenset({ResaleState.LISTED, ResaleState.WITHDRAWN}),
    ResaleState.LISTED: frozenset(
        {ResaleState.RESERVED, ResaleState.SOLD, ResaleState.WITHDRAWN, ResaleState.DRAFT}
    ),
    ResaleState.RESERVED: frozenset({ResaleState.LISTED, ResaleState.SOLD}),
    ResaleState.SOLD: frozenset(),
    ResaleState.WITHDRAWN: frozenset({ResaleState.DRAFT}),
}

STATE_LABELS = {
    ResaleState.REFURBISHING: _l("Being refurbished"),
    ResaleState.DRAFT: _l("Draft"),
    ResaleState.LISTED: _l("Listed"),
    ResaleState.RESERVED: lazy_pgettext("resale", "Reserved"),
    ResaleState.SOLD: _l("Sold"),
    ResaleState.WITHDRAWN: _l("Withdrawn"),
}

#: states in which an item can still have its price changed
PRICEABLE_STATES = frozenset(
    {ResaleState.REFURBISHING, ResaleState.DRAFT, ResaleState.LISTED, ResaleState.WITHDRAWN}
)


class ReservationKind(enum.StrEnum):
    PICKUP = "pickup"  # reserved for pickup (and payment) at a store
    PURCHASE = "purchase"  # bought online: payment is taken by the web shop


KIND_LABELS = {
    ReservationKind.PICKUP: _l("Pickup at a store"),
    ReservationKind.PURCHASE: _l("Online purchase"),
}


class ReservationState(enum.StrEnum):
    ACTIVE = "active"  # held; for a pickup, on its way to the store
    READY = "ready"  # at the store, the customer told to come
    COMPLETED = "completed"  # sold
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_RESERVATION_STATES = frozenset({ReservationState.ACTIVE, ReservationState.READY})

RESERVATION_STATE_LABELS = {
    ReservationState.ACTIVE: lazy_pgettext("resale", "Reserved"),
    ReservationState.READY: _l("Ready for pickup"),
    ReservationState.COMPLETED: _l("Sold"),
    ReservationState.CANCELLED: _l("Cancelled"),
    ReservationState.EXPIRED: _l("Expired"),
}


class SaleChannel(enum.StrEnum):
    STORE = "store"  # paid at a store counter, recorded by store staff
    WEB_SHOP = "web_shop"  # paid in the web shop, confirmed by staff or the integration API
    RESALE_CHANNEL = "resale_channel"  # sold through another resale channel fed by our feed


SALE_CHANNEL_LABELS = {
    SaleChannel.STORE: _l("Store"),
    SaleChannel.WEB_SHOP: _l("Web shop"),
    SaleChannel.RESALE_CHANNEL: _l("Other resale channel"),
}


class ResaleEventKind(enum.StrEnum):
    CREATED = "created"
    STATE = "state"  # a move of the lifecycle
    PRICE = "price"
    DETAILS = "details"  # bin, notes
    RESERVATION = "reservation"


#: rounding steps a price rule may use (yen)
ROUNDING_STEPS = (1, 10, 100)

#: shown with each grade on the shop (what a buyer gets)
GRADE_BUYER_TEXT = {
    "A": _l("Like new: worn or used briefly, if at all. No visible signs of use."),
    "B": _l("Good: light signs of use that do not show when worn or carried."),
    "C": _l("Fair: visible signs of use (described in the notes), fully usable."),
    "D": _l("Worn: clear wear or faults (described in the notes); priced accordingly."),
}
