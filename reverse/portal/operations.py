"""The customer's request form as business logic: drafts, order look-up, eligibility, submit.

Nothing here commits or reads the HTTP request; the views do that.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.catalog.models import Channel, Location, Product, StockLevel, Variant
from reverse.core.actors import Actor
from reverse.core.codes import is_valid_jan
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.core.normalise import InvalidInput, code_text, digits_and_dashes, nfkc
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.jobs.outbox import enqueue
from reverse.orders.models import Order, OrderLine
from reverse.policy.engine import (
    LineVerdict,
    Outcome,
    combine,
    judge_line,
    terms_for,
)
from reverse.portal.models import PortalDraft
from reverse.resolution.constants import Resolution
from reverse.rmas.constants import (
    PHOTO_REQUIRED_REASONS,
    REASONS,
    TERMINAL_STATUSES,
    AttachmentKind,
    ProofStatus,
    PurchasePlace,
    ReturnMethod,
    RmaSource,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import Attachment, EventKind, Rma, RmaAccessLink, RmaEvent, RmaLine
from reverse.rmas.operations import LineData, RmaData, create_rma, move_rma

if TYPE_CHECKING:
    from reverse.core.uploads import StoredImage

#: where the customer bought it → the channel whose policy applies
PLACE_CHANNELS = {
    PurchasePlace.WEB: ChannelCode.WEB,
    PurchasePlace.STORE: ChannelCode.STORE,
    PurchasePlace.DEPARTMENT_STORE: ChannelCode.DEPARTMENT_STORE,
    PurchasePlace.OTHER_RETAILER: ChannelCode.OTHER,
    PurchasePlace.GIFT: ChannelCode.OTHER,
    PurchasePlace.UNKNOWN: ChannelCode.OTHER,
}
#: purchases Reverse knows about: looked up by order or receipt number
OWN_PLACES = frozenset({PurchasePlace.WEB, PurchasePlace.STORE})
#: statuses whose lines no longer count against what can still be requested
_RELEASED = TERMINAL_STATUSES - {RmaStatus.CLOSED} | {RmaStatus.REJECTED}
DRAFT_LIFETIME_DAYS = 7


class PortalError(DomainError):
    code = "portal_error"


# -- drafts ------------------------------------------------------------------------------------


def new_draft() -> tuple[PortalDraft, str]:
    key = secrets.token_urlsafe(32)
    draft = PortalDraft(key_hash=PortalDraft.hash_key(key), data={})
    db.session.add(draft)
    db.session.flush()
    return draft, key


def draft_for_key(key: str | None) -> PortalDraft | None:
    if not key:
        return None
    return db.session.scalar(
        sa.select(PortalDraft).where(PortalDraft.key_hash == PortalDraft.hash_key(key))
    )


def update_draft(draft: PortalDraft, **changes: Any) -> None:
    # A new dict, so SQLAlchemy sees the JSON column change.
    draft.data = {**draft.data, **changes}
    db.session.flush()


# -- looking things up -------------------------------------------------------------------------


def contact_matches(customer: Customer | None, contact: str) -> bool:
    """Does what the customer typed (an email or a phone number) belong to this customer?"""
    if customer is None or not contact:
        return False
    text = nfkc(contact)
    if "@" in text:
        try:
            return customer.email == normalise_email(text)
        except InvalidInput:
            return False
    try:
        return customer.phone == normalise_phone(text)
    except InvalidInput:
        return False


def find_order(place: PurchasePlace, number: str, contact: str) -> Order | None:
    """The order of this channel with this number whose customer has this email or phone.

    Returns None for every kind of mismatch, so the page cannot tell a wrong number from a
    wrong contact (and cannot be used to test which order numbers exist)."""
    channel_code = PLACE_CHANNELS.get(place)
    if place not in OWN_PLACES or not number:
        return None
    wanted = code_text(number).upper().replace(" ", "")
    order = db.session.scalar(
        sa.select(Order)
        .join(Channel, Order.channel_id == Channel.id)
        .where(Channel.code == channel_code, sa.func.upper(Order.number) == wanted)
    )
    if order is None or not contact_matches(order.customer, contact):
        return None
    return order


def requested_quantities(order: Order) -> dict[int, int]:
    """Units of each order line already in a case that is still open or was completed."""
    rows = db.session.execute(
        sa.select(RmaLine.order_line_id, sa.func.sum(RmaLine.quantity))
        .join(Rma, RmaLine.rma_id == Rma.id)
        .where(Rma.order_id == order.id, Rma.status.not_in(list(_RELEASED)))
        .group_by(RmaLine.order_line_id)
    ).all()
    return {line_id: int(n) for line_id, n in rows if line_id is not None}


def search_variants(query: str, limit: int = 20) -> list[Variant]:
    """Catalogue search by name (Japanese or English), style code, SKU or JAN."""
    text = nfkc(query)
    if len(text) < 2:
        return []
    digits = digits_and_dashes(text)
    if digits.isdigit() and len(digits) == 13:
        return list(db.session.scalars(sa.select(Variant).where(Variant.jan == digits)))
    like = f"%{text.replace('%', '').replace('_', '')}%"
    stmt = (
        sa.select(Variant)
        .join(Product, Variant.product_id == Product.id)
        .where(
            sa.or_(
                Product.name_ja.ilike(like),
                Product.name_en.ilike(like),
                Product.style_code.ilike(like),
                Variant.sku.ilike(like),
            )
        )
        .order_by(Product.style_code, Variant.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def variant_by_jan(jan: str) -> Variant | None:
    return (
        db.session.scalar(sa.select(Variant).where(Variant.jan == jan))
        if is_valid_jan(jan)
        else None
    )


def available_stock(variant_ids: list[int]) -> dict[int, int]:
    """Units available now across stores and centres, per variant (what exchanges promise)."""
    if not variant_ids:
        return {}
    rows = db.session.execute(
        sa.select(StockLevel.variant_id, sa.func.sum(StockLevel.on_hand - StockLevel.reserved))
        .where(StockLevel.variant_id.in_(variant_ids))
        .group_by(StockLevel.variant_id)
    ).all()
    stock = dict.fromkeys(variant_ids, 0)
    stock.update({vid: int(n or 0) for vid, n in rows})
    return stock


def drop_off_locations() -> list[Location]:
    return list(
        db.session.scalars(
            sa.select(Location)
            .where(
                Location.active,
                Location.kind.in_([LocationKind.STORE, LocationKind.DEPARTMENT_STORE_COUNTER]),
            )
            .order_by(Location.kind, Location.id)
        )
    )


def centre(kind: LocationKind) -> Location | None:
    return db.session.scalar(
        sa.select(Location).where(Location.active, Location.kind == kind).order_by(Location.id)
    )


def channel_for(place: PurchasePlace) -> Channel:
    channel = db.session.scalar(sa.select(Channel).where(Channel.code == PLACE_CHANNELS[place]))
    if channel is None:
        raise PortalError(_l("This purchase channel is not set up yet. Please contact us."))
    return channel


# -- the verdict -------------------------------------------------------------------------------


@dataclass
class DraftLine:
    """One line of a draft, resolved against the catalogue and the order."""

    index: int
    variant: Variant | None
    order_line: OrderLine | None
    description: str
    quantity: int
    reason: str
    comment: str
    wanted_variant: Variant | None
    symptom: str

    def paid_yen(self, declared_price: int | None) -> int | None:
        if self.order_line is not None:
            line = self.order_line
            return line.paid_yen * self.quantity // line.quantity
        return declared_price


def draft_lines(data: dict[str, Any]) -> list[DraftLine]:
    lines = []
    for i, raw in enumerate(data.get("lines", [])):
        order_line = (
            db.session.get(OrderLine, raw["order_line_id"]) if raw.get("order_line_id") else None
        )
        variant = (
            order_line.variant
            if order_line
            else db.session.get(Variant, raw["variant_id"])
            if raw.get("variant_id")
            else None
        )
        wanted = (
            db.session.get(Variant, raw["wanted_variant_id"])
            if raw.get("wanted_variant_id")
            else None
        )
        lines.append(
            DraftLine(
                index=i,
                variant=variant,
                order_line=order_line,
                description=raw.get("description", ""),
                quantity=int(raw.get("quantity", 1)),
                reason=raw.get("reason", ""),
                comment=raw.get("comment", ""),
                wanted_variant=wanted,
                symptom=raw.get("symptom", ""),
            )
        )
    return lines


def _purchase_dates(data: dict[str, Any], order: Order | None) -> tuple[date | None, date | None]:
    if order is not None:
        purchased = today_in_japan(order.ordered_at)
        delivered = today_in_japan(order.delivered_at) if order.delivered_at else None
        return purchased, delivered
    declared = data.get("purchase_date")
    return (date.fromisoformat(declared) if declared else None), None


def assess(data: dict[str, Any], now: datetime | None = None) -> Outcome:
    """What the policy says about this draft, line by line, and what it will cost."""
    rma_type = RmaType(data["type"])
    place = PurchasePlace(data["place"])
    channel = channel_for(place)
    order = db.session.get(Order, data["order_id"]) if data.get("order_id") else None
    purchased_on, delivered_on = _purchase_dates(data, order)
    already = requested_quantities(order) if order else {}
    today = today_in_japan(now or utcnow())
    verdicts, all_terms, reasons = [], [], []
    for line in draft_lines(data):
        product = line.variant.product if line.variant else None
        terms = terms_for(channel, product.category if product else None, line.reason or None)
        left = None
        if line.order_line is not None:
            left = line.order_line.quantity - already.get(line.order_line.id, 0)
        verdicts.append(
            judge_line(
                rma_type=rma_type,
                terms=terms,
                today=today,
                purchased_on=purchased_on,
                delivered_on=delivered_on,
                returnable=product.returnable if product else True,
                repairable=product.repairable if product else True,
                final_sale=bool(line.order_line and line.order_line.final_sale),
                quantity=line.quantity,
                quantity_left=left,
                paid_yen=line.paid_yen(data.get("price_yen")),
                reason=line.reason or None,
            )
        )
        all_terms.append(terms)
        reasons.append(line.reason or None)
    return combine(rma_type, verdicts, all_terms, reasons)


# -- submitting --------------------------------------------------------------------------------


def find_or_create_customer(contact: dict[str, Any]) -> Customer:
    """The customer with this email or phone (email first), created when new; fills gaps."""
    email, phone = contact.get("email") or None, contact.get("phone") or None
    customer = None
    if email:
        customer = db.session.scalar(sa.select(Customer).where(Customer.email == email))
    if customer is None and phone:
        customer = db.session.scalar(sa.select(Customer).where(Customer.phone == phone))
    if customer is None:
        customer = Customer(email=email, phone=phone)
        db.session.add(customer)
    elif customer.email is None and email:
        customer.email = email
    elif customer.phone is None and phone:
        taken = db.session.scalar(sa.select(Customer.id).where(Customer.phone == phone))
        if taken is None:
            customer.phone = phone
    customer.name = contact.get("name") or customer.name
    customer.name_kana = contact.get("name_kana") or customer.name_kana
    customer.locale = contact.get("locale") or customer.locale or "ja"
    db.session.flush()
    return customer


def submit_draft(
    draft: PortalDraft,
    actor: Actor,
    *,
    source: RmaSource = RmaSource.WEB,
    now: datetime | None = None,
) -> tuple[Rma, str]:
    """Turn a complete draft into a case. Refuses a draft the policy does not allow."""
    data = draft.data
    outcome = assess(data, now)
    if not outcome.eligible:
        raise PortalError(_l("Some items cannot be requested. Please check them again."))
    place = PurchasePlace(data["place"])
    contact = data["contact"]
    customer = find_or_create_customer(contact)
    method = ReturnMethod(data["method"]) if data.get("method") else None
    rma_type = RmaType(data["type"])
    location = _responsible_location(rma_type, method, data.get("drop_off_location_id"))
    declared_date = data.get("purchase_date")
    rma, token = create_rma(
        RmaData(
            type=rma_type,
            channel=channel_for(place),
            customer=customer,
            source=source,
            order=db.session.get(Order, data["order_id"]) if data.get("order_id") else None,
            location=location,
            return_method=method,
            declared_retailer=data.get("retailer", ""),
            declared_purchase_date=date.fromisoformat(declared_date) if declared_date else None,
            declared_price_yen=data.get("price_yen"),
            lines=[
                LineData(
                    variant_id=line.variant.id if line.variant else None,
                    order_line_id=line.order_line.id if line.order_line else None,
                    description=line.description,
                    quantity=line.quantity,
                    reason=line.reason,
                    comment=line.comment,
                    wanted_variant_id=line.wanted_variant.id if line.wanted_variant else None,
                    symptom=line.symptom,
                )
                for line in draft_lines(data)
            ],
        ),
        actor,
    )
    rma.purchase_place = place
    rma.outcome = outcome.snapshot()
    rma.refund_estimate_yen = outcome.refund_estimate_yen
    rma.ship_name = contact.get("name", "")
    for key in ("postal_code", "prefecture", "city", "street", "building"):
        setattr(rma, f"ship_{key}", contact.get(key, "") or "")
    needs_proof = outcome.proof_required and place not in OWN_PLACES
    rma.proof_status = ProofStatus.PENDING if needs_proof else ProofStatus.NOT_NEEDED
    if rma_type == RmaType.RETURN:
        rma.resolution = refund_choice(data, rma.channel)
    for attachment in db.session.scalars(
        sa.select(Attachment).where(Attachment.draft_id == draft.id)
    ):
        attachment.rma = rma
        attachment.draft_id = None
    # Moved before the draft goes: deleting it would otherwise null draft_id on rows that
    # do not point at the case yet.
    db.session.flush()
    if rma_type == RmaType.REPAIR:
        from reverse.repairs.operations import open_repair_order  # repairs import the portal

        open_repair_order(rma, outcome=outcome)
        if not needs_proof:
            # Nothing to check before the item comes: the customer sends or brings it now.
            move_rma(rma, RmaStatus.AWAITING_ITEM, Actor.system("policy"), quiet=True)
    elif outcome.auto_approve and not needs_proof:
        # told in the filing confirmation: no mail per step
        move_rma(rma, RmaStatus.APPROVED, Actor.system("policy"), quiet=True)
        move_rma(rma, RmaStatus.AWAITING_ITEM, Actor.system("policy"), quiet=True)
    db.session.delete(draft)
    db.session.flush()
    return rma, token


def refund_choice(data: dict[str, Any], channel: Channel) -> Resolution:
    """Money back, or store credit when the customer chose it and the channel offers a bonus
    for it (the choice is only shown then)."""
    chose_credit = data.get("refund_choice") == Resolution.STORE_CREDIT.value
    if chose_credit and channel.store_credit_bonus_percent > 0:
        return Resolution.STORE_CREDIT
    return Resolution.REFUND


def _responsible_location(
    rma_type: RmaType, method: ReturnMethod | None, drop_off_id: int | None
) -> Location | None:
    if method == ReturnMethod.STORE_DROP_OFF and drop_off_id:
        location = db.session.get(Location, drop_off_id)
        if location is None or location.kind not in (
            LocationKind.STORE,
            LocationKind.DEPARTMENT_STORE_COUNTER,
        ):
            raise PortalError(_l("Please choose a store from the list."))
        return location
    kind = LocationKind.REPAIR_CENTRE if rma_type == RmaType.REPAIR else LocationKind.RETURNS_CENTRE
    return centre(kind)


# -- after submitting --------------------------------------------------------------------------


def new_access_link(rma: Rma) -> str:
    """A further private link to the case; returns the token (to be mailed, never stored)."""
    token = secrets.token_urlsafe(32)
    db.session.add(RmaAccessLink(rma_id=rma.id, token_hash=Rma.hash_token(token)))
    db.session.flush()
    return token


def request_access_link(number: str, contact: str) -> bool:
    """ "Find my request": mail a fresh link when the number and contact match. The caller
    shows the same answer either way, so the page reveals nothing."""
    from reverse.core.codes import parse_rma_number

    canonical = parse_rma_number(number)
    rma = db.session.scalar(sa.select(Rma).where(Rma.number == canonical)) if canonical else None
    if rma is None or not contact_matches(rma.customer, contact):
        return False
    # The key names this request: a retried job is the same mail, a second request another.
    enqueue(
        "reverse.portal.tasks:send_access_link",
        rma.id,
        secrets.token_hex(8),
        queue="notifications",
    )
    return True


#: a customer may cancel until the item is on its way
CUSTOMER_CANCELLABLE = frozenset({RmaStatus.SUBMITTED, RmaStatus.APPROVED, RmaStatus.AWAITING_ITEM})


# -- the steps of the form ---------------------------------------------------------------------

#: the pages of the form, in order; the step indicator counts them ("2 / 6")
STEPS = ("start", "purchase", "items", "method", "contact", "review")
#: how to send or bring the item, by request type
METHODS: dict[RmaType, tuple[ReturnMethod, ...]] = {
    RmaType.RETURN: (
        ReturnMethod.PREPAID_LABEL,
        ReturnMethod.CARRIAGE_FORWARD,
        ReturnMethod.STORE_DROP_OFF,
        ReturnMethod.PICKUP,
    ),
    RmaType.EXCHANGE: (
        ReturnMethod.PREPAID_LABEL,
        ReturnMethod.CARRIAGE_FORWARD,
        ReturnMethod.STORE_DROP_OFF,
        ReturnMethod.PICKUP,
    ),
    RmaType.REPAIR: (ReturnMethod.CARRIAGE_FORWARD, ReturnMethod.STORE_DROP_OFF),
}
#: methods where a carrier comes to, or a label is made out from, the customer's address
ADDRESS_METHODS = frozenset({ReturnMethod.PREPAID_LABEL, ReturnMethod.PICKUP})
MAX_PHOTOS_PER_LINE = 5
#: photos a customer may add to a case after submitting it
MAX_PHOTOS_PER_RMA = 20


def _empty_purchase() -> dict[str, Any]:
    return {"order_id": None, "retailer": "", "purchase_date": None, "price_yen": None, "lines": []}


def _blank_line(**values: Any) -> dict[str, Any]:
    return {
        "order_line_id": None,
        "variant_id": None,
        "description": "",
        "quantity": 1,
        "reason": "",
        "comment": "",
        "wanted_variant_id": None,
        "symptom": "",
    } | values


def start_draft(
    draft: PortalDraft | None, rma_type: RmaType, place: PurchasePlace
) -> tuple[PortalDraft, str | None]:
    """The first step: a new draft, or the visitor's draft started over.

    Changing only the request type keeps the purchase and its items (their reasons, wanted
    sizes and symptoms belong to the old type and are cleared); changing where it was bought
    starts the purchase and items again. The contact details are kept either way. Returns the
    draft and, for a new one, the key the browser keeps."""
    key = None
    if draft is None:
        draft, key = new_draft()
    data = dict(draft.data)
    same_place = data.get("place") == place.value
    if not same_place:
        data.update(_empty_purchase())
        for attachment in draft_attachments(draft):
            db.session.delete(attachment)
    elif data.get("type") != rma_type.value:
        data["lines"] = [
            line
            | {
                "reason": line.get("reason") if line.get("reason") in REASONS[rma_type] else "",
                "wanted_variant_id": (
                    line.get("wanted_variant_id") if rma_type == RmaType.EXCHANGE else None
                ),
                "symptom": line.get("symptom", "") if rma_type == RmaType.REPAIR else "",
            }
            for line in data.get("lines", [])
        ]
    if data.get("type") != rma_type.value or not same_place:
        data.update(method=None, drop_off_location_id=None)
    data.update(type=rma_type.value, place=place.value)
    data.setdefault("contact", {})
    for name, value in _empty_purchase().items():
        data.setdefault(name, value)
    data.setdefault("method", None)
    data.setdefault("drop_off_location_id", None)
    update_draft(draft, **data)
    return draft, key


def draft_order(draft: PortalDraft) -> Order | None:
    order_id = draft.data.get("order_id")
    return db.session.get(Order, order_id) if order_id else None


@dataclass
class OrderLineChoice:
    """One line of a found order as the customer sees it: how many are left, may they ask."""

    order_line: OrderLine
    quantity_left: int
    verdict: LineVerdict

    @property
    def selectable(self) -> bool:
        return self.quantity_left > 0 and self.verdict.eligible


def order_line_choices(data: dict[str, Any], order: Order) -> list[OrderLineChoice]:
    """Every line of the order with what is left of it and the policy's verdict for one unit."""
    already = requested_quantities(order)
    choices = []
    for line in order.lines:
        probe = {**data, "order_id": order.id, "lines": [_blank_line(order_line_id=line.id)]}
        choices.append(
            OrderLineChoice(
                order_line=line,
                quantity_left=max(0, line.quantity - already.get(line.id, 0)),
                verdict=assess(probe).lines[0],
            )
        )
    return choices


