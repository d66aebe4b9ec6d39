"""/api/v1/refunds: the payment system reads what it must pay and confirms what it paid."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from reverse.api.auth import api_actor, require_scope
from reverse.api.constants import Scope
from reverse.api.idempotency import idempotent
from reverse.api.paging import decode_cursor, encode_cursor
from reverse.api.responses import errors
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.resolution.models import Refund
from reverse.resolution.schemas import (
    RefundListArgsSchema,
    RefundPageSchema,
    SettlementCreateSchema,
    SettlementResultSchema,
)
from reverse.resolution.settlement import refund_page, settle_refund

blp = Blueprint(
    "api-refunds",
    __name__,
    url_prefix="/api/v1/refunds",
    description="Refunds and store credit: released to the payment system, then settled.",
)


class RefundNotFound(DomainError):
    status = 404
    code = "not_found"


@blp.route("", methods=["GET"])
@require_scope(Scope.REFUNDS_READ)
@blp.arguments(RefundListArgsSchema, location="query")
@blp.response(200, RefundPageSchema)
def list_(args: dict[str, Any]) -> dict[str, Any]:
    """Refunds, oldest first, a page at a time (state=released: what is to be paid)"""
    after = decode_cursor("refunds", args["cursor"])
    rows, more = refund_page(
        state=args["state"], since=args["since"], after_id=after, limit=args["limit"]
    )
    return {"items": rows, "next_cursor": encode_cursor("refunds", rows[-1].id) if more else None}


@blp.route("/<int(max=2147483647):refund_id>/settle", methods=["POST"])
@require_scope(Scope.REFUNDS_WRITE)
@errors(404)
@idempotent
@blp.arguments(SettlementCreateSchema)
@blp.response(200, SettlementResultSchema)
def settle(data: dict[str, Any], refund_id: int) -> dict[str, Any]:
    """Mark a released refund settled (the same settlement again changes nothing)"""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise RefundNotFound(_l("No such refund."))
    changed = settle_refund(refund, data["reference"], api_actor())
    return {"changed": changed, "refund": db.session.get(Refund, refund_id)}
