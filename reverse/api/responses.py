"""The error answers an operation can give, documented beside its success: every status a
client can meet is in the OpenAPI document (there is no catch-all "default")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reverse.api.auth import add_doc

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

DESCRIPTIONS = {
    400: "The body is not JSON, or the Idempotency-Key cannot be used",
    404: "No such record",
    409: "Refused in the record's present state (details say why), or changed at the same "
    "moment by another request",
    422: "Fields that are not valid (details per field)",
    429: "Too many requests for this key: wait a minute",
}


def error_responses(*codes: int) -> dict[int, dict[str, Any]]:
    return {code: {"description": DESCRIPTIONS[code], "content": ERROR_CONTENT} for code in codes}


def errors(*codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document that the view can answer these error statuses (with the Error body)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        add_doc(view, {"responses": error_responses(*codes)})
        return view

    return decorator
