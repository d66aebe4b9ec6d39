"""API payloads of the pre-owned feed: the same items, codes and fields as /preowned/feed.json."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from reverse.core.schemas import InputSchema
from reverse.resale.feeds import MAX_LIMIT


class ResaleItemSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The item's code (PO-…)"})
    sku = fields.String(required=True)
    jan = fields.String(required=True)
    style_code = fields.String(required=True)
    name_ja = fields.String(required=True)
    name_en = fields.String(required=True)
    category = fields.String(required=True)
    size = fields.String(required=True)
    colour_ja = fields.String(required=True)
    colour_en = fields.String(required=True)
    grade = fields.String(required=True, metadata={"description": "A to D"})
    grade_text_ja = fields.String(required=True)
    grade_text_en = fields.String(required=True)
    condition_notes = fields.String(required=True)
    price_yen = fields.Integer(required=True, metadata={"description": "Tax included"})
    original_price_yen = fields.Integer(required=True)
    currency = fields.String(required=True, validate=validate.OneOf(["JPY"]))
    tax_included = fields.Boolean(required=True)
    state = fields.String(required=True)
    available = fields.Boolean(required=True, metadata={"description": "On sale now"})
    location_code = fields.String(required=True, allow_none=True)
    url = fields.String(required=True, metadata={"description": "The item's page in our shop"})
    photos = fields.List(fields.String(), required=True)
    listed_at = fields.String(
        required=True, allow_none=True, metadata={"description": "UTC, e.g. 2026-12-01T09:00:00Z"}
    )
    updated_at = fields.String(required=True, metadata={"description": "UTC"})


class ResaleListArgsSchema(InputSchema):
    since = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "ISO 8601: every item ever offered that changed after it, sold or "
            "withdrawn too (available false). Without it: the items on sale now."
        },
    )
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class ResalePageSchema(Schema):
    items = fields.List(fields.Nested(ResaleItemSchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )
