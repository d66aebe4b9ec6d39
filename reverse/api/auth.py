"""API keys on requests: `require_scope` authenticates the caller and documents it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l

from reverse.api.constants import API_KEY_HEADER, Scope
from reverse.api.models import ApiKey
from reverse.api.operations import integration_actor, key_for, touch
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.core.errors import DomainError

SECURITY = [{"ApiKey": []}, {"Bearer": []}]


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class MissingScope(DomainError):
    status = 403
    code = "missing_scope"


def presented_key() -> str:
    """The key in `X-API-Key` or `Authorization: Bearer …`; empty when there is none."""
    raw = request.headers.get(API_KEY_HEADER, "")
    if not raw:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            raw = value
    return raw.strip()


def authenticate(scope: Scope) -> ApiKey:
    raw = presented_key()
    if not raw:
        raise Unauthenticated(_l("An API key is required (header X-API-Key)."))
    key = key_for(raw)
    if key is None:
        raise Unauthenticated(_l("This API key is not valid or was revoked."))
    if not key.allows(scope):
        raise MissingScope(
            _l("This API key lacks the scope %(scope)s.", scope=scope.value),
            scope=scope.value,
        )
    if touch(key):
        commit()
    g.api_key = key
    return key


def current_key() -> ApiKey:
    return g.api_key


def api_actor() -> Actor:
    """The actor of the change this request makes: the calling integration."""
    return integration_actor(g.api_key)


def add_doc(view: Callable[..., Any], doc: dict[str, Any]) -> None:
    """Merge OpenAPI details into a view the way flask-smorest's `Blueprint.doc` does."""
    apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    for name, value in doc.items():
        if isinstance(value, list):
            manual[name] = [*manual.get(name, []), *value]
        elif isinstance(value, dict):
            manual[name] = {**manual.get(name, {}), **value}
        else:
            manual[name] = value
    view._apidoc = apidoc  # type: ignore[attr-defined]


def require_scope(scope: Scope) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only callers whose API key has `scope` get through (401 without a valid key, 403
    without the scope). Put it above the flask-smorest argument and response decorators."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            authenticate(scope)
            return view(*args, **kwargs)

        add_doc(
            wrapped,
            {
                "security": SECURITY,
                "x-scope": scope.value,
                "responses": {
                    401: {"description": "No API key, or not a valid one", "content": _ERROR},
                    403: {"description": f"The key lacks the scope {scope}", "content": _ERROR},
                    429: {"description": "Too many requests for this key", "content": _ERROR},
                },
            },
        )
        return wrapped

    return decorator


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
