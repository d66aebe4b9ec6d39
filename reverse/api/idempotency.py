"""Idempotent writes: a POST sent again with the same Idempotency-Key gets the first answer
and changes nothing; the same key with another request is refused.

The answer is stored in the transaction of the change itself, so either both exist or
neither. A second request with a key in flight waits on the unique index (PostgreSQL) or on
the write lock (SQLite) and then replays the answer of the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Response, g, make_response, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from reverse.api.auth import add_doc
from reverse.api.constants import IDEMPOTENCY_HEADER, REPLAYED_HEADER
from reverse.api.models import IdempotencyRecord
from reverse.core.db import commit
from reverse.core.errors import ConcurrentChange, DomainError
from reverse.extensions import db

#: response headers repeated when an answer is replayed
KEPT_HEADERS = ("Location",)


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


class BadIdempotencyKey(DomainError):
    status = 400
    code = "bad_idempotency_key"


def fingerprint() -> str:
    """What makes two requests the same: method, path, query and body (JSON compared by
    meaning, so key order and spacing do not matter)."""
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string):
        digest.update(part + b"\0")
    digest.update(canonical)
    return digest.hexdigest()


def _stored(integration_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.integration_id == integration_id, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, print_: str) -> Response:
    if record.fingerprint != print_:
        raise IdempotencyKeyReused(
            _l("This Idempotency-Key was used for a different request."),
            field=IDEMPOTENCY_HEADER,
        )
    response = Response(
        record.response_body, status=record.status_code, mimetype="application/json"
    )
    for name, value in record.response_headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise BadIdempotencyKey(
            _l("The Idempotency-Key must be 1 to 255 printable characters."),
            field=IDEMPOTENCY_HEADER,
        )
    return key


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Commit the view's changes once, with its answer stored under the request's
    Idempotency-Key when it sent one. The view itself never commits. Goes below
    `require_scope` (it needs the caller) and above the argument and response decorators."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        key = _key()
        if key is None:
            return _run(view, args, kwargs)
        integration_id = g.api_key.integration_id
        print_ = fingerprint()
        earlier = _stored(integration_id, key)
        if earlier is not None:
            return _replay(earlier, print_)
        # Claim the key first: a concurrent twin blocks here until this request ends.
        record = IdempotencyRecord(
            integration_id=integration_id, key=key, fingerprint=print_, status_code=0
        )
        db.session.add(record)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            earlier = _stored(integration_id, key)
            if earlier is None:
                raise
            return _replay(earlier, print_)
        response = _call(view, args, kwargs)
        if response.status_code >= 400:
            db.session.rollback()  # a refused request keeps no record: it may be corrected
            return response
        record.status_code = response.status_code
        record.response_body = response.get_data(as_text=True)
        record.response_headers = {
            name: response.headers[name] for name in KEPT_HEADERS if name in response.headers
        }
        _commit()
        return response

    add_doc(
        wrapped,
        {
            "parameters": [
                {
                    "in": "header",
                    "name": IDEMPOTENCY_HEADER,
                    "required": False,
                    "description": "Sending the same request again with the same key returns "
                    "the first answer and changes nothing; the same key with a different "
                    "request is refused with 422.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            ],
            "responses": {
                400: {
                    "description": "The Idempotency-Key cannot be used, or the body is not JSON",
                    "content": _ERROR,
                },
                409: {
                    "description": "Refused in the present state of the data, or changed at the "
                    "same moment by another request: send it again",
                    "content": _ERROR,
                },
                422: {
                    "description": "Fields that are not valid, or an Idempotency-Key used for a "
                    "different request",
                    "content": _ERROR,
                },
            },
        },
    )
    return wrapped


def _call(view: Callable[..., Any], args: tuple, kwargs: dict) -> Response:
    try:
        return make_response(view(*args, **kwargs))
    except IntegrityError as exc:
        raise _raced(exc) from exc
    except Exception:
        db.session.rollback()
        raise


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _commit() -> None:
    try:
        commit()
    except IntegrityError as exc:
        raise _raced(exc) from exc


def _raced(exc: IntegrityError) -> ConcurrentChange:
    """A unique constraint hit by a request running at the same moment (two creates of one
    order): nothing was written, and sending the request again finds the other's row."""
    db.session.rollback()
    return ConcurrentChange(
        _l("Another request changed the same data at the same moment. Please send it again."),
    )


def _run(view: Callable[..., Any], args: tuple, kwargs: dict) -> Response:
    response = _call(view, args, kwargs)
    if response.status_code >= 400:
        db.session.rollback()
    else:
        _commit()
    return response
