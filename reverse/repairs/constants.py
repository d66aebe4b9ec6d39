"""Kinds of repair work, price-list item kinds, quote states and how an item goes home."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class RepairKind(enum.StrEnum):
    """What sort of work a repair is: turnaround is measured per kind."""

    STITCHING = "stitching"
    ZIP = "zip"
    HANDLE_STRAP = "handle_strap"
    SOLE_HEEL = "sole_heel"
    HARDWARE = "hardware"
    LEATHER_CARE = "leather_care"
    KNIT_MENDING = "knit_mending"
    OTHER = "other"


class PriceItemKind(enum.StrEnum):
    PART = "part"
    LABOUR = "labour"


class QuoteState(enum.StrEnum):
    SENT = "sent"  # waiting for the customer
    APPROVED = "approved"
    DECLINED = "declined"
    SUPERSEDED = "superseded"  # replaced by a re-quote before or after an answer


class Handback(enum.StrEnum):
    """How the item goes back to its owner."""

    STORE_PICKUP = "store_pickup"
    SHIP = "ship"


REPAIR_KIND_LABELS = {
    RepairKind.STITCHING: _l("Stitching and seams"),
    RepairKind.ZIP: _l("Zip"),
    RepairKind.HANDLE_STRAP: _l("Handle or strap"),
    RepairKind.SOLE_HEEL: _l("Sole or heel"),
    RepairKind.HARDWARE: _l("Buttons and hardware"),
    RepairKind.LEATHER_CARE: _l("Leather care and colour"),
    RepairKind.KNIT_MENDING: _l("Knit mending"),
    RepairKind.OTHER: _l("Other work"),
}

PRICE_ITEM_KIND_LABELS = {
    PriceItemKind.PART: _l("Part"),
    PriceItemKind.LABOUR: _l("Labour"),
}

QUOTE_STATE_LABELS = {
    QuoteState.SENT: _l("Waiting for the customer’s answer"),
    QuoteState.APPROVED: _l("Approved"),
    QuoteState.DECLINED: _l("Declined"),
    QuoteState.SUPERSEDED: _l("Replaced by a new quote"),
}

HANDBACK_LABELS = {
    Handback.STORE_PICKUP: _l("Pickup at the store"),
    Handback.SHIP: _l("Delivery to the customer"),
}

#: lines a quote may have, and the highest quantity of one line
MAX_QUOTE_LINES = 20
MAX_LINE_QUANTITY = 99
#: the most a single repair may cost, yen: beyond it a typo is more likely than a repair
MAX_REPAIR_YEN = 1_000_000
