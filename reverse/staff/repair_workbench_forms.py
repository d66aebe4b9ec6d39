"""Forms of one repair's page: each next step is a small form of its own, with field names
unique on the page (no prefixes) and the status it was drawn in (`seen`), so a form left open
while a colleague moved the repair on is recognised. Numbers are read however they were typed
(full-width digits, commas, a yen sign, a Japanese minus)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import TextInput

from reverse.core.normalise import nfkc
from reverse.repairs.constants import (
    PRICE_ITEM_KIND_LABELS,
    REPAIR_KIND_LABELS,
    PriceItemKind,
)
from reverse.shipping.constants import CARRIER_LABELS, Carrier

#: empty rows of the quote builder, and how many "Add rows" adds
PRICE_ROWS = 6
FREE_ROWS = 3
MAX_ROWS = 20
#: the carrier field's value for "the location's usual carrier" (None to the operations)
USUAL_CARRIER = ""


class WholeNumberField(IntegerField):
    """A whole number as people type it: full-width digits, thousands commas, a yen sign,
    and any of the minus signs a Japanese keyboard makes. A text box, not type=number: the
    browser would refuse full-width digits before the server sees them."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = nfkc(valuelist[0])
        for junk in (",", "¥", "円", " ", "\\"):
            text = text.replace(junk, "")
        for minus in ("ー", "−", "‐", "–", "—"):
            text = text.replace(minus, "-")
        if not text:
            self.data = None
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number.")) from None


class ActionForm(FlaskForm):
    """A next step: the CSRF token and the status the page showed when it was drawn."""

    seen = HiddenField()


class SendForm(ActionForm):
    send_carrier = SelectField(_l("How it travels"), default=Carrier.OWN.value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.send_carrier.choices = carrier_choices(courier=True)


class DiagnoseForm(ActionForm):
    diagnosis = TextAreaField(
        _l("What is wrong"),
        validators=[Length(max=4000, message=_l("Keep it under %(max)d characters."))],
    )
    kind = SelectField(
        _l("Kind of repair"),
        validators=[InputRequired(_l("Choose the kind of repair."))],
    )
    warranty = BooleanField(_l("Free repair under warranty"))
    warranty_note = TextAreaField(
        _l("Why the warranty decision changes"),
        validators=[Length(max=500, message=_l("Keep it under %(max)d characters."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            SelectChoice("", _l("Choose…")),
            *[SelectChoice(kind.value, label) for kind, label in REPAIR_KIND_LABELS.items()],
        ]


class PriceRow(Form):
    """A quote row taken from the price list (the template draws the select)."""

    item = StringField()
    quantity = WholeNumberField(validators=[Optional()])

    @property
    def blank(self) -> bool:
        return not self.item.data and self.quantity.data is None


class FreeRow(Form):
    """A quote row written by hand."""

    description = StringField(filters=[lambda v: nfkc(v).strip() if v else v])
    kind = SelectField(
        choices=[SelectChoice(k.value, label) for k, label in PRICE_ITEM_KIND_LABELS.items()],
        default=PriceItemKind.LABOUR.value,
    )
    quantity = WholeNumberField(validators=[Optional()])
    price = WholeNumberField(validators=[Optional()])

    @property
    def blank(self) -> bool:
        return not self.description.data and self.price.data is None and self.quantity.data is None


class QuoteForm(ActionForm):
    items = FieldList(FormField(PriceRow), min_entries=PRICE_ROWS, max_entries=MAX_ROWS)
    free = FieldList(FormField(FreeRow), min_entries=FREE_ROWS, max_entries=MAX_ROWS)
    quote_note = TextAreaField(
        _l("Note to the customer"),
        validators=[Length(max=2000, message=_l("Keep it under %(max)d characters."))],
    )
    #: which button: calculate, add (rows) or send
    do = HiddenField()

    def add_rows(self) -> None:
        for _ in range(PRICE_ROWS):
            if len(self.items) < MAX_ROWS:
                self.items.append_entry()
        for _ in range(FREE_ROWS):
            if len(self.free) < MAX_ROWS:
                self.free.append_entry()


class AnswerForm(ActionForm):
    quote_id = HiddenField()
    #: approve / decline, from the button pressed
    answer = HiddenField()


class WorkForm(ActionForm):
    work_note = TextAreaField(
        _l("Work done"),
        validators=[Length(max=4000, message=_l("Keep it under %(max)d characters."))],
    )
    minutes = WholeNumberField(_l("Minutes"), validators=[Optional()])
    part = SelectField(_l("Part used"), default="")
    part_quantity = WholeNumberField(_l("How many"), validators=[Optional()])


class CheckForm(ActionForm):
    qc_note = TextAreaField(
        _l("Check note"),
        validators=[Length(max=4000, message=_l("Keep it under %(max)d characters."))],
    )
    qc_carrier = SelectField(_l("Way back"))
    #: pass / fail, from the button pressed
    result = HiddenField()


class SendBackForm(ActionForm):
    back_reason = TextAreaField(
        _l("Why it comes back unrepaired"),
        validators=[Length(max=1000, message=_l("Keep it under %(max)d characters."))],
    )
    back_carrier = SelectField(_l("Way back"))


class PaymentForm(ActionForm):
    payment_note = StringField(
        _l("How it was paid"),
        validators=[Length(max=200, message=_l("Keep it under %(max)d characters."))],
    )


def carrier_choices(*, courier: bool) -> list[SelectChoice]:
    """The in-house courier first (store ↔ centre), or the location's usual carrier first
    (a parcel to the customer); then each carrier by name."""
    first = (
        [SelectChoice(Carrier.OWN.value, CARRIER_LABELS[Carrier.OWN])]
        if courier
        else [SelectChoice(USUAL_CARRIER, _l("The usual carrier of the repair centre"))]
    )
    others = [SelectChoice(c.value, CARRIER_LABELS[c]) for c in Carrier if c != Carrier.OWN]
    return [*first, *others]


def carrier_of(value: str | None) -> Carrier | None:
    return Carrier(value) if value else None
