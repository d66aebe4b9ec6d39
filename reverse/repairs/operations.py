"""State changes of repairs: taking an item in at a counter, moving it to and from the repair
centre, diagnosis, quotes the customer answers, the work, the quality check and the hand-back.

Each operation takes models and an actor, locks the case, flushes and never commits. Status
moves go through `move_rma` (checked, recorded, mailed); everything else a customer or a
colleague should later read is a note on the case's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location, Variant
from reverse.core.actors import Actor
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.core.i18n import N_
from reverse.core.uploads import StoredImage
from reverse.extensions import db
from reverse.notifications.case_mail import enqueue_case_mail
from reverse.orders.models import Order, OrderLine
from reverse.policy.engine import Outcome, terms_for
from reverse.repairs.constants import (
    MAX_LINE_QUANTITY,
    MAX_QUOTE_LINES,
    MAX_REPAIR_YEN,
    Handback,
    PriceItemKind,
    QuoteState,
    RepairKind,
)
from reverse.repairs.models import (
    PriceListItem,
    RepairOrder,
    RepairQuote,
    RepairQuoteLine,
    RepairWorkEntry,
)
from reverse.rmas.constants import (
    STATUS_LABELS,
    TERMINAL_STATUSES,
    AttachmentKind,
    ProofStatus,
    PurchasePlace,
    ReturnMethod,
    RmaSource,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import Attachment, Rma
from reverse.rmas.operations import LineData, RmaData, create_rma, get_rma_for_update, move_rma
from reverse.shipping.constants import Carrier, Direction, ShipmentStatus
from reverse.shipping.models import Shipment

S = RmaStatus

#: where the item is before it reaches the repair centre
BEFORE_CENTRE = frozenset({S.AWAITING_ITEM, S.ACCEPTED, S.IN_TRANSIT})
#: statuses from which the item goes back to its owner, and what each needs
SEND_BACK_FROM = frozenset({S.DIAGNOSED, S.QUOTE_DECLINED, S.QUALITY_CHECK})
MAX_WORK_MINUTES = 24 * 60
MAX_TEXT = 4000


class RepairError(DomainError):
    code = "repair_error"


class WrongPlace(RepairError):
    """The item is handled (received, collected) somewhere else."""

    status = 409
    code = "wrong_place"


# -- opening -----------------------------------------------------------------------------------


def _warranty(outcome: Outcome | None) -> bool:
    return bool(outcome and outcome.lines and all(line.warranty for line in outcome.lines))


def _decline_fee(rma: Rma) -> int:
    line = rma.lines[0] if rma.lines else None
    category = line.variant.product.category if line and line.variant else None
    return terms_for(rma.channel, category, line.reason if line else None).repair_decline_fee_yen


def open_repair_order(
    rma: Rma,
    *,
    outcome: Outcome | None = None,
    intake_location: Location | None = None,
    handback: Handback | None = None,
    pickup_location: Location | None = None,
    estimate_min_yen: int | None = None,
    estimate_max_yen: int | None = None,
    promised_on: date | None = None,
    condition_notes: str = "",
    accessories: str = "",
    received_at: datetime | None = None,
) -> RepairOrder:
    """The repair order of a new repair case (once: a second call returns the first).

    Without a stated hand-back, an item dropped at a store is collected there and anything
    else is delivered to the customer."""
    existing = db.session.scalar(sa.select(RepairOrder).where(RepairOrder.rma_id == rma.id))
    if existing is not None:
        return existing
    if handback is None:
        dropped = rma.return_method == ReturnMethod.STORE_DROP_OFF and rma.location is not None
        handback = Handback.STORE_PICKUP if dropped else Handback.SHIP
        if dropped:
            pickup_location = rma.location
    if handback == Handback.STORE_PICKUP and pickup_location is None:
        raise RepairError(_l("Choose the store where the customer collects the item."))
    order = RepairOrder(
        rma_id=rma.id,
        intake_location_id=intake_location.id if intake_location else None,
        handback=handback,
        pickup_location_id=pickup_location.id if pickup_location else None,
        warranty=_warranty(outcome),
        estimate_min_yen=estimate_min_yen,
        estimate_max_yen=estimate_max_yen,
        promised_on=promised_on,
        condition_notes=condition_notes.strip(),
        accessories=accessories.strip(),
        decline_fee_yen=_decline_fee(rma),
        received_at=received_at,
    )
    db.session.add(order)
    db.session.flush()
    return order


def repair_of(rma: Rma) -> RepairOrder:
    """The repair order of a repair case, opened with defaults for a case that has none (one
    filed before repair orders existed)."""
    if rma.type != RmaType.REPAIR:
        raise RepairError(_l("%(n)s is not a repair.", n=rma.display_number))
    order = db.session.scalar(sa.select(RepairOrder).where(RepairOrder.rma_id == rma.id))
    return order if order is not None else open_repair_order(rma)


def default_promise(today: date) -> date:
    return today + timedelta(days=current_app.config["REPAIR_PROMISE_DAYS"])


@dataclass
class CounterIntake:
    """A walk-in repair as the counter form gives it (contact already normalised)."""

    location: Location
    contact: dict[str, str]
    place: PurchasePlace
    reason: str
    symptom: str
    variant: Variant | None = None
    description: str = ""
    order: Order | None = None
    order_line: OrderLine | None = None
    retailer: str = ""
    purchase_date: date | None = None
    price_yen: int | None = None
    condition_notes: str = ""
    accessories: str = ""
    estimate_min_yen: int | None = None
    estimate_max_yen: int | None = None
    promised_on: date | None = None
    handback: Handback = Handback.STORE_PICKUP
    #: the counter saw the receipt or warranty card
    receipt_seen: bool = False
    photos: list[StoredImage] = field(default_factory=list)


def counter_draft(data: CounterIntake) -> dict[str, Any]:
    """The intake in the shape of a portal draft, so the customer form's policy decides."""
    own = data.order is not None
    return {
        "type": RmaType.REPAIR.value,
        "place": data.place.value,
        "order_id": data.order.id if own else None,
        "retailer": "" if own else data.retailer,
        "purchase_date": (
            data.purchase_date.isoformat() if data.purchase_date and not own else None
        ),
        "price_yen": None if own else data.price_yen,
        "lines": [
            {
                "order_line_id": data.order_line.id if data.order_line else None,
                "variant_id": data.variant.id if data.variant and not data.order_line else None,
                "description": "" if data.variant or data.order_line else data.description,
                "quantity": 1,
                "reason": data.reason,
                "comment": "",
                "wanted_variant_id": None,
                "symptom": data.symptom,
            }
        ],
        "method": ReturnMethod.COUNTER.value,
        "drop_off_location_id": None,
        "contact": data.contact,
    }


