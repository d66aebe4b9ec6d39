"""The carriers' tracking webhook (signed JSON)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from reverse.core.db import commit
from reverse.extensions import csrf, db
from reverse.shipping.schemas import TrackingBatchCreateSchema
from reverse.shipping.tracking import (
    SIGNATURE_HEADER,
    TrackingError,
    TrackingReport,
    record_tracking,
    verify_signature,
)

bp = Blueprint("shipping", __name__)


@bp.route("/api/v1/tracking/events", methods=["POST"])
@csrf.exempt  # machine-to-machine: authenticated by the HMAC signature instead
def tracking_webhook():
    body = request.get_data(cache=True)
    verify_signature(
        current_app.config["TRACKING_WEBHOOK_SECRET"], body, request.headers.get(SIGNATURE_HEADER)
    )
    try:
        payload = TrackingBatchCreateSchema().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return _error(422, "validation_error", "The payload is not valid.", exc.messages)
    recorded = duplicates = 0
    for index, item in enumerate(payload["events"]):
        try:
            event = record_tracking(TrackingReport(**item), source="webhook")
        except TrackingError as exc:
            # All or nothing: the carrier re-sends the corrected batch.
            db.session.rollback()
            return _error(
                exc.status, exc.code, str(exc.message), {"events": {str(index): exc.details}}
            )
        if event is None:
            duplicates += 1
        else:
            recorded += 1
    commit()
    return jsonify({"recorded": recorded, "duplicates": duplicates})


def _error(status: int, code: str, message: str, details: dict):
    return jsonify({"error": {"code": code, "message": message, "details": details}}), status
