"""Payloads of the tracking webhook (and its answer)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from reverse.core.schemas import InputSchema


class TrackingEventCreateSchema(InputSchema):
    tracking_number = fields.String(required=True, validate=validate.Length(min=8, max=40))
    status = fields.String(required=True, validate=validate.Length(min=1, max=40))
    occurred_at = fields.AwareDateTime(required=True)
    place = fields.String(load_default="", validate=validate.Length(max=120))
    description = fields.String(load_default="", validate=validate.Length(max=200))


class TrackingBatchCreateSchema(InputSchema):
    events = fields.List(
        fields.Nested(TrackingEventCreateSchema),
        required=True,
        validate=validate.Length(min=1, max=500),
    )

    @validates("events")
    def _not_empty(self, value: list, **_kw: object) -> None:
        if not value:
            raise ValidationError("At least one event.")


class TrackingBatchResultSchema(Schema):
    recorded = fields.Integer(required=True, metadata={"description": "Events new to us"})
    duplicates = fields.Integer(
        required=True, metadata={"description": "Events already recorded: nothing changed"}
    )