def use_order(draft: PortalDraft, order: Order) -> None:
    """The customer found their order: a different order than before starts the items again."""
    if draft.data.get("order_id") != order.id:
        for attachment in draft_attachments(draft):
            db.session.delete(attachment)
        update_draft(draft, **_empty_purchase() | {"order_id": order.id})


def forget_order(draft: PortalDraft) -> None:
    for attachment in draft_attachments(draft):
        db.session.delete(attachment)
    update_draft(draft, **_empty_purchase())


def choose_order_lines(draft: PortalDraft, quantities: dict[int, int]) -> None:
    """The order lines (id → quantity) to send back; details given earlier are kept."""
    order = draft_order(draft)
    if order is None:
        raise PortalError(_l("Please find your order first."))
    known = {line.id: line for line in order.lines}
    previous = {
        line.get("order_line_id"): (i, line) for i, line in enumerate(draft.data.get("lines", []))
    }
    lines, moves = [], {}
    for line_id, quantity in quantities.items():
        order_line = known.get(line_id)
        if order_line is None:
            raise PortalError(_l("This item is not part of your order."))
        old_index, old = previous.get(line_id, (None, {}))
        if old_index is not None:
            moves[old_index] = len(lines)
        lines.append(
            _blank_line(**old)
            | {"order_line_id": line_id, "variant_id": order_line.variant_id, "quantity": quantity}
        )
    _renumber_attachments(draft, moves)
    update_draft(draft, lines=lines)


