"""Changes admins make to the return policy: channel defaults, rules and the shop's terms.

Each function validates what it is given, changes rows, flushes and never commits. A refusal
is a PolicyInvalid whose `details` map a field name to the message shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import Category, ChannelCode, WindowStart
from reverse.catalog.models import Channel
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.policy.engine import RULE_SETTINGS
from reverse.policy.models import PolicyRule, ReturnTerms
from reverse.resolution.constants import RefundRelease
from reverse.rmas.constants import REASON_LABELS, RmaType

MAX_WINDOW_DAYS = 365
MAX_WARRANTY_DAYS = 3650
MAX_FEE_YEN = 100_000
MAX_TERMS_CHARS = 10_000
TERMS_LOCALES = ("ja", "en")


class PolicyInvalid(DomainError):
    """Input the policy cannot take; `details` maps field names to messages."""

    code = "policy_invalid"


def _types(values: list[str] | tuple[str, ...]) -> list[str]:
    """Request types in their canonical order; unknown ones refused."""
    known = [t.value for t in RmaType]
    if any(v not in known for v in values):
        raise PolicyInvalid(_l("Unknown request type."), allowed_types=_l("Unknown request type."))
    return [t for t in known if t in values]


def _check_range(errors: dict[str, Any], name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        errors[name] = _l("Enter a number from %(low)d to %(high)d.", low=low, high=high)


# -- channel defaults --------------------------------------------------------------------------


def update_channel_defaults(
    channel: Channel,
    *,
    return_window_days: int,
    window_starts: WindowStart,
    allowed_types: list[str],
    proof_required: bool,
    refund_release: RefundRelease | None = None,
    store_credit_bonus_percent: int | None = None,
) -> None:
    """Save a channel's defaults; the refund settings are kept when None."""
    errors: dict[str, Any] = {}
    _check_range(errors, "return_window_days", return_window_days, 0, MAX_WINDOW_DAYS)
    if store_credit_bonus_percent is not None:
        _check_range(errors, "store_credit_bonus_percent", store_credit_bonus_percent, 0, 100)
    if errors:
        raise PolicyInvalid(_l("Please correct the marked fields."), **errors)
    channel.return_window_days = return_window_days
    channel.window_starts = window_starts
    channel.allowed_types = _types(allowed_types)
    channel.proof_required = proof_required
    if refund_release is not None:
        channel.refund_release = refund_release
    if store_credit_bonus_percent is not None:
        channel.store_credit_bonus_percent = store_credit_bonus_percent
    db.session.flush()


# -- rules -------------------------------------------------------------------------------------


@dataclass
class RuleValues:
    """What a rule matches (None = anything) and what it sets (None = inherit)."""

    channel_code: ChannelCode | None = None
    category: Category | None = None
    reason: str | None = None
    window_days: int | None = None
    window_start: WindowStart | None = None
    allowed_types: list[str] | None = None
    proof_required: bool | None = None
    return_shipping_fee_yen: int | None = None
    restocking_fee_percent: int | None = None
    warranty_days: int | None = None
    repair_decline_fee_yen: int | None = None
    auto_approve: bool | None = None
    note: str = ""

    MATCH = ("channel_code", "category", "reason")
    SETTINGS = RULE_SETTINGS

    @classmethod
    def of(cls, rule: PolicyRule) -> RuleValues:
        return cls(**{f.name: getattr(rule, f.name) for f in fields(cls)})

    def match_key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.MATCH)


def _same_match(rule: PolicyRule) -> tuple[Any, ...]:
    return (rule.channel_code, rule.category, rule.reason)


def _validate_rule(values: RuleValues, rule_id: int | None, *, active: bool) -> None:
    errors: dict[str, Any] = {}
    if values.reason is not None and values.reason not in REASON_LABELS:
        errors["reason"] = _l("Choose a reason from the list.")
    _check_range(errors, "window_days", values.window_days, 0, MAX_WINDOW_DAYS)
    _check_range(errors, "return_shipping_fee_yen", values.return_shipping_fee_yen, 0, MAX_FEE_YEN)
    _check_range(errors, "restocking_fee_percent", values.restocking_fee_percent, 0, 100)
    _check_range(errors, "warranty_days", values.warranty_days, 0, MAX_WARRANTY_DAYS)
    _check_range(errors, "repair_decline_fee_yen", values.repair_decline_fee_yen, 0, MAX_FEE_YEN)
    if values.allowed_types is not None:
        values.allowed_types = _types(values.allowed_types)
    if len(values.note) > 200:
        errors["note"] = _l("At most %(n)d characters.", n=200)
    if all(getattr(values, name) is None for name in values.SETTINGS):
        errors["window_days"] = _l("A rule must change at least one setting.")
    if active and "reason" not in errors:
        clash = next(
            (
                r
                for r in db.session.scalars(sa.select(PolicyRule).where(PolicyRule.active))
                if r.id != rule_id and _same_match(r) == values.match_key()
            ),
            None,
        )
        if clash is not None:
            errors["channel_code"] = _l(
                "An active rule (#%(id)d) already matches this channel, category and reason: "
                "edit that one instead.",
                id=clash.id,
            )
    if errors:
        raise PolicyInvalid(_l("Please correct the marked fields."), **errors)


def create_rule(values: RuleValues) -> PolicyRule:
    _validate_rule(values, None, active=True)
    rule = PolicyRule(**{f.name: getattr(values, f.name) for f in fields(values)}, active=True)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_rule(rule: PolicyRule, values: RuleValues) -> None:
    _validate_rule(values, rule.id, active=rule.active)
    for f in fields(values):
        setattr(rule, f.name, getattr(values, f.name))
    db.session.flush()


def set_rule_active(rule: PolicyRule, active: bool) -> None:
    """Switch a rule off (it stays listed, and can be switched on again unless it now clashes)."""
    if active and not rule.active:
        _validate_rule(RuleValues.of(rule), rule.id, active=True)
    rule.active = active
    db.session.flush()


# -- the shop's return terms (返品特約) ----------------------------------------------------------


def save_return_terms(locale: str, body: str, updated_by: str) -> ReturnTerms:
    if locale not in TERMS_LOCALES:
        raise PolicyInvalid(_l("Unknown language."))
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise PolicyInvalid(_l("Please correct the marked fields."), body=_l("Write the terms."))
    if len(body) > MAX_TERMS_CHARS:
        raise PolicyInvalid(
            _l("Please correct the marked fields."),
            body=_l("At most %(n)d characters.", n=MAX_TERMS_CHARS),
        )
    terms = db.session.get(ReturnTerms, locale)
    if terms is None:
        terms = ReturnTerms(locale=locale, body=body)
        db.session.add(terms)
    elif terms.body == body:
        return terms
    terms.body = body
    terms.updated_by = updated_by
    terms.updated_at = utcnow()
    db.session.flush()
    return terms
