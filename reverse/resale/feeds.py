"""Feeds of pre-owned items for other resale channels: JSON and CSV, public like the shop.

Without `since` a feed lists every item on sale now. With `since` it lists every item changed
after that moment that was ever offered — sold, reserved, withdrawn or back in draft too, with
`available` false — so a channel can take down what we no longer sell. Rows come in
(updated_at, id) order, a page at a time; the `next` cursor holds the last row's
(updated_at, id) and the feed's mode, so the next page starts right after it even when many
rows share one timestamp.

The rules are `/preowned/feed.json` and `/preowned/feed.csv`: literal paths, which Werkzeug
prefers to the shop's `/preowned/<code>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from flask_babel import force_locale

from reverse.catalog.models import Location, Product, Variant
from reverse.core.db import utcnow
from reverse.core.spreadsheet import csv_download, excel_csv
from reverse.extensions import db
from reverse.intake.constants import Grade
from reverse.resale.constants import GRADE_BUYER_TEXT, ResaleState
from reverse.resale.models import ResaleItem, shop_url
from reverse.rmas.constants import AttachmentKind
from reverse.rmas.models import Attachment

bp = Blueprint("feeds", __name__, url_prefix="/preowned")

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
#: the columns of both feeds, in this order; a field is only ever added at the end
FIELDS = (
    "id", "sku", "jan", "style_code", "name_ja", "name_en", "category", "size",
    "colour_ja", "colour_en", "grade", "grade_text_ja", "grade_text_en", "condition_notes",
    "price_yen", "original_price_yen", "currency", "tax_included", "state", "available",
    "location_code", "url", "photos", "listed_at", "updated_at",
)  # fmt: skip
CACHE_CONTROL = "public, max-age=60"
#: the photos the shop serves (reverse.resale.shop), newest first as the shop shows them
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

LISTED = "listed"  # every item on sale now
CHANGES = "changes"  # every item ever offered that changed after a moment


class FeedError(Exception):
    """A parameter the feed cannot read: a 400 with the field that was wrong."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Position:
    """Where a page starts: after the row (updated_at, item_id), in `mode`."""

    mode: str
    updated_at: datetime
    item_id: int


# -- parameters ------------------------------------------------------------------------------


_OFFSET_AFTER_SPACE = re.compile(r" (\d{2}(?::?\d{2})?)$")