def declare_purchase(
    draft: PortalDraft, retailer: str, purchase_date: date | None, price_yen: int | None
) -> None:
    """A purchase Reverse does not know about (department store, another shop), as declared."""
    update_draft(
        draft,
        order_id=None,
        retailer=retailer.strip(),
        purchase_date=purchase_date.isoformat() if purchase_date else None,
        price_yen=price_yen,
    )


def counter_retailers() -> list[Location]:
    """One department-store counter per retailer, for the "where did you buy it" list."""
    seen, counters = set(), []
    for location in db.session.scalars(
        sa.select(Location)
        .where(Location.active, Location.kind == LocationKind.DEPARTMENT_STORE_COUNTER)
        .order_by(Location.id)
    ):
        if location.retailer and location.retailer not in seen:
            seen.add(location.retailer)
            counters.append(location)
    return counters


def type_offered(place: PurchasePlace, rma_type: RmaType) -> bool:
    """Is this kind of request offered at all for purchases made there (before any item)?"""
    return rma_type.value in terms_for(channel_for(place), None, None).allowed_types


def proof_required(place: PurchasePlace) -> bool:
    """Must the customer show a receipt or warranty card for a purchase made there?"""
    if place in OWN_PLACES or place in (PurchasePlace.GIFT, PurchasePlace.UNKNOWN):
        return False
    return terms_for(channel_for(place), None, None).proof_required