def accept_at_counter(
    data: CounterIntake, actor: Actor, *, now: datetime | None = None
) -> tuple[Rma, str, Outcome]:
    """Take a walk-in repair in at a store counter: the customer (found or new), the case in
    `accepted`, its repair order with the estimate and promised date, and the photos. The
    customer is mailed the private link. Returns the case, its link token and the policy's
    verdict (warranty)."""
    # Imported here: the portal imports repairs to open the repair order of web repairs.
    from reverse.portal.operations import assess, channel_for, find_or_create_customer

    now = now or utcnow()
    today = today_in_japan(now)
    if data.location.kind not in (LocationKind.STORE, LocationKind.DEPARTMENT_STORE_COUNTER):
        raise RepairError(_l("Walk-in repairs are taken in at a store counter."))
    _check_estimate(data.estimate_min_yen, data.estimate_max_yen)
    if data.promised_on is not None and data.promised_on < today:
        raise RepairError(_l("The promised date is in the past."), field="promised_on")
    draft = counter_draft(data)
    outcome = assess(draft, now)
    if not outcome.eligible:
        problems = "; ".join(str(p) for line in outcome.lines for p in line.problems)
        raise RepairError(_l("This repair cannot be accepted: %(why)s", why=problems))
    customer = find_or_create_customer(data.contact)
    line = draft["lines"][0]
    rma, token = create_rma(
        RmaData(
            type=RmaType.REPAIR,
            channel=channel_for(data.place),
            customer=customer,
            source=RmaSource.STORE_COUNTER,
            order=data.order,
            location=data.location,
            return_method=ReturnMethod.COUNTER,
            declared_retailer=draft["retailer"],
            declared_purchase_date=data.purchase_date if data.order is None else None,
            declared_price_yen=draft["price_yen"],
            initial_status=RmaStatus.ACCEPTED,
            lines=[
                LineData(
                    variant_id=(
                        data.order_line.variant_id if data.order_line else line["variant_id"]
                    ),
                    order_line_id=line["order_line_id"],
                    description=line["description"],
                    reason=data.reason,
                    symptom=data.symptom,
                )
            ],
        ),
        actor,
    )
    rma.purchase_place = data.place
    rma.outcome = outcome.snapshot()
    rma.ship_name = data.contact.get("name", "")
    for key in ("postal_code", "prefecture", "city", "street", "building"):
        setattr(rma, f"ship_{key}", data.contact.get(key, "") or "")
    needs_proof = outcome.proof_required and data.order is None
    if not needs_proof:
        rma.proof_status = ProofStatus.NOT_NEEDED
    else:
        rma.proof_status = ProofStatus.ACCEPTED if data.receipt_seen else ProofStatus.PENDING
    if data.handback == Handback.SHIP and not rma.ship_postal_code:
        raise RepairError(
            _l("Give the customer's address to deliver the item, or choose pickup."),
            field="postal_code",
        )
    for image in data.photos:
        db.session.add(
            Attachment.of_image(
                image, kind=AttachmentKind.PHOTO, rma=rma, line_no=0, added_by=actor.label
            )
        )
    open_repair_order(
        rma,
        outcome=outcome,
        intake_location=data.location,
        handback=data.handback,
        pickup_location=data.location if data.handback == Handback.STORE_PICKUP else None,
        estimate_min_yen=data.estimate_min_yen,
        estimate_max_yen=data.estimate_max_yen,
        promised_on=data.promised_on or default_promise(today),
        condition_notes=data.condition_notes,
        accessories=data.accessories,
        received_at=now,
    )
    return rma, token, outcome


