"""Prices of pre-owned items: a percentage of the original price by grade, rounded down."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.core.actors import Actor
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.intake.constants import Grade
from reverse.resale.constants import ROUNDING_STEPS
from reverse.resale.models import ResalePriceRule

#: (percent, rounding) of each grade until an admin sets its rule (the migration seeds these)
DEFAULT_RULES = {Grade.A: (80, 10), Grade.B: (60, 10), Grade.C: (40, 10), Grade.D: (20, 10)}


class PriceRuleRefused(DomainError):
    code = "price_rule_refused"


def rule_price(original_yen: int, percent: int, rounding: int) -> int:
    """`percent` of the original price, rounded down to a multiple of `rounding` yen: a price
    never ends up above what the rule says."""
    step = max(1, rounding)
    return original_yen * percent // 100 // step * step


def price_rules() -> dict[Grade, tuple[int, int]]:
    """(percent, rounding) of every grade: the admins' rules over the defaults."""
    rules = dict(DEFAULT_RULES)
    for rule in db.session.scalars(sa.select(ResalePriceRule)):
        rules[rule.grade] = (rule.percent, rule.rounding)
    return rules


def _rule(grade: Grade) -> tuple[int, int]:
    rule = db.session.scalar(sa.select(ResalePriceRule).where(ResalePriceRule.grade == grade))
    return (rule.percent, rule.rounding) if rule is not None else DEFAULT_RULES[Grade(grade)]


def price_for_grade(original_yen: int, grade: Grade) -> int:
    """What the grade's rule asks for this original price."""
    percent, rounding = _rule(grade)
    return rule_price(original_yen, percent, rounding)


def rounding_for(grade: Grade) -> int:
    return _rule(grade)[1]


def set_price_rule(
    grade: Grade | str, percent: int, rounding: int, actor: Actor
) -> ResalePriceRule:
    """Create or change the rule of a grade. Existing items keep their price until re-priced."""
    try:
        grade = Grade(grade)
    except ValueError:
        raise PriceRuleRefused(_l("Choose a grade: A, B, C or D."), field="grade") from None
    if not 0 <= int(percent) <= 100:
        raise PriceRuleRefused(_l("The percentage is between 0 and 100."), field="percent")
    if int(rounding) not in ROUNDING_STEPS:
        raise PriceRuleRefused(_l("Round to ¥1, ¥10 or ¥100."), field="rounding")
    rule = db.session.scalar(
        sa.select(ResalePriceRule).where(ResalePriceRule.grade == grade).with_for_update()
    )
    if rule is None:
        rule = ResalePriceRule(grade=grade)
        db.session.add(rule)
    rule.percent = int(percent)
    rule.rounding = int(rounding)
    rule.updated_by_label = actor.label
    db.session.flush()
    return rule
