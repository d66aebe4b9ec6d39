"""The customer's forms: one per step of the request, and the actions on the status page.

Fields keep what the customer typed, so a page shown again with errors shows their input;
the normalised values (email, E.164 phone, 〒123-4567, yen, dates) come from properties such
as `price_yen` or from `ContactForm.normalised()` after validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import DateInput

from reverse.catalog.constants import PREFECTURES
from reverse.core.codes import parse_rma_number
from reverse.core.forms import ContactFields, strip
from reverse.core.normalise import InvalidInput, code_text, nfkc
from reverse.core.normalise import postal_code as normalise_postal_code
from reverse.rmas.constants import PURCHASE_PLACE_LABELS, REASON_LABELS, TYPE_LABELS

MESSAGE_MAX = 2000
TOO_LONG = _l("Up to %(max)d characters, please.")
COMMENT_MAX = 1000
OTHER_RETAILER = "other"

_YEN_NOISE_RE = re.compile(r"[¥円,\s]|^JPY|JPY$", re.IGNORECASE)
_KATAKANA_RE = re.compile(r"^[ァ-ヺー・ ]+$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def select_choices(pairs: Any) -> list[SelectChoice]:
    """(value, label) pairs as WTForms wants select and radio choices."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def choice_values(field: Any) -> set[str]:
    return {str(choice.value) for choice in field.choices or ()}


class Chosen:
    """The field's value is one of its choices (a radio group or select with our message)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Form, field: Any) -> None:
        if field.data in (None, "") or str(field.data) not in choice_values(field):
            field.errors[:] = []
            raise StopValidation(self.message)


def _files(field: Any) -> list[Any]:
    """The files actually chosen (a file input left empty still sends an empty part)."""
    data = field.data
    items = data if isinstance(data, list) else [data]
    return [f for f in items if f is not None and getattr(f, "filename", "")]


class PurchaseDateField(StringField):
    """A date as a phone's date picker sends it, or typed: ２０２５／１１／３, 2025年11月3日 …"""

    widget = DateInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw_data = valuelist
        self.data = None
        text = code_text(valuelist[0]) if valuelist else ""
        if not text:
            return
        text = text.replace(" ", "")
        for fmt in _DATE_FORMATS:
            try:
                self.data = datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
                return
            except ValueError:
                continue
        raise ValueError(_l("Enter the date as year, month and day, e.g. 2025-11-03."))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


# -- step 1 ------------------------------------------------------------------------------------


class StartForm(FlaskForm):
    type = RadioField(
        _l("What would you like to do?"),
        choices=select_choices((t.value, label) for t, label in TYPE_LABELS.items()),
        validate_choice=False,
        validators=[Chosen(_l("Choose return, exchange or repair."))],
    )
    place = RadioField(
        _l("Where did you get it?"),
        choices=select_choices((p.value, label) for p, label in PURCHASE_PLACE_LABELS.items()),
        validate_choice=False,
        validators=[Chosen(_l("Choose where you got the item."))],
    )


# -- step 2 ------------------------------------------------------------------------------------


