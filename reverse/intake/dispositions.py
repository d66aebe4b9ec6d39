"""Which disposition to propose for an inspected unit, and the admin's rules that decide it.

A rule matches a request type × reason × category × grade, each field empty for "any". The
most specific active rule that matches wins (ties: the newest); without one, the grade decides.
Admin changes validate, flush and never commit; a refusal is a DispositionRuleInvalid whose
`details` map a form field to the message shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import Category
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade, UnitState
from reverse.intake.models import DispositionRule
from reverse.rmas.constants import REASON_LABELS, REASONS, RmaType

#: what a grade gets when no rule says otherwise
DEFAULT_BY_GRADE: dict[Grade, Disposition] = {
    Grade.A: Disposition.RESTOCK,
    Grade.B: Disposition.RESALE,
    Grade.C: Disposition.REFURBISH,
    Grade.D: Disposition.RECYCLE,
}

#: request types whose parcels a returns centre inspects (repairs go to the repair centre)
INSPECTED_TYPES = (RmaType.RETURN, RmaType.EXCHANGE)

MAX_NOTE_CHARS = 200

_OLDEST = datetime.min.replace(tzinfo=UTC)
_UNSAVED = datetime.max.replace(tzinfo=UTC)


class DispositionRuleInvalid(DomainError):
    """A rule the admin page cannot take; `details` maps field names to messages."""

    code = "disposition_rule_invalid"


# -- proposing -------------------------------------------------------------------------------


def active_rules() -> list[DispositionRule]:
    return list(db.session.scalars(sa.select(DispositionRule).where(DispositionRule.active)))


def _matches(
    rule: DispositionRule,
    rma_type: RmaType | None,
    reason: str | None,
    category: Category | None,
    grade: Grade,
) -> bool:
    wanted_and_given = (
        (rule.rma_type, rma_type),
        (rule.reason, reason or None),
        (rule.category, category),
        (rule.grade, grade),
    )
    return all(wanted is None or wanted == given for wanted, given in wanted_and_given)


def _precedence(rule: DispositionRule) -> tuple[int, datetime, int]:
    # A rule not yet saved (a caller's trial rule) counts as the newest.
    created = rule.created_at or (_UNSAVED if rule.id is None else _OLDEST)
    return (rule.specificity, created, rule.id or 0)


def matching_rules(
    rma_type: RmaType | None,
    reason: str | None,
    category: Category | None,
    grade: Grade,
    rules: Iterable[DispositionRule] | None = None,
) -> list[DispositionRule]:
    """The active rules that match, the winner first: most specific, then newest."""
    candidates = active_rules() if rules is None else rules
    found = [r for r in candidates if r.active and _matches(r, rma_type, reason, category, grade)]
    return sorted(found, key=_precedence, reverse=True)


def propose_disposition(
    rma_type: RmaType | None,
    reason: str | None,
    category: Category | None,
    grade: Grade,
    rules: Iterable[DispositionRule] | None = None,
    *,
    unit_state: UnitState | None = None,
) -> tuple[Disposition, DispositionRule | None]:
    """The disposition to propose and the rule that proposed it (None: a built-in default).

    `rules` defaults to the active rules in the database. A wrong item (something other than
    the requested item arrived) is the customer's, whatever the rules say about the requested
    one: it is proposed to go back to them.
    """
    if unit_state == UnitState.WRONG_ITEM:
        return Disposition.RETURN_TO_CUSTOMER, None
    ranked = matching_rules(rma_type, reason, category, Grade(grade), rules)
    if ranked:
        return ranked[0].disposition, ranked[0]
    return DEFAULT_BY_GRADE[Grade(grade)], None


# -- admin changes ---------------------------------------------------------------------------


@dataclass
class RuleValues:
    """What a rule matches (None = anything) and the disposition it proposes."""

    rma_type: RmaType | None = None
    reason: str | None = None
    category: Category | None = None
    grade: Grade | None = None
    disposition: Disposition | None = None
    note: str = ""

    MATCH = ("rma_type", "reason", "category", "grade")

    @classmethod
    def of(cls, rule: DispositionRule) -> RuleValues:
        return cls(**{f.name: getattr(rule, f.name) for f in fields(cls)})

    def match_key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.MATCH)


def _match_key(rule: DispositionRule) -> tuple[Any, ...]:
    return (rule.rma_type, rule.reason, rule.category, rule.grade)


def _validate(values: RuleValues, rule_id: int | None, *, active: bool) -> None:
    errors: dict[str, Any] = {}
    values.reason = values.reason or None
    values.note = (values.note or "").strip()
    if values.rma_type is not None and values.rma_type not in INSPECTED_TYPES:
        errors["rma_type"] = _l("Only returns and exchanges are inspected here.")
    if values.reason is not None:
        if values.reason not in REASON_LABELS:
            errors["reason"] = _l("Choose a reason from the list.")
        elif values.rma_type is not None and values.reason not in REASONS[values.rma_type]:
            errors["reason"] = _l("This reason is never given for this request type.")
    if values.disposition is None:
        errors["disposition"] = _l("Choose what the rule proposes.")
    if len(values.note) > MAX_NOTE_CHARS:
        errors["note"] = _l("At most %(n)d characters.", n=MAX_NOTE_CHARS)
    if active and not errors:
        clash = next(
            (r for r in active_rules() if r.id != rule_id and _match_key(r) == values.match_key()),
            None,
        )
        if clash is not None:
            errors["rma_type"] = _l(
                "An active rule (#%(id)d) already matches this request type, reason, category "
                "and grade: edit that one instead.",
                id=clash.id,
            )
    if errors:
        raise DispositionRuleInvalid(_l("Please correct the marked fields."), **errors)


def create_rule(values: RuleValues) -> DispositionRule:
    """A new active rule; one with the same four match fields as an active rule is refused."""
    _validate(values, None, active=True)
    rule = DispositionRule(**{f.name: getattr(values, f.name) for f in fields(values)})
    rule.active = True
    db.session.add(rule)
    db.session.flush()
    return rule


def update_rule(rule: DispositionRule, values: RuleValues) -> DispositionRule:
    """Change a rule. Inspections it proposed for keep what they were proposed."""
    _validate(values, rule.id, active=rule.active)
    for f in fields(values):
        setattr(rule, f.name, getattr(values, f.name))
    db.session.flush()
    return rule


def set_rule_active(rule: DispositionRule, active: bool) -> None:
    """Switch a rule off (it stays listed, and the inspections it proposed keep pointing at
    it) or on again — unless an active rule now matches the same."""
    if active and not rule.active:
        _validate(RuleValues.of(rule), rule.id, active=True)
    rule.active = active
    db.session.flush()


def deactivate_rule(rule: DispositionRule) -> None:
    set_rule_active(rule, False)
