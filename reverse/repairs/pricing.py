"""The repair price list: adding an item, changing it, switching it off and on.

Operations style: plain functions that check their input, change the item, flush and never
commit. Bad input raises RepairError with the field it is about. A switched-off item is not
offered for new quotes; quotes that already use it keep their lines as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.core.normalise import code_text, nfkc
from reverse.extensions import db
from reverse.repairs.constants import MAX_REPAIR_YEN, PriceItemKind, RepairKind
from reverse.repairs.models import PriceListItem
from reverse.repairs.operations import RepairError

MAX_CODE = 30
MAX_NAME = 120


@dataclass
class PriceItemData:
    """An item as the form gives it (text not yet normalised)."""

    code: str
    kind: PriceItemKind
    name_ja: str
    name_en: str
    price_yen: int
    repair_kind: RepairKind | None = None


def price_items(*, active_only: bool = False) -> list[PriceListItem]:
    """The list as technicians read it: labour then parts, by code."""
    stmt = sa.select(PriceListItem).order_by(
        PriceListItem.active.desc(), PriceListItem.kind, PriceListItem.code
    )
    if active_only:
        stmt = stmt.where(PriceListItem.active)
    return list(db.session.scalars(stmt))


def _checked(data: PriceItemData, item_id: int | None) -> PriceItemData:
    code = code_text(data.code).replace(" ", "").upper()
    if not code:
        raise RepairError(_l("Give the item a short code, e.g. L-STITCH."), field="code")
    if len(code) > MAX_CODE:
        raise RepairError(_l("Keep the code under %(n)d characters.", n=MAX_CODE), field="code")
    taken = db.session.scalar(
        sa.select(PriceListItem.id).where(
            sa.func.upper(PriceListItem.code) == code,
            PriceListItem.id != (item_id or 0),
        )
    )
    if taken is not None:
        raise RepairError(
            _l("Another item already has the code %(code)s.", code=code), field="code"
        )
    names = {}
    for name in ("name_ja", "name_en"):
        value = nfkc(getattr(data, name))
        if not value:
            raise RepairError(_l("Give the name customers read on the quote."), field=name)
        if len(value) > MAX_NAME:
            raise RepairError(_l("Keep the name under %(n)d characters.", n=MAX_NAME), field=name)
        names[name] = value
    if data.price_yen is None or not 0 <= data.price_yen <= MAX_REPAIR_YEN:
        raise RepairError(
            _l("Give a price between ¥0 and ¥%(max)s.", max=f"{MAX_REPAIR_YEN:,}"),
            field="price_yen",
        )
    return PriceItemData(
        code=code,
        kind=PriceItemKind(data.kind),
        name_ja=names["name_ja"],
        name_en=names["name_en"],
        price_yen=int(data.price_yen),
        repair_kind=RepairKind(data.repair_kind) if data.repair_kind else None,
    )


def add_price_item(data: PriceItemData) -> PriceListItem:
    """A new item of the price list, offered in quotes at once."""
    data = _checked(data, None)
    item = PriceListItem(
        code=data.code,
        kind=data.kind,
        repair_kind=data.repair_kind,
        name_ja=data.name_ja,
        name_en=data.name_en,
        price_yen=data.price_yen,
        active=True,
    )
    db.session.add(item)
    db.session.flush()
    return item


def update_price_item(item: PriceListItem, data: PriceItemData) -> bool:
    """Change an item. Quotes already sent keep the price they were sent with. Returns False
    when nothing changed."""
    data = _checked(data, item.id)
    changed = False
    for name in ("code", "kind", "repair_kind", "name_ja", "name_en", "price_yen"):
        value = getattr(data, name)
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed = True
    db.session.flush()
    return changed


def set_price_item_active(item: PriceListItem, active: bool) -> bool:
    """Switch an item off (no longer offered in quotes) or on again. Returns False when it
    already was so."""
    if item.active == active:
        return False
    item.active = active
    db.session.flush()
    return True
