"""Staff forms: RMA list filters, the status change, proof decisions, messages and notes."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from reverse.catalog.constants import CHANNEL_LABELS, PREFECTURES
from reverse.rmas.constants import PURCHASE_PLACE_LABELS, STATUS_LABELS, TYPE_LABELS

#: age filter: at least this many days in the current status
AGE_CHOICES = (0, 1, 3, 7, 14, 30)
#: items on one request filed by phone
MAX_FILING_LINES = 10


class RmaFilterForm(FlaskForm):
    """GET filters of the RMA list; not a state change, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("RMA number"), validators=[Optional(), Length(max=40)])
    status = SelectField(_l("Status"), validators=[Optional()])
    type = SelectField(_l("Type"), validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    location = SelectField(_l("Location"), validators=[Optional()])
    age = SelectField(_l("Waiting"), validators=[Optional()])
    page = IntegerField(validators=[Optional()])

    def fill_choices(self, locations: list[tuple[str, str]]) -> None:
        any_ = ("", _l("All"))
        self.status.choices = [any_, *[(s.value, label) for s, label in STATUS_LABELS.items()]]
        self.type.choices = [any_, *[(t.value, label) for t, label in TYPE_LABELS.items()]]
        self.channel.choices = [any_, *[(c.value, label) for c, label in CHANNEL_LABELS.items()]]
        self.location.choices = [any_, *locations]
        self.age.choices = [
            ("", _l("Any age")),
            *[(str(d), _l("%(n)d+ days", n=d)) for d in AGE_CHOICES if d],
        ]


class StatusChangeForm(FlaskForm):
    to_status = SelectField(_l("Move to"), validators=[DataRequired(_l("Choose a status."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    #: the version the page was rendered from: a move based on a stale page is refused
    version = HiddenField(validators=[DataRequired()])


class VerifyProofForm(FlaskForm):
    """Accept or reject a declared purchase's receipt: the button pressed gives `decision`."""

    decision = HiddenField(
        validators=[
            DataRequired(_l("Choose accept or reject.")),
            AnyOf(("accept", "reject"), message=_l("Choose accept or reject.")),
        ]
    )
    reason = TextAreaField(
        _l("Reason (the customer reads this)"),
        # No Optional(): it would stop the chain before validate_reason sees an empty reason.
        validators=[Length(max=500, message=_l("At most %(n)d characters.", n=500))],
    )
    #: the version the page was rendered from: a decision based on a stale page is refused
    version = HiddenField(validators=[DataRequired()])
    #: which page to show again when something is wrong ("queue" or "detail")
    origin = HiddenField(default="queue")

    def validate_reason(self, field: TextAreaField) -> None:
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Give the reason the customer will read."))


class StaffMessageForm(FlaskForm):
    text = TextAreaField(
        _l("Reply to the customer"),
        validators=[
            DataRequired(_l("Write a message first.")),
            Length(max=2000, message=_l("At most %(n)d characters.", n=2000)),
        ],
    )


class InternalNoteForm(FlaskForm):
    text = TextAreaField(
        _l("Note"),
        validators=[
            DataRequired(_l("Write a note first.")),
            Length(max=2000, message=_l("At most %(n)d characters.", n=2000)),
        ],
    )


# -- filing a request for a customer on the phone ----------------------------------------------


class FilingLineForm(Form):
    """One item of a request filed by phone (a sub-form: the outer form carries the CSRF)."""

    #: set when the item comes from the looked-up order
    order_line_id = HiddenField()
    #: for order lines: whether this one comes back
    include = BooleanField(_l("Include this item"))
    query = StringField(
        _l("Find the product"),
        validators=[Optional(), Length(max=100)],
        description=_l("SKU, JAN (13 digits on the tag) or part of the name"),
    )
    #: the catalogue item picked from the search results (radio buttons drawn by the page)
    variant_id = StringField(validators=[Optional(), Length(max=12)])
    description = StringField(
        _l("Or describe the item"),
        validators=[Optional(), Length(max=200, message=_l("At most %(n)d characters.", n=200))],
    )
    quantity = IntegerField(
        _l("Quantity"),
        default=1,
        validators=[
            InputRequired(_l("Enter a quantity.")),
            NumberRange(
                1, 99, message=_l("Enter a number from %(low)d to %(high)d.", low=1, high=99)
            ),
        ],
    )
    reason = SelectField(_l("Reason"), validate_choice=False)
    comment = TextAreaField(
        _l("What the customer says"),
        validators=[Optional(), Length(max=2000, message=_l("At most %(n)d characters.", n=2000))],
    )
    symptom = TextAreaField(
        _l("What is wrong with it"),
        validators=[Optional(), Length(max=2000, message=_l("At most %(n)d characters.", n=2000))],
    )
    wanted_variant_id = SelectField(_l("Wanted instead"), validate_choice=False)


class FilingForm(FlaskForm):
    """The whole call-centre request on one page."""

    name = StringField(
        _l("Customer name"),
        validators=[
            DataRequired(_l("Enter the customer's name.")),
            Length(max=120, message=_l("At most %(n)d characters.", n=120)),
        ],
    )
    name_kana = StringField(
        _l("Name in katakana"),
        validators=[Optional(), Length(max=120, message=_l("At most %(n)d characters.", n=120))],
    )
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    locale = SelectField(_l("Language of our emails"), default="ja")
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=10)])
    prefecture = SelectField(_l("Prefecture"), default="")
    city = StringField(
        _l("City, ward, town"),
        validators=[Optional(), Length(max=80, message=_l("At most %(n)d characters.", n=80))],
    )
    street = StringField(
        _l("Street and number"),
        validators=[Optional(), Length(max=120, message=_l("At most %(n)d characters.", n=120))],
    )
    building = StringField(
        _l("Building, room"),
        validators=[Optional(), Length(max=120, message=_l("At most %(n)d characters.", n=120))],
    )

    type = RadioField(
        _l("Request"), validators=[InputRequired(_l("Choose return, exchange or repair."))]
    )
    place = SelectField(
        _l("Where was it bought?"),
        default="",
        validators=[DataRequired(_l("Choose where it was bought."))],
    )
    order_number = StringField(
        _l("Order or receipt number"),
        validators=[Optional(), Length(max=40)],
    )
    retailer = StringField(
        _l("Shop (declared)"),
        validators=[Optional(), Length(max=120, message=_l("At most %(n)d characters.", n=120))],
    )
    purchase_date = DateField(
        _l("Purchase date (declared)"),
        validators=[Optional()],
    )
    price_yen = IntegerField(
        _l("Price paid, yen (declared)"),
        validators=[
            Optional(),
            NumberRange(
                0,
                10_000_000,
                message=_l("Enter a number from %(low)d to %(high)d.", low=0, high=10_000_000),
            ),
        ],
    )

    lines = FieldList(FormField(FilingLineForm), min_entries=1, max_entries=MAX_FILING_LINES)

    #: both checked by the view against what applies to the request (filing._method)
    method = SelectField(_l("How the item comes back"), default="", validate_choice=False)
    drop_off_location_id = SelectField(
        _l("Store for the drop-off"), default="", validate_choice=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices set here, not in the field declarations (WTForms 3.3 deprecates tuples there).
        self.locale.choices = [("ja", "日本語"), ("en", "English")]
        self.type.choices = [(t.value, label) for t, label in TYPE_LABELS.items()]
        self.place.choices = [
            ("", _l("Choose…")),
            *[(p.value, label) for p, label in PURCHASE_PLACE_LABELS.items()],
        ]
        self.prefecture.choices = [("", _l("Choose…")), *[(p, p) for p in PREFECTURES]]
