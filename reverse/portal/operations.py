"""The customer's request form as business logic: drafts, order look-up, eligibility, submit.

Nothing here commits or reads the HTTP request; the views do that.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.catalog.models import Channel, Location, Product, StockLevel, Variant
from reverse.core.actors import Actor
from reverse.core.codes import is_valid_jan
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.core.normalise import InvalidInput, code_text, digits_and_dashes, nfkc
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.jobs.outbox import enqueue
from reverse.orders.models import Order, OrderLine
from reverse.policy.engine import Outcome, combine, judge_line, terms_for, today_in_japan
from reverse.portal.models import PortalDraft
from reverse.rmas.constants import (
    TERMINAL_STATUSES,
    ProofStatus,
    PurchasePlace,
    ReturnMethod,
    RmaSource,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import Attachment, Rma, RmaAccessLink, RmaLine
from reverse.rmas.operations import LineData, RmaData, create_rma

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
    for attachment in db.session.scalars(
        sa.select(Attachment).where(Attachment.draft_id == draft.id)
    ):
        attachment.rma = rma
        attachment.draft_id = None
    if outcome.auto_approve and not needs_proof and rma_type != RmaType.REPAIR:
        rma.transition(RmaStatus.APPROVED, Actor.system("policy"))
        rma.transition(RmaStatus.AWAITING_ITEM, Actor.system("policy"))
    db.session.delete(draft)
    db.session.flush()
    return rma, token


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
    enqueue("reverse.portal.tasks:send_access_link", rma.id, queue="notifications")
    return True


#: a customer may cancel until the item is on its way
CUSTOMER_CANCELLABLE = frozenset({RmaStatus.SUBMITTED, RmaStatus.APPROVED, RmaStatus.AWAITING_ITEM})
