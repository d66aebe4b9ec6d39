"""API payloads of cases: filing one, the filters of the list, moving one on, and the case as
other systems read it (its lines, timeline and refund)."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from reverse.api.schemas import PageArgsSchema
from reverse.catalog.constants import PREFECTURES, ChannelCode
from reverse.core.actors import ActorKind, EventChannel
from reverse.core.normalise import InvalidInput, code_text, nfkc
from reverse.core.normalise import postal_code as normalise_postal_code
from reverse.core.schemas import InputSchema
from reverse.orders.schemas import CustomerSchema, normalised_email, normalised_phone
from reverse.resolution.constants import Resolution
from reverse.resolution.schemas import RefundSchema
from reverse.rmas.constants import (
    REASONS,
    ProofStatus,
    PurchasePlace,
    ReturnMethod,
    RmaSource,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import EventKind

MAX_LINES = 20
#: where a purchase unknown to Reverse was made (a known order names its channel instead)
DECLARED_PLACES = (
    PurchasePlace.DEPARTMENT_STORE,
    PurchasePlace.OTHER_RETAILER,
    PurchasePlace.GIFT,
    PurchasePlace.UNKNOWN,
)
#: channels whose orders a case can name (the customer form's own-channel purchases)
ORDER_CHANNELS = (ChannelCode.WEB, ChannelCode.STORE)
_TEXT = 1000


# -- filing ------------------------------------------------------------------------------------


class OrderRefSchema(InputSchema):
    channel = fields.Enum(
        ChannelCode,
        by_value=True,
        required=True,
        validate=validate.OneOf(ORDER_CHANNELS),
        metadata={"description": "web or store: purchases elsewhere are declared"},
    )
    number = fields.String(required=True, validate=validate.Length(min=1, max=40))

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["number"] = code_text(data["number"])
        return data


class DeclaredPurchaseSchema(InputSchema):
    """A purchase Reverse does not know about: staff check its proof before the case goes on."""

    place = fields.Enum(
        PurchasePlace, by_value=True, required=True, validate=validate.OneOf(DECLARED_PLACES)
    )
    retailer = fields.String(
        load_default="",
        validate=validate.Length(max=120),
        metadata={"description": "The shop, e.g. 伊勢丹新宿店"},
    )
    purchase_date = fields.Date(load_default=None, allow_none=True)
    price_yen = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=100_000_000),
        metadata={"description": "Paid for all the items, yen, tax included"},
    )

    @validates_schema(skip_on_field_errors=True)
    def _shop(self, data: dict[str, Any], **_kw: Any) -> None:
        named = data["place"] in (PurchasePlace.DEPARTMENT_STORE, PurchasePlace.OTHER_RETAILER)
        if named and not nfkc(data["retailer"]):
            raise ValidationError("Name the shop.", "retailer")
        if named and data["purchase_date"] is None:
            raise ValidationError("Give the purchase date.", "purchase_date")

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["retailer"] = nfkc(data["retailer"])
        return data


class RmaLineCreateSchema(InputSchema):
    sku = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The item; for a known order, one of its lines"},
    )
    description = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "An item of a declared purchase that has no SKU"},
    )
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=99))
    reason = fields.String(
        required=True,
        validate=validate.OneOf(sorted({r for codes in REASONS.values() for r in codes})),
        metadata={"description": "Return: " + ", ".join(REASONS[RmaType.RETURN])},
    )
    comment = fields.String(load_default="", validate=validate.Length(max=_TEXT))
    wanted_sku = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "Exchanges: the size or colour wanted instead"},
    )
    symptom = fields.String(
        load_default="",
        validate=validate.Length(max=_TEXT),
        metadata={"description": "Repairs: what is wrong"},
    )

    @validates_schema(skip_on_field_errors=True)
    def _item(self, data: dict[str, Any], **_kw: Any) -> None:
        if not data["sku"] and not nfkc(data["description"]):
            raise ValidationError("Give the SKU or describe the item.", "sku")

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        for name in ("sku", "wanted_sku"):
            data[name] = code_text(data[name]).upper() if data[name] else None
        for name in ("description", "comment", "symptom"):
            data[name] = data[name].strip()
        return data


class ContactCreateSchema(InputSchema):
    """How we reach the customer and, for a label or a pickup, where from."""

    name = fields.String(load_default="", validate=validate.Length(max=120))
    name_kana = fields.String(load_default="", validate=validate.Length(max=120))
    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    postal_code = fields.String(load_default="", validate=validate.Length(max=12))
    prefecture = fields.String(load_default="", validate=validate.OneOf(["", *PREFECTURES]))
    city = fields.String(load_default="", validate=validate.Length(max=80))
    street = fields.String(load_default="", validate=validate.Length(max=120))
    building = fields.String(load_default="", validate=validate.Length(max=120))
    locale = fields.String(load_default="ja", validate=validate.OneOf(["ja", "en"]))

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        problems: dict[str, list[str]] = {}
        for name, parse in (("email", normalised_email), ("phone", normalised_phone)):
            try:
                data[name] = parse(data[name])
            except ValidationError as exc:
                problems[name] = list(exc.messages)
        if data["postal_code"].strip():
            try:
                data["postal_code"] = normalise_postal_code(data["postal_code"])
            except InvalidInput:
                problems["postal_code"] = ["Give 7 digits, e.g. 150-0041."]
        for name in ("name", "name_kana", "city", "street", "building"):
            data[name] = nfkc(data[name])
        if problems:
            raise ValidationError(problems)
        return data


class RmaCreateSchema(InputSchema):
    """A return, exchange or repair, judged by the same policy as the customer form: a known
    order (channel + number, lines by SKU) or a declared purchase, never both."""

    type = fields.Enum(RmaType, by_value=True, required=True)
    order = fields.Nested(OrderRefSchema, load_default=None, allow_none=True)
    declared_purchase = fields.Nested(DeclaredPurchaseSchema, load_default=None, allow_none=True)
    lines = fields.List(
        fields.Nested(RmaLineCreateSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_LINES),
    )
    return_method = fields.Enum(
        ReturnMethod,
        by_value=True,
        required=True,
        validate=validate.NoneOf([ReturnMethod.COUNTER]),
    )
    drop_off_location = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "Store or counter code, for store_drop_off"},
    )
    contact = fields.Nested(
        ContactCreateSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Left out: the known order's customer"},
    )
    refund_choice = fields.Enum(
        Resolution,
        by_value=True,
        load_default=Resolution.REFUND,
        validate=validate.OneOf([Resolution.REFUND, Resolution.STORE_CREDIT]),
        metadata={"description": "Returns: store_credit when the channel offers a bonus"},
    )

    @validates_schema(skip_on_field_errors=True)
    def _consistent(self, data: dict[str, Any], **_kw: Any) -> None:
        problems: dict[str, Any] = {}
        if (data["order"] is None) == (data["declared_purchase"] is None):
            problems["order"] = ["Give either the order or the declared purchase."]
        rma_type = data["type"]
        lines: dict[str, dict[str, list[str]]] = {}
        seen: set[str] = set()
        for index, line in enumerate(data["lines"]):
            found: dict[str, list[str]] = {}
            if line["reason"] not in REASONS[rma_type]:
                found["reason"] = [f"Not a reason for a {rma_type.value}."]
            if rma_type == RmaType.REPAIR and not line["symptom"]:
                found["symptom"] = ["Describe what is wrong."]
            if line["sku"] and line["sku"] in seen:
                found["sku"] = ["This item appears twice: give its quantity once."]
            if line["sku"]:
                seen.add(line["sku"])
            if data["order"] is not None and not line["sku"]:
                found["sku"] = ["Name the item of the order by its SKU."]
            if found:
                lines[str(index)] = found
        if lines:
            problems["lines"] = lines
        method = data["return_method"]
        if method == ReturnMethod.STORE_DROP_OFF and not data["drop_off_location"]:
            problems["drop_off_location"] = ["Name the store for a drop-off."]
        contact = data["contact"]
        if contact is not None and not (contact["email"] or contact["phone"]):
            problems["contact"] = {"email": ["Give an email address or a phone number."]}
        if problems:
            raise ValidationError(problems)

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        if data["drop_off_location"]:
            data["drop_off_location"] = code_text(data["drop_off_location"]).upper()
        return data


# -- reading -----------------------------------------------------------------------------------


def _code_of(attribute: str) -> Any:
    def get(obj: Any) -> str | None:
        value = getattr(obj, attribute)
        return value.code if value is not None else None

    return get


class RmaLineSchema(Schema):
    sku = fields.Function(
        lambda line: line.variant.sku if line.variant else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    description = fields.String(required=True)
    quantity = fields.Integer(required=True)
    reason = fields.String(required=True)
    comment = fields.String(required=True)
    wanted_sku = fields.Function(
        lambda line: line.wanted_variant.sku if line.wanted_variant else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    symptom = fields.String(required=True)


class OutcomeSchema(Schema):
    """What the policy promised when the case was filed."""

    return_shipping_fee_yen = fields.Integer(required=True)
    restocking_fee_yen = fields.Integer(required=True)
    refund_estimate_yen = fields.Integer(required=True, allow_none=True)
    proof_required = fields.Boolean(required=True)


class _Outcome(fields.Nested):
    """The promise kept on the case; null for cases filed without one (counter repairs)."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        return obj.outcome or None