# -- items -------------------------------------------------------------------------------------


def add_draft_line(
    draft: PortalDraft, *, variant: Variant | None = None, description: str = ""
) -> int:
    """An item of a purchase without an order, found in the catalogue or described in words.
    Returns its position."""
    if variant is None and not description.strip():
        raise PortalError(_l("Please choose an item or describe it."))
    lines = list(draft.data.get("lines", []))
    lines.append(
        _blank_line(variant_id=variant.id if variant else None, description=description.strip())
    )
    update_draft(draft, lines=lines)
    return len(lines) - 1


def remove_draft_line(draft: PortalDraft, index: int) -> None:
    lines = list(draft.data.get("lines", []))
    if not 0 <= index < len(lines):
        return
    del lines[index]
    for attachment in draft_attachments(draft):
        if attachment.line_no == index:
            db.session.delete(attachment)
    _renumber_attachments(draft, {i: i - 1 for i in range(index + 1, len(lines) + 1)}, keep=True)
    update_draft(draft, lines=lines)


def _renumber_attachments(draft: PortalDraft, moves: dict[int, int], keep: bool = False) -> None:
    """Photos follow their line to its new position; photos of lines that went are dropped
    (unless `keep`: then only the moved ones change)."""
    for attachment in draft_attachments(draft):
        if attachment.line_no is None:
            continue
        if attachment.line_no in moves:
            attachment.line_no = moves[attachment.line_no]
        elif not keep:
            db.session.delete(attachment)
    db.session.flush()


