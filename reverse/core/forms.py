"""Putting an operation's refusal on the form that asked for it."""

from __future__ import annotations

from typing import Any

from reverse.core.errors import DomainError


def attach_errors(form: Any, exc: DomainError) -> None:
    """The messages of `exc.details` ({field name: message}) beside those fields, the others
    above the form; with no details, the error's own message above the form."""
    for name, message in exc.details.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
    if not exc.details:
        form.form_errors.append(exc.message)
