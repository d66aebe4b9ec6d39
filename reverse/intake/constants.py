"""The warehouse's vocabulary: what happened to each unit, grades, checklists, dispositions."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import Category


class UnitState(enum.StrEnum):
    """What the receiving desk found for one unit of a case."""

    RECEIVED = "received"  # arrived as expected
    SHORT = "short"  # expected, not in the parcel
    WRONG_ITEM = "wrong_item"  # something else arrived in its place
    EXTRA = "extra"  # in the parcel, not on the request
    DAMAGED = "damaged"  # damaged in transit


#: states of a unit that is physically here and goes on to inspection
ON_HAND_STATES = frozenset(
    {UnitState.RECEIVED, UnitState.WRONG_ITEM, UnitState.EXTRA, UnitState.DAMAGED}
)

UNIT_STATE_LABELS = {
    UnitState.RECEIVED: _l("Received"),
    UnitState.SHORT: _l("Short (missing)"),
    UnitState.WRONG_ITEM: _l("Wrong item"),
    UnitState.EXTRA: _l("Extra (not requested)"),
    UnitState.DAMAGED: _l("Damaged in transit"),
}


class Grade(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


#: shown beside the grade buttons, so that every inspector grades alike
GRADE_DEFINITIONS = {
    Grade.A: _l("As new: unworn, tags attached, no marks. Sellable as new."),
    Grade.B: _l("Very good: worn briefly or tags removed; no stains, odour or damage."),
    Grade.C: _l("Visible wear or a small defect that cleaning or a repair fixes."),
    Grade.D: _l("Stained, damaged or incomplete: not sellable as it is."),
}


class Disposition(enum.StrEnum):
    """What happens to an inspected unit."""

    RESTOCK = "restock"  # sell as new
    RESALE = "resale"  # pre-owned, priced by grade
    REFURBISH = "refurbish"  # repair, then resale
    RETURN_TO_VENDOR = "return_to_vendor"
    RECYCLE = "recycle"
    DISPOSE = "dispose"
    RETURN_TO_CUSTOMER = "return_to_customer"  # rejected: goes back


DISPOSITION_LABELS = {
    Disposition.RESTOCK: _l("Restock (sell as new)"),
    Disposition.RESALE: _l("Resale (pre-owned)"),
    Disposition.REFURBISH: _l("Refurbish, then resale"),
    Disposition.RETURN_TO_VENDOR: _l("Return to vendor"),
    Disposition.RECYCLE: _l("Recycle"),
    Disposition.DISPOSE: _l("Dispose"),
    Disposition.RETURN_TO_CUSTOMER: _l("Return to customer"),
}


@dataclass(frozen=True)
class CheckItem:
    key: str
    label: object  # a lazy string
    #: the answer of a unit in perfect condition ("tags attached": yes; "stains": no)
    good: bool


APPAREL_CHECKS = (
    CheckItem("tags_attached", _l("Tags attached"), True),
    CheckItem("worn", _l("Signs of wear"), False),
    CheckItem("stains", _l("Stains"), False),
    CheckItem("odour", _l("Odour (smoke, perfume, sweat)"), False),
    CheckItem("damage", _l("Damage (holes, tears, pulls)"), False),
)
SHOE_CHECKS = (
    CheckItem("box_present", _l("Shoe box present and undamaged"), True),
    CheckItem("sole_wear", _l("Sole wear (worn outdoors)"), False),
    CheckItem("creases", _l("Creases on the upper"), False),
    CheckItem("scuffs", _l("Scuffs or marks"), False),
    CheckItem("odour", _l("Odour"), False),
)
BAG_CHECKS = (
    CheckItem("dust_bag", _l("Dust bag and stuffing present"), True),
    CheckItem("hardware_works", _l("Zips, clasps and straps work"), True),
    CheckItem("corner_wear", _l("Wear on corners or handles"), False),
    CheckItem("scratches", _l("Scratches or marks"), False),
    CheckItem("lining_stains", _l("Stains inside the lining"), False),
)
GOODS_CHECKS = (
    CheckItem("packaging", _l("Original packaging present"), True),
    CheckItem("complete", _l("All parts and accessories present"), True),
    CheckItem("used", _l("Signs of use"), False),
    CheckItem("damage", _l("Damage"), False),
)

#: the inspection checklist of each category
CHECKLISTS: dict[Category, tuple[CheckItem, ...]] = {
    Category.TOPS: APPAREL_CHECKS,
    Category.BOTTOMS: APPAREL_CHECKS,
    Category.OUTERWEAR: APPAREL_CHECKS,
    Category.DRESSES: APPAREL_CHECKS,
    Category.KNITWEAR: APPAREL_CHECKS,
    Category.SHOES: SHOE_CHECKS,
    Category.BAGS: BAG_CHECKS,
    Category.ACCESSORIES: GOODS_CHECKS,
    Category.HOME: GOODS_CHECKS,
}


def checklist_for(category: Category | None) -> tuple[CheckItem, ...]:
    """The checklist of a category; items not in the catalogue get the apparel one."""
    return CHECKLISTS.get(category, APPAREL_CHECKS) if category else APPAREL_CHECKS
