"""What a customer may do with an item and what it will cost them, before they submit.

The channel carries the defaults; admins' rules refine them per channel × category × reason.
Rules apply from the least to the most specific, each overriding only what it sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import Category, WindowStart
from reverse.catalog.models import Channel
from reverse.extensions import db
from reverse.policy.models import PolicyRule, ReturnTerms
from reverse.rmas.constants import OUR_FAULT_REASONS, RmaType

#: the law's default when a shop states no policy: 8 days from delivery, buyer pays shipping
STATUTORY_WINDOW_DAYS = 8
DEFAULT_WARRANTY_DAYS = 365

#: the settings a rule may set; empty ones inherit
RULE_SETTINGS = (
    "window_days",
    "window_start",
    "allowed_types",
    "proof_required",
    "return_shipping_fee_yen",
    "restocking_fee_percent",
    "warranty_days",
    "repair_decline_fee_yen",
    "auto_approve",
)


@dataclass(frozen=True)
class Terms:
    """The policy in force for one channel, category and reason."""

    window_days: int
    window_start: WindowStart
    allowed_types: tuple[str, ...]
    proof_required: bool
    return_shipping_fee_yen: int = 0
    restocking_fee_percent: int = 0
    warranty_days: int = DEFAULT_WARRANTY_DAYS
    repair_decline_fee_yen: int = 0
    auto_approve: bool = False


@dataclass
class LineVerdict:
    """Whether one item may be sent back this way, and why not."""

    eligible: bool
    problems: list[Any] = field(default_factory=list)
    window_ends: date | None = None
    #: for repairs: free because within warranty and a defect
    warranty: bool = False
    #: paid for the quantity asked, yen (None when unknown: a declared purchase without price)
    paid_yen: int | None = None
    restocking_fee_yen: int = 0


@dataclass
class Outcome:
    """What the customer is shown before submitting."""

    rma_type: RmaType
    lines: list[LineVerdict]
    return_shipping_fee_yen: int = 0
    refund_estimate_yen: int | None = None
    proof_required: bool = False
    auto_approve: bool = False

    @property
    def eligible(self) -> bool:
        return bool(self.lines) and all(line.eligible for line in self.lines)

    @property
    def fees_yen(self) -> int:
        return self.return_shipping_fee_yen + sum(line.restocking_fee_yen for line in self.lines)

    def snapshot(self) -> dict[str, Any]:
        """Kept on the RMA: what we promised, whatever the rules say later."""
        return {
            "return_shipping_fee_yen": self.return_shipping_fee_yen,
            "restocking_fee_yen": sum(line.restocking_fee_yen for line in self.lines),
            "refund_estimate_yen": self.refund_estimate_yen,
            "window_ends": [
                line.window_ends.isoformat() if line.window_ends else None for line in self.lines
            ],
            "warranty": [line.warranty for line in self.lines],
            "proof_required": self.proof_required,
        }


def channel_terms(channel: Channel) -> Terms:
    return Terms(
        window_days=channel.return_window_days,
        window_start=channel.window_starts,
        allowed_types=tuple(channel.allowed_types or ()),
        proof_required=channel.proof_required,
    )


def active_rules() -> list[PolicyRule]:
    return list(db.session.scalars(sa.select(PolicyRule).where(PolicyRule.active)))


def matching_rules(
    channel: Channel,
    category: Category | None,
    reason: str | None,
    rules: list[PolicyRule] | None = None,
) -> list[PolicyRule]:
    """The active rules that apply, in the order they are applied (least specific first)."""
    matching = [
        r
        for r in (active_rules() if rules is None else rules)
        if r.active
        and r.channel_code in (None, channel.code)
        and r.category in (None, category)
        and r.reason in (None, reason)
    ]
    return sorted(matching, key=lambda r: (r.specificity, r.id))


def terms_for(
    channel: Channel,
    category: Category | None,
    reason: str | None,
    rules: list[PolicyRule] | None = None,
) -> Terms:
    terms = channel_terms(channel)
    for rule in matching_rules(channel, category, reason, rules):
        changes = {
            name: getattr(rule, name) for name in RULE_SETTINGS if getattr(rule, name) is not None
        }
        if "allowed_types" in changes:
            changes["allowed_types"] = tuple(changes["allowed_types"])
        terms = replace(terms, **changes)
    return terms


def judge_line(
    *,
    rma_type: RmaType,
    terms: Terms,
    today: date,
    purchased_on: date | None,
    delivered_on: date | None = None,
    returnable: bool = True,
    repairable: bool = True,
    final_sale: bool = False,
    quantity: int = 1,
    quantity_left: int | None = None,
    paid_yen: int | None = None,
    reason: str | None = None,
) -> LineVerdict:
    """The verdict for one line. `paid_yen` is what was paid for `quantity` units."""
    problems: list[Any] = []
    verdict = LineVerdict(eligible=True, paid_yen=paid_yen)
    if rma_type.value not in terms.allowed_types:
        problems.append(_l("This kind of request is not offered for purchases made there."))
    if quantity_left is not None and quantity > quantity_left:
        if quantity_left == 0:
            problems.append(_l("This item has already been requested or returned."))
        else:
            problems.append(_l("Only %(n)d more can be requested.", n=quantity_left))
    if rma_type == RmaType.REPAIR:
        if not repairable:
            problems.append(_l("We cannot repair this item."))
        if purchased_on and reason in OUR_FAULT_REASONS:
            verdict.warranty = today <= purchased_on + timedelta(days=terms.warranty_days)
    else:
        if final_sale:
            problems.append(_l("This item was sold as final sale."))
        if not returnable:
            problems.append(_l("This item cannot be returned or exchanged."))
        start = delivered_on if terms.window_start == WindowStart.DELIVERY else purchased_on
        start = start or purchased_on
        if start is not None:
            verdict.window_ends = start + timedelta(days=terms.window_days)
            if today > verdict.window_ends:
                problems.append(
                    _l(
                        "The period for this ended on %(date)s.",
                        date=verdict.window_ends.isoformat(),
                    )
                )
        if rma_type == RmaType.RETURN and paid_yen is not None:
            verdict.restocking_fee_yen = paid_yen * terms.restocking_fee_percent // 100
    verdict.problems = problems
    verdict.eligible = not problems
    return verdict


def combine(
    rma_type: RmaType, verdicts: list[LineVerdict], terms: list[Terms], reasons: list[str | None]
) -> Outcome:
    """Fees and the refund estimate for the whole request."""
    outcome = Outcome(
        rma_type=rma_type,
        lines=verdicts,
        proof_required=any(t.proof_required for t in terms),
        auto_approve=bool(terms) and all(t.auto_approve for t in terms),
    )
    if rma_type == RmaType.RETURN:
        # One parcel, one shipping fee — and none when we are at fault for any item in it.
        if not any(r in OUR_FAULT_REASONS for r in reasons):
            outcome.return_shipping_fee_yen = max(
                (t.return_shipping_fee_yen for t in terms), default=0
            )
        if verdicts and all(v.paid_yen is not None for v in verdicts):
            paid = sum(v.paid_yen or 0 for v in verdicts)
            outcome.refund_estimate_yen = max(0, paid - outcome.fees_yen)
    return outcome


def return_terms_text(locale: str) -> str | None:
    """The shop's stated return terms in this language (or Japanese), if an admin set them."""
    terms = db.session.get(ReturnTerms, locale) or db.session.get(ReturnTerms, "ja")
    return terms.body if terms else None
