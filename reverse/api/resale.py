"""/api/v1/resale: the pre-owned stock for other resale channels (the public feed's items,
behind an API key)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from reverse.api.auth import require_scope
from reverse.api.constants import Scope
from reverse.core.errors import DomainError
from reverse.resale.feeds import (
    CHANGES,
    LISTED,
    FeedError,
    decode_cursor,
    encode_cursor,
    feed_page,
    parse_since,
)
from reverse.resale.schemas import ResaleListArgsSchema, ResalePageSchema

blp = Blueprint(
    "api-resale",
    __name__,
    url_prefix="/api/v1/resale",
    description="Pre-owned items on sale, and what changed since a moment.",
)


class BadFeedArgument(DomainError):
    code = "validation_error"


@blp.route("/items", methods=["GET"])
@require_scope(Scope.RESALE_READ)
@blp.arguments(ResaleListArgsSchema, location="query")
@blp.response(200, ResalePageSchema)
def items(args: dict[str, Any]) -> dict[str, Any]:
    """Items on sale now, or every item changed since a moment, a page at a time"""
    try:
        if args["cursor"]:
            after = decode_cursor(args["cursor"])
            page = feed_page(mode=after.mode, since=None, after=after, limit=args["limit"])
        elif args["since"] is not None:
            since = parse_since(args["since"])
            page = feed_page(mode=CHANGES, since=since, after=None, limit=args["limit"])
        else:
            page = feed_page(mode=LISTED, since=None, after=None, limit=args["limit"])
    except FeedError as exc:
        raise BadFeedArgument(exc.message, **{exc.field: [exc.message]}) from exc
    return {"items": page.rows, "next_cursor": encode_cursor(page.next) if page.next else None}