def _check_estimate(low: int | None, high: int | None) -> None:
    for value, name in ((low, "estimate_min_yen"), (high, "estimate_max_yen")):
        if value is not None and not 0 <= value <= MAX_REPAIR_YEN:
            raise RepairError(
                _l("Give an amount between ¥0 and ¥%(max)s.", max=f"{MAX_REPAIR_YEN:,}"),
                field=name,
            )
    if low is not None and high is not None and high < low:
        raise RepairError(
            _l("The upper end of the estimate is below the lower end."), field="estimate_max_yen"
        )


# -- to the repair centre ----------------------------------------------------------------------


def repair_centre() -> Location:
    centre = db.session.scalar(
        sa.select(Location)
        .where(Location.active, Location.kind == LocationKind.REPAIR_CENTRE)
        .order_by(Location.id)
    )
    if centre is None:
        raise RepairError(_l("No repair centre is set up. An admin must add one."))
    return centre


def _live_transfer(rma: Rma, to_location: Location) -> Shipment | None:
    return db.session.scalar(
        sa.select(Shipment)
        .where(
            Shipment.rma_id == rma.id,
            Shipment.direction == Direction.TRANSFER,
            Shipment.to_location_id == to_location.id,
            Shipment.status.not_in([ShipmentStatus.CANCELLED, ShipmentStatus.EXPIRED]),
        )
        .order_by(Shipment.id.desc())
    )


def _transfer(rma: Rma, origin: Location, target: Location, carrier: Carrier | None) -> Shipment:
    existing = _live_transfer(rma, target)
    if existing is not None:
        return existing
    from reverse.shipping.operations import courier_transfer, transfer

    if carrier is None or carrier == Carrier.OWN:
        return courier_transfer(rma, origin, target)
    return transfer(rma, origin, target, carrier)