def parse_since(value: str) -> datetime:
    """An ISO 8601 moment: with a zone, with `Z`, or naive (read as UTC). A `+09:00` whose
    plus arrived as a space (an unencoded query string) is read as meant."""
    text = _OFFSET_AFTER_SPACE.sub(r"+\1", value.strip())
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FeedError(
            "invalid_since",
            "since",
            "Give since as an ISO 8601 timestamp, e.g. 2026-04-01T09:00:00+09:00 or "
            "2026-04-01T00:00:00Z.",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise FeedError(
            "invalid_limit", "limit", f"Give limit as a whole number from 1 to {MAX_LIMIT}."
        )
    return int(text)


def encode_cursor(position: Position) -> str:
    raw = f"1|{position.mode}|{position.updated_at.isoformat()}|{position.item_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Position:
    problem = FeedError(
        "invalid_cursor", "cursor", "The cursor is not one this feed gave: start again."
    )
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        version, mode, stamp, item_id = raw.split("|")
        moment = datetime.fromisoformat(stamp)
        position = Position(mode, moment.astimezone(UTC), int(item_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise problem from None
    if version != "1" or mode not in (LISTED, CHANGES) or moment.tzinfo is None:
        raise problem
    return position


# -- the query -------------------------------------------------------------------------------


@dataclass
class FeedPage:
    rows: list[dict[str, Any]]
    #: where the next page starts; None when this page holds the last rows
    next: Position | None


def feed_page(*, mode: str, since: datetime | None, after: Position | None, limit: int) -> FeedPage:
    """One page of the feed: the items with their variant, product and location in one
    query, their inspection photos in a second. `after` continues a page; `since` starts
    the changes feed."""
    stmt = (
        sa.select(ResaleItem, Variant, Product, Location.code)
        .join(Variant, Variant.id == ResaleItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(Location, Location.id == ResaleItem.location_id)
        .order_by(ResaleItem.updated_at, ResaleItem.id)
        .limit(limit + 1)
    )
    if mode == LISTED:
        stmt = stmt.where(ResaleItem.state == ResaleState.LISTED)
    else:
        # never offered (draft or refurbishing since it was graded): no channel knows it
        stmt = stmt.where(ResaleItem.listed_at.is_not(None))
    if after is not None:
        stmt = stmt.where(
            sa.or_(
                ResaleItem.updated_at > after.updated_at,
                sa.and_(ResaleItem.updated_at == after.updated_at, ResaleItem.id > after.item_id),
            )
        )
    elif since is not None:
        stmt = stmt.where(ResaleItem.updated_at > since)
    found = db.session.execute(stmt).all()
    more = len(found) > limit
    found = found[:limit]

    photos: dict[int, list[int]] = defaultdict(list)
    unit_ids = [item.unit_id for item, *_ in found]
    if unit_ids:
        for attachment_id, unit_id in db.session.execute(
            sa.select(Attachment.id, Attachment.unit_id)
            .where(
                Attachment.unit_id.in_(unit_ids),
                Attachment.kind == AttachmentKind.INSPECTION,
                Attachment.content_type.in_(list(PHOTO_TYPES)),
            )
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
        ):
            photos[unit_id].append(attachment_id)

    texts = _grade_texts()
    base = current_app.config["PUBLIC_BASE_URL"]
    rows = [
        _row(item, variant, product, location_code, photos[item.unit_id], texts, base)
        for item, variant, product, location_code in found
    ]
    last = found[-1][0] if found else None
    position = Position(mode, last.updated_at, last.id) if more and last is not None else None
    return FeedPage(rows=rows, next=position)


def _grade_texts() -> dict[str, tuple[str, str]]:
    texts: dict[str, list[str]] = {g.value: [] for g in Grade}
    for locale in ("ja", "en"):
        with force_locale(locale):
            for grade in Grade:
                texts[grade.value].append(str(GRADE_BUYER_TEXT[grade]))
    return {grade: (ja, en) for grade, (ja, en) in texts.items()}


def iso_z(moment: datetime | None) -> str | None:
    """UTC to the second, with Z: what most channels' importers read."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(
    item: ResaleItem,
    variant: Variant,
    product: Product,
    location_code: str | None,
    photo_ids: list[int],
    texts: dict[str, tuple[str, str]],
    base: str,
) -> dict[str, Any]:
    code = item.code
    grade = item.grade.value
    return {
        "id": code,
        "sku": variant.sku,
        "jan": variant.jan,
        "style_code": product.style_code,
        "name_ja": product.name_ja,
        "name_en": product.name_en,
        "category": product.category.value,
        "size": variant.size,
        "colour_ja": variant.colour_ja,
        "colour_en": variant.colour_en,
        "grade": grade,
        "grade_text_ja": texts[grade][0],
        "grade_text_en": texts[grade][1],
        "condition_notes": item.condition_notes,
        "price_yen": item.price_yen,
        "original_price_yen": item.original_price_yen,
        "currency": "JPY",
        "tax_included": True,
        "state": item.state.value,
        "available": item.state == ResaleState.LISTED,
        "location_code": location_code,
        "url": shop_url(code),
        "photos": [f"{base}/preowned/{code}/photos/{n}" for n in photo_ids],
        "listed_at": iso_z(item.listed_at),
        "updated_at": iso_z(item.updated_at),
    }


# -- the views -------------------------------------------------------------------------------


def _read_page() -> tuple[FeedPage, int]:
    """The page the query string asks for (FeedError when it cannot be read)."""
    limit = parse_limit(request.args.get("limit"))
    cursor = request.args.get("cursor")
    if cursor:
        after = decode_cursor(cursor)
        return feed_page(mode=after.mode, since=None, after=after, limit=limit), limit
    since_text = request.args.get("since")
    if since_text is not None:
        since = parse_since(since_text)
        return feed_page(mode=CHANGES, since=since, after=None, limit=limit), limit
    return feed_page(mode=LISTED, since=None, after=None, limit=limit), limit


def _next_url(endpoint_path: str, page: FeedPage, limit: int) -> str | None:
    if page.next is None:
        return None
    query = {"cursor": encode_cursor(page.next)}
    if limit != DEFAULT_LIMIT:
        query["limit"] = str(limit)
    return f"{current_app.config['PUBLIC_BASE_URL']}{endpoint_path}?{urlencode(query)}"


def _error(exc: FeedError) -> Response:
    body = {
        "error": {"code": exc.code, "message": exc.message, "details": {exc.field: exc.message}}
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=400)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


def _send(response: Response, fingerprint: bytes) -> Response:
    """Cacheable for a minute; a weak ETag of the rows (the generation time left out), so a
    channel polling an unchanged feed gets a 304."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.set_etag(hashlib.sha256(fingerprint).hexdigest()[:32], weak=True)
    return response.make_conditional(request)


@bp.get("/feed.json")
def feed_json() -> Response:
    try:
        page, limit = _read_page()
    except FeedError as exc:
        return _error(exc)
    next_cursor = encode_cursor(page.next) if page.next else None
    content = {
        "items": page.rows,
        "next": next_cursor,
        "next_url": _next_url(request.path, page, limit),
    }
    fingerprint = json.dumps(content, ensure_ascii=False).encode()
    body = {**content, "generated_at": iso_z(utcnow())}
    response = Response(json.dumps(body, ensure_ascii=False))
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    return _send(response, fingerprint)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


@bp.get("/feed.csv")
def feed_csv() -> Response:
    try:
        page, limit = _read_page()
    except FeedError as exc:
        return _error(exc)
    content = excel_csv(FIELDS, ([_csv_value(row[name]) for name in FIELDS] for row in page.rows))
    response = csv_download(content, "preowned-feed.csv")
    next_url = _next_url(request.path, page, limit)
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return _send(response, content + (next_url or "").encode())
