"""API payloads of refunds: as the payment system reads them, and settling one."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from reverse.api.schemas import PageArgsSchema
from reverse.core.normalise import nfkc
from reverse.core.schemas import InputSchema
from reverse.resolution.constants import RefundKind, RefundState


def _settlement_reference(refund: Any) -> str | None:
    from reverse.resolution.settlement import settlement_reference

    return settlement_reference(refund)


class RefundSchema(Schema):
    id = fields.Integer(required=True)
    rma_number = fields.Function(
        lambda r: r.rma.display_number, required=True, metadata={"type": "string"}
    )
    kind = fields.Enum(RefundKind, by_value=True, required=True)
    amount_yen = fields.Integer(
        required=True, metadata={"description": "What the customer gets (store credit: with bonus)"}
    )
    bonus_yen = fields.Integer(required=True)
    state = fields.Enum(RefundState, by_value=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    released_at = fields.AwareDateTime(required=True, allow_none=True)
    settled_at = fields.AwareDateTime(required=True, allow_none=True)
    settlement_reference = fields.Function(
        lambda r: _settlement_reference(r),
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "The payment system's reference, once settled"},
    )


class RefundListArgsSchema(PageArgsSchema):
    state = fields.Enum(RefundState, by_value=True, load_default=None)
    since = fields.AwareDateTime(
        load_default=None,
        metadata={"description": "Refunds created, released or settled at or after this moment"},
    )


class RefundPageSchema(Schema):
    items = fields.List(fields.Nested(RefundSchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )


class SettlementCreateSchema(InputSchema):
    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "The payment system's reference of the payment"},
    )

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["reference"] = nfkc(data["reference"])
        if not data["reference"]:
            raise ValidationError("Give the reference.", "reference")
        return data


class SettlementResultSchema(Schema):
    changed = fields.Boolean(
        required=True, metadata={"description": "false when it was already settled so"}
    )
    refund = fields.Nested(RefundSchema, required=True)
