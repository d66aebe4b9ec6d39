"""Settling a return or exchange: what is refunded, when the money moves, and the decision.

A refund is computed from what was paid for the units coming back, less the fees the policy
promised when the case was filed, capped by what is left to refund on the order. It is
recorded once per case (`record_refund`), released to the payment system once
(`release_refund`) at the point the channel chose (`on_release_point`), and the case is
resolved automatically after inspection when nothing needs a person, or by staff (`resolve`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.core.errors import ConcurrentChange, DomainError, IllegalTransition
from reverse.core.i18n import N_
from reverse.extensions import db
from reverse.intake.constants import Disposition, UnitState
from reverse.intake.models import Inspection, Receipt, ReceiptUnit
from reverse.notifications.case_mail import enqueue_case_mail
from reverse.resolution.constants import (
    RESOLUTION_LABELS,
    RefundKind,
    RefundRelease,
    RefundState,
    Resolution,
)
from reverse.resolution.models import Refund
from reverse.rmas.constants import OUR_FAULT_REASONS, ProofStatus, RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaLine
from reverse.rmas.operations import get_rma_for_update, move_rma
from reverse.shipping.models import Shipment
from reverse.webhooks.constants import WebhookEvent
from reverse.webhooks.operations import emit
from reverse.webhooks.payloads import refund_data

#: the release points in the order a parcel passes them: a later point releases what an
#: earlier one should have (a drop-off parcel is never scanned by a carrier)
RELEASE_ORDER = {
    RefundRelease.CARRIER_SCAN: 0,
    RefundRelease.RECEIPT: 1,
    RefundRelease.INSPECTION: 2,
}
#: statuses in which money is never released
NO_REFUND_STATUSES = frozenset(
    {RmaStatus.CANCELLED, RmaStatus.EXPIRED, RmaStatus.REJECTED, RmaStatus.CLOSED}
)


class ResolutionError(DomainError):
    code = "resolution_error"


class RefundAmountUnknown(ResolutionError):
    """The price paid is not known (a declared purchase without a price): a person checks it."""

    code = "refund_amount_unknown"


class AlreadyResolved(ConcurrentChange):
    code = "already_resolved"


# -- what is owed ------------------------------------------------------------------------------


@dataclass
class QuoteLine:
    """One line of the case as the refund counts it."""

    rma_line_id: int
    #: units the customer asked to send back
    quantity: int
    #: units counted missing at the desk (not refunded)
    short: int
    #: what one unit cost the customer after its share of the discount; None when unknown
    unit_paid_yen: int | None
    #: paid for the units refunded; None when unknown
    paid_yen: int | None

    @property
    def units(self) -> int:
        return self.quantity - self.short


@dataclass
class RefundQuote:
    """How a refund is reached. `amount_yen` is the refund itself; store credit adds
    `credit_bonus_yen` on top (`total_yen`). None amounts: the price is unknown."""

    kind: RefundKind
    paid_yen: int | None
    restocking_fee_yen: int = 0
    shipping_yen: int = 0
    credit_bonus_yen: int = 0
    bonus_percent: int = 0
    amount_yen: int | None = None
    #: paid on the order − refunded by its other cases; None when there is no known order
    cap_yen: int | None = None
    already_refunded_yen: int = 0
    #: the amount was cut to the cap
    capped: bool = False
    #: the shipping fee was waived because the brand is at fault (defect, wrong item …)
    shipping_waived: bool = False
    lines: list[QuoteLine] = field(default_factory=list)
    #: "price_difference" for the refund of a cheaper exchange replacement
    basis: str = "return"

    @property
    def total_yen(self) -> int | None:
        return None if self.amount_yen is None else self.amount_yen + self.credit_bonus_yen

    @property
    def needs_person(self) -> bool:
        return self.amount_yen is None

    def breakdown(self) -> dict[str, Any]:
        """Kept on the Refund: how its amount was reached, whatever changes later."""
        data = asdict(self)
        data["kind"] = self.kind.value
        data["total_yen"] = self.total_yen
        return data


def _unit_paid(rma: Rma, line: RmaLine, price_yen: int | None) -> int | None:
    order_line = line.order_line
    if order_line is not None:
        return order_line.paid_yen // order_line.quantity
    if price_yen is not None:
        return price_yen // (sum(x.quantity for x in rma.lines) or 1)
    return None


def unit_paid_yen(rma: Rma, line: RmaLine) -> int | None:
    """What one unit of `line` cost: its order line's price less its share of the line's
    discount (rounded down), or for a declared purchase the declared price shared by all
    the units of the case; None when nobody knows."""
    return _unit_paid(rma, line, rma.declared_price_yen)


def _line_paid(rma: Rma, line: RmaLine, units: int, price_yen: int | None) -> int | None:
    """Paid for `units` units of `line`. A declared price counts for the case as a whole,
    so it is shared out without rounding each unit down first."""
    order_line = line.order_line
    if order_line is not None:
        return order_line.paid_yen // order_line.quantity * units
    if price_yen is None:
        return None
    total_units = sum(x.quantity for x in rma.lines) or 1
    return price_yen * units // total_units


def receipt_of(rma: Rma) -> Receipt | None:
    return db.session.scalar(sa.select(Receipt).where(Receipt.rma_id == rma.id))


def _short_units(rma: Rma) -> dict[int, int]:
    """Units of each line the receiving desk found missing (nothing before a receipt)."""
    rows = db.session.execute(
        sa.select(ReceiptUnit.rma_line_id, sa.func.count())
        .where(ReceiptUnit.rma_id == rma.id, ReceiptUnit.state == UnitState.SHORT)
        .group_by(ReceiptUnit.rma_line_id)
    ).all()
    return {line_id: int(n) for line_id, n in rows if line_id is not None}


def already_refunded_yen(rma: Rma) -> int:
    """Refunded on the same order by its other cases (store credit bonuses are our gift
    and do not count)."""
    if rma.order_id is None:
        return 0
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_yen - Refund.bonus_yen), 0)).where(
            Refund.order_id == rma.order_id, Refund.rma_id != rma.id
        )
    )
    return int(total or 0)


def apply_cap(rma: Rma, quote: RefundQuote) -> None:
    if rma.order is None or quote.amount_yen is None:
        return
    quote.already_refunded_yen = already_refunded_yen(rma)
    quote.cap_yen = max(0, rma.order.total_yen - quote.already_refunded_yen)
    if quote.amount_yen > quote.cap_yen:
        quote.amount_yen = quote.cap_yen
        quote.capped = True


def _apply_bonus(rma: Rma, quote: RefundQuote) -> None:
    if quote.kind == RefundKind.STORE_CREDIT and quote.amount_yen is not None:
        quote.bonus_percent = rma.channel.store_credit_bonus_percent
        quote.credit_bonus_yen = quote.amount_yen * quote.bonus_percent // 100


def refund_kind(rma: Rma) -> RefundKind:
    """Money back or store credit, as the customer chose (money back unless they chose)."""
    if rma.resolution == Resolution.STORE_CREDIT:
        return RefundKind.STORE_CREDIT
    return RefundKind.REFUND


def compute_refund(
    rma: Rma, *, kind: RefundKind | None = None, price_yen: int | None = None
) -> RefundQuote:
    """What the case refunds: paid for the units coming back (units found missing at the
    desk are not refunded), less the restocking fee and the return shipping fee promised at
    filing (no shipping fee when any item is the brand's fault), capped at what is left to
    refund on the order; never negative. `price_yen` is a price a person checked, for a
    declared purchase without one. Store credit adds the channel's bonus on top."""
    kind = kind or refund_kind(rma)
    short = _short_units(rma)
    price = rma.declared_price_yen if price_yen is None else price_yen
    lines = []
    for line in rma.lines:
        missing = min(short.get(line.id, 0), line.quantity)
        units = line.quantity - missing
        lines.append(
            QuoteLine(
                rma_line_id=line.id,
                quantity=line.quantity,
                short=missing,
                unit_paid_yen=_unit_paid(rma, line, price),
                paid_yen=_line_paid(rma, line, units, price),
            )
        )
    quote = RefundQuote(kind=kind, paid_yen=None, lines=lines)
    if not lines or any(q.paid_yen is None for q in lines):
        return quote
    paid = sum(q.paid_yen or 0 for q in lines)
    requested = sum(_line_paid(rma, x, x.quantity, price) or 0 for x in rma.lines)
    outcome = rma.outcome or {}
    fee = int(outcome.get("restocking_fee_yen") or 0)
    quote.paid_yen = paid
    # The fee promised was for every unit asked; units that never came pay no fee.
    quote.restocking_fee_yen = fee * paid // requested if requested else 0
    quote.shipping_waived = any(x.reason in OUR_FAULT_REASONS for x in rma.lines)
    if not quote.shipping_waived and paid:
        quote.shipping_yen = int(outcome.get("return_shipping_fee_yen") or 0)
    quote.amount_yen = max(0, paid - quote.restocking_fee_yen - quote.shipping_yen)
    apply_cap(rma, quote)
    _apply_bonus(rma, quote)
    return quote


# -- recording and releasing -------------------------------------------------------------------


def refund_of(rma: Rma) -> Refund | None:
    return db.session.scalar(sa.select(Refund).where(Refund.rma_id == rma.id))


def _yen_param(amount: int) -> str:
    return f"{amount:,}"


def record_refund(
    rma: Rma,
    actor: Actor,
    *,
    kind: RefundKind = RefundKind.REFUND,
    quote: RefundQuote | None = None,
) -> Refund:
    """The case's refund or store credit, recorded once however often it is triggered: under
    the case's row lock an existing refund is returned; a parallel insert that slipped past
    (no row lock) hits the unique constraint in a savepoint and the winner's row is returned.

    Raises RefundAmountUnknown when the price paid is not known."""
    rma = get_rma_for_update(rma.id)
    existing = refund_of(rma)
    if existing is not None:
        return existing
    quote = quote or compute_refund(rma, kind=kind)
    if quote.amount_yen is None:
        raise RefundAmountUnknown(
            _l("The price paid for %(n)s is not known: check it first.", n=rma.display_number)
        )
    refund = Refund(
        rma_id=rma.id,
        order_id=rma.order_id,
        kind=quote.kind,
        amount_yen=quote.total_yen,
        bonus_yen=quote.credit_bonus_yen,
        breakdown=quote.breakdown(),
        state=RefundState.PENDING,
        created_by_label=actor.label,
    )
    try:
        with db.session.begin_nested():
            db.session.add(refund)
            db.session.flush()
    except IntegrityError:
        winner = refund_of(rma)
        if winner is None:
            raise
        return winner
    if quote.kind == RefundKind.STORE_CREDIT:
        note = N_("Store credit of ¥%(amount)s recorded.")
    else:
        note = N_("Refund of ¥%(amount)s recorded.")
    rma.add_note(
        actor, note, public=True, msgid=True, params={"amount": _yen_param(refund.amount_yen)}
    )
    db.session.flush()
    return refund


def release_refund(refund: Refund, actor: Actor) -> bool:
    """Hand the refund to the payment system: PENDING → RELEASED once (False when it had
    already gone), and mail the customer the amount.

    The instruction to the payment system is the signed `refund.requested` webhook, sent to
    the integrations subscribed to it; RELEASED means "handed over" until the payment side
    marks the refund settled.
    """
    rma = get_rma_for_update(refund.rma_id)
    refund = db.session.execute(
        sa.select(Refund).where(Refund.id == refund.id).execution_options(populate_existing=True)
    ).scalar_one()
    if refund.state != RefundState.PENDING:
        return False
    refund.state = RefundState.RELEASED
    refund.released_at = utcnow()
    rma.add_note(
        actor,
        N_("Refund of ¥%(amount)s released to the payment system."),
        msgid=True,
        params={"amount": _yen_param(refund.amount_yen)},
    )
    db.session.flush()
    # The customer's one mail about this change (an exchange's outcome mail, which names the
    # refund of a price difference, replaces it).
    enqueue_case_mail(rma.id, "reverse.resolution.tasks:refund_released", refund.id)
    emit(WebhookEvent.REFUND_REQUESTED, refund_data(refund), refund.released_at)
    return True


def _refund_now(rma: Rma, actor: Actor, kind: RefundKind, **compute: Any) -> Refund:
    quote = compute_refund(rma, kind=kind, **compute) if compute else None
    refund = record_refund(rma, actor, kind=kind, quote=quote)
    release_refund(refund, actor)
    return refund


# -- when the money moves ----------------------------------------------------------------------


def _point_reached(rma: Rma, point: RefundRelease) -> bool:
    return RELEASE_ORDER[rma.channel.refund_release] <= RELEASE_ORDER[point]


def _may_refund_before_inspection(rma: Rma) -> bool:
    return (
        rma.type == RmaType.RETURN
        and rma.status not in NO_REFUND_STATUSES
        and rma.proof_status not in (ProofStatus.PENDING, ProofStatus.REJECTED)
        and (rma.resolution or Resolution.REFUND) in (Resolution.REFUND, Resolution.STORE_CREDIT)
    )


def on_release_point(rma: Rma, point: RefundRelease, actor: Actor) -> None:
    """Called inside the transaction that brought `rma` to `point` (the carrier scanned its
    parcel, the centre received it, its units were all inspected).

    - receipt: an exchange's reserved replacements are shipped;
    - inspection: the case is settled when nothing needs a person (`after_inspection`);
    - a return settled by refund or store credit has its refund recorded and released when
      the channel releases at this point (or at an earlier one that was passed unseen).
    A price nobody knows leaves the refund to a person, with a note; nothing here raises
    for that, so receiving a parcel never fails because of money.
    """
    rma = get_rma_for_update(rma.id)
    if rma.type == RmaType.REPAIR:
        return
    if point == RefundRelease.RECEIPT and rma.type == RmaType.EXCHANGE:
        from reverse.resolution.exchanges import ship_replacements

        ship_replacements(rma, actor)
    if point == RefundRelease.INSPECTION:
        after_inspection(rma, actor)
        return
    if not (_point_reached(rma, point) and _may_refund_before_inspection(rma)):
        return
    if refund_of(rma) is not None:
        return
    kind = refund_kind(rma)
    if compute_refund(rma, kind=kind).amount_yen is None:
        rma.add_note(
            actor,
            N_("The price paid is not known: the refund waits for a person to check it."),
            msgid=True,
        )
        db.session.flush()
        return
    _refund_now(rma, actor, kind)


# -- settling the case -------------------------------------------------------------------------


def decision_blockers(rma: Rma) -> list[Any]:
    """Why the case cannot be settled without a person (empty: it can)."""
    problems: list[Any] = []
    if receipt_of(rma) is None:
        return [_l("Nothing was received for this case.")]
    units = db.session.scalars(sa.select(ReceiptUnit).where(ReceiptUnit.rma_id == rma.id)).all()
    if any(u.state != UnitState.RECEIVED for u in units):
        problems.append(
            _l("Not every unit arrived as expected (missing, wrong, damaged or extra).")
        )
    inspections = {
        i.unit_id: i
        for i in db.session.scalars(sa.select(Inspection).where(Inspection.rma_id == rma.id))
    }
    present = [u for u in units if u.state != UnitState.SHORT]
    if any(inspections.get(u.id) is None or inspections[u.id].disposition is None for u in present):
        problems.append(_l("Not every unit has a decided disposition."))
    if any(i.disposition == Disposition.RETURN_TO_CUSTOMER for i in inspections.values()):
        problems.append(_l("A unit is to be returned to the customer."))
    if rma.proof_status in (ProofStatus.PENDING, ProofStatus.REJECTED):
        problems.append(_l("The proof of purchase is not accepted."))
    if rma.type == RmaType.EXCHANGE:
        from reverse.resolution.exchanges import live_reservations

        reserved = {r.rma_line_id for r in live_reservations(rma)}
        if any(line.wanted_variant_id is None for line in rma.lines):
            problems.append(_l("The customer has not chosen a replacement for every item."))
        elif any(line.id not in reserved for line in rma.lines):
            problems.append(_l("Not every item has a reserved replacement."))
    elif compute_refund(rma).amount_yen is None:
        problems.append(_l("The price paid is not known."))
    return problems


def after_inspection(rma: Rma, actor: Actor) -> Resolution | None:
    """Settle an inspected case that needs no person: every unit arrived as expected and
    none goes back to the customer. A return resolves as the customer chose (refund unless
    they chose store credit); an exchange whose replacements are reserved, as an exchange.
    Anything else stays inspected, "awaiting decision", with a note for staff."""
    rma = get_rma_for_update(rma.id)
    if rma.status != RmaStatus.INSPECTED:
        return None
    if decision_blockers(rma):
        rma.add_note(
            actor, N_("Waiting for a person to decide how to settle this case."), msgid=True
        )
        db.session.flush()
        return None
    resolution = (
        Resolution.EXCHANGE if rma.type == RmaType.EXCHANGE else rma.resolution or Resolution.REFUND
    )
    try:
        # In a savepoint: a settlement that cannot go through (no carrier account to ship
        # the replacement, …) must not undo the inspection that called us.
        with db.session.begin_nested():
            _settle(rma, resolution, actor)
    except DomainError as exc:
        rma = get_rma_for_update(rma.id)
        rma.add_note(
            actor,
            N_("The case could not be settled automatically: %(problem)s"),
            msgid=True,
            params={"problem": str(exc.message)},
        )
        db.session.flush()
        return None
    return resolution


def _return_location(rma: Rma) -> Location:
    """Where the item is now: the centre that received it, else the case's location."""
    receipt = receipt_of(rma)
    location = (
        db.session.get(Location, receipt.location_id) if receipt and receipt.location_id else None
    )
    location = location or rma.location
    if location is None:
        location = db.session.scalar(
            sa.select(Location)
            .where(Location.active, Location.kind == LocationKind.RETURNS_CENTRE)
            .order_by(Location.id)
        )
    if location is None:
        raise ResolutionError(_l("No returns centre is set up to send the item back from."))
    return location


def resolve(
    rma: Rma,
    resolution: Resolution,
    actor: Actor,
    *,
    reason: str = "",
    price_yen: int | None = None,
) -> Rma:
    """A person's decision on an inspected case, moving it to RESOLVED.

    - refund / store credit: the refund is recorded and released now, whatever the
      channel's release point (the inspection is done); `price_yen` is a price paid the
      person checked, for a declared purchase without one;
    - exchange: the reserved replacements are shipped (reserved now if stock came in);
      a cheaper replacement refunds the difference;
    - rejected: `reason` is shown to the customer, the item goes back in a new parcel and
      nothing is refunded.
    The same decision again changes nothing; a different one after the case was settled
    raises AlreadyResolved; any status but INSPECTED raises IllegalTransition.
    """
    rma = get_rma_for_update(rma.id)
    if rma.status == RmaStatus.RESOLVED:
        if rma.resolution == resolution:
            return rma
        raise AlreadyResolved(
            _l(
                "%(n)s was already settled: “%(how)s”. Nothing was changed.",
                n=rma.display_number,
                how=RESOLUTION_LABELS[rma.resolution] if rma.resolution else "—",
            )
        )
    if rma.status != RmaStatus.INSPECTED:
        raise IllegalTransition(
            _l("Only an inspected case can be settled."), status=rma.status.value
        )
    if rma.type == RmaType.REPAIR:
        raise ResolutionError(_l("Repairs are not settled here."))
    if resolution == Resolution.EXCHANGE and rma.type != RmaType.EXCHANGE:
        raise ResolutionError(_l("Only an exchange request can be settled by an exchange."))
    if resolution == Resolution.REJECTED and not reason.strip():
        raise ResolutionError(_l("Give the reason the customer will read."))
    _settle(rma, resolution, actor, reason=reason.strip(), price_yen=price_yen)
    return rma


def _settle(
    rma: Rma,
    resolution: Resolution,
    actor: Actor,
    *,
    reason: str = "",
    price_yen: int | None = None,
) -> None:
    from reverse.resolution import exchanges

    if resolution in (Resolution.REFUND, Resolution.STORE_CREDIT):
        kind = (
            RefundKind.STORE_CREDIT if resolution == Resolution.STORE_CREDIT else RefundKind.REFUND
        )
        rma.resolution = resolution
        exchanges.release_reservations(rma, actor)
        compute = {"price_yen": price_yen} if price_yen is not None else {}
        if refund_of(rma) is None and compute_refund(rma, kind=kind, **compute).needs_person:
            raise RefundAmountUnknown(
                _l("The price paid is not known: enter the price you checked.")
            )
        move_rma(rma, RmaStatus.RESOLVED, actor)
        _refund_now(rma, actor, kind, **compute)
    elif resolution == Resolution.EXCHANGE:
        exchanges.reserve_replacements(rma, actor)
        missing = [
            line
            for line in rma.lines
            if line.id not in {r.rma_line_id for r in exchanges.live_reservations(rma)}
        ]
        if missing:
            raise ResolutionError(
                _l("No replacement could be reserved: settle by refund or store credit instead.")
            )
        rma.resolution = resolution
        exchanges.ship_replacements(rma, actor, strict=True)
        move_rma(rma, RmaStatus.RESOLVED, actor)
        difference = exchanges.compute_difference_refund(rma)
        if difference is not None and difference.amount_yen:
            refund = record_refund(rma, actor, quote=difference)
            release_refund(refund, actor)
        enqueue_case_mail(rma.id, "reverse.resolution.tasks:case_resolved", rma.id)
    else:
        rma.resolution = resolution
        rma.decision_reason = reason
        exchanges.release_reservations(rma, actor)
        _send_back(rma, actor)
        if refund_of(rma) is not None:
            rma.add_note(
                actor,
                N_(
                    "A refund was already released before inspection: recover it through "
                    "the payment system."
                ),
                msgid=True,
            )
        move_rma(rma, RmaStatus.RESOLVED, actor, note=reason)
        enqueue_case_mail(rma.id, "reverse.resolution.tasks:case_resolved", rma.id)
    db.session.flush()


def _send_back(rma: Rma, actor: Actor) -> Shipment:
    """The parcel returning a rejected item to the customer (once)."""
    from reverse.shipping.operations import ship_to_customer

    existing = return_to_customer_shipment(rma)
    if existing is not None:
        return existing
    shipment = ship_to_customer(rma, _return_location(rma))
    rma.add_note(
        actor,
        N_("We are sending your item back (tracking number %(number)s)."),
        public=True,
        msgid=True,
        params={"number": shipment.tracking_number or ""},
    )
    return shipment


def return_to_customer_shipment(rma: Rma) -> Shipment | None:
    """The parcel carrying a rejected item back (exchange replacements are not it)."""
    from reverse.resolution.exchanges import replacement_shipment_ids
    from reverse.shipping.constants import Direction

    replacements = replacement_shipment_ids(rma)
    for shipment in db.session.scalars(
        sa.select(Shipment)
        .where(Shipment.rma_id == rma.id, Shipment.direction == Direction.TO_CUSTOMER)
        .order_by(Shipment.id)
    ):
        if shipment.id not in replacements:
            return shipment
    return None
