"""A customer's data, on their request: everything Reverse holds about them, as one ZIP of a
JSON document and the photos and receipts of their cases.

Internal staff notes are left out (they are the team's working notes, reviewed by support
before a request is answered); everything the customer gave us or was told is in.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from reverse.catalog.models import Variant
from reverse.core.db import utcnow
from reverse.core.uploads import upload_path
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.repairs.models import RepairOrder
from reverse.resale.models import ResaleReservation
from reverse.resolution.models import Refund
from reverse.rmas.models import EventKind, Rma, RmaEvent, RmaLine
from reverse.shipping.models import Shipment

#: bumped when a field changes meaning; fields are only added
FORMAT_VERSION = 1


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _order(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "channel": order.channel.code.value,
        "store": order.location.code if order.location is not None else None,
        "ordered_at": _when(order.ordered_at),
        "delivered_at": _when(order.delivered_at),
        "lines": [
            {
                "sku": line.variant.sku,
                "item": line.variant.label("en"),
                "quantity": line.quantity,
                "paid_yen": line.paid_yen,
                "final_sale": line.final_sale,
            }
            for line in order.lines
        ],
    }


def _line(line: RmaLine) -> dict[str, Any]:
    return {
        "item": line.label("en"),
        "sku": line.variant.sku if line.variant is not None else None,
        "quantity": line.quantity,
        "reason": line.reason,
        "comment": line.comment,
        "symptom": line.symptom,
        "wanted_sku": line.wanted_variant.sku if line.wanted_variant is not None else None,
    }


def _event(event: RmaEvent) -> dict[str, Any]:
    params = event.data.get("params") if event.data.get("i18n") else None
    return {
        "at": _when(event.created_at),
        "kind": event.kind.value,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value if event.to_status else None,
        "by": event.actor_kind.value,
        "text": event.note,
        **({"text_params": params} if params else {}),
    }


def _repair(repair: RepairOrder) -> dict[str, Any]:
    return {
        "handback": repair.handback.value,
        "warranty": repair.warranty,
        "estimate_yen": [repair.estimate_min_yen, repair.estimate_max_yen],
        "promised_on": _when(repair.promised_on),
        "condition_notes": repair.condition_notes,
        "accessories": repair.accessories,
        "diagnosis": repair.diagnosis,
        "amount_due_yen": repair.amount_due_yen,
        "paid_at": _when(repair.paid_at),
        "quotes": [
            {
                "number": quote.number,
                "state": quote.state.value,
                "total_yen": quote.total_yen,
                "note": quote.note,
                "decided_at": _when(quote.decided_at),
            }
            for quote in repair.quotes
        ],
    }


def _case(rma: Rma, refund: Refund | None, shipments: list[Shipment]) -> dict[str, Any]:
    return {
        "number": rma.display_number,
        "type": rma.type.value,
        "status": rma.status.value,
        "opened_at": _when(rma.created_at),
        "channel": rma.channel.code.value,
        "order_number": rma.order.number if rma.order is not None else None,
        "declared_purchase": {
            "retailer": rma.declared_retailer,
            "date": _when(rma.declared_purchase_date),
            "price_yen": rma.declared_price_yen,
        },
        "return_method": rma.return_method.value if rma.return_method else None,
        "address": {
            "name": rma.ship_name,
            "postal_code": rma.ship_postal_code,
            "prefecture": rma.ship_prefecture,
            "city": rma.ship_city,
            "street": rma.ship_street,
            "building": rma.ship_building,
        },
        "decision_reason": rma.decision_reason,
        "resolution": rma.resolution.value if rma.resolution else None,
        "anonymised_at": _when(rma.anonymised_at),
        "lines": [_line(line) for line in rma.lines],
        "timeline": [_event(e) for e in rma.events if e.public or e.kind == EventKind.MESSAGE],
        "refund": None
        if refund is None
        else {
            "kind": refund.kind.value,
            "amount_yen": refund.amount_yen,
            "state": refund.state.value,
            "created_at": _when(refund.created_at),
            "settled_at": _when(refund.settled_at),
        },
        "shipments": [
            {
                "direction": s.direction.value,
                "carrier": s.carrier.value,
                "tracking_number": s.tracking_number,
                "status": s.status.value,
                "shipped_at": _when(s.shipped_at),
                "delivered_at": _when(s.delivered_at),
            }
            for s in shipments
        ],
        "repair": _repair(rma.repair) if rma.repair is not None else None,
        "files": [f"files/{a.stored_name}" for a in rma.attachments],
    }


def customer_data(customer: Customer) -> dict[str, Any]:
    """Everything about `customer`, as a JSON-ready document."""
    orders = db.session.scalars(
        sa.select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.ordered_at, Order.id)
        .options(
            joinedload(Order.channel),
            joinedload(Order.location),
            selectinload(Order.lines).joinedload(OrderLine.variant).joinedload(Variant.product),
        )
    ).all()
    rmas = db.session.scalars(
        sa.select(Rma)
        .where(Rma.customer_id == customer.id)
        .order_by(Rma.created_at, Rma.id)
        .options(
            joinedload(Rma.channel),
            joinedload(Rma.order),
            selectinload(Rma.lines).options(
                joinedload(RmaLine.variant).joinedload(Variant.product),
                joinedload(RmaLine.wanted_variant),
            ),
            selectinload(Rma.events),
            selectinload(Rma.attachments),
            selectinload(Rma.repair).selectinload(RepairOrder.quotes),
        )
    ).all()
    ids = [rma.id for rma in rmas]
    refunds = {
        r.rma_id: r for r in db.session.scalars(sa.select(Refund).where(Refund.rma_id.in_(ids)))
    }
    shipments: dict[int, list[Shipment]] = {}
    for shipment in db.session.scalars(
        sa.select(Shipment).where(Shipment.rma_id.in_(ids)).order_by(Shipment.id)
    ):
        shipments.setdefault(shipment.rma_id or 0, []).append(shipment)
    reservations = db.session.scalars(
        sa.select(ResaleReservation)
        .where(ResaleReservation.customer_id == customer.id)
        .order_by(ResaleReservation.id)
    ).all()
    return {
        "format": FORMAT_VERSION,
        "exported_at": _when(utcnow()),
        "customer": {
            "name": customer.name,
            "name_kana": customer.name_kana,
            "email": customer.email,
            "phone": customer.phone,
            "language": customer.locale,
            "known_since": _when(customer.created_at),
            "anonymised_at": _when(customer.anonymised_at),
        },
        "orders": [_order(order) for order in orders],
        "cases": [_case(rma, refunds.get(rma.id), shipments.get(rma.id, [])) for rma in rmas],
        "preowned_reservations": [
            {
                "item": r.item.code,
                "kind": r.kind.value,
                "state": r.state.value,
                "price_yen": r.price_yen,
                "reserved_at": _when(r.created_at),
                "closed_at": _when(r.closed_at),
            }
            for r in reservations
        ],
    }


def export_archive(customer: Customer) -> bytes:
    """The ZIP handed to the customer: `data.json` and, under `files/`, each photo and
    receipt of their cases that is still stored."""
    data = customer_data(customer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        # the files its cases list, each once (the same photo sent twice is stored once)
        for entry in sorted({f for case in data["cases"] for f in case["files"]}):
            path = upload_path(entry.removeprefix("files/"))
            if path.exists():
                archive.write(path, entry)
    return buffer.getvalue()


def archive_name(customer: Customer) -> str:
    return f"reverse-customer-{customer.id}-{utcnow():%Y%m%d}.zip"
