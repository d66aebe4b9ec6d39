"""Changes to the catalogue pushed by other systems: products and variants upserted."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.models import Product, Variant
from reverse.core.errors import DomainError
from reverse.extensions import db

PRODUCT_FIELDS = ("name_ja", "name_en", "category", "returnable", "repairable")
VARIANT_FIELDS = ("jan", "size", "colour_ja", "colour_en", "price_yen")


class CatalogConflict(DomainError):
    status = 409
    code = "catalog_conflict"


def _assign(target: Any, data: dict[str, Any], names: tuple[str, ...]) -> bool:
    changed = False
    for name in names:
        if getattr(target, name) != data[name]:
            setattr(target, name, data[name])
            changed = True
    return changed


def upsert_product(data: dict[str, Any]) -> tuple[Product, str]:
    """Create or update a product and its variants (as ProductCreateSchema loads them);
    returns it and "created", "updated" or "unchanged". A SKU or JAN that belongs to another
    product is refused, and nothing is changed."""
    product = db.session.scalar(
        sa.select(Product).where(Product.style_code == data["style_code"]).with_for_update()
    )
    sku_of_jan = {v["jan"]: v["sku"] for v in data["variants"]}
    holders = db.session.execute(
        sa.select(Variant.sku, Variant.jan, Product.style_code)
        .join(Product)
        .where(sa.or_(Variant.sku.in_(sku_of_jan.values()), Variant.jan.in_(sku_of_jan)))
    ).all()
    for sku, jan, style in holders:
        # A SKU of another product, or a JAN already printed on another variant's tag.
        if style != data["style_code"] or (jan in sku_of_jan and sku_of_jan[jan] != sku):
            raise CatalogConflict(
                _l(
                    "SKU %(sku)s / JAN %(jan)s already belongs to product %(style)s.",
                    sku=sku,
                    jan=jan,
                    style=style,
                ),
                field="variants",
            )
    created = product is None
    if product is None:
        product = Product(style_code=data["style_code"])
        db.session.add(product)
    changed = _assign(product, data, PRODUCT_FIELDS)
    known = {v.sku: v for v in product.variants}
    for wanted in data["variants"]:
        variant = known.get(wanted["sku"])
        if variant is None:
            fields = {name: wanted[name] for name in VARIANT_FIELDS}
            product.variants.append(Variant(sku=wanted["sku"], **fields))
            changed = True
        else:
            changed |= _assign(variant, wanted, VARIANT_FIELDS)
    db.session.flush()
    return product, "created" if created else ("updated" if changed else "unchanged")
