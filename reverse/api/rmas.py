"""/api/v1/rmas: other systems file returns, exchanges and repairs, follow and move them."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from reverse.api.auth import api_actor, require_scope
from reverse.api.constants import Scope
from reverse.api.idempotency import idempotent
from reverse.api.paging import decode_cursor, encode_cursor
from reverse.api.responses import errors
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.rmas.filing import file_rma
from reverse.rmas.models import Rma
from reverse.rmas.queries import RmaFilters, rma_by_number, rma_page
from reverse.rmas.schemas import (
    RmaCreateSchema,
    RmaDetailSchema,
    RmaFiledSchema,
    RmaListArgsSchema,
    RmaPageSchema,
    TransitionCreateSchema,
    TransitionResultSchema,
)
from reverse.rmas.steps import take_step

blp = Blueprint(
    "api-rmas",
    __name__,
    url_prefix="/api/v1/rmas",
    description="Returns, exchanges and repairs: filed under the customers' return policy.",
)


class RmaNotFound(DomainError):
    status = 404
    code = "not_found"


def _case(number: str) -> Rma:
    rma = rma_by_number(number)
    if rma is None:
        raise RmaNotFound(_l("No request with this number."))
    return rma


class Filed:
    """A case just filed, with the link to its status page (given this once)."""

    def __init__(self, rma: Rma, status_url: str) -> None:
        self.rma = rma
        self.status_url = status_url

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rma, name)


@blp.route("", methods=["POST"])
@require_scope(Scope.RMAS_WRITE)
@idempotent
@blp.arguments(RmaCreateSchema)
@blp.response(201, RmaFiledSchema)
def create(data: dict[str, Any]) -> Filed:
    """File a return, exchange or repair"""
    rma, token = file_rma(data, api_actor())
    return Filed(_case(rma.number), f"{current_app.config['PUBLIC_BASE_URL']}/r/{token}")


@blp.route("", methods=["GET"])
@require_scope(Scope.RMAS_READ)
@blp.arguments(RmaListArgsSchema, location="query")
@blp.response(200, RmaPageSchema)
def list_(args: dict[str, Any]) -> dict[str, Any]:
    """Cases matching the filters, oldest first, a page at a time"""
    after = decode_cursor("rmas", args.pop("cursor"))
    limit = args.pop("limit")
    rows, more = rma_page(RmaFilters(**args), after_id=after, limit=limit)
    return {"items": rows, "next_cursor": encode_cursor("rmas", rows[-1].id) if more else None}


@blp.route("/<number>", methods=["GET"])
@require_scope(Scope.RMAS_READ)
@errors(404)
@blp.response(200, RmaDetailSchema)
def get(number: str) -> Rma:
    """One case with its lines, timeline and refund"""
    return _case(number)


@blp.route("/<number>/transitions", methods=["POST"])
@require_scope(Scope.RMAS_WRITE)
@errors(404)
@idempotent
@blp.arguments(TransitionCreateSchema)
@blp.response(200, TransitionResultSchema)
def move(data: dict[str, Any], number: str) -> dict[str, Any]:
    """Move a case on (the same move again changes nothing)"""
    changed = take_step(
        _case(number), data["to"], api_actor(), note=data["note"], resolution=data["resolution"]
    )
    db.session.expire_all()
    return {"changed": changed, "rma": _case(number)}