def send_to_centre(rma: Rma, actor: Actor, *, carrier: Carrier | None = None) -> Shipment:
    """Send an item taken in at a store to the repair centre, by a carrier (a label is made
    under the store's account) or by the in-house courier (carrier None or OWN). A repeat
    returns the parcel already made."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status == S.IN_TRANSIT:
        existing = _live_transfer(rma, repair_centre())
        if existing is not None:
            return existing
    if rma.status != S.ACCEPTED or rma.location is None:
        raise RepairError(
            _l(
                "Only an item taken in at a counter is sent on from there; this one is "
                "“%(status)s”.",
                status=STATUS_LABELS[rma.status],
            )
        )
    if repair.intake_location_id is None:
        repair.intake_location_id = rma.location_id
    shipment = _transfer(rma, rma.location, repair_centre(), carrier)
    move_rma(rma, S.IN_TRANSIT, actor)
    return shipment


@dataclass(frozen=True)
class RepairScan:
    rma: Rma
    #: False when the scan changed nothing (already received or handed over)
    new: bool
    message: Any


def find_repair(code: str) -> Rma:
    """The repair case a scanned claim tag, label or typed number points at."""
    from reverse.intake.operations import ScanError, find_case

    rma = find_case(code)
    if rma.type != RmaType.REPAIR:
        raise ScanError(
            _l("%(n)s is not a repair: it belongs to the returns centre.", n=rma.display_number)
        )
    return rma


def _deliver_transfer(rma: Rma, target: Location, now: datetime) -> None:
    shipment = _live_transfer(rma, target)
    if shipment is not None and shipment.status != ShipmentStatus.DELIVERED:
        shipment.status = ShipmentStatus.DELIVERED
        shipment.delivered_at = now
        shipment.shipped_at = shipment.shipped_at or now


def receive_at_centre(code: str, actor: Actor, *, now: datetime | None = None) -> RepairScan:
    """The repair centre scans an arriving item in (claim tag, transfer label, the customer's
    parcel). Once: a second scan, or a colleague's at the same moment, changes nothing."""
    now = now or utcnow()
    rma = get_rma_for_update(find_repair(code).id)
    repair = repair_of(rma)
    if rma.status in TERMINAL_STATUSES or rma.status in (S.SUBMITTED, S.REJECTED):
        raise RepairError(
            _l(
                "%(n)s is “%(status)s”: it is not expected here.",
                n=rma.display_number,
                status=STATUS_LABELS[rma.status],
            )
        )
    if rma.status not in BEFORE_CENTRE:
        return RepairScan(
            rma, False, _l("%(n)s is already at the repair centre.", n=rma.display_number)
        )
    centre = repair_centre()
    _deliver_transfer(rma, centre, now)
    repair.at_centre_at = now
    repair.received_at = repair.received_at or now
    if repair.promised_on is None:
        repair.promised_on = default_promise(today_in_japan(now))
    move_rma(rma, S.AT_REPAIR_CENTRE, actor)
    return RepairScan(rma, True, _l("%(n)s received at the repair centre.", n=rma.display_number))


def take_in_dropped_off(rma: Rma, location: Location, actor: Actor) -> None:
    """A repair filed on the web and brought to the store chosen for it: the counter accepts
    it (and then sends it on like a walk-in)."""
    rma = get_rma_for_update(rma.id)
    if rma.status == S.ACCEPTED:
        return
    counter = rma.location is not None and rma.location.kind in (
        LocationKind.STORE,
        LocationKind.DEPARTMENT_STORE_COUNTER,
    )
    if rma.return_method != ReturnMethod.STORE_DROP_OFF or not counter:
        raise RepairError(_l("This repair comes by parcel, not to a store counter."))
    if rma.location_id != location.id:
        raise WrongPlace(_l("This repair is to be brought to another store."))
    repair = repair_of(rma)
    repair.intake_location_id = location.id
    repair.received_at = repair.received_at or utcnow()
    move_rma(rma, S.ACCEPTED, actor)


# -- diagnosis and quotes ----------------------------------------------------------------------


