"""API payloads of orders: what a channel pushes, and the order as Reverse holds it."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from reverse.catalog.constants import ChannelCode
from reverse.core.normalise import InvalidInput, code_text, nfkc
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.core.schemas import InputSchema

#: orders in one bulk request
MAX_BULK = 500
MAX_LINES = 200
_MAX_YEN = 100_000_000


def normalised_email(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return normalise_email(value)
    except InvalidInput:
        raise ValidationError("Not an email address.") from None


def normalised_phone(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return normalise_phone(value)
    except InvalidInput:
        raise ValidationError(
            "Not a phone number (e.g. 090-1234-5678 or +81 90 1234 5678)."
        ) from None


class CustomerRefSchema(InputSchema):
    """Who bought it: email and / or phone (full-width digits and any dashes are fine)."""

    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    name = fields.String(load_default="", validate=validate.Length(max=120))

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        problems: dict[str, list[str]] = {}
        for name, parse in (("email", normalised_email), ("phone", normalised_phone)):
            try:
                data[name] = parse(data[name])
            except ValidationError as exc:
                problems[name] = list(exc.messages)
        if problems:
            raise ValidationError(problems)
        if data["email"] is None and data["phone"] is None:
            raise ValidationError({"email": ["Give an email address or a phone number."]})
        data["name"] = nfkc(data["name"])
        return data


class CustomerSchema(Schema):
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(
        required=True, allow_none=True, metadata={"description": "E.164, e.g. +819012345678"}
    )
    name = fields.String(required=True)


class OrderLineCreateSchema(InputSchema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=40))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=9999))
    unit_price_yen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=_MAX_YEN),
        metadata={"description": "Per unit, yen, tax included"},
    )
    discount_yen = fields.Integer(
        load_default=0,
        strict=True,
        validate=validate.Range(min=0, max=_MAX_YEN),
        metadata={"description": "On the whole line, yen"},
    )
    final_sale = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=True)
    def _discount(self, data: dict[str, Any], **_kw: Any) -> None:
        if data["discount_yen"] > data["quantity"] * data["unit_price_yen"]:
            raise ValidationError("The discount is larger than the line's price.", "discount_yen")

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["sku"] = code_text(data["sku"]).upper()
        return data


class OrderCreateSchema(InputSchema):
    """An order or receipt of a channel, matched by channel and number: created when new,
    updated when known. Lines are replaced when they differ — unless a return, exchange or
    repair points at them (409). A known order keeps its customer, location and delivery time
    when they are left out."""

    channel = fields.Enum(ChannelCode, by_value=True, required=True)
    number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "As the channel prints it; full-width digits are fine"},
    )
    ordered_at = fields.AwareDateTime(required=True)
    delivered_at = fields.AwareDateTime(load_default=None, allow_none=True)
    location = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "Code of the store or counter of an in-person sale"},
    )
    customer = fields.Nested(CustomerRefSchema, load_default=None, allow_none=True)
    lines = fields.List(
        fields.Nested(OrderLineCreateSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_LINES),
    )

    @pre_load
    def _codes(self, data: Any, **_kw: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("number"), str):
            data = {**data, "number": code_text(data["number"])}
        return data

    @validates_schema(skip_on_field_errors=True)
    def _dates(self, data: dict[str, Any], **_kw: Any) -> None:
        delivered = data.get("delivered_at")
        if delivered is not None and delivered < data["ordered_at"]:
            raise ValidationError("Delivered before it was ordered.", "delivered_at")

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        location = code_text(data["location"]).upper() if data["location"] else ""
        data["location"] = location or None
        return data


class OrderBulkCreateSchema(InputSchema):
    orders = fields.List(
        fields.Nested(OrderCreateSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_BULK),
    )

    @validates_schema(skip_on_field_errors=True)
    def _distinct(self, data: dict[str, Any], **_kw: Any) -> None:
        seen: set[tuple[str, str]] = set()
        for index, order in enumerate(data["orders"]):
            key = (order["channel"].value, order["number"])
            if key in seen:
                raise ValidationError(
                    {str(index): {"number": ["This order appears twice in the batch."]}},
                    "orders",
                )
            seen.add(key)


class OrderLineSchema(Schema):
    sku = fields.String(required=True, attribute="variant.sku")
    quantity = fields.Integer(required=True)
    unit_price_yen = fields.Integer(required=True)
    discount_yen = fields.Integer(required=True)
    final_sale = fields.Boolean(required=True)
    paid_yen = fields.Integer(
        required=True, metadata={"description": "Price × quantity − discount"}
    )


class OrderSchema(Schema):
    channel = fields.Function(
        lambda o: o.channel.code.value, required=True, metadata={"type": "string"}
    )
    number = fields.String(required=True)
    ordered_at = fields.AwareDateTime(required=True)
    delivered_at = fields.AwareDateTime(required=True, allow_none=True)
    location = fields.Function(
        lambda o: o.location.code if o.location else None,
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "Store or counter code"},
    )
    customer = fields.Nested(CustomerSchema, required=True, allow_none=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)
    total_yen = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class OrderUpsertResultSchema(Schema):
    result = fields.String(
        required=True,
        validate=validate.OneOf(["created", "updated", "unchanged"]),
        metadata={"description": "What the upsert did"},
    )
    order = fields.Nested(OrderSchema, required=True)


class OrderBulkResultSchema(Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
