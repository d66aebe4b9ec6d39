"""Payloads every API resource shares: the error body and page parameters."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from reverse.core.schemas import InputSchema


class ErrorDetailSchema(Schema):
    code = fields.String(
        required=True, metadata={"description": "Machine-readable, e.g. validation_error"}
    )
    message = fields.String(required=True, metadata={"description": "For people, in English"})
    details = fields.Dict(
        required=True,
        metadata={"description": "Field-level messages: {field: [message, …]} (nested for lists)"},
    )


class ErrorSchema(Schema):
    """Every error the API answers: `{"error": {"code", "message", "details"}}`."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class PageArgsSchema(InputSchema):
    """Cursor paging of lists: pass the `next_cursor` of a page to get the next one."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
