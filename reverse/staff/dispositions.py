"""Disposition rules admin under /staff/dispositions: the rules, add / edit / switch off, and a
"try it" box that shows what a combination would be proposed, and why."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import CATEGORY_LABELS, Category
from reverse.core.db import commit
from reverse.core.forms import attach_errors
from reverse.extensions import db
from reverse.intake.constants import (
    DISPOSITION_LABELS,
    GRADE_DEFINITIONS,
    Disposition,
    Grade,
    UnitState,
)
from reverse.intake.dispositions import (
    DEFAULT_BY_GRADE,
    INSPECTED_TYPES,
    MAX_NOTE_CHARS,
    DispositionRuleInvalid,
    RuleValues,
    create_rule,
    matching_rules,
    propose_disposition,
    set_rule_active,
    update_rule,
)
from reverse.intake.models import DispositionRule, Inspection
from reverse.rmas.constants import REASON_LABELS, REASONS, TYPE_LABELS, RmaType

bp = Blueprint("dispositions", __name__, url_prefix="/dispositions")

#: every reason a return or an exchange can give, in the forms' order
INSPECTED_REASONS = list(dict.fromkeys(r for t in INSPECTED_TYPES for r in REASONS[t]))


@bp.context_processor
def disposition_labels() -> dict[str, Any]:
    return {
        "disposition_labels": DISPOSITION_LABELS,
        "grade_definitions": GRADE_DEFINITIONS,
        "default_by_grade": DEFAULT_BY_GRADE,
    }


# -- forms -----------------------------------------------------------------------------------


def _match_choices(form: Any, any_labels: bool = True) -> None:
    """The four match fields: "any" first, then the values (returns and exchanges only)."""
    form.rma_type.choices = [
        ("", _l("Any type") if any_labels else _l("Not known")),
        *[(t.value, TYPE_LABELS[t]) for t in INSPECTED_TYPES],
    ]
    form.reason.choices = [
        ("", _l("Any reason") if any_labels else _l("Not given")),
        *[(r, REASON_LABELS[r]) for r in INSPECTED_REASONS],
    ]
    form.category.choices = [
        ("", _l("Any category") if any_labels else _l("Not known")),
        *[(c.value, label) for c, label in CATEGORY_LABELS.items()],
    ]


class RuleForm(FlaskForm):
    rma_type = SelectField(_l("Request type"))
    reason = SelectField(_l("Reason"))
    category = SelectField(_l("Category"))
    grade = SelectField(_l("Grade"))
    disposition = SelectField(
        _l("Disposition"), validators=[DataRequired(_l("Choose what the rule proposes."))]
    )
    note = StringField(
        _l("Note for admins"),
        validators=[
            Optional(),
            Length(max=MAX_NOTE_CHARS, message=_l("At most %(n)d characters.", n=MAX_NOTE_CHARS)),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _match_choices(self)
        self.grade.choices = [("", _l("Any grade")), *[(g.value, g.value) for g in Grade]]
        self.disposition.choices = [
            ("", _l("Choose…")),
            *[(d.value, label) for d, label in DISPOSITION_LABELS.items()],
        ]

    def fill(self, values: RuleValues) -> None:
        for name in ("rma_type", "category", "grade", "disposition"):
            value = getattr(values, name)
            getattr(self, name).data = value.value if value else ""
        self.reason.data = values.reason or ""
        self.note.data = values.note

    def values(self) -> RuleValues:
        return RuleValues(
            rma_type=RmaType(self.rma_type.data) if self.rma_type.data else None,
            reason=self.reason.data or None,
            category=Category(self.category.data) if self.category.data else None,
            grade=Grade(self.grade.data) if self.grade.data else None,
            disposition=Disposition(self.disposition.data) if self.disposition.data else None,
            note=(self.note.data or "").strip(),
        )


class RuleActiveForm(FlaskForm):
    """Switch a rule off or on again: a button, with CSRF."""

    active = HiddenField(validators=[DataRequired()])


class TryForm(FlaskForm):
    """GET: what a unit of this kind would be proposed."""

    class Meta:
        csrf = False

    rma_type = SelectField(_l("Request type"), validators=[Optional()])
    reason = SelectField(_l("Reason"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    wrong_item = BooleanField(_l("A wrong item arrived instead"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _match_choices(self, any_labels=False)
        self.grade.choices = [(g.value, g.value) for g in Grade]


# -- the rules and the try-it box ------------------------------------------------------------


def _try(form: TryForm) -> dict[str, Any] | None:
    """The proposal for the combination asked (none asked: nothing shown)."""
    if not request.args or not form.validate():
        return None
    grade = Grade(form.grade.data or Grade.A.value)
    form.grade.data = grade.value
    rma_type = RmaType(form.rma_type.data) if form.rma_type.data else None
    reason = form.reason.data or None
    category = Category(form.category.data) if form.category.data else None
    state = UnitState.WRONG_ITEM if form.wrong_item.data else None
    disposition, rule = propose_disposition(rma_type, reason, category, grade, unit_state=state)
    others = [r for r in matching_rules(rma_type, reason, category, grade) if r is not rule]
    return {
        "disposition": disposition,
        "rule": rule,
        "grade": grade,
        "wrong_item": state is not None,
        "others": others,
    }


@bp.route("/")
@staff_required(Role.ADMIN)
def index():
    rules = sorted(
        db.session.scalars(sa.select(DispositionRule)),
        key=lambda r: (not r.active, -r.specificity, r.grade or "~", r.id),
    )
    used = dict(
        db.session.execute(
            sa.select(Inspection.rule_id, sa.func.count())
            .where(Inspection.rule_id.is_not(None))
            .group_by(Inspection.rule_id)
        ).all()
    )
    try_form = TryForm(formdata=request.args)
    return render_template(
        "staff/dispositions.html",
        rules=rules,
        used=used,
        try_form=try_form,
        tried=_try(try_form),
        active_form=RuleActiveForm(),
    )


def _rule_page(form: RuleForm, rule: DispositionRule | None, status: int = 200):
    return render_template("staff/disposition_rule_form.html", form=form, rule=rule), status


@bp.route("/rules/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def rule_new():
    form = RuleForm()
    if not form.is_submitted():
        return _rule_page(form, None)
    if not form.validate():
        return _rule_page(form, None, 422)
    try:
        rule = create_rule(form.values())
    except DispositionRuleInvalid as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _rule_page(form, None, 422)
    commit()
    flash(_l("Rule #%(id)d saved.", id=rule.id), "success")
    return redirect(url_for("staff.dispositions.index", _anchor=f"rule-{rule.id}"))


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def rule_edit(rule_id: int):
    rule = db.session.get(DispositionRule, rule_id) or abort(404)
    form = RuleForm()
    if not form.is_submitted():
        form.fill(RuleValues.of(rule))
        return _rule_page(form, rule)
    if not form.validate():
        return _rule_page(form, rule, 422)
    try:
        update_rule(rule, form.values())
    except DispositionRuleInvalid as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _rule_page(form, db.session.get(DispositionRule, rule_id), 422)
    commit()
    flash(_l("Rule #%(id)d saved.", id=rule.id), "success")
    return redirect(url_for("staff.dispositions.index", _anchor=f"rule-{rule.id}"))


@bp.route("/rules/<int:rule_id>/active", methods=["POST"])
@staff_required(Role.ADMIN)
def rule_active(rule_id: int):
    rule = db.session.get(DispositionRule, rule_id) or abort(404)
    form = RuleActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        abort(400)
    try:
        set_rule_active(rule, form.active.data == "1")
    except DispositionRuleInvalid as exc:
        db.session.rollback()
        for message in list(exc.details.values()) or [exc.message]:
            flash(message, "error")
        return redirect(url_for("staff.dispositions.index"))
    commit()
    if rule.active:
        flash(_l("Rule #%(id)d is active again.", id=rule.id), "success")
    else:
        flash(_l("Rule #%(id)d is switched off.", id=rule.id), "success")
    return redirect(url_for("staff.dispositions.index", _anchor=f"rule-{rule.id}"))
