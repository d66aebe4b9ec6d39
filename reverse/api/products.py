"""/api/v1/products: the web shop or ERP pushes the catalogue."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from reverse.api.auth import require_scope
from reverse.api.constants import Scope
from reverse.api.idempotency import idempotent
from reverse.catalog.operations import upsert_product
from reverse.catalog.schemas import (
    BulkResultSchema,
    ProductBulkCreateSchema,
    ProductCreateSchema,
    ProductUpsertResultSchema,
)

blp = Blueprint(
    "api-products",
    __name__,
    url_prefix="/api/v1/products",
    description="Products and variants, matched by style code and SKU.",
)


@blp.route("", methods=["POST"])
@require_scope(Scope.PRODUCTS_WRITE)
@idempotent
@blp.arguments(ProductCreateSchema)
@blp.response(200, ProductUpsertResultSchema)
def upsert(data: dict[str, Any]) -> dict[str, Any]:
    """Create or update one product with its variants"""
    product, result = upsert_product(data)
    return {"result": result, "product": product}


@blp.route("/bulk", methods=["POST"])
@require_scope(Scope.PRODUCTS_WRITE)
@idempotent
@blp.arguments(ProductBulkCreateSchema)
@blp.response(200, BulkResultSchema)
def upsert_many(data: dict[str, Any]) -> dict[str, int]:
    """Create or update up to 500 products in one transaction (all or nothing)"""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in data["products"]:
        _product, result = upsert_product(item)
        counts[result] += 1
    return counts
