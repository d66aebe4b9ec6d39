"""Forms of the repair desk: the scan field, the hand-over at the counter, the turnaround
filters and the price list. Codes, amounts and dates are read however they were typed
(full-width digits, ー or － for a hyphen, a yen sign, thousands commas)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from reverse.catalog.models import Location
from reverse.core.forms import strip
from reverse.portal.forms import PurchaseDateField, select_choices
from reverse.repairs.constants import (
    PRICE_ITEM_KIND_LABELS,
    REPAIR_KIND_LABELS,
    PriceItemKind,
    RepairKind,
)
from reverse.repairs.pricing import MAX_CODE, MAX_NAME, PriceItemData
from reverse.repairs.reports import MAX_RANGE_DAYS
from reverse.staff.intake import SCAN_FIELD
from reverse.staff.resale_forms import LooseIntegerField

#: what an admin's scan does: receive at the repair centre, or only look the repair up
MODE_CENTRE = "centre"
MODE_LOOK = "look"


class ScanForm(FlaskForm):
    code = StringField(
        _l("Scan the claim tag or a label, or type the repair number"),
        validators=[
            DataRequired(_l("Scan the claim tag, or type the repair number.")),
            Length(max=60),
        ],
        render_kw=SCAN_FIELD,
    )
    #: admins only: technicians always receive at the centre, store staff act for their store
    mode = SelectField(
        _l("What the scan does"),
        choices=select_choices(
            [
                (MODE_LOOK, _l("Look up only")),
                (MODE_CENTRE, _l("Receive at the repair centre")),
            ]
        ),
        default=MODE_LOOK,
        validators=[Optional()],
    )


class HandOverForm(FlaskForm):
    """The customer collects the item: what is owed is confirmed paid first."""

    paid = BooleanField(_l("Payment received"))
    payment_note = StringField(
        _l("Payment note (optional)"),
        filters=[strip],
        validators=[Length(max=200)],
        render_kw={"placeholder": _l("e.g. register 2, card"), "autocomplete": "off"},
    )


class TurnaroundFilterForm(FlaskForm):
    """GET filters of the report; not a state change, so no CSRF token. Dates may be typed
    with full-width digits (２０２６／０１／３１) or picked."""

    class Meta:
        csrf = False

    date_from = PurchaseDateField(_l("Handed back from"))
    date_to = PurchaseDateField(_l("Handed back until"))
    store = SelectField(_l("Store"), validators=[Optional()])

    def fill_choices(self, stores: list[Location], locale: str, *, fixed: bool) -> None:
        sites = [(str(s.id), s.name(locale)) for s in stores]
        self.store.choices = select_choices(sites if fixed else [("", _l("All stores")), *sites])

    def validate_date_to(self, field: PurchaseDateField) -> None:
        start, end = self.date_from.data, field.data
        if start and end and start > end:
            raise ValidationError(_l("The end date is before the start date."))
        if start and end and (end - start).days >= MAX_RANGE_DAYS:
            raise ValidationError(_l("Choose a range of at most three years."))


class PriceItemForm(FlaskForm):
    """An item of the price list: new, or changed."""

    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the item a short code, e.g. L-STITCH.")),
            Length(max=MAX_CODE),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    kind = SelectField(
        _l("Part or labour"),
        choices=select_choices((k.value, label) for k, label in PRICE_ITEM_KIND_LABELS.items()),
        default=PriceItemKind.LABOUR.value,
        validators=[InputRequired()],
    )
    repair_kind = SelectField(
        _l("Kind of repair"),
        choices=select_choices(
            [("", _l("Any kind")), *((k.value, label) for k, label in REPAIR_KIND_LABELS.items())]
        ),
        default="",
        validators=[Optional()],
    )
    name_ja = StringField(
        _l("Name in Japanese"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the name customers read on the quote.")),
            Length(max=MAX_NAME),
        ],
        render_kw={"lang": "ja", "autocomplete": "off"},
    )
    name_en = StringField(
        _l("Name in English"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the name customers read on the quote.")),
            Length(max=MAX_NAME),
        ],
        render_kw={"lang": "en", "autocomplete": "off"},
    )
    price_yen = LooseIntegerField(
        _l("Price (yen, tax included)"),
        validators=[InputRequired(_l("Give the price in yen, e.g. 3300."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )

    def data_for_operation(self) -> PriceItemData:
        return PriceItemData(
            code=self.code.data or "",
            kind=PriceItemKind(self.kind.data),
            name_ja=self.name_ja.data or "",
            name_en=self.name_en.data or "",
            price_yen=self.price_yen.data,
            repair_kind=RepairKind(self.repair_kind.data) if self.repair_kind.data else None,
        )

    def fill_from(self, item: Any) -> None:
        self.code.data = item.code
        self.kind.data = item.kind.value
        self.repair_kind.data = item.repair_kind.value if item.repair_kind else ""
        self.name_ja.data = item.name_ja
        self.name_en.data = item.name_en
        self.price_yen.data = item.price_yen


class ActiveForm(FlaskForm):
    """Switch an item off or on: CSRF and the wanted state."""

    active = HiddenField(validators=[DataRequired()])
