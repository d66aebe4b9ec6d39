"""/api/v1/tracking/events: carriers' tracking reports, signed with the shared secret
(X-Reverse-Signature, as carriers send them) or sent with an API key (tracking:write)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint

from reverse.api.auth import SECURITY, add_doc, authenticate
from reverse.api.constants import Scope
from reverse.api.responses import errors
from reverse.core.db import commit
from reverse.extensions import db
from reverse.shipping.schemas import TrackingBatchCreateSchema, TrackingBatchResultSchema
from reverse.shipping.tracking import (
    SIGNATURE_HEADER,
    TrackingError,
    TrackingReport,
    record_tracking,
    verify_signature,
)

blp = Blueprint(
    "api-tracking",
    __name__,
    url_prefix="/api/v1/tracking",
    description="Carrier tracking reports: they move parcels and their cases.",
)

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def signed_or_key(view: Callable[..., Any]) -> Callable[..., Any]:
    """A request signed with the carriers' shared secret, or one with an API key holding
    tracking:write (401 / 403 otherwise)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get(SIGNATURE_HEADER)
        if header is not None:
            secret = current_app.config["TRACKING_WEBHOOK_SECRET"]
            verify_signature(secret, request.get_data(cache=True), header)
        else:
            authenticate(Scope.TRACKING_WRITE)
        return view(*args, **kwargs)

    add_doc(
        wrapped,
        {
            "security": [*SECURITY, {"CarrierSignature": []}],
            "x-scope": Scope.TRACKING_WRITE.value,
            "responses": {
                401: {
                    "description": "No valid signature and no valid API key",
                    "content": _ERROR,
                },
                403: {
                    "description": f"The key lacks the scope {Scope.TRACKING_WRITE}",
                    "content": _ERROR,
                },
                429: {"description": "Too many requests", "content": _ERROR},
            },
        },
    )
    return wrapped


@blp.route("/events", methods=["POST"])
@signed_or_key
@blp.arguments(TrackingBatchCreateSchema)
@blp.response(200, TrackingBatchResultSchema)
@errors(400, 404, 409)
def events(payload: dict[str, Any]) -> dict[str, int]:
    """Record a batch of tracking events, all or nothing (the same report twice is kept once)"""
    recorded = duplicates = 0
    for index, item in enumerate(payload["events"]):
        try:
            event = record_tracking(TrackingReport(**item), source="webhook")
        except TrackingError as exc:
            # All or nothing: the carrier re-sends the corrected batch.
            db.session.rollback()
            exc.details = {"events": {str(index): exc.details}}
            raise
        if event is None:
            duplicates += 1
        else:
            recorded += 1
    commit()
    return {"recorded": recorded, "duplicates": duplicates}
