"""RMA types, statuses and the one table of legal moves (the state machine's truth)."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class RmaType(enum.StrEnum):
    RETURN = "return"
    EXCHANGE = "exchange"
    REPAIR = "repair"


class RmaStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # filed by the customer (web) or support
    ACCEPTED = "accepted"  # repair taken in at a store counter
    APPROVED = "approved"  # return / exchange approved by policy or a person
    REJECTED = "rejected"
    AWAITING_ITEM = "awaiting_item"  # label issued or drop-off booked
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"  # at the returns centre
    INSPECTED = "inspected"
    RESOLVED = "resolved"  # refunded, credited, exchanged or returned
    AT_REPAIR_CENTRE = "at_repair_centre"
    DIAGNOSED = "diagnosed"
    QUOTED = "quoted"
    QUOTE_APPROVED = "quote_approved"
    QUOTE_DECLINED = "quote_declined"
    IN_REPAIR = "in_repair"
    QUALITY_CHECK = "quality_check"
    #: a repaired (or unrepaired) item on its way from the repair centre back to the store
    RETURNING = "returning"
    READY = "ready"  # for shipping or store pickup
    HANDED_BACK = "handed_back"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RmaSource(enum.StrEnum):
    """How the request reached us."""

    WEB = "web"
    STORE_COUNTER = "store_counter"
    CALL_CENTRE = "call_centre"
    API = "api"


class ProofStatus(enum.StrEnum):
    """Whether a purchase unknown to Reverse has been checked against its receipt."""

    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AttachmentKind(enum.StrEnum):
    PHOTO = "photo"  # of the item
    RECEIPT = "receipt"  # receipt or warranty card
    TAG = "tag"  # the product tag, to find the item
    INSPECTION = "inspection"  # taken by the inspector: staff only
    PARCEL = "parcel"  # an unexpected parcel at the receiving desk: staff only


class PurchasePlace(enum.StrEnum):
    """Where the customer says the item came from (the first question of the form)."""

    WEB = "web"
    STORE = "store"
    DEPARTMENT_STORE = "department_store"
    OTHER_RETAILER = "other_retailer"
    GIFT = "gift"
    UNKNOWN = "unknown"


class ReturnMethod(enum.StrEnum):
    PREPAID_LABEL = "prepaid_label"
    CARRIAGE_FORWARD = "carriage_forward"  # 着払い
    STORE_DROP_OFF = "store_drop_off"
    PICKUP = "pickup"
    COUNTER = "counter"  # handed over at a store counter


S = RmaStatus

# Returns and exchanges: submitted → approved | rejected → awaiting item → in transit → received
# → inspected → resolved → closed; cancelled and expired are exits.
RETURN_MOVES: dict[RmaStatus, frozenset[RmaStatus]] = {
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.AWAITING_ITEM, S.CANCELLED}),
    S.AWAITING_ITEM: frozenset({S.IN_TRANSIT, S.RECEIVED, S.CANCELLED, S.EXPIRED}),
    S.IN_TRANSIT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.INSPECTED}),
    S.INSPECTED: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED}),
    S.REJECTED: frozenset({S.CLOSED}),
}

# Repairs: submitted (web) or accepted (counter) → in transit / at repair centre → diagnosed →
# quoted → approved | declined → in repair → quality check → ready → handed back → closed.
# Warranty repairs go from diagnosed straight to in repair; a changed scope re-quotes. A web
# repair brought to a store counter is accepted there; an item collected at a store is
# returning until that store scans it in, then ready.
REPAIR_MOVES: dict[RmaStatus, frozenset[RmaStatus]] = {
    S.SUBMITTED: frozenset({S.AWAITING_ITEM, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_TRANSIT, S.AT_REPAIR_CENTRE, S.CANCELLED}),
    S.AWAITING_ITEM: frozenset(
        {S.ACCEPTED, S.IN_TRANSIT, S.AT_REPAIR_CENTRE, S.CANCELLED, S.EXPIRED}
    ),
    S.IN_TRANSIT: frozenset({S.AT_REPAIR_CENTRE}),
    S.AT_REPAIR_CENTRE: frozenset({S.DIAGNOSED}),
    S.DIAGNOSED: frozenset({S.QUOTED, S.IN_REPAIR, S.READY, S.RETURNING}),
    S.QUOTED: frozenset({S.QUOTE_APPROVED, S.QUOTE_DECLINED}),
    S.QUOTE_APPROVED: frozenset({S.IN_REPAIR}),
    S.QUOTE_DECLINED: frozenset({S.READY, S.RETURNING}),
    S.IN_REPAIR: frozenset({S.QUALITY_CHECK, S.QUOTED}),
    S.QUALITY_CHECK: frozenset({S.READY, S.RETURNING, S.IN_REPAIR}),
    S.RETURNING: frozenset({S.READY}),
    S.READY: frozenset({S.HANDED_BACK}),
    S.HANDED_BACK: frozenset({S.CLOSED}),
    S.REJECTED: frozenset({S.CLOSED}),
}

INITIAL_STATUSES: dict[RmaType, frozenset[RmaStatus]] = {
    RmaType.RETURN: frozenset({S.SUBMITTED}),
    RmaType.EXCHANGE: frozenset({S.SUBMITTED}),
    RmaType.REPAIR: frozenset({S.SUBMITTED, S.ACCEPTED}),
}

TERMINAL_STATUSES = frozenset({S.CLOSED, S.CANCELLED, S.EXPIRED})


def moves_for(rma_type: RmaType) -> dict[RmaStatus, frozenset[RmaStatus]]:
    return REPAIR_MOVES if rma_type == RmaType.REPAIR else RETURN_MOVES


def statuses_for(rma_type: RmaType) -> list[RmaStatus]:
    """Every status an RMA of this type can be in, in lifecycle order."""
    moves = moves_for(rma_type)
    seen = set(INITIAL_STATUSES[rma_type])
    for source, targets in moves.items():
        seen.add(source)
        seen.update(targets)
    return [s for s in RmaStatus if s in seen]


TYPE_LABELS = {
    RmaType.RETURN: _l("Return"),
    RmaType.EXCHANGE: _l("Exchange"),
    RmaType.REPAIR: _l("Repair"),
}

SOURCE_LABELS = {
    RmaSource.WEB: _l("Web form"),
    RmaSource.STORE_COUNTER: _l("Store counter"),
    RmaSource.CALL_CENTRE: _l("Call centre"),
    RmaSource.API: _l("API"),
}

RETURN_METHOD_LABELS = {
    ReturnMethod.PREPAID_LABEL: _l("Prepaid label"),
    ReturnMethod.CARRIAGE_FORWARD: _l("Carriage forward (chakubarai)"),
    ReturnMethod.STORE_DROP_OFF: _l("Drop off at a store"),
    ReturnMethod.PICKUP: _l("Pickup"),
    ReturnMethod.COUNTER: _l("Handed over at a counter"),
}

#: how staff read a status
STATUS_LABELS = {
    S.SUBMITTED: _l("Submitted"),
    S.ACCEPTED: _l("Accepted at counter"),
    S.APPROVED: _l("Approved"),
    S.REJECTED: _l("Rejected"),
    S.AWAITING_ITEM: _l("Awaiting item"),
    S.IN_TRANSIT: _l("In transit"),
    S.RECEIVED: _l("Received"),
    S.INSPECTED: _l("Inspected"),
    S.RESOLVED: _l("Resolved"),
    S.AT_REPAIR_CENTRE: _l("At repair centre"),
    S.DIAGNOSED: _l("Diagnosed"),
    S.QUOTED: _l("Quoted"),
    S.QUOTE_APPROVED: _l("Quote approved"),
    S.QUOTE_DECLINED: _l("Quote declined"),
    S.IN_REPAIR: _l("In repair"),
    S.QUALITY_CHECK: _l("Quality check"),
    S.RETURNING: _l("Returning to the store"),
    S.READY: _l("Ready"),
    S.HANDED_BACK: _l("Handed back"),
    S.CLOSED: _l("Closed"),
    S.CANCELLED: _l("Cancelled"),
    S.EXPIRED: _l("Expired"),
}

#: how a customer reads a status: plain words about their item
CUSTOMER_STATUS_TEXT = {
    S.SUBMITTED: _l("We have your request and are checking it."),
    S.ACCEPTED: _l("Your item was accepted at the counter."),
    S.APPROVED: _l("Your request is approved."),
    S.REJECTED: _l("We could not accept your request."),
    S.AWAITING_ITEM: _l("Please send or bring us the item."),
    S.IN_TRANSIT: _l("Your item is on its way to us."),
    S.RECEIVED: _l("We have received your item."),
    S.INSPECTED: _l("We have checked your item."),
    S.RESOLVED: _l("Your request is settled."),
    S.AT_REPAIR_CENTRE: _l("Your item is at our repair centre."),
    S.DIAGNOSED: _l("Our technician has looked at your item."),
    S.QUOTED: _l("A repair quote is waiting for your answer."),
    S.QUOTE_APPROVED: _l("Thank you for approving the quote."),
    S.QUOTE_DECLINED: _l("You declined the quote; we will return the item unrepaired."),
    S.IN_REPAIR: _l("Your item is being repaired."),
    S.QUALITY_CHECK: _l("The repair is being checked."),
    S.RETURNING: _l("Your item is on its way back to the store."),
    S.READY: _l("Your item is ready."),
    S.HANDED_BACK: _l("Your item has been handed back."),
    S.CLOSED: _l("This request is closed."),
    S.CANCELLED: _l("This request was cancelled."),
    S.EXPIRED: _l("This request expired because the item was not sent in time."),
}

#: colour family of a status badge
STATUS_TONES = {
    S.REJECTED: "bad",
    S.CANCELLED: "muted",
    S.EXPIRED: "muted",
    S.CLOSED: "muted",
    S.RESOLVED: "good",
    S.HANDED_BACK: "good",
    S.READY: "good",
    S.QUOTED: "warn",
    S.SUBMITTED: "warn",
    S.ACCEPTED: "warn",
}


#: why an item comes back, by request type (codes stored on RMA lines)
REASONS: dict[RmaType, tuple[str, ...]] = {
    RmaType.RETURN: (
        "size_too_small",
        "size_too_large",
        "not_as_pictured",
        "changed_mind",
        "defective",
        "damaged_in_transit",
        "wrong_item",
        "other",
    ),
    RmaType.EXCHANGE: (
        "size_too_small",
        "size_too_large",
        "not_as_pictured",
        "defective",
        "damaged_in_transit",
        "wrong_item",
        "other",
    ),
    RmaType.REPAIR: ("defective", "wear_and_tear", "accident", "other"),
}

REASON_LABELS = {
    "size_too_small": _l("Too small"),
    "size_too_large": _l("Too large"),
    "not_as_pictured": _l("Not as pictured"),
    "changed_mind": _l("Changed my mind"),
    "defective": _l("Defective"),
    "damaged_in_transit": _l("Damaged in delivery"),
    "wrong_item": _l("Wrong item received"),
    "wear_and_tear": _l("Wear and tear"),
    "accident": _l("Accidental damage"),
    "other": _l("Other"),
}


PROOF_STATUS_LABELS = {
    ProofStatus.NOT_NEEDED: _l("Not needed"),
    ProofStatus.PENDING: _l("Waiting for verification"),
    ProofStatus.ACCEPTED: _l("Verified"),
    ProofStatus.REJECTED: _l("Not accepted"),
}

PURCHASE_PLACE_LABELS = {
    PurchasePlace.WEB: _l("Our online store"),
    PurchasePlace.STORE: _l("One of our stores"),
    PurchasePlace.DEPARTMENT_STORE: _l("A department store counter"),
    PurchasePlace.OTHER_RETAILER: _l("Another shop"),
    PurchasePlace.GIFT: _l("It was a gift"),
    PurchasePlace.UNKNOWN: _l("I don't know"),
}

#: reasons that are the brand's fault: no return shipping fee, photos required
OUR_FAULT_REASONS = frozenset({"defective", "damaged_in_transit", "wrong_item"})
PHOTO_REQUIRED_REASONS = frozenset({"defective", "damaged_in_transit", "wrong_item", "accident"})
