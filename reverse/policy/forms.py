"""Policy admin forms: channel defaults, rules, the preview and the shop's return terms."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from reverse.catalog.constants import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    Category,
    ChannelCode,
    WindowStart,
)
from reverse.policy.operations import (
    MAX_FEE_YEN,
    MAX_TERMS_CHARS,
    MAX_WARRANTY_DAYS,
    MAX_WINDOW_DAYS,
    RuleValues,
)
from reverse.resolution.constants import REFUND_RELEASE_LABELS
from reverse.rmas.constants import REASON_LABELS, TYPE_LABELS, RmaType

WINDOW_START_LABELS = {
    WindowStart.DELIVERY: _l("From delivery"),
    WindowStart.PURCHASE: _l("From purchase"),
}
INHERIT = ("", _l("— inherit —"))
TRI_YES, TRI_NO = "yes", "no"

#: every set of request types a rule may allow, as one choice each ("return+exchange", …)
TYPE_SETS: list[tuple[str, ...]] = [
    combo for n in (3, 2, 1) for combo in combinations([t.value for t in RmaType], n)
]


def type_set_label(types: tuple[str, ...] | list[str]) -> str:
    if not types:
        return str(_l("None (nothing can be filed)"))
    return " · ".join(str(TYPE_LABELS[RmaType(t)]) for t in types)


def _range_message(low: int, high: int) -> Any:
    return _l("Enter a number from %(low)d to %(high)d.", low=low, high=high)


def _number(label: Any, high: int, hint: Any = None) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(0, high, message=_range_message(0, high))],
        description=hint or "",
    )


def _tri(value: bool | None) -> str:
    return "" if value is None else TRI_YES if value else TRI_NO


def _from_tri(value: str | None) -> bool | None:
    return None if not value else value == TRI_YES


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChannelDefaultsForm(FlaskForm):
    return_window_days = IntegerField(
        _l("Return window (days)"),
        validators=[
            InputRequired(_l("Enter the number of days.")),
            NumberRange(0, MAX_WINDOW_DAYS, message=_range_message(0, MAX_WINDOW_DAYS)),
        ],
    )
    window_starts = SelectField(_l("The window counts"), validators=[DataRequired()])
    allowed_types = MultiCheckboxField(_l("Requests customers may file"), validate_choice=True)
    proof_required = BooleanField(_l("Proof of purchase required (receipt or warranty card)"))
    #: left out of a post, these two keep the channel's current values
    refund_release = SelectField(_l("Refund goes to the payment system"))
    store_credit_bonus_percent = IntegerField(
        _l("Store credit bonus (%)"),
        validators=[Optional(), NumberRange(0, 100, message=_range_message(0, 100))],
        description=_l("Extra credit for customers who choose store credit. 0: not offered."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices set here, not in the field declarations (WTForms 3.3 deprecates tuples there).
        self.window_starts.choices = _choices(WINDOW_START_LABELS)
        self.allowed_types.choices = _choices(TYPE_LABELS)
        self.refund_release.choices = _choices(REFUND_RELEASE_LABELS)


class RuleForm(FlaskForm):
    channel_code = SelectField(_l("Channel"))
    category = SelectField(_l("Category"))
    reason = SelectField(_l("Reason"))
    window_days = _number(_l("Return window (days)"), MAX_WINDOW_DAYS)
    window_start = SelectField(_l("The window counts"))
    allowed_types = SelectField(_l("Requests customers may file"))
    proof_required = SelectField(_l("Proof of purchase"))
    return_shipping_fee_yen = _number(
        _l("Return shipping fee (yen)"),
        MAX_FEE_YEN,
        _l("Deducted from refunds, except when the item is defective, damaged or wrong."),
    )
    restocking_fee_percent = _number(_l("Restocking fee (%)"), 100)
    warranty_days = _number(_l("Free repair of defects (days after purchase)"), MAX_WARRANTY_DAYS)
    repair_decline_fee_yen = _number(_l("Fee when a repair quote is declined (yen)"), MAX_FEE_YEN)
    auto_approve = SelectField(_l("Approval"))
    note = StringField(_l("Note for admins"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_code.choices = [("", _l("Any channel")), *_choices(CHANNEL_LABELS)]
        self.category.choices = [("", _l("Any category")), *_choices(CATEGORY_LABELS)]
        self.reason.choices = [("", _l("Any reason")), *REASON_LABELS.items()]
        self.window_start.choices = [INHERIT, *_choices(WINDOW_START_LABELS)]
        self.allowed_types.choices = [
            INHERIT,
            *[("+".join(s), type_set_label(s)) for s in TYPE_SETS],
            ("none", type_set_label(())),
        ]
        self.proof_required.choices = [
            INHERIT,
            (TRI_YES, _l("Required")),
            (TRI_NO, _l("Not required")),
        ]
        self.auto_approve.choices = [
            INHERIT,
            (TRI_YES, _l("Approved automatically")),
            (TRI_NO, _l("A person approves")),
        ]

    def fill(self, values: RuleValues) -> None:
        self.channel_code.data = values.channel_code.value if values.channel_code else ""
        self.category.data = values.category.value if values.category else ""
        self.reason.data = values.reason or ""
        self.window_days.data = values.window_days
        self.window_start.data = values.window_start.value if values.window_start else ""
        if values.allowed_types is None:
            self.allowed_types.data = ""
        else:
            self.allowed_types.data = "+".join(values.allowed_types) or "none"
        self.proof_required.data = _tri(values.proof_required)
        self.return_shipping_fee_yen.data = values.return_shipping_fee_yen
        self.restocking_fee_percent.data = values.restocking_fee_percent
        self.warranty_days.data = values.warranty_days
        self.repair_decline_fee_yen.data = values.repair_decline_fee_yen
        self.auto_approve.data = _tri(values.auto_approve)
        self.note.data = values.note

    def values(self) -> RuleValues:
        types = self.allowed_types.data
        return RuleValues(
            channel_code=ChannelCode(self.channel_code.data) if self.channel_code.data else None,
            category=Category(self.category.data) if self.category.data else None,
            reason=self.reason.data or None,
            window_days=self.window_days.data,
            window_start=WindowStart(self.window_start.data) if self.window_start.data else None,
            allowed_types=None if not types else [] if types == "none" else types.split("+"),
            proof_required=_from_tri(self.proof_required.data),
            return_shipping_fee_yen=self.return_shipping_fee_yen.data,
            restocking_fee_percent=self.restocking_fee_percent.data,
            warranty_days=self.warranty_days.data,
            repair_decline_fee_yen=self.repair_decline_fee_yen.data,
            auto_approve=_from_tri(self.auto_approve.data),
            note=(self.note.data or "").strip(),
        )


class RuleActiveForm(FlaskForm):
    """Switch a rule off or on again: a button, with CSRF."""

    active = HiddenField(validators=[DataRequired()])


class PreviewForm(FlaskForm):
    """GET: what a customer of this channel gets for this category and reason."""

    class Meta:
        csrf = False

    channel = SelectField(_l("Bought through"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    reason = SelectField(_l("Reason"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel.choices = _choices(CHANNEL_LABELS)
        self.category.choices = [("", _l("Not known")), *_choices(CATEGORY_LABELS)]
        self.reason.choices = [("", _l("Not given")), *REASON_LABELS.items()]


class ReturnTermsForm(FlaskForm):
    body = TextAreaField(
        _l("Terms"),
        validators=[
            DataRequired(_l("Write the terms.")),
            Length(max=MAX_TERMS_CHARS, message=_l("At most %(n)d characters.", n=MAX_TERMS_CHARS)),
        ],
    )


def _choices(labels: dict[Any, Any]) -> list[tuple[str, Any]]:
    return [(key.value, label) for key, label in labels.items()]