class OrderLookupForm(FlaskForm):
    number = StringField(
        _l("Order number"),
        filters=[strip],
        validators=[InputRequired(_l("Enter the number.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    contact = StringField(
        _l("Email or phone number used for the order"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the email address or phone number.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "off"},
    )


class OrderLineChoiceForm(Form):
    order_line_id = HiddenField()
    selected = BooleanField()
    quantity = SelectField(coerce=int, choices=[], validate_choice=False)


class OrderLinesForm(FlaskForm):
    lines = FieldList(FormField(OrderLineChoiceForm))

    def selection(self, choices: dict[int, Any]) -> dict[int, int] | None:
        """{order line id: quantity} of the ticked lines, or None with errors set.

        `choices` maps each order line id to its OrderLineChoice (what is left, verdict)."""
        picked: dict[int, int] = {}
        for entry in self.lines:
            try:
                line_id = int(entry.order_line_id.data or 0)
            except ValueError:
                line_id = 0
            choice = choices.get(line_id)
            if choice is None or not entry.selected.data:
                continue
            quantity = entry.quantity.data or 1
            if not choice.selectable:
                entry.selected.errors = [_l("This item cannot be requested.")]
                return None
            if not 1 <= quantity <= choice.quantity_left:
                entry.quantity.errors = [_l("Choose between 1 and %(n)d.", n=choice.quantity_left)]
                return None
            picked[line_id] = quantity
        if not picked:
            self.form_errors.append(_l("Tick at least one item."))
            return None
        return picked


class DeclaredPurchaseForm(FlaskForm):
    """A purchase we have no record of: a department store, another shop."""

    retailer = SelectField(_l("Department store"), choices=[], validate_choice=False)
    retailer_other = StringField(
        _l("Name of the shop"),
        filters=[strip],
        validators=[Optional(), Length(max=120)],
    )
    purchase_date = PurchaseDateField(_l("Date of purchase"))
    price = StringField(
        _l("Price paid, in yen (if you know it)"),
        filters=[strip],
        validators=[Optional(), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    receipt = FileField(
        _l("Photo of the receipt or warranty card"),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )

    #: set by the view: which question to ask, and whether a receipt must still be sent
    department_store = True
    receipt_needed = False
    today: date | None = None

    @property
    def retailer_name(self) -> str:
        if self.department_store and self.retailer.data != OTHER_RETAILER:
            return self.retailer.data or ""
        return nfkc(self.retailer_other.data)

    @property
    def price_yen(self) -> int | None:
        text = _YEN_NOISE_RE.sub("", nfkc(self.price.data))
        return int(text) if text else None

    def validate_retailer(self, field: Any) -> None:
        if self.department_store and (not field.data or field.data not in choice_values(field)):
            raise ValidationError(_l("Choose the department store."))

    def validate_retailer_other(self, field: Any) -> None:
        wanted = not self.department_store or self.retailer.data == OTHER_RETAILER
        if wanted and not field.data:
            raise ValidationError(_l("Enter the name of the shop."))

    def validate_purchase_date(self, field: Any) -> None:
        if field.process_errors:
            raise StopValidation()
        if field.data is None:
            raise StopValidation(_l("Enter the date of purchase."))
        if self.today and field.data > self.today:
            raise ValidationError(_l("The date of purchase cannot be in the future."))
        if field.data.year < 1990:
            raise ValidationError(_l("Check the year of the date of purchase."))

    def validate_price(self, field: Any) -> None:
        if not field.data:
            return
        text = _YEN_NOISE_RE.sub("", nfkc(field.data))
        if not text.isdigit() or int(text) >= 10_000_000:
            raise ValidationError(_l("Enter the price in yen, digits only (e.g. 12800)."))

    def validate_receipt(self, field: Any) -> None:
        if self.receipt_needed and not _files(field):
            raise ValidationError(_l("Add a photo of the receipt or warranty card."))

    @property
    def receipt_file(self) -> Any:
        files = _files(self.receipt)
        return files[0] if files else None


class TagPhotoForm(FlaskForm):
    """Gifts and "I don't know": an optional photo of the tag, then on to the items."""

    tag = FileField(
        _l("Photo of the product tag (optional)"),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )

    @property
    def tag_file(self) -> Any:
        files = _files(self.tag)
        return files[0] if files else None


# -- step 3 ------------------------------------------------------------------------------------


class ItemSearchForm(FlaskForm):
    """The catalogue search: a GET form, so the results have an address and need no token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Product name, style code, SKU or JAN"),
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        render_kw={"type": "search", "autocomplete": "off", "enterkeyhint": "search"},
    )


class ChooseItemForm(FlaskForm):
    variant_id = HiddenField(validators=[InputRequired()])


class ScanTagForm(FlaskForm):
    tag = FileField(
        _l("Photo of the barcode on the tag"),
        render_kw={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"},
    )

    @property
    def tag_file(self) -> Any:
        files = _files(self.tag)
        return files[0] if files else None

    def validate_tag(self, field: Any) -> None:
        if not _files(field):
            raise ValidationError(_l("Choose a photo of the tag."))


class DescribeItemForm(FlaskForm):
    description = StringField(
        _l("Describe the item"),
        filters=[strip],
        validators=[InputRequired(_l("Describe the item in a few words.")), Length(max=200)],
    )


class LineDetailForm(Form):
    reason = RadioField(
        _l("Reason"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose a reason."))],
    )
    comment = TextAreaField(
        _l("Anything we should know? (optional)"),
        validators=[Optional(), Length(max=COMMENT_MAX, message=TOO_LONG)],
    )
    photos = MultipleFileField(
        _l("Photos"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    wanted = RadioField(_l("Exchange for"), choices=[], validate_choice=False)
    symptom = TextAreaField(
        _l("What is wrong with it?"),
        validators=[Optional(), Length(max=COMMENT_MAX, message=TOO_LONG)],
    )

    @property
    def photo_files(self) -> list[Any]:
        return _files(self.photos)


class ItemDetailsForm(FlaskForm):
    lines = FieldList(FormField(LineDetailForm))

    def prepare(self, rma_type: str, lines: list[dict[str, Any]], options: list[Any]) -> None:
        """Set each line's choices: the reasons of the type, the sizes it can become."""
        from reverse.rmas.constants import REASONS, RmaType

        reasons = select_choices((code, REASON_LABELS[code]) for code in REASONS[RmaType(rma_type)])
        while len(self.lines) < len(lines):
            self.lines.append_entry()
        for entry, line_options in zip(self.lines, options, strict=False):
            entry.reason.choices = reasons
            entry.wanted.choices = select_choices((str(o.variant.id), "") for o in line_options)

    def check(
        self,
        rma_type: str,
        options: list[list[Any]],
        photo_counts: list[int],
        needs_photo: Callable[[str | None], bool],
        max_photos: int,
    ) -> bool:
        """What needs the whole line: the wanted size, the symptom, how many photos."""
        ok = True
        for entry, line_options, count in zip(self.lines, options, photo_counts, strict=False):
            in_stock = {str(o.variant.id) for o in line_options if o.in_stock}
            if rma_type == "exchange" and (in_stock or entry.wanted.data):
                if not entry.wanted.data:
                    entry.wanted.errors = [_l("Choose the size or colour you would like.")]
                    ok = False
                elif entry.wanted.data not in in_stock:
                    entry.wanted.errors = [
                        _l("This size or colour is out of stock. Please choose another.")
                    ]
                    ok = False
            if rma_type == "repair" and not (entry.symptom.data or "").strip():
                entry.symptom.errors = [_l("Tell us what is wrong with the item.")]
                ok = False
            total = count + len(entry.form.photo_files)
            if total > max_photos:
                entry.photos.errors = [_l("Up to %(n)d photos per item, please.", n=max_photos)]
                ok = False
            elif total == 0 and needs_photo(entry.reason.data):
                entry.photos.errors = [
                    _l("For this reason we need at least one photo of the item.")
                ]
                ok = False
        return ok


class RemoveForm(FlaskForm):
    """A button that removes something (a line, a photo): only the CSRF token."""


# -- step 4 ------------------------------------------------------------------------------------


class MethodForm(FlaskForm):
    method = RadioField(
        _l("How will you send the item?"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose how to send or bring the item."))],
    )
    location = RadioField(_l("Which store?"), choices=[], validate_choice=False)

    def validate_location(self, field: Any) -> None:
        if self.method.data == "store_drop_off" and field.data not in choice_values(field):
            raise ValidationError(_l("Choose the store you will go to."))


# -- step 5 ------------------------------------------------------------------------------------


def _katakana(value: str) -> str:
    """Full-width katakana (half-width and hiragana readings are turned into it)."""
    text = nfkc(value).replace("\u3000", " ")
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


class ContactForm(ContactFields):
    name_kana = StringField(
        _l("Name in katakana (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    postal_code = StringField(
        _l("Postal code"),
        filters=[strip],
        validators=[Length(max=12)],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    prefecture = SelectField(
        _l("Prefecture"),
        choices=select_choices([("", _l("Choose")), *[(p, p) for p in PREFECTURES]]),
        validate_choice=False,
        render_kw={"autocomplete": "address-level1"},
    )
    city = StringField(
        _l("City, ward, town or village"),
        filters=[strip],
        validators=[Length(max=80)],
        render_kw={"autocomplete": "address-level2"},
    )
    street = StringField(
        _l("Town, block and house number"),
        filters=[strip],
        validators=[Length(max=120)],
        render_kw={"autocomplete": "address-line1"},
    )
    building = StringField(
        _l("Building and room (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "address-line2"},
    )

    #: set by the view: a label or a pickup needs the address
    address_needed = False

    def validate_name_kana(self, field: Any) -> None:
        if field.data and not _KATAKANA_RE.match(_katakana(field.data)):
            raise ValidationError(_l("Write the reading in katakana, e.g. ヤマダ ハナコ."))

    def validate_postal_code(self, field: Any) -> None:
        if not field.data:
            if self.address_needed:
                raise ValidationError(_l("Enter the postal code."))
            return
        try:
            normalise_postal_code(field.data)
        except InvalidInput:
            raise ValidationError(_l("Enter the postal code as 7 digits, e.g. 150-0041.")) from None

    def validate_prefecture(self, field: Any) -> None:
        if field.data and field.data not in PREFECTURES:
            raise ValidationError(_l("Choose the prefecture."))
        if not field.data and (self.address_needed or self.postal_code.data):
            raise ValidationError(_l("Choose the prefecture."))

    def validate_city(self, field: Any) -> None:
        if not field.data and (self.address_needed or self.postal_code.data):
            raise ValidationError(_l("Enter the city, ward, town or village."))

    def validate_street(self, field: Any) -> None:
        if not field.data and (self.address_needed or self.postal_code.data):
            raise ValidationError(_l("Enter the rest of the address."))

    def normalised(self, locale: str) -> dict[str, Any]:
        """The contact as the draft keeps it (call after validate)."""
        return self.contact(locale) | {
            "name_kana": _katakana(self.name_kana.data) if self.name_kana.data else "",
            "postal_code": (
                normalise_postal_code(self.postal_code.data) if self.postal_code.data else ""
            ),
            "prefecture": self.prefecture.data or "",
            "city": nfkc(self.city.data),
            "street": nfkc(self.street.data),
            "building": nfkc(self.building.data),
        }


# -- step 6 ------------------------------------------------------------------------------------


class ReviewForm(FlaskForm):
    accept_terms = BooleanField(
        _l("I have read the return terms"),
        validators=[InputRequired(_l("Please confirm that you have read the return terms."))],
    )
    #: returns only, shown when the channel gives a bonus on store credit; money back if absent
    refund_choice = RadioField(_l("How would you like your refund?"), default="refund")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refund_choice.choices = [
            ("refund", _l("Refund to the original payment method")),
            ("store_credit", _l("Store credit")),
        ]


# -- find my request, and the status page ------------------------------------------------------


class FindForm(FlaskForm):
    number = StringField(
        _l("Request number"),
        filters=[strip],
        validators=[InputRequired(_l("Enter the request number.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    contact = StringField(
        _l("Email or phone number you gave us"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the email address or phone number.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "off"},
    )

    def validate_number(self, field: Any) -> None:
        if parse_rma_number(field.data) is None:
            raise ValidationError(_l("This is not a request number. It looks like R12345-67890."))


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            InputRequired(_l("Write your message.")),
            Length(max=MESSAGE_MAX, message=TOO_LONG),
        ],
    )


class PhotosForm(FlaskForm):
    photos = MultipleFileField(
        _l("Add photos"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )

    @property
    def photo_files(self) -> list[Any]:
        return _files(self.photos)

    def validate_photos(self, field: Any) -> None:
        if not _files(field):
            raise ValidationError(_l("Choose one or more photos."))
        if len(_files(field)) > 5:
            raise ValidationError(_l("Up to %(n)d photos at a time, please.", n=5))


class CancelForm(FlaskForm):
    """The confirmed cancel button: only the CSRF token."""


# -- the repair quote -------------------------------------------------------------------------


class QuoteApproveForm(FlaskForm):
    """The approve button: only the CSRF token."""


class QuoteDeclineForm(FlaskForm):
    understood = BooleanField(
        _l("I understand that the item is returned unrepaired."),
        validators=[InputRequired(_l("Tick the box to confirm, or approve the quote instead."))],
    )