@dataclass
class ExchangeOption:
    variant: Variant
    available: int

    @property
    def in_stock(self) -> bool:
        return self.available > 0


def exchange_options(variant: Variant) -> list[ExchangeOption]:
    """The other sizes and colours of the same product, with what we can promise of each."""
    others = [v for v in variant.product.variants if v.id != variant.id]
    stock = available_stock([v.id for v in others])
    return [ExchangeOption(v, stock.get(v.id, 0)) for v in others]


def set_line_details(
    draft: PortalDraft,
    index: int,
    *,
    reason: str,
    comment: str = "",
    wanted_variant_id: int | None = None,
    symptom: str = "",
) -> None:
    rma_type = RmaType(draft.data["type"])
    if reason not in REASONS[rma_type]:
        raise PortalError(_l("Please choose a reason from the list."))
    lines = list(draft.data.get("lines", []))
    line = dict(lines[index])
    if wanted_variant_id is not None:
        variant = db.session.get(Variant, line.get("variant_id") or 0)
        options = {o.variant.id: o for o in exchange_options(variant)} if variant else {}
        option = options.get(wanted_variant_id)
        if option is None or not option.in_stock:
            raise PortalError(_l("This size or colour is out of stock. Please choose another."))
    line.update(
        reason=reason,
        comment=comment.strip(),
        wanted_variant_id=wanted_variant_id if rma_type == RmaType.EXCHANGE else None,
        symptom=symptom.strip() if rma_type == RmaType.REPAIR else "",
    )
    lines[index] = line
    update_draft(draft, lines=lines)


