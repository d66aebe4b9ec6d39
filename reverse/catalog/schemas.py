"""API payloads of products and their variants."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from reverse.catalog.constants import Category
from reverse.core.codes import is_valid_jan
from reverse.core.normalise import code_text, nfkc
from reverse.core.schemas import InputSchema


class VariantSchema(Schema):
    sku = fields.String(required=True)
    jan = fields.String(required=True, metadata={"description": "JAN / EAN-13 on the tag"})
    size = fields.String(required=True)
    colour_ja = fields.String(required=True)
    colour_en = fields.String(required=True)
    price_yen = fields.Integer(
        required=True, metadata={"description": "List price, yen, tax included"}
    )


class ProductSchema(Schema):
    style_code = fields.String(required=True)
    name_ja = fields.String(required=True)
    name_en = fields.String(required=True)
    category = fields.Enum(Category, by_value=True, required=True)
    returnable = fields.Boolean(required=True)
    repairable = fields.Boolean(required=True)
    variants = fields.List(fields.Nested(VariantSchema), required=True)


class UpsertResultSchema(Schema):
    result = fields.String(
        required=True,
        validate=validate.OneOf(["created", "updated", "unchanged"]),
        metadata={"description": "What the upsert did"},
    )


class ProductUpsertResultSchema(UpsertResultSchema):
    product = fields.Nested(ProductSchema, required=True)


def _code(value: str) -> str:
    return code_text(value).upper()


class VariantCreateSchema(InputSchema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=40))
    jan = fields.String(required=True)
    size = fields.String(load_default="", validate=validate.Length(max=20))
    colour_ja = fields.String(load_default="", validate=validate.Length(max=40))
    colour_en = fields.String(load_default="", validate=validate.Length(max=40))
    price_yen = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=100_000_000)
    )

    @validates("jan")
    def _jan(self, value: str, **_kw: Any) -> None:
        if not is_valid_jan(code_text(value)):
            raise ValidationError("Not a valid JAN / EAN-13 (13 digits, check digit last).")

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["sku"] = _code(data["sku"])
        data["jan"] = code_text(data["jan"])
        for name in ("size", "colour_ja", "colour_en"):
            data[name] = nfkc(data[name]).strip()
        return data


class ProductCreateSchema(InputSchema):
    """A product with its variants, matched by style code (and variants by SKU): new ones are
    created, known ones updated. Variants left out are kept: cases may refer to them."""

    style_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name_ja = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    category = fields.Enum(Category, by_value=True, required=True)
    returnable = fields.Boolean(load_default=True)
    repairable = fields.Boolean(load_default=False)
    variants = fields.List(
        fields.Nested(VariantCreateSchema), required=True, validate=validate.Length(min=1, max=200)
    )

    @validates_schema(skip_on_field_errors=True)
    def _distinct(self, data: dict[str, Any], **_kw: Any) -> None:
        skus = [v["sku"] for v in data["variants"]]
        jans = [v["jan"] for v in data["variants"]]
        if len(set(skus)) != len(skus):
            raise ValidationError("A SKU appears twice.", "variants")
        if len(set(jans)) != len(jans):
            raise ValidationError("A JAN appears twice.", "variants")

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["style_code"] = _code(data["style_code"])
        data["name_ja"] = nfkc(data["name_ja"]).strip()
        data["name_en"] = nfkc(data["name_en"]).strip() or data["name_ja"]
        return data


class ProductBulkCreateSchema(InputSchema):
    products = fields.List(
        fields.Nested(ProductCreateSchema), required=True, validate=validate.Length(min=1, max=500)
    )


class BulkResultSchema(Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