class OrderRefOutSchema(Schema):
    channel = fields.Function(
        lambda o: o.channel.code.value, required=True, metadata={"type": "string"}
    )
    number = fields.String(required=True)


class RmaSchema(Schema):
    number = fields.String(
        required=True,
        attribute="display_number",
        metadata={"description": "R + 10 digits, printed as R12345-67890"},
    )
    type = fields.Enum(RmaType, by_value=True, required=True)
    status = fields.Enum(RmaStatus, by_value=True, required=True)
    source = fields.Enum(RmaSource, by_value=True, required=True)
    channel = fields.Function(
        lambda r: r.channel.code.value, required=True, metadata={"type": "string"}
    )
    order = fields.Nested(OrderRefOutSchema, required=True, allow_none=True)
    purchase_place = fields.Enum(PurchasePlace, by_value=True, required=True, allow_none=True)
    declared_retailer = fields.String(required=True)
    declared_purchase_date = fields.Date(required=True, allow_none=True)
    declared_price_yen = fields.Integer(required=True, allow_none=True)
    proof_status = fields.Enum(ProofStatus, by_value=True, required=True)
    return_method = fields.Enum(ReturnMethod, by_value=True, required=True, allow_none=True)
    location = fields.Function(
        _code_of("location"),
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "The store or centre responsible now"},
    )
    customer = fields.Nested(CustomerSchema, required=True)
    lines = fields.List(fields.Nested(RmaLineSchema), required=True)
    outcome = _Outcome(OutcomeSchema, required=True, allow_none=True)
    resolution = fields.Enum(Resolution, by_value=True, required=True, allow_none=True)
    decision_reason = fields.String(required=True)
    next_statuses = fields.Function(
        lambda r: [s.value for s in r.next_statuses()],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    status_changed_at = fields.AwareDateTime(required=True)


class RmaEventSchema(Schema):
    kind = fields.Enum(EventKind, by_value=True, required=True)
    from_status = fields.Enum(RmaStatus, by_value=True, required=True, allow_none=True)
    to_status = fields.Enum(RmaStatus, by_value=True, required=True, allow_none=True)
    actor_kind = fields.Enum(ActorKind, by_value=True, required=True)
    actor = fields.String(required=True, attribute="actor_label")
    channel = fields.Enum(EventChannel, by_value=True, required=True)
    note = fields.Function(lambda e: _note_text(e), required=True, metadata={"type": "string"})
    public = fields.Boolean(
        required=True, metadata={"description": "Shown on the customer's status page"}
    )
    created_at = fields.AwareDateTime(required=True)


def _note_text(event: Any) -> str:
    from reverse.core.templating import note_text

    return note_text(event)


class _RefundOf(fields.Nested):
    """The case's refund (looked up: a case does not hold it)."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        from reverse.resolution.operations import refund_of

        return refund_of(obj)


class RmaDetailSchema(RmaSchema):
    events = fields.List(fields.Nested(RmaEventSchema), required=True)
    refund = _RefundOf(RefundSchema, required=True, allow_none=True)


class RmaFiledSchema(RmaDetailSchema):
    status_url = fields.String(
        required=True,
        metadata={
            "description": "The customer's private status page: given once, never again "
            "(like the confirmation mail)"
        },
    )


class RmaListArgsSchema(PageArgsSchema):
    status = fields.Enum(RmaStatus, by_value=True, load_default=None)
    type = fields.Enum(RmaType, by_value=True, load_default=None)
    channel = fields.Enum(ChannelCode, by_value=True, load_default=None)
    order_number = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    customer_email = fields.String(load_default=None, validate=validate.Length(min=1, max=254))
    customer_phone = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    created_since = fields.AwareDateTime(load_default=None)
    updated_since = fields.AwareDateTime(load_default=None)

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        problems: dict[str, list[str]] = {}
        for name, parse in (
            ("customer_email", normalised_email),
            ("customer_phone", normalised_phone),
        ):
            try:
                data[name] = parse(data[name])
            except ValidationError as exc:
                problems[name] = list(exc.messages)
        if problems:
            raise ValidationError(problems)
        if data["order_number"]:
            data["order_number"] = code_text(data["order_number"])
        return data


class RmaPageSchema(Schema):
    items = fields.List(fields.Nested(RmaSchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )


class TransitionCreateSchema(InputSchema):
    to = fields.Enum(RmaStatus, by_value=True, required=True)
    note = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "For staff; for rejected, the reason the customer reads"},
    )
    resolution = fields.Enum(
        Resolution,
        by_value=True,
        load_default=None,
        allow_none=True,
        validate=validate.NoneOf([Resolution.REJECTED]),
        metadata={"description": "For resolved: how (default: the customer's choice)"},
    )

    @post_load
    def _normalise(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["note"] = data["note"].strip()
        return data


class TransitionResultSchema(Schema):
    changed = fields.Boolean(
        required=True, metadata={"description": "false when the case was already there"}
    )
    rma = fields.Nested(RmaDetailSchema, required=True)
