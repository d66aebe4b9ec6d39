"""The form of the store counter's repair intake. Amounts, dates and codes are read however a
Japanese keyboard types them (full-width digits, commas, 円, 2026/5/3)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from reverse.catalog.constants import PREFECTURES
from reverse.core.normalise import code_text, nfkc
from reverse.repairs.constants import HANDBACK_LABELS, MAX_REPAIR_YEN, Handback
from reverse.rmas.constants import PURCHASE_PLACE_LABELS, REASON_LABELS, REASONS, RmaType

#: photos one intake may carry
MAX_PHOTOS = 5
#: the highest purchase price the counter may declare, yen
MAX_PRICE_YEN = 10_000_000


def _at_most(n: int) -> Any:
    return Length(max=n, message=_l("At most %(n)d characters.", n=n))


class YenField(IntegerField):
    """Whole yen as people type them: full-width digits, thousands commas, ¥ or 円 (a text
    box: a number box refuses what a Japanese keyboard types)."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = nfkc(valuelist[0])
        for junk in (",", "¥", "￥", "円", " ", "\\"):
            text = text.replace(junk, "")
        if not text:
            self.data = None
            return
        if not text.isascii() or not text.isdigit():
            self.data = None
            raise ValueError(_l("Enter an amount in yen, digits only (e.g. 5000)."))
        self.data = int(text)


class LooseDateField(DateField):
    """A date from a date picker (2026-05-03) or typed (２０２６/５/３)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%d", "%Y/%m/%d"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [code_text(valuelist[0])]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date like 2026-05-03.")) from None


class CounterForm(FlaskForm):
    """A walk-in repair on one page. The view checks what depends on other fields (contact,
    the item, the purchase, the address for a delivery)."""

    #: admins choose the counter; store staff take items in at their own store
    location_id = SelectField(_l("Store"), default="", validate_choice=False)

    # -- the customer
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    name = StringField(
        _l("Customer name"),
        validators=[DataRequired(_l("Enter the customer's name.")), _at_most(120)],
    )
    name_kana = StringField(_l("Name in katakana"), validators=[Optional(), _at_most(120)])
    locale = SelectField(_l("Language of our emails"), default="ja")

    # -- the item
    query = StringField(
        _l("Find the product"),
        validators=[Optional(), Length(max=100)],
        description=_l("Scan or type the JAN (13 digits on the tag), the style code or the name."),
    )
    #: the catalogue item picked from the results (radio buttons drawn by the page)
    variant_id = StringField(validators=[Optional(), Length(max=12)])
    description = StringField(
        _l("Or describe the item"),
        validators=[Optional(), _at_most(200)],
        description=_l("For items not found in the catalogue or bought elsewhere."),
    )

    # -- the purchase
    place = SelectField(
        _l("Where was it bought?"),
        default="",
        validators=[DataRequired(_l("Choose where it was bought."))],
    )
    retailer = StringField(_l("Shop"), validators=[Optional(), _at_most(120)])
    order_number = StringField(
        _l("Order or receipt number"),
        validators=[Optional(), Length(max=40)],
        description=_l("Optional: finds the purchase in our records."),
    )
    purchase_date = LooseDateField(_l("Purchase date"), validators=[Optional()])
    price_yen = YenField(
        _l("Price paid, yen (optional)"),
        validators=[
            Optional(),
            NumberRange(
                0,
                MAX_PRICE_YEN,
                message=_l("Enter a number from %(low)d to %(high)d.", low=0, high=MAX_PRICE_YEN),
            ),
        ],
    )
    receipt_seen = BooleanField(_l("Receipt or warranty card seen"))

    # -- the problem
    reason = SelectField(
        _l("Reason"), default="", validators=[DataRequired(_l("Choose a reason."))]
    )
    symptom = TextAreaField(
        _l("What is wrong with it"),
        validators=[DataRequired(_l("Describe what is wrong.")), _at_most(2000)],
    )
    condition_notes = TextAreaField(
        _l("Condition when taken in"),
        validators=[Optional(), _at_most(2000)],
        description=_l("Scratches, stains, wear: what both sides can rely on later."),
    )
    accessories = StringField(
        _l("Handed over with it"),
        validators=[Optional(), _at_most(200)],
        description=_l("e.g. dust bag, strap, box"),
    )
    photos = MultipleFileField(
        _l("Photos of the item"),
        render_kw={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"},
    )

    # -- estimate and promise
    estimate_min_yen = YenField(
        _l("Estimate from, yen"),
        validators=[
            Optional(),
            NumberRange(
                0,
                MAX_REPAIR_YEN,
                message=_l("Give an amount between ¥0 and ¥%(max)s.", max=f"{MAX_REPAIR_YEN:,}"),
            ),
        ],
    )
    estimate_max_yen = YenField(
        _l("Estimate up to, yen"),
        validators=[
            Optional(),
            NumberRange(
                0,
                MAX_REPAIR_YEN,
                message=_l("Give an amount between ¥0 and ¥%(max)s.", max=f"{MAX_REPAIR_YEN:,}"),
            ),
        ],
    )
    promised_on = LooseDateField(_l("Promised back by"), validators=[Optional()])
    handback = RadioField(_l("Hand-back"), default=Handback.STORE_PICKUP.value)
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=10)])
    prefecture = SelectField(_l("Prefecture"), default="")
    city = StringField(_l("City, ward, town"), validators=[Optional(), _at_most(80)])
    street = StringField(_l("Street and number"), validators=[Optional(), _at_most(120)])
    building = StringField(_l("Building, room"), validators=[Optional(), _at_most(120)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices set here, not in the field declarations (WTForms 3.3 deprecates tuples there).
        self.locale.choices = [("ja", "日本語"), ("en", "English")]
        self.place.choices = [
            ("", _l("Choose…")),
            *[(p.value, label) for p, label in PURCHASE_PLACE_LABELS.items()],
        ]
        self.reason.choices = [
            ("", _l("Choose…")),
            *[(code, REASON_LABELS[code]) for code in REASONS[RmaType.REPAIR]],
        ]
        self.handback.choices = [(h.value, label) for h, label in HANDBACK_LABELS.items()]
        self.prefecture.choices = [("", _l("Choose…")), *[(p, p) for p in PREFECTURES]]

    def validate_estimate_max_yen(self, field: YenField) -> None:
        low = self.estimate_min_yen.data
        if isinstance(low, int) and isinstance(field.data, int) and field.data < low:
            raise ValidationError(_l("The upper end of the estimate is below the lower end."))
