"""The `data` of each webhook event: small, stable JSON documents (documented in README).

Fields are only ever added, never renamed or removed; amounts are whole yen, times UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reverse.webhooks.operations import iso

if TYPE_CHECKING:
    from reverse.resale.models import ResaleItem, ResaleReservation
    from reverse.resolution.models import Refund
    from reverse.rmas.models import Rma


def rma_data(rma: Rma) -> dict[str, Any]:
    """What every rma.* event says about its case (the status fields are the event's)."""
    return {
        "rma_number": rma.display_number,
        "type": rma.type.value,
        "channel": rma.channel.code.value,
        "source": rma.source.value,
        "order_number": rma.order.number if rma.order is not None else None,
        "location": rma.location.code if rma.location is not None else None,
    }


def refund_data(refund: Refund) -> dict[str, Any]:
    rma = refund.rma
    return {
        "refund_id": refund.id,
        "kind": refund.kind.value,
        "state": refund.state.value,
        "amount_yen": refund.amount_yen,
        "bonus_yen": refund.bonus_yen,
        "currency": "JPY",
        "rma_number": rma.display_number,
        "channel": rma.channel.code.value,
        "order_number": rma.order.number if rma.order is not None else None,
    }


def _item(item: ResaleItem) -> dict[str, Any]:
    return {
        "item_code": item.code,
        "sku": item.variant.sku,
        "grade": item.grade.value,
    }


def resale_sold_data(item: ResaleItem) -> dict[str, Any]:
    assert item.sold_channel is not None
    assert item.sold_at is not None
    return {
        **_item(item),
        "price_yen": item.sold_price_yen,
        "currency": "JPY",
        "channel": item.sold_channel.value,
        "location": item.sold_location.code if item.sold_location is not None else None,
        "sold_at": iso(item.sold_at),
    }


def purchase_requested_data(reservation: ResaleReservation) -> dict[str, Any]:
    """What the web shop needs to take the payment: who, what, how much, until when."""
    customer = reservation.customer
    return {
        **_item(reservation.item),
        "reservation_id": reservation.id,
        "price_yen": reservation.price_yen,
        "currency": "JPY",
        "expires_at": iso(reservation.expires_at),
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "locale": customer.locale,
        },
    }