def jan_from_photo(path: Path) -> str | None:
    """The JAN (EAN-13) printed on a product tag in this photo, if one can be read."""
    import zxingcpp
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        results = zxingcpp.read_barcodes(image.convert("RGB"))
    for result in results:
        text = result.text.strip()
        if len(text) == 12 and text.isdigit():  # UPC-A is an EAN-13 with a leading zero
            text = "0" + text
        if is_valid_jan(text):
            return text
    return None


# -- photos ------------------------------------------------------------------------------------


def draft_attachments(draft: PortalDraft) -> list[Attachment]:
    return list(
        db.session.scalars(
            sa.select(Attachment).where(Attachment.draft_id == draft.id).order_by(Attachment.id)
        )
    )


def attach_to_draft(
    draft: PortalDraft,
    image: StoredImage,
    kind: AttachmentKind,
    line_no: int | None = None,
    *,
    replace: bool = False,
) -> Attachment:
    """Hang a stored photo on the draft; `replace` drops the
    earlier photo of this kind and line (one receipt, one tag)."""
    if replace:
        for old in draft_attachments(draft):
            if old.kind == kind and old.line_no == line_no:
                db.session.delete(old)
    elif kind == AttachmentKind.PHOTO and line_no is not None:
        taken = sum(
            1
            for a in draft_attachments(draft)
            if a.kind == AttachmentKind.PHOTO and a.line_no == line_no
        )
        if taken >= MAX_PHOTOS_PER_LINE:
            raise PortalError(_l("Up to %(n)d photos per item, please.", n=MAX_PHOTOS_PER_LINE))
    attachment = Attachment.of_image(image, kind=kind, draft_id=draft.id, line_no=line_no)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def draft_attachment(draft: PortalDraft, attachment_id: int) -> Attachment | None:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.draft_id != draft.id:
        return None
    return attachment


