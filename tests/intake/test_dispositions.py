"""Disposition rules: the most specific active rule proposes, the grade decides otherwise."""

from __future__ import annotations

import pytest

from reverse.catalog.constants import Category
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade, UnitState
from reverse.intake.dispositions import (
    DispositionRuleInvalid,
    RuleValues,
    create_rule,
    deactivate_rule,
    propose_disposition,
    set_rule_active,
    update_rule,
)
from reverse.rmas.constants import RmaType

R, D = RmaType, Disposition


def test_without_rules_the_grade_decides():
    expected = {
        Grade.A: D.RESTOCK,
        Grade.B: D.RESALE,
        Grade.C: D.REFURBISH,
        Grade.D: D.RECYCLE,
    }
    for grade, disposition in expected.items():
        assert propose_disposition(R.RETURN, "changed_mind", Category.TOPS, grade, []) == (
            disposition,
            None,
        )


def test_a_wrong_item_goes_back_to_the_customer_whatever_its_grade(ctx):
    create_rule(RuleValues(grade=Grade.A, disposition=D.RESTOCK))
    proposed, rule = propose_disposition(
        R.RETURN, "size_too_small", Category.TOPS, Grade.A, unit_state=UnitState.WRONG_ITEM
    )
    assert (proposed, rule) == (D.RETURN_TO_CUSTOMER, None)


@pytest.mark.databases
def test_the_most_specific_active_rule_wins_then_the_newest(ctx):
    broad = create_rule(RuleValues(grade=Grade.C, disposition=D.RECYCLE))
    by_reason = create_rule(RuleValues(reason="defective", grade=Grade.C, disposition=D.REFURBISH))
    narrow = create_rule(
        RuleValues(
            rma_type=R.RETURN,
            reason="defective",
            category=Category.SHOES,
            grade=Grade.C,
            disposition=D.RETURN_TO_VENDOR,
        )
    )
    db.session.commit()

    def proposal(rma_type, reason, category, grade):
        disposition, rule = propose_disposition(rma_type, reason, category, grade)
        return disposition, rule.id if rule else None

    assert proposal(R.RETURN, "defective", Category.SHOES, Grade.C) == (
        D.RETURN_TO_VENDOR,
        narrow.id,
    )
    assert proposal(R.EXCHANGE, "defective", Category.SHOES, Grade.C) == (D.REFURBISH, by_reason.id)
    assert proposal(R.RETURN, "changed_mind", Category.SHOES, Grade.C) == (D.RECYCLE, broad.id)
    # A field set on a rule matches only that value: grade B falls back to the default.
    assert proposal(R.RETURN, "defective", Category.SHOES, Grade.B) == (D.RESALE, None)

    # Two rules as specific as each other (reason + grade, category + grade): the newer wins.
    newer = create_rule(RuleValues(category=Category.SHOES, grade=Grade.C, disposition=D.DISPOSE))
    db.session.commit()
    assert proposal(R.EXCHANGE, "defective", Category.SHOES, Grade.C) == (D.DISPOSE, newer.id)
    assert proposal(R.EXCHANGE, "defective", Category.BAGS, Grade.C) == (D.REFURBISH, by_reason.id)

    # A switched-off rule proposes nothing.
    deactivate_rule(narrow)
    db.session.commit()
    assert proposal(R.RETURN, "defective", Category.SHOES, Grade.C) == (D.DISPOSE, newer.id)


def test_an_exact_duplicate_of_an_active_rule_is_refused(ctx):
    first = create_rule(RuleValues(reason="defective", grade=Grade.C, disposition=D.REFURBISH))
    with pytest.raises(DispositionRuleInvalid) as refused:
        create_rule(RuleValues(reason="defective", grade=Grade.C, disposition=D.RECYCLE))
    assert f"#{first.id}" in str(refused.value.details["rma_type"])

    # Switched off, the same match may be written again; the old one then cannot come back.
    set_rule_active(first, False)
    second = create_rule(RuleValues(reason="defective", grade=Grade.C, disposition=D.RECYCLE))
    with pytest.raises(DispositionRuleInvalid):
        set_rule_active(first, True)
    assert second.active
    assert not first.active


def test_rules_are_checked_before_they_are_saved(ctx):
    with pytest.raises(DispositionRuleInvalid) as refused:
        create_rule(RuleValues(rma_type=R.EXCHANGE, reason="changed_mind", note="x" * 201))
    assert set(refused.value.details) == {"reason", "disposition", "note"}
    with pytest.raises(DispositionRuleInvalid) as repair:
        create_rule(RuleValues(rma_type=R.REPAIR, disposition=D.RECYCLE))
    assert set(repair.value.details) == {"rma_type"}


def test_editing_a_rule_into_a_duplicate_is_refused(ctx):
    create_rule(RuleValues(category=Category.BAGS, disposition=D.REFURBISH))
    other = create_rule(RuleValues(category=Category.SHOES, disposition=D.REFURBISH))
    with pytest.raises(DispositionRuleInvalid):
        update_rule(other, RuleValues(category=Category.BAGS, disposition=D.RECYCLE))
    update_rule(other, RuleValues(category=Category.SHOES, disposition=D.RESALE, note=" 靴 "))
    assert (other.disposition, other.note) == (D.RESALE, "靴")