def _text(value: str, field_name: str, *, required: Any = None, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required is not None and not value:
        raise RepairError(required, field=field_name)
    if len(value) > limit:
        raise RepairError(
            _l("Keep it under %(n)d characters.", n=limit), field=field_name, length=len(value)
        )
    return value


def diagnose(
    rma: Rma,
    actor: Actor,
    *,
    diagnosis: str,
    kind: RepairKind,
    warranty: bool,
    warranty_note: str = "",
    now: datetime | None = None,
) -> RepairOrder:
    """Record what is wrong and what kind of work it is. The warranty decided at intake may be
    revised with a reason (an accident is not a defect; a defect found that was not seen).
    Diagnosing again before anything is quoted or started revises the diagnosis."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status not in (S.AT_REPAIR_CENTRE, S.DIAGNOSED):
        raise RepairError(
            _l(
                "Diagnose an item at the repair centre; this one is “%(status)s”.",
                status=STATUS_LABELS[rma.status],
            )
        )
    diagnosis = _text(diagnosis, "diagnosis", required=_l("Describe what is wrong."))
    warranty_note = _text(warranty_note, "warranty_note", limit=500)
    if warranty != repair.warranty and not warranty_note:
        raise RepairError(
            _l("Say why the warranty decision changes: the customer will read it."),
            field="warranty_note",
        )
    revising = rma.status == S.DIAGNOSED
    if warranty != repair.warranty:
        repair.warranty_note = warranty_note
    repair.warranty = warranty
    repair.diagnosis = diagnosis
    repair.kind = kind
    repair.diagnosed_at = now or utcnow()
    repair.diagnosed_by = actor.label
    if revising:
        rma.add_note(actor, N_("The diagnosis was revised."), msgid=True)
    else:
        move_rma(rma, S.DIAGNOSED, actor)
    db.session.flush()
    return repair


@dataclass
class QuoteLineData:
    description: str
    unit_price_yen: int
    quantity: int = 1
    kind: PriceItemKind = PriceItemKind.LABOUR
    price_item_id: int | None = None


def quote_line_from(item: PriceListItem, quantity: int, locale: str) -> QuoteLineData:
    return QuoteLineData(
        description=item.name(locale),
        unit_price_yen=item.price_yen,
        quantity=quantity,
        kind=item.kind,
        price_item_id=item.id,
    )


def _checked_lines(lines: list[QuoteLineData]) -> list[QuoteLineData]:
    if not lines:
        raise RepairError(_l("Add at least one part or piece of work."), field="lines")
    if len(lines) > MAX_QUOTE_LINES:
        raise RepairError(_l("A quote has at most %(n)d lines.", n=MAX_QUOTE_LINES), field="lines")
    for index, line in enumerate(lines):
        line.description = (line.description or "").strip()
        where = f"lines-{index}"
        if not line.description or len(line.description) > 200:
            raise RepairError(
                _l("Line %(n)d needs a description (at most 200 characters).", n=index + 1),
                field=where,
            )
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            raise RepairError(
                _l(
                    "Line %(n)d: the quantity must be 1 to %(max)d.",
                    n=index + 1,
                    max=MAX_LINE_QUANTITY,
                ),
                field=where,
            )
        if not 0 <= line.unit_price_yen <= MAX_REPAIR_YEN:
            raise RepairError(
                _l(
                    "Line %(n)d: the price must be ¥0 to ¥%(max)s.",
                    n=index + 1,
                    max=f"{MAX_REPAIR_YEN:,}",
                ),
                field=where,
            )
    total = sum(line.quantity * line.unit_price_yen for line in lines)
    if total > MAX_REPAIR_YEN:
        raise RepairError(
            _l("The total is over ¥%(max)s: check the quantities.", max=f"{MAX_REPAIR_YEN:,}"),
            field="lines",
        )
    return lines


def send_quote(
    rma: Rma, lines: list[QuoteLineData], actor: Actor, *, note: str = ""
) -> RepairQuote:
    """Send the customer a quote for the whole job. A quote still waiting for an answer is
    replaced (revised); during the repair, a changed scope re-quotes and the customer answers
    again. Warranty repairs cost the customer nothing and are not quoted."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status not in (S.DIAGNOSED, S.QUOTED, S.IN_REPAIR):
        raise RepairError(
            _l(
                "A quote follows the diagnosis; this repair is “%(status)s”.",
                status=STATUS_LABELS[rma.status],
            )
        )
    if repair.warranty:
        raise RepairError(
            _l(
                "This repair is under warranty and costs the customer nothing: start it without "
                "a quote, or revise the warranty in the diagnosis first."
            )
        )
    lines = _checked_lines(lines)
    note = _text(note, "note", limit=2000)
    revising = rma.status == S.QUOTED
    for old in repair.quotes:
        if old.state == QuoteState.SENT:
            old.state = QuoteState.SUPERSEDED
    db.session.flush()  # the old one stops being "open" before the new one is
    quote = RepairQuote(
        repair=repair,
        number=max((q.number for q in repair.quotes), default=0) + 1,
        total_yen=sum(line.quantity * line.unit_price_yen for line in lines),
        note=note,
        created_by=actor.label,
        created_at=utcnow(),
        lines=[
            RepairQuoteLine(
                price_item_id=line.price_item_id,
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price_yen=line.unit_price_yen,
            )
            for line in lines
        ],
    )
    db.session.add(quote)
    db.session.flush()
    if revising:
        event = rma.add_note(
            actor,
            N_("The quote was revised: %(total)s. Please answer the new quote."),
            public=True,
            msgid=True,
            params={"total": f"¥{quote.total_yen:,}"},
        )
        db.session.flush()
        enqueue_case_mail(rma.id, "reverse.rmas.tasks:rma_status_changed", rma.id, event.id)
    else:
        move_rma(rma, S.QUOTED, actor)
    return quote


def answer_quote(rma: Rma, quote_id: int, approve: bool, actor: Actor) -> bool:
    """The customer's answer (on their status page, or given on the phone and entered by
    staff). The same answer again changes nothing and returns False; an answer to a quote
    that was replaced or already answered otherwise is refused."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    quote = db.session.get(RepairQuote, quote_id)
    if quote is None or quote.repair_id != repair.id:
        raise RepairError(_l("This quote does not belong to this repair."))
    wanted = QuoteState.APPROVED if approve else QuoteState.DECLINED
    if quote.state == wanted:
        return False
    if quote.state == QuoteState.SUPERSEDED:
        raise RepairError(_l("This quote was replaced by a newer one: please answer that one."))
    if quote.state != QuoteState.SENT or rma.status != S.QUOTED:
        raise RepairError(_l("This quote was already answered."))
    quote.state = wanted
    quote.decided_at = utcnow()
    quote.decided_by = actor.label or "customer"
    repair.amount_due_yen = quote.total_yen if approve else repair.decline_fee_yen
    move_rma(rma, S.QUOTE_APPROVED if approve else S.QUOTE_DECLINED, actor)
    return True


# -- the work ----------------------------------------------------------------------------------


def start_repair(rma: Rma, actor: Actor) -> None:
    """Begin the work: after an approved quote, or straight after diagnosis for a warranty
    repair (or after a failed quality check). A repeat changes nothing."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status == S.IN_REPAIR:
        return
    if rma.status == S.DIAGNOSED and not repair.warranty:
        raise RepairError(_l("Send the customer a quote first: this repair is not free."))
    if rma.status not in (S.DIAGNOSED, S.QUOTE_APPROVED):
        raise RepairError(
            _l("The repair cannot start from “%(status)s”.", status=STATUS_LABELS[rma.status])
        )
    move_rma(rma, S.IN_REPAIR, actor)


def log_work(
    rma: Rma,
    actor: Actor,
    *,
    note: str = "",
    minutes: int = 0,
    part: PriceListItem | None = None,
    quantity: int = 0,
) -> RepairWorkEntry:
    """An entry of the work log: what was done, the minutes spent, a part used."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status != S.IN_REPAIR:
        raise RepairError(_l("Work is logged while the item is in repair."))
    note = _text(note, "note")
    if not 0 <= minutes <= MAX_WORK_MINUTES:
        raise RepairError(_l("Give the minutes spent (0 to 1,440)."), field="minutes")
    if part is not None:
        if part.kind != PriceItemKind.PART:
            raise RepairError(_l("Choose a part from the price list."), field="part")
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            raise RepairError(_l("How many of the part were used?"), field="quantity")
    else:
        quantity = 0
    if not note and part is None:
        raise RepairError(_l("Describe the work or choose the part used."), field="note")
    entry = RepairWorkEntry(
        repair=repair,
        note=note,
        minutes=minutes,
        price_item_id=part.id if part else None,
        quantity=quantity,
        created_by=actor.label,
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def ready_for_check(rma: Rma, actor: Actor) -> None:
    """The technician is done: the item waits for its quality check."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status == S.QUALITY_CHECK:
        return
    if rma.status != S.IN_REPAIR:
        raise RepairError(_l("Only an item in repair goes to the quality check."))
    if not repair.work:
        raise RepairError(_l("Log the work done before the quality check."))
    move_rma(rma, S.QUALITY_CHECK, actor)


def fail_quality_check(rma: Rma, actor: Actor, note: str) -> None:
    """The check found a fault: back into repair, with what to fix (staff only)."""
    rma = get_rma_for_update(rma.id)
    if rma.status != S.QUALITY_CHECK:
        raise RepairError(_l("This item is not waiting for its quality check."))
    note = _text(note, "note", required=_l("Say what must be fixed."))
    rma.add_note(actor, note, public=False)
    move_rma(rma, S.IN_REPAIR, actor, quiet=True)


def pass_quality_check(
    rma: Rma, actor: Actor, *, note: str = "", carrier: Carrier | None = None
) -> Shipment | None:
    """The repair is good: record the check and send the item back to its owner."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status != S.QUALITY_CHECK:
        raise RepairError(_l("This item is not waiting for its quality check."))
    repair.qc_note = _text(note, "note")
    repair.qc_passed_at = utcnow()
    repair.qc_by = actor.label
    return send_back(rma, actor, carrier=carrier)


def send_back(
    rma: Rma, actor: Actor, *, carrier: Carrier | None = None, reason: str = ""
) -> Shipment | None:
    """Return the item to its owner: to the pickup store (it is `returning` until the store
    scans it in) or to the customer's address (ready, with a label from the centre).

    From a passed quality check, a declined quote, or a diagnosis that finds nothing to
    repair (then `reason` tells the customer why)."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status in (S.RETURNING, S.READY):
        return None
    if rma.status not in SEND_BACK_FROM:
        raise RepairError(
            _l("The item cannot be sent back from “%(status)s”.", status=STATUS_LABELS[rma.status])
        )
    if rma.status == S.QUALITY_CHECK and repair.qc_passed_at is None:
        raise RepairError(_l("Pass the quality check first."))
    reason = _text(reason, "reason", limit=1000)
    if rma.status == S.DIAGNOSED and not reason:
        raise RepairError(
            _l("Tell the customer why the item comes back unrepaired."), field="reason"
        )
    centre = repair_centre()
    if repair.handback == Handback.STORE_PICKUP and repair.pickup_location is not None:
        store = repair.pickup_location
        shipment = _transfer(rma, centre, store, carrier)
        move_rma(rma, S.RETURNING, actor, note=reason)
        return shipment
    if not rma.ship_postal_code:
        raise RepairError(
            _l("The case has no delivery address: add it, or agree a pickup with the customer.")
        )
    from reverse.shipping.operations import ship_to_customer

    shipment = ship_to_customer(rma, centre, carrier)
    repair.ready_at = utcnow()
    move_rma(rma, S.READY, actor, note=reason)
    return shipment


# -- hand-back ---------------------------------------------------------------------------------


def receive_at_store(
    code: str, location: Location, actor: Actor, *, now: datetime | None = None
) -> RepairScan:
    """The pickup store scans the returning item in: the customer is told it is ready."""
    now = now or utcnow()
    rma = get_rma_for_update(find_repair(code).id)
    repair = repair_of(rma)
    if repair.pickup_location_id != location.id:
        raise WrongPlace(_l("%(n)s is not collected at this store.", n=rma.display_number))
    if rma.status in (S.READY, S.HANDED_BACK, S.CLOSED):
        return RepairScan(
            rma, False, _l("%(n)s is already here, waiting for the customer.", n=rma.display_number)
        )
    if rma.status != S.RETURNING:
        raise RepairError(
            _l(
                "%(n)s is “%(status)s”, not on its way here.",
                n=rma.display_number,
                status=STATUS_LABELS[rma.status],
            )
        )
    _deliver_transfer(rma, location, now)
    repair.ready_at = now
    move_rma(rma, S.READY, actor)
    return RepairScan(
        rma, True, _l("%(n)s is in: the customer is told it is ready.", n=rma.display_number)
    )


def record_payment(rma: Rma, actor: Actor, note: str, *, now: datetime | None = None) -> bool:
    """What the customer owes was paid (at the register, by transfer …). Once."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if repair.paid_at is not None or repair.amount_due_yen == 0:
        return False
    repair.paid_at = now or utcnow()
    repair.payment_note = _text(note, "payment_note", limit=200)
    rma.add_note(
        actor,
        N_("Payment of %(amount)s received."),
        msgid=True,
        params={"amount": f"¥{repair.amount_due_yen:,}"},
    )
    return True


def hand_back(
    rma: Rma,
    location: Location,
    actor: Actor,
    *,
    paid: bool = False,
    payment_note: str = "",
    now: datetime | None = None,
) -> bool:
    """The customer collects the item at the counter (the claim tag was scanned): what is
    owed must be paid, then the case is handed back and closed. A repeat changes nothing and
    returns False."""
    now = now or utcnow()
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status in (S.HANDED_BACK, S.CLOSED):
        return False
    if repair.handback != Handback.STORE_PICKUP or repair.pickup_location_id != location.id:
        raise WrongPlace(_l("%(n)s is not collected at this store.", n=rma.display_number))
    if rma.status != S.READY:
        raise RepairError(
            _l(
                "%(n)s is not ready for pickup yet (“%(status)s”).",
                n=rma.display_number,
                status=STATUS_LABELS[rma.status],
            )
        )
    if repair.amount_outstanding_yen > 0:
        if not paid:
            raise RepairError(
                _l(
                    "Collect %(amount)s first, then confirm the payment.",
                    amount=f"¥{repair.amount_due_yen:,}",
                ),
                field="paid",
            )
        record_payment(rma, actor, payment_note or "register", now=now)
    repair.handed_back_at = now
    move_rma(rma, S.HANDED_BACK, actor)
    move_rma(rma, S.CLOSED, actor, quiet=True)
    return True


def handed_to_carrier(rma: Rma, actor: Actor, *, now: datetime | None = None) -> bool:
    """A repair delivered to the customer left the centre with the carrier. What is owed must
    have been paid. A repeat changes nothing and returns False."""
    rma = get_rma_for_update(rma.id)
    repair = repair_of(rma)
    if rma.status in (S.HANDED_BACK, S.CLOSED):
        return False
    if repair.handback != Handback.SHIP or rma.status != S.READY:
        raise RepairError(_l("Only an item ready for delivery is handed to the carrier."))
    if repair.amount_outstanding_yen > 0:
        raise RepairError(
            _l(
                "%(amount)s is still owed: record the payment before the item leaves.",
                amount=f"¥{repair.amount_due_yen:,}",
            )
        )
    repair.handed_back_at = now or utcnow()
    move_rma(rma, S.HANDED_BACK, actor)
    return True


def on_parcel_news(rma: Rma, shipment: Shipment, status: ShipmentStatus, actor: Actor) -> None:
    """Carrier news about a repaired item's parcel home: collected → handed back, delivered
    → closed."""
    if rma.type != RmaType.REPAIR or shipment.direction != Direction.TO_CUSTOMER:
        return
    repair = repair_of(rma)
    if rma.status == S.READY and repair.amount_outstanding_yen == 0:
        repair.handed_back_at = repair.handed_back_at or utcnow()
        move_rma(rma, S.HANDED_BACK, actor)
    if status == ShipmentStatus.DELIVERED and rma.status == S.HANDED_BACK:
        move_rma(rma, S.CLOSED, actor, quiet=True)