def remove_draft_attachment(draft: PortalDraft, attachment_id: int) -> None:
    attachment = draft_attachment(draft, attachment_id)
    if attachment is not None:
        db.session.delete(attachment)
        db.session.flush()


# -- method and contact ------------------------------------------------------------------------


def set_method(draft: PortalDraft, method: ReturnMethod, location_id: int | None) -> None:
    rma_type = RmaType(draft.data["type"])
    if method not in METHODS[rma_type]:
        raise PortalError(_l("Please choose one of the ways offered."))
    if method == ReturnMethod.STORE_DROP_OFF:
        if location_id not in {loc.id for loc in drop_off_locations()}:
            raise PortalError(_l("Please choose a store from the list."))
    else:
        location_id = None
    update_draft(draft, method=method.value, drop_off_location_id=location_id)


def address_required(data: dict[str, Any]) -> bool:
    method = data.get("method")
    return bool(method) and ReturnMethod(method) in ADDRESS_METHODS


def set_contact(draft: PortalDraft, contact: dict[str, Any]) -> None:
    """Contact details, already normalised by the form (email, E.164 phone, 〒123-4567)."""
    if not contact.get("email") and not contact.get("phone"):
        raise PortalError(_l("Please give an email address or a phone number."))
    update_draft(draft, contact={**draft.data.get("contact", {}), **contact})


def contact_defaults(draft: PortalDraft) -> dict[str, Any]:
    """What the contact page starts with: what was typed before, else the order's customer."""
    contact = dict(draft.data.get("contact") or {})
    order = draft_order(draft)
    if not contact.get("name") and order is not None and order.customer is not None:
        customer = order.customer
        contact.update(
            name=customer.name,
            name_kana=customer.name_kana,
            email=customer.email or "",
            phone=customer.phone or "",
        )
    return contact


