"""/api/v1/orders: the web shop, the stores' POS and department-store feeds push their sales."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from reverse.api.auth import require_scope
from reverse.api.constants import Scope
from reverse.api.idempotency import idempotent
from reverse.api.responses import errors
from reverse.catalog.constants import ChannelCode
from reverse.core.errors import DomainError
from reverse.core.normalise import code_text
from reverse.orders.models import Order
from reverse.orders.operations import order_by_number, upsert_orders
from reverse.orders.schemas import (
    OrderBulkCreateSchema,
    OrderBulkResultSchema,
    OrderCreateSchema,
    OrderSchema,
    OrderUpsertResultSchema,
)

blp = Blueprint(
    "api-orders",
    __name__,
    url_prefix="/api/v1/orders",
    description="Orders and receipts of every channel, matched by channel and number.",
)


class OrderNotFound(DomainError):
    status = 404
    code = "not_found"


@blp.route("", methods=["POST"])
@require_scope(Scope.ORDERS_WRITE)
@idempotent
@blp.arguments(OrderCreateSchema)
@blp.response(200, OrderUpsertResultSchema)
def upsert(data: dict[str, Any]) -> dict[str, Any]:
    """Create or update one order"""
    [(order, result)] = upsert_orders([data], bulk=False)
    return {"result": result.value, "order": order}


@blp.route("/bulk", methods=["POST"])
@require_scope(Scope.ORDERS_WRITE)
@idempotent
@blp.arguments(OrderBulkCreateSchema)
@blp.response(200, OrderBulkResultSchema)
def upsert_many(data: dict[str, Any]) -> dict[str, int]:
    """Create or update up to 500 orders in one transaction (all or nothing)"""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for _order, result in upsert_orders(data["orders"]):
        counts[result.value] += 1
    return counts


@blp.route("/<channel>/<number>", methods=["GET"])
@require_scope(Scope.ORDERS_READ)
@errors(404)
@blp.response(200, OrderSchema)
def get(channel: str, number: str) -> Order:
    """One order, by its channel's code and its number"""
    try:
        code = ChannelCode(channel)
    except ValueError:
        code = None
    number = code_text(number)
    order = order_by_number(code, number) if code and number.isprintable() else None
    if order is None:
        raise OrderNotFound(_l("No such order."))
    return order
