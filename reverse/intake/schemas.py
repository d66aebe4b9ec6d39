"""API payloads of intake: a parcel scanned in at a returns centre."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from reverse.core.normalise import code_text
from reverse.core.schemas import InputSchema
from reverse.rmas.schemas import RmaSchema


class ScanCreateSchema(InputSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={
            "description": "What was scanned: a tracking number (12 digits) or a request "
            "number (R12345-67890; full-width digits are fine)"
        },
    )
    location = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Code of the returns centre that received it"},
    )

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["location"] = code_text(data["location"]).upper()
        return data


class ScanResultSchema(Schema):
    new = fields.Boolean(
        required=True,
        metadata={"description": "false when this parcel had already been received"},
    )
    received_at = fields.AwareDateTime(required=True, attribute="receipt.received_at")
    rma = fields.Nested(RmaSchema, required=True)