def missing_step(draft: PortalDraft) -> str | None:
    """The first step of the form that still needs something, or None when all is there."""
    data = draft.data
    if not data.get("type") or not data.get("place"):
        return "start"
    place = PurchasePlace(data["place"])
    lines = data.get("lines", [])
    attachments = draft_attachments(draft)
    if place in OWN_PLACES:
        if not data.get("order_id") or not lines:
            return "purchase"
    elif place in (PurchasePlace.DEPARTMENT_STORE, PurchasePlace.OTHER_RETAILER):
        if not data.get("retailer") or not data.get("purchase_date"):
            return "purchase"
        if proof_required(place) and not any(a.kind == AttachmentKind.RECEIPT for a in attachments):
            return "purchase"
    if not lines or not all(line_complete(data, i, attachments) for i in range(len(lines))):
        return "items"
    method = data.get("method")
    if not method or (
        method == ReturnMethod.STORE_DROP_OFF and not data.get("drop_off_location_id")
    ):
        return "method"
    contact = data.get("contact") or {}
    if not contact.get("name") or not (contact.get("email") or contact.get("phone")):
        return "contact"
    if address_required(data) and not all(
        contact.get(k) for k in ("postal_code", "prefecture", "city", "street")
    ):
        return "contact"
    return None


def line_complete(data: dict[str, Any], index: int, attachments: list[Attachment]) -> bool:
    line = data["lines"][index]
    rma_type = RmaType(data["type"])
    if line.get("reason") not in REASONS[rma_type]:
        return False
    if rma_type == RmaType.EXCHANGE and not line.get("wanted_variant_id"):
        # Something else must be chosen when something else is in stock; otherwise we
        # contact the customer about the exchange.
        variant = db.session.get(Variant, line["variant_id"]) if line.get("variant_id") else None
        if variant is not None and any(o.in_stock for o in exchange_options(variant)):
            return False
    if rma_type == RmaType.REPAIR and not line.get("symptom"):
        return False
    if line["reason"] in PHOTO_REQUIRED_REASONS:
        return any(a.kind == AttachmentKind.PHOTO and a.line_no == index for a in attachments)
    return True


# -- after submitting: what the customer may still do ------------------------------------------


def cancel_by_customer(rma: Rma, actor: Actor) -> RmaEvent | None:
    """The customer withdraws their request, while the item is not yet on its way."""
    from reverse.rmas.operations import get_rma_for_update, move_rma

    rma = get_rma_for_update(rma.id)
    if rma.status == RmaStatus.CANCELLED:
        return None
    if rma.status not in CUSTOMER_CANCELLABLE:
        raise PortalError(
            _l("This request can no longer be cancelled here. Please send us a message.")
        )
    return move_rma(rma, RmaStatus.CANCELLED, actor)


def add_customer_message(rma: Rma, text: str, actor: Actor) -> RmaEvent:
    """A message from the customer, on the case's timeline (they see it on the status page)."""
    text = text.strip()
    if not text:
        raise PortalError(_l("Please write a message."))
    event = rma._record(EventKind.MESSAGE, None, None, actor, note=text, public=True)
    db.session.flush()
    return event


def add_customer_photos(rma: Rma, images: list[StoredImage], actor: Actor) -> list[Attachment]:
    """Photos the customer adds after submitting; staff see when on the timeline."""
    if not images:
        return []
    existing = sum(1 for a in rma.attachments if a.added_by == "customer")
    if existing + len(images) > MAX_PHOTOS_PER_RMA:
        raise PortalError(_l("Up to %(n)d photos per request, please.", n=MAX_PHOTOS_PER_RMA))
    added = []
    for image in images:
        attachment = Attachment.of_image(
            image, kind=AttachmentKind.PHOTO, rma=rma, added_by="customer"
        )
        db.session.add(attachment)
        added.append(attachment)
    db.session.flush()
    rma._record(
        EventKind.NOTE,
        None,
        None,
        actor,
        public=False,
        data={"attachment_ids": [a.id for a in added]},
    )
    db.session.flush()
    return added


def customer_photos(rma: Rma) -> list[Attachment]:
    return [a for a in rma.attachments if a.added_by == "customer"]


def rma_photo(rma: Rma, attachment_id: int) -> Attachment | None:
    """A photo the customer added to this case (never another case's, never a staff one)."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.rma_id != rma.id or attachment.added_by != "customer":
        return None
    return attachment
