"""What staff and the customer are shown about how a case is settled (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from reverse.extensions import db
from reverse.resolution.constants import (
    REFUND_RELEASE_LABELS,
    RESOLUTION_LABELS,
    RefundKind,
    RefundState,
    ReservationState,
    Resolution,
)
from reverse.resolution.exchanges import (
    ExchangeDifference,
    price_difference,
    reservations,
)
from reverse.resolution.models import Refund, StockReservation
from reverse.resolution.operations import (
    RefundQuote,
    compute_refund,
    decision_blockers,
    refund_of,
    return_to_customer_shipment,
)
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaLine
from reverse.shipping.constants import CARRIER_LABELS
from reverse.shipping.models import Shipment

#: how the customer reads the state of their refund
REFUND_STATE_TEXT = {
    RefundState.PENDING: _l("Being prepared"),
    RefundState.RELEASED: _l("On its way"),
    RefundState.SETTLED: _l("Refunded"),
}
CREDIT_STATE_TEXT = {
    RefundState.PENDING: _l("Being prepared"),
    RefundState.RELEASED: _l("Issued"),
    RefundState.SETTLED: _l("Issued"),
}
#: how staff read it
REFUND_STATE_LABELS = {
    RefundState.PENDING: _l("Pending"),
    RefundState.RELEASED: _l("Released to payment"),
    RefundState.SETTLED: _l("Settled"),
}
REFUND_STATE_TONES = {
    RefundState.PENDING: "warn",
    RefundState.RELEASED: "good",
    RefundState.SETTLED: "good",
}
RESERVATION_STATE_LABELS = {
    ReservationState.RESERVED: _l("Reserved"),
    ReservationState.SHIPPED: _l("Shipped"),
    ReservationState.RELEASED: _l("Given back to stock"),
}


@dataclass
class Replacement:
    """One exchange line: what goes to the customer instead, and how far it has got."""

    line: RmaLine
    reservation: StockReservation | None
    parcel: Shipment | None
    difference_yen: int | None


def _replacements(rma: Rma, difference: ExchangeDifference) -> list[Replacement]:
    by_line = {r.rma_line_id: r for r in reservations(rma)}
    rows = []
    for line_difference in difference.lines:
        line = line_difference.line
        reservation = by_line.get(line.id)
        parcel = (
            db.session.get(Shipment, reservation.shipment_id)
            if reservation and reservation.shipment_id
            else None
        )
        rows.append(Replacement(line, reservation, parcel, line_difference.difference_yen))
    return rows


#: an exchange's replacements are shown from approval (when stock is reserved) on
EXCHANGE_SHOWN = frozenset(
    {
        RmaStatus.APPROVED,
        RmaStatus.AWAITING_ITEM,
        RmaStatus.IN_TRANSIT,
        RmaStatus.RECEIVED,
        RmaStatus.INSPECTED,
        RmaStatus.RESOLVED,
        RmaStatus.CLOSED,
    }
)


@dataclass
class CustomerOutcome:
    """The status page's "outcome" card: the refund or credit with its short breakdown,
    the exchange replacements with their tracking numbers, or the rejection."""

    rma: Rma
    refund: Refund | None = None
    replacements: list[Replacement] = field(default_factory=list)
    difference_yen: int | None = None
    return_parcel: Shipment | None = None

    @property
    def kind(self) -> str | None:
        if self.rma.resolution == Resolution.REJECTED:
            return "rejected"
        if self.refund is not None and self.refund.breakdown.get("basis") != "price_difference":
            return self.refund.kind.value
        if self.rma.type == RmaType.EXCHANGE and self.replacements:
            return "exchange"
        return None

    @property
    def breakdown(self) -> dict[str, Any]:
        return self.refund.breakdown if self.refund is not None else {}

    @staticmethod
    def carrier_name(shipment: Shipment) -> Any:
        return CARRIER_LABELS[shipment.carrier]

    @property
    def state_text(self) -> Any:
        if self.refund is None:
            return ""
        texts = (
            CREDIT_STATE_TEXT if self.refund.kind == RefundKind.STORE_CREDIT else REFUND_STATE_TEXT
        )
        return texts[self.refund.state]


def customer_outcome(rma: Rma) -> CustomerOutcome | None:
    """What the customer's status page says about the settlement; None when nothing yet."""
    if rma.type == RmaType.REPAIR:
        return None
    outcome = CustomerOutcome(rma=rma, refund=refund_of(rma))
    if rma.type == RmaType.EXCHANGE and rma.status in EXCHANGE_SHOWN:
        difference = price_difference(rma)
        outcome.replacements = [
            r for r in _replacements(rma, difference) if r.line.wanted_variant is not None
        ]
        outcome.difference_yen = difference.total_yen
    if rma.resolution == Resolution.REJECTED:
        outcome.return_parcel = return_to_customer_shipment(rma)
    if outcome.kind is None and outcome.refund is None:
        return None
    return outcome


@dataclass
class StaffSummary:
    """The staff panel's numbers: the refund as computed now (or as recorded), the exchange
    and its price difference, and what keeps the case from settling by itself."""

    rma: Rma
    quote: RefundQuote | None
    refund: Refund | None
    replacements: list[Replacement]
    difference_yen: int | None
    blockers: list[Any]
    return_parcel: Shipment | None
    release_label: Any
    bonus_percent: int

    @property
    def awaiting_decision(self) -> bool:
        return self.rma.status == RmaStatus.INSPECTED

    @property
    def show_quote(self) -> bool:
        """The refund as it would be computed now: while no refund is recorded and the
        case may still end in one."""
        if self.refund is not None and self.refund.breakdown.get("basis") != "price_difference":
            return False
        if self.rma.status in (RmaStatus.RESOLVED, RmaStatus.CLOSED):
            return False
        return self.rma.status not in (RmaStatus.CANCELLED, RmaStatus.EXPIRED, RmaStatus.REJECTED)

    @property
    def missing_reservation(self) -> bool:
        return any(
            r.line.wanted_variant is not None
            and (r.reservation is None or r.reservation.state == ReservationState.RELEASED)
            for r in self.replacements
        )

    @property
    def resolution_label(self) -> Any:
        return RESOLUTION_LABELS[self.rma.resolution] if self.rma.resolution else None


def staff_summary(rma: Rma) -> StaffSummary | None:
    if rma.type == RmaType.REPAIR:
        return None
    difference = price_difference(rma) if rma.type == RmaType.EXCHANGE else None
    return StaffSummary(
        rma=rma,
        quote=compute_refund(rma),
        refund=refund_of(rma),
        replacements=_replacements(rma, difference) if difference else [],
        difference_yen=difference.total_yen if difference else None,
        blockers=decision_blockers(rma) if rma.status == RmaStatus.INSPECTED else [],
        return_parcel=return_to_customer_shipment(rma),
        release_label=REFUND_RELEASE_LABELS[rma.channel.refund_release],
        bonus_percent=rma.channel.store_credit_bonus_percent,
    )
