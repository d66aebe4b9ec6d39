"""Form pieces every part shares: a customer's contact fields, and putting an operation's
refusal on the form that asked for it."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, ValidationError

from reverse.core.errors import DomainError
from reverse.core.normalise import InvalidInput, nfkc
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ContactFields(FlaskForm):
    """A customer's name and a way to reach them: an email address, a phone number or both.
    Full-width input is fine; `contact()` gives the normalised values (after validate)."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[InputRequired(_l("Enter your name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[Length(max=254)],
        # inputmode, not type=email: the browser would tidy (or refuse) full-width input
        # before our normalisation sees it.
        render_kw={
            "inputmode": "email",
            "autocomplete": "email",
            "spellcheck": "false",
            "autocapitalize": "off",
        },
    )
    phone = StringField(
        _l("Phone number"),
        filters=[strip],
        validators=[Length(max=30)],
        render_kw={"type": "tel", "autocomplete": "tel"},
    )

    def validate_email(self, field: Any) -> None:
        if not field.data:
            if not self.phone.data:
                raise ValidationError(_l("Enter an email address or a phone number."))
            return
        try:
            normalise_email(field.data)
        except InvalidInput:
            raise ValidationError(_l("Enter a valid email address.")) from None

    def validate_phone(self, field: Any) -> None:
        if not field.data:
            return
        try:
            normalise_phone(field.data)
        except InvalidInput:
            raise ValidationError(
                _l("Enter a phone number we can call, e.g. 090-1234-5678.")
            ) from None

    def contact(self, locale: str) -> dict[str, Any]:
        """Name, email, phone (normalised; "" when not given) and the customer's language."""
        return {
            "name": nfkc(self.name.data),
            "email": normalise_email(self.email.data) if self.email.data else "",
            "phone": normalise_phone(self.phone.data) if self.phone.data else "",
            "locale": locale,
        }


def attach_errors(form: Any, exc: DomainError) -> None:
    """An operation's refusal on the form. Operations name fields in one of two ways:
    `details["field"]` (the error's own message goes beside that field) or
    `{field name: message, …}` (each message beside its field); other details (ids, numbers)
    are context, not messages. When no field of the form is named, the error's message goes
    above the form."""
    if "field" in exc.details:
        named = {str(exc.details["field"]): exc.message}
    else:
        named = dict(exc.details)
    placed = False
    for name, message in named.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
            placed = True
    if not placed:
        form.form_errors.append(exc.message)
