"""The pre-owned shop's forms: the browse filters (GET, no CSRF) and the reservation form.

The reservation form keeps what the customer typed, so a page shown again with errors shows
their input; `contact()` gives the normalised values (NFKC name, lower-case email, E.164
phone) once the form is valid. Full-width digits and Japanese dashes are accepted.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField
from wtforms.validators import InputRequired, Optional, ValidationError

from reverse.catalog.constants import CATEGORY_LABELS, Category
from reverse.catalog.models import Location
from reverse.core.forms import ContactFields
from reverse.intake.constants import Grade
from reverse.portal.forms import Chosen, choice_values, select_choices
from reverse.resale.constants import KIND_LABELS, ReservationKind

#: a grade in a word or two, beside its letter (resale.constants.GRADE_BUYER_TEXT says more)
GRADE_NAMES = {
    Grade.A: _l("Like new"),
    Grade.B: _l("Good condition"),
    Grade.C: _l("Fair condition"),
    Grade.D: _l("Well worn"),
}

#: the orders the shop can be sorted in, the first being the default
SORTS = {
    "newest": _l("Newest first"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
}


class BrowseForm(FlaskForm):
    """The shop's filters, read from the query string; a value that is not one of the
    choices is dropped (an old bookmark still shows the shop, not an error)."""

    class Meta:
        csrf = False

    category = SelectField(_l("Category"), validate_choice=False)
    size = SelectField(_l("Size"), validate_choice=False)
    grade = SelectField(_l("Condition"), validate_choice=False)
    sort = SelectField(
        _l("Sort by"),
        choices=select_choices(SORTS.items()),
        validate_choice=False,
    )
    page = IntegerField(validators=[Optional()])

    def fill_choices(self, categories: list[Category], sizes: list[str]) -> None:
        """Offer the categories and sizes that are on sale, and the one already chosen."""
        chosen = self.category.data
        self.category.choices = select_choices(
            [
                ("", _l("All categories")),
                *[
                    (c.value, label)
                    for c, label in CATEGORY_LABELS.items()
                    if c in categories or c.value == chosen
                ],
            ]
        )
        if self.size.data and self.size.data not in sizes:
            sizes = [*sizes, self.size.data]
        self.size.choices = select_choices([("", _l("All sizes")), *[(s, s) for s in sizes]])
        self.grade.choices = select_choices(
            [
                ("", _l("All grades")),
                *[(g.value, _l("%(g)s: %(name)s", g=g.value, name=GRADE_NAMES[g])) for g in Grade],
            ]
        )

    def cleaned(self) -> dict[str, Any]:
        """The filters to apply: each value that is one of its choices, else none."""
        self.validate()

        def pick(field: Any) -> str | None:
            return field.data if field.data and field.data in choice_values(field) else None

        page = self.page.data if not self.page.errors and self.page.data else 1
        return {
            "category": Category(c) if (c := pick(self.category)) else None,
            "size": pick(self.size),
            "grade": Grade(g) if (g := pick(self.grade)) else None,
            "sort": pick(self.sort) or "newest",
            "page": max(page, 1),
        }


class ReserveForm(ContactFields):
    """Reserve an item: who you are, how to reach you, and pickup at a store or buying online."""

    kind = RadioField(
        _l("How would you like to get it?"),
        choices=select_choices((k.value, label) for k, label in KIND_LABELS.items()),
        validate_choice=False,
        validators=[Chosen(_l("Choose pickup at a store or buying online."))],
    )
    pickup_location = SelectField(_l("Store to pick it up at"), choices=[], validate_choice=False)
    consent = BooleanField(
        _l("I understand how long the item is held for me."),
        validators=[InputRequired(_l("Please confirm the hold period."))],
    )

    def fill_choices(self, stores: list[Location], locale: str) -> None:
        """The stores a customer can pick up at, each with its prefecture and city."""
        self.pickup_location.choices = select_choices(
            [
                ("", _l("Choose a store")),
                *[(str(s.id), f"{s.name(locale)} — {s.prefecture}{s.city}") for s in stores],
            ]
        )

    @property
    def is_pickup(self) -> bool:
        return self.kind.data == ReservationKind.PICKUP.value

    @property
    def pickup_location_id(self) -> int | None:
        value = self.pickup_location.data or ""
        return int(value) if self.is_pickup and value.isdigit() else None

    def validate_pickup_location(self, field: Any) -> None:
        if self.is_pickup and (not field.data or field.data not in choice_values(field)):
            raise ValidationError(_l("Choose the store to pick it up at."))
