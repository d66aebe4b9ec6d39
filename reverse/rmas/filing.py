"""Filing a case from structured data (the API): items named by SKU, stores by code.

What is given is resolved against the order and the catalogue, checked the way the
call-centre form checks it, and turned into the draft data the customer form builds — then
the same policy judges it and the same operation files it. Flushes; never commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel, Variant
from reverse.core.actors import Actor
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.portal.operations import (
    ADDRESS_METHODS,
    METHODS,
    assess,
    available_stock,
    drop_off_locations,
    requested_quantities,
)
from reverse.rmas.constants import PurchasePlace, ReturnMethod, RmaSource, RmaType
from reverse.rmas.models import Rma
from reverse.staff.operations import file_for_customer

#: the channel of a known order → where the customer form says it was bought
ORDER_PLACES = {ChannelCode.WEB: PurchasePlace.WEB, ChannelCode.STORE: PurchasePlace.STORE}
_ADDRESS = ("postal_code", "prefecture", "city", "street")


class FilingError(DomainError):
    """Something named in the request does not exist or does not fit: 422 with details."""

    code = "validation_error"


class NotAllowed(DomainError):
    """The return policy refuses the request: each item's reasons in the details."""

    code = "not_allowed"


def _order(ref: dict[str, Any]) -> Order | None:
    wanted = ref["number"].upper().replace(" ", "")
    return db.session.scalar(
        sa.select(Order)
        .join(Channel, Order.channel_id == Channel.id)
        .where(Channel.code == ref["channel"], sa.func.upper(Order.number) == wanted)
    )


def _variants(skus: set[str]) -> dict[str, Variant]:
    if not skus:
        return {}
    return {v.sku: v for v in db.session.scalars(sa.select(Variant).where(Variant.sku.in_(skus)))}


def _order_line(order: Order, variant: Variant, quantity: int) -> OrderLine | None:
    """The line of `order` with this item — the first with enough units left, when the item
    was bought on several lines."""
    lines = [line for line in order.lines if line.variant_id == variant.id]
    if not lines:
        return None
    already = requested_quantities(order)
    for line in lines:
        if line.quantity - already.get(line.id, 0) >= quantity:
            return line
    return lines[0]


def _contact(data: dict[str, Any], order: Order | None) -> dict[str, Any] | None:
    contact = data["contact"]
    if contact is not None:
        return dict(contact)
    customer = order.customer if order is not None else None
    if customer is None:
        return None
    return {
        "name": customer.name,
        "name_kana": customer.name_kana,
        "email": customer.email,
        "phone": customer.phone,
        "locale": customer.locale,
    }


def draft_data(data: dict[str, Any]) -> dict[str, Any]:
    """The portal draft data of a request as RmaCreateSchema loads it; FilingError with
    field details for everything that does not resolve or fit."""
    rma_type: RmaType = data["type"]
    method: ReturnMethod = data["return_method"]
    problems: dict[str, Any] = {}
    order = _order(data["order"]) if data["order"] else None
    if data["order"] and order is None:
        problems["order"] = {"number": [_l("No order with this number in this channel.")]}
    skus = {line["sku"] for line in data["lines"] if line["sku"]}
    skus |= {line["wanted_sku"] for line in data["lines"] if line["wanted_sku"]}
    variants = _variants(skus)

    lines: list[dict[str, Any]] = []
    line_problems: dict[str, dict[str, list[Any]]] = {}
    for index, line in enumerate(data["lines"]):
        found: dict[str, list[Any]] = {}
        variant = variants.get(line["sku"]) if line["sku"] else None
        order_line = None
        if line["sku"] and variant is None:
            found["sku"] = [_l("No product has the SKU %(code)s.", code=line["sku"])]
        elif variant is not None and order is not None:
            order_line = _order_line(order, variant, line["quantity"])
            if order_line is None:
                found["sku"] = [_l("This item is not part of the order.")]
        wanted = _wanted(rma_type, variant, line["wanted_sku"], variants, found)
        if found:
            line_problems[str(index)] = found
        lines.append(
            {
                "order_line_id": order_line.id if order_line else None,
                "variant_id": variant.id if variant and not order_line else None,
                "description": "" if variant else line["description"],
                "quantity": line["quantity"],
                "reason": line["reason"],
                "comment": line["comment"],
                "wanted_variant_id": wanted.id if wanted else None,
                "symptom": line["symptom"] if rma_type == RmaType.REPAIR else "",
            }
        )
    if line_problems:
        problems["lines"] = line_problems

    if method not in METHODS[rma_type]:
        problems["return_method"] = [_l("Not offered for this kind of request.")]
    drop_off_id = None
    if method == ReturnMethod.STORE_DROP_OFF and data["drop_off_location"]:
        stores = {loc.code.upper(): loc.id for loc in drop_off_locations()}
        drop_off_id = stores.get(data["drop_off_location"])
        if drop_off_id is None:
            problems["drop_off_location"] = [
                _l("No store or counter takes items in under this code.")
            ]

    contact = _contact(data, order)
    if contact is None:
        problems["contact"] = {"email": [_l("Give an email address or a phone number.")]}
    elif method in ADDRESS_METHODS:
        missing = {
            k: [_l("Needed for a label or a pickup.")] for k in _ADDRESS if not contact.get(k)
        }
        if missing:
            problems["contact"] = missing
    if problems:
        raise FilingError(_l("Some fields are not valid."), **problems)

    declared = data["declared_purchase"] or {}
    place = ORDER_PLACES[data["order"]["channel"]] if order is not None else declared["place"]
    purchase_date = declared.get("purchase_date")
    return {
        "type": rma_type.value,
        "place": place.value,
        "order_id": order.id if order is not None else None,
        "retailer": declared.get("retailer", ""),
        "purchase_date": purchase_date.isoformat() if purchase_date else None,
        "price_yen": declared.get("price_yen"),
        "lines": lines,
        "method": method.value,
        "drop_off_location_id": drop_off_id,
        "contact": contact,
        "refund_choice": data["refund_choice"].value,
    }


def _wanted(
    rma_type: RmaType,
    variant: Variant | None,
    wanted_sku: str | None,
    variants: dict[str, Variant],
    found: dict[str, list[Any]],
) -> Variant | None:
    """The replacement of an exchange line: another size or colour of the same product, in
    stock somewhere (as the call-centre form insists)."""
    if rma_type != RmaType.EXCHANGE or variant is None:
        return None
    if not wanted_sku:
        found["wanted_sku"] = [_l("Choose the size or colour wanted instead.")]
        return None
    wanted = variants.get(wanted_sku)
    if wanted is None or wanted.product_id != variant.product_id or wanted.id == variant.id:
        found["wanted_sku"] = [_l("Not another size or colour of this product.")]
        return None
    if available_stock([wanted.id])[wanted.id] <= 0:
        found["wanted_sku"] = [_l("Out of stock everywhere: offer another size or colour.")]
        return None
    return wanted


def file_rma(data: dict[str, Any], actor: Actor) -> tuple[Rma, str]:
    """File a case for another system (RmaCreateSchema data); returns it and the token of the
    customer's private link. FilingError for what does not resolve, NotAllowed when the
    policy refuses an item (with its reasons)."""
    draft = draft_data(data)
    outcome = assess(draft)
    if not outcome.eligible:
        refused = {
            str(i): [str(p) for p in verdict.problems]
            for i, verdict in enumerate(outcome.lines)
            if not verdict.eligible
        }
        raise NotAllowed(
            _l("The return policy does not allow this request: see the items."), lines=refused
        )
    return file_for_customer(draft, actor, source=RmaSource.API)
