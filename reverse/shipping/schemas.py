"""Payloads of the tracking webhook."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates


class TrackingEventCreateSchema(Schema):
    tracking_number = fields.String(required=True, validate=validate.Length(min=8, max=40))
    status = fields.String(required=True, validate=validate.Length(min=1, max=40))
    occurred_at = fields.AwareDateTime(required=True)
    place = fields.String(load_default="", validate=validate.Length(max=120))
    description = fields.String(load_default="", validate=validate.Length(max=200))


class TrackingBatchCreateSchema(Schema):
    events = fields.List(
        fields.Nested(TrackingEventCreateSchema),
        required=True,
        validate=validate.Length(min=1, max=500),
    )

    @validates("events")
    def _not_empty(self, value: list, **_kw: object) -> None:
        if not value:
            raise ValidationError("At least one event.")
