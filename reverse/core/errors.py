"""Domain errors and the HTTP error pages (HTML in the user's language, JSON under /api)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A business rule said no. `message` is shown to the user; `status` is the HTTP status."""

    status = 422
    code = "domain_error"

    def __init__(self, message: Any, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"


class ConcurrentChange(DomainError):
    status = 409
    code = "concurrent_change"


_TITLES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    409: _l("Someone else changed this at the same moment. Please reload and try again."),
    413: _l("The upload is too large."),
    422: _l("The request could not be processed."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Please try again later."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, message: Any, code: str, details: dict | None = None):
    if _wants_json():
        body = {"error": {"code": code, "message": str(message), "details": details or {}}}
        return jsonify(body), status
    return render_template("errors.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return _render(exc.status, exc.message, exc.code, exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if messages is not None:
            # A payload refused by its marshmallow schema (flask-smorest / webargs): the
            # messages come per location (json, query …); fields do not repeat across them.
            details: dict[str, Any] = {}
            for per_location in messages.values():
                if isinstance(per_location, dict):
                    details.update(per_location)
                else:  # about the body as a whole ("Invalid JSON body.")
                    details.setdefault("_schema", []).extend(per_location)
            return _render(status, _l("Some fields are not valid."), "validation_error", details)
        if status == 400 and "CSRF" in (exc.description or ""):
            message = _l("This form has expired. Please reload the page and try again.")
        else:
            message = _TITLES.get(status, exc.name)
        return _render(status, message, exc.name.lower().replace(" ", "_"))

    @app.errorhandler(500)
    def server_error(exc: Exception):
        return _render(500, _TITLES[500], "internal_server_error")
