"""Forms of the staff pages of pre-owned stock: list filters, bulk actions, the item's actions
and the price rules. Yen amounts and codes are read however they were typed (full-width
digits, commas, a yen sign)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from reverse.catalog.constants import CATEGORY_LABELS
from reverse.core.normalise import code_text, nfkc
from reverse.intake.constants import Grade
from reverse.resale.constants import ROUNDING_STEPS, STATE_LABELS, ResaleState
from reverse.resale.operations import MAX_BIN_CHARS, MAX_NOTES_CHARS, MAX_REASON_CHARS

#: the list's default: everything still in play (not sold, not withdrawn)
OPEN = "open"
ALL = "all"

SORTS = {
    "oldest": _l("Oldest first"),
    "newest": _l("Newest first"),
    "price_desc": _l("Highest price"),
    "price_asc": _l("Lowest price"),
    "code": _l("Item code"),
}

BACK_PREFIX = "/staff/resale"


class LooseIntegerField(IntegerField):
    """A whole number as people type it: full-width digits, thousands commas, a yen or
    percent sign are all fine."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            text = nfkc(valuelist[0])
            for junk in (",", "¥", "￥", "円", "%", " ", "\\"):
                text = text.replace(junk, "")
            valuelist = [text]
        super().process_formdata(valuelist)


def safe_back(value: str | None) -> str | None:
    """A page of this section to go back to after a POST; None for anything else (another
    host, another section), so a form cannot be made to send staff elsewhere."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or value.startswith("//"):
        return None
    if not parts.path.startswith(BACK_PREFIX):
        return None
    return value


class ResaleFilterForm(FlaskForm):
    """GET filters of the list; not a state change, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Code, SKU, JAN or name"), validators=[Optional(), Length(max=80)], filters=[nfkc]
    )
    state = SelectField(_l("State"), default=OPEN, validators=[Optional()])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    location = SelectField(_l("Location"), validators=[Optional()])
    sort = SelectField(_l("Sort"), default="oldest", validators=[Optional()])
    page = IntegerField(validators=[Optional()])

    def fill_choices(self, locations: list[tuple[str, str]], *, fixed_location: bool) -> None:
        self.state.choices = [
            (OPEN, _l("Not sold or withdrawn")),
            *[(s.value, label) for s, label in STATE_LABELS.items()],
            (ALL, _l("All states")),
        ]
        self.grade.choices = [("", _l("All grades")), *[(g.value, g.value) for g in Grade]]
        self.category.choices = [
            ("", _l("All")),
            *[(c.value, label) for c, label in CATEGORY_LABELS.items()],
        ]
        first = [] if fixed_location else [("", _l("All locations"))]
        self.location.choices = [*first, *locations]
        self.sort.choices = list(SORTS.items())

    def states(self) -> list[ResaleState] | None:
        """The states asked for; None for all of them."""
        value = self.state.data or OPEN
        if value == ALL:
            return None
        if value == OPEN:
            return [s for s in ResaleState if s not in (ResaleState.SOLD, ResaleState.WITHDRAWN)]
        return [ResaleState(value)]


class BackForm(FlaskForm):
    """A POST that needs nothing but its CSRF token, and where to go back to."""

    next = HiddenField()


class BulkForm(BackForm):
    """The list's checkboxes and the bulk action chosen with one of its buttons."""

    ids = SelectMultipleField(coerce=int, validate_choice=False)
    action = HiddenField()
    percent = LooseIntegerField(
        _l("Mark down by (%)"),
        validators=[Optional(), NumberRange(1, 90, message=_l("Between 1 and 90 %."))],
    )
    reason = StringField(
        _l("Reason"),
        validators=[
            Optional(),
            Length(
                max=MAX_REASON_CHARS, message=_l("At most %(n)d characters.", n=MAX_REASON_CHARS)
            ),
        ],
    )


class PriceForm(BackForm):
    price_yen = LooseIntegerField(
        _l("Price (tax included)"),
        validators=[InputRequired(_l("Enter the price in yen."))],
    )
    reason = TextAreaField(
        _l("Reason for this price"),
        validators=[
            Optional(),
            Length(
                max=MAX_REASON_CHARS, message=_l("At most %(n)d characters.", n=MAX_REASON_CHARS)
            ),
        ],
    )


class DetailsForm(BackForm):
    bin_code = StringField(
        _l("Shelf or bin"),
        validators=[
            Optional(),
            Length(max=MAX_BIN_CHARS, message=_l("At most %(n)d characters.", n=MAX_BIN_CHARS)),
        ],
        filters=[code_text],
    )
    condition_notes = TextAreaField(
        _l("Condition notes"),
        validators=[
            Optional(),
            Length(max=MAX_NOTES_CHARS, message=_l("At most %(n)d characters.", n=MAX_NOTES_CHARS)),
        ],
    )


class WithdrawForm(BackForm):
    reason = TextAreaField(
        _l("Why withdraw it?"),
        validators=[
            DataRequired(_l("Give a reason.")),
            Length(
                max=MAX_REASON_CHARS, message=_l("At most %(n)d characters.", n=MAX_REASON_CHARS)
            ),
        ],
    )


class RefurbishedForm(BackForm):
    note = TextAreaField(
        _l("Work done"),
        validators=[
            Optional(),
            Length(max=MAX_NOTES_CHARS, message=_l("At most %(n)d characters.", n=MAX_NOTES_CHARS)),
        ],
    )


class SaleForm(BackForm):
    channel = HiddenField(validators=[DataRequired()])


class CancelForm(BackForm):
    reason = StringField(
        _l("Reason (optional)"),
        validators=[
            Optional(),
            Length(
                max=MAX_REASON_CHARS, message=_l("At most %(n)d characters.", n=MAX_REASON_CHARS)
            ),
        ],
    )


class FindForm(FlaskForm):
    """The counter's scan field: an item code from the shelf tag, typed or scanned."""

    class Meta:
        csrf = False

    code = StringField(_l("Item code"), validators=[Optional(), Length(max=200)])


class PriceRulesForm(FlaskForm):
    """Percent and rounding of each grade; the fields are added per grade below."""

    def grade_fields(self) -> list[tuple[Grade, Any, Any]]:
        return [(g, self[f"percent_{g.value}"], self[f"rounding_{g.value}"]) for g in Grade]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for _grade, _percent, rounding in self.grade_fields():
            rounding.choices = [(str(step), f"¥{step}") for step in ROUNDING_STEPS]


for _grade in Grade:
    setattr(
        PriceRulesForm,
        f"percent_{_grade.value}",
        LooseIntegerField(
            _l("Grade %(g)s: percent of the original price", g=_grade.value),
            validators=[
                InputRequired(_l("Enter a percentage.")),
                NumberRange(0, 100, message=_l("The percentage is between 0 and 100.")),
            ],
        ),
    )
    setattr(
        PriceRulesForm,
        f"rounding_{_grade.value}",
        SelectField(
            _l("Grade %(g)s: round down to", g=_grade.value),
            validators=[InputRequired(_l("Choose a rounding step."))],
        ),
    )
