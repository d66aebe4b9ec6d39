"""The inspection screen of a returns centre: received cases with the units still to inspect;
per unit the item and what the customer said, the category checklist as yes/no toggles, the
grade with its definition, photos from the camera, then the proposed disposition to accept or
override. Plain forms: works with a keyboard, a mouse or a finger, without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.db import commit
from reverse.core.errors import DomainError
from reverse.core.uploads import UploadRejected
from reverse.extensions import db
from reverse.intake.constants import (
    DISPOSITION_LABELS,
    GRADE_DEFINITIONS,
    ON_HAND_STATES,
    UNIT_STATE_LABELS,
    CheckItem,
    Disposition,
    Grade,
    UnitState,
)
from reverse.intake.dispositions import DEFAULT_BY_GRADE
from reverse.intake.inspection import (
    MAX_NOTES_CHARS,
    MAX_REASON_CHARS,
    decide_disposition,
    inspect_unit,
    next_unit,
    unit_category,
    unit_checklist,
    unit_reason,
)
from reverse.intake.models import DispositionRule, Inspection, Receipt, ReceiptUnit
from reverse.rmas.constants import AttachmentKind, RmaStatus
from reverse.rmas.models import Attachment, Rma
from reverse.rmas.policies import can_see, scope_rmas, staff_actor

bp = Blueprint("inspection", __name__, url_prefix="/inspection")

YES, NO = "yes", "no"
#: photos taken in one go; more are added by saving again
MAX_PHOTOS = 10
#: roles that inspect (admins always may)
INSPECTORS = (Role.WAREHOUSE,)

INSPECTION_LABELS = {
    "grade": GRADE_DEFINITIONS,
    "disposition": DISPOSITION_LABELS,
    "unit_state": UNIT_STATE_LABELS,
}


@bp.context_processor
def inspection_labels() -> dict[str, Any]:
    return {"insp": INSPECTION_LABELS}


# -- forms -----------------------------------------------------------------------------------


class InspectionForm(FlaskForm):
    """Grade, notes and photos; the checklist's yes/no fields are added per category."""

    checklist_items: tuple[CheckItem, ...] = ()

    grade = RadioField(_l("Grade"), validators=[InputRequired(_l("Choose a grade."))])
    notes = TextAreaField(
        _l("Notes"),
        validators=[
            Optional(),
            Length(max=MAX_NOTES_CHARS, message=_l("At most %(n)d characters.", n=MAX_NOTES_CHARS)),
        ],
    )
    photos = MultipleFileField(_l("Photos"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices set here, not in the field declarations (WTForms 3.3 deprecates tuples there).
        self.grade.choices = [(g.value, g.value) for g in Grade]
        for _item, field in self.check_fields():
            field.choices = [(YES, _l("Yes")), (NO, _l("No"))]

    def check_fields(self) -> list[tuple[CheckItem, Any]]:
        return [(item, self[f"check_{item.key}"]) for item in self.checklist_items]

    def answers(self) -> dict[str, bool]:
        return {item.key: field.data == YES for item, field in self.check_fields()}

    def photo_files(self) -> list[Any]:
        return [f for f in self.photos.data or [] if f and getattr(f, "filename", "")]


def inspection_form(
    items: tuple[CheckItem, ...], inspection: Inspection | None = None, **kwargs: Any
) -> InspectionForm:
    """The form of a category: one required yes/no question per checklist item, filled with
    an earlier inspection's answers when there is one."""

    class CategoryInspectionForm(InspectionForm):
        checklist_items = items

    for item in items:
        setattr(
            CategoryInspectionForm,
            f"check_{item.key}",
            RadioField(item.label, validators=[InputRequired(_l("Answer yes or no."))]),
        )
    form = CategoryInspectionForm(**kwargs)
    if inspection is not None and not form.is_submitted():
        form.grade.data = inspection.grade.value
        form.notes.data = inspection.notes
        for item, field in form.check_fields():
            answer = inspection.checklist.get(item.key)
            field.data = None if answer is None else (YES if answer else NO)
    return form


class DecisionForm(FlaskForm):
    disposition = SelectField(
        _l("Disposition instead"), validators=[DataRequired(_l("Choose a disposition."))]
    )
    override_reason = TextAreaField(
        _l("Why not the proposal?"),
        validators=[
            Optional(),
            Length(
                max=MAX_REASON_CHARS, message=_l("At most %(n)d characters.", n=MAX_REASON_CHARS)
            ),
        ],
    )

    def __init__(self, *args: Any, proposed: Disposition | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(d.value, label) for d, label in DISPOSITION_LABELS.items() if d != proposed]
        self.disposition.choices = [("", _l("Choose…")), *choices]
        if proposed is not None:
            # The accept button posts the proposal itself.
            self.disposition.choices.append((proposed.value, DISPOSITION_LABELS[proposed]))


# -- finding what the user may inspect -------------------------------------------------------


def _location_scoped(stmt: sa.Select) -> sa.Select:
    """Warehouse staff see the parcels taken in at their own centre."""
    if current_user.role != Role.ADMIN and current_user.location_id is not None:
        stmt = stmt.where(Receipt.location_id == current_user.location_id)
    return stmt


def _may_see_receipt(receipt: Receipt | None) -> bool:
    if receipt is None:
        return False
    if current_user.role == Role.ADMIN or current_user.location_id is None:
        return True
    return receipt.location_id == current_user.location_id


def _visible_unit(unit_id: int) -> tuple[ReceiptUnit, Rma]:
    unit = db.session.get(ReceiptUnit, unit_id)
    rma = db.session.get(Rma, unit.rma_id) if unit is not None else None
    # Someone else's unit looks exactly like a missing one.
    if unit is None or rma is None or not can_see(current_user, rma):
        abort(404)
    if not _may_see_receipt(db.session.get(Receipt, unit.receipt_id)):
        abort(404)
    return unit, rma


def may_inspect(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.ADMIN, *INSPECTORS))


# -- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    """One unit as the pages show it: the unit, its inspection and the rule that proposed."""

    unit: ReceiptUnit
    inspection: Inspection | None
    rule: DispositionRule | None

    @property
    def on_hand(self) -> bool:
        return self.unit.state in ON_HAND_STATES

    @property
    def stage(self) -> str:
        """ "short", "todo" (to inspect), "proposed" (to decide) or "decided"."""
        if not self.on_hand:
            return "short"
        if self.inspection is None:
            return "todo"
        return "proposed" if self.inspection.disposition is None else "decided"

    @property
    def overridden(self) -> bool:
        i = self.inspection
        return bool(i and i.disposition and i.disposition != i.proposed_disposition)

    def label(self, locale: str) -> str:
        """What arrived; a wrong item nobody could identify is not called the requested one."""
        unit = self.unit
        if unit.variant is not None:
            return unit.variant.label(locale)
        requested = unit.rma_line.label(locale) if unit.rma_line is not None else "—"
        if unit.state == UnitState.WRONG_ITEM:
            return str(_l("Unidentified item instead of %(item)s", item=requested))
        return requested


def unit_rows(rma_ids: list[int]) -> dict[int, list[UnitRow]]:
    """The units of these cases with their inspections and rules, by case id (three queries)."""
    if not rma_ids:
        return {}
    units = db.session.scalars(
        sa.select(ReceiptUnit)
        .where(ReceiptUnit.rma_id.in_(rma_ids))
        .order_by(ReceiptUnit.rma_id, ReceiptUnit.unit_no)
        .options(
            sa.orm.selectinload(ReceiptUnit.variant), sa.orm.selectinload(ReceiptUnit.rma_line)
        )
    ).all()
    inspections = {
        i.unit_id: i
        for i in db.session.scalars(sa.select(Inspection).where(Inspection.rma_id.in_(rma_ids)))
    }
    rule_ids = {i.rule_id for i in inspections.values() if i.rule_id}
    rules = (
        {
            r.id: r
            for r in db.session.scalars(
                sa.select(DispositionRule).where(DispositionRule.id.in_(rule_ids))
            )
        }
        if rule_ids
        else {}
    )
    rows: dict[int, list[UnitRow]] = {rma_id: [] for rma_id in rma_ids}
    for unit in units:
        inspection = inspections.get(unit.id)
        rule = rules.get(inspection.rule_id) if inspection and inspection.rule_id else None
        rows[unit.rma_id].append(UnitRow(unit, inspection, rule))
    return rows


@bp.route("/")
@staff_required(*INSPECTORS)
def index():
    """Cases received here and waiting for inspection, the longest waiting first."""
    stmt = (
        sa.select(Rma, Receipt)
        .join(Receipt, Receipt.rma_id == Rma.id)
        .where(Rma.status == RmaStatus.RECEIVED)
        .order_by(Rma.status_changed_at.asc(), Rma.id)
    )
    stmt = _location_scoped(scope_rmas(stmt, current_user))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(
        stmt.with_only_columns(Rma),
        page=page,
        per_page=current_app.config["STAFF_PAGE_SIZE"],
        error_out=False,
    )
    cases = list(pagination.items)
    receipts = (
        {
            r.rma_id: r
            for r in db.session.scalars(
                sa.select(Receipt).where(Receipt.rma_id.in_([c.id for c in cases]))
            )
        }
        if cases
        else {}
    )
    rows = unit_rows([c.id for c in cases])
    return render_template(
        "staff/inspection_list.html",
        cases=cases,
        receipts=receipts,
        rows=rows,
        pagination=pagination,
    )


# -- one unit --------------------------------------------------------------------------------


def _customer_photos(rma: Rma, unit: ReceiptUnit) -> list[Attachment]:
    """The customer's photos of this unit's line, and those of the whole request."""
    position = next((n for n, line in enumerate(rma.lines) if line.id == unit.rma_line_id), None)
    return [
        a
        for a in rma.attachments
        if a.kind == AttachmentKind.PHOTO and (a.line_no is None or a.line_no == position)
    ]


def _unit_page(
    unit: ReceiptUnit,
    rma: Rma,
    *,
    form: InspectionForm | None = None,
    decision: DecisionForm | None = None,
    error: Any = None,
    status: int = 200,
):
    rows = unit_rows([rma.id])[rma.id]
    row = next(r for r in rows if r.unit.id == unit.id)
    inspection = row.inspection
    is_open = rma.status == RmaStatus.RECEIVED and row.on_hand
    items = unit_checklist(unit)
    if form is None:
        form = inspection_form(items, inspection, formdata=None)
    if decision is None and inspection is not None:
        decision = DecisionForm(formdata=None, proposed=inspection.proposed_disposition)
    return (
        render_template(
            "staff/inspection_unit.html",
            rma=rma,
            unit=unit,
            row=row,
            rows=rows,
            line=unit.rma_line,
            reason=unit_reason(unit),
            category=unit_category(unit),
            inspection=inspection,
            is_open=is_open,
            form=form,
            decision=decision,
            error=error,
            customer_photos=_customer_photos(rma, unit),
            inspection_photos=[a for a in rma.attachments if a.unit_id == unit.id],
            default_by_grade=DEFAULT_BY_GRADE,
            wrong_item=unit.state == UnitState.WRONG_ITEM,
            max_photos=MAX_PHOTOS,
        ),
        status,
    )


@bp.route("/unit/<int:unit_id>", methods=["GET", "POST"])
@staff_required(*INSPECTORS)
def unit(unit_id: int):
    unit, rma = _visible_unit(unit_id)
    if request.method == "GET":
        return _unit_page(unit, rma)
    existing = db.session.scalar(sa.select(Inspection).where(Inspection.unit_id == unit.id))
    form = inspection_form(unit_checklist(unit), existing)
    if not form.validate_on_submit():
        return _unit_page(unit, rma, form=form, status=422)
    photos = form.photo_files()
    if len(photos) > MAX_PHOTOS:
        form.photos.errors = [_l("At most %(n)d photos at a time.", n=MAX_PHOTOS)]
        return _unit_page(unit, rma, form=form, status=422)
    try:
        inspection = inspect_unit(
            unit.id,
            grade=form.grade.data,
            checklist=form.answers(),
            notes=form.notes.data or "",
            actor=staff_actor(current_user),
            photos=photos,
        )
        proposed = inspection.proposed_disposition
        commit()
    except UploadRejected as exc:
        db.session.rollback()
        form.photos.errors = [exc.message]
        return _unit_page(unit, rma, form=form, status=422)
    except DomainError as exc:
        db.session.rollback()
        unit, rma = _visible_unit(unit_id)
        return _unit_page(unit, rma, form=form, error=exc.message, status=exc.status)
    flash(
        _l(
            "Unit %(no)d saved. Proposed: %(disposition)s.",
            no=unit.unit_no,
            disposition=DISPOSITION_LABELS[proposed],
        ),
        "success",
    )
    return redirect(url_for("staff.inspection.unit", unit_id=unit.id, _anchor="decision"))


@bp.route("/unit/<int:unit_id>/decide", methods=["POST"])
@staff_required(*INSPECTORS)
def decide(unit_id: int):
    unit, rma = _visible_unit(unit_id)
    inspection = db.session.scalar(sa.select(Inspection).where(Inspection.unit_id == unit.id))
    if inspection is None:
        flash(_l("Inspect the unit first."), "error")
        return redirect(url_for("staff.inspection.unit", unit_id=unit.id))
    form = DecisionForm(proposed=inspection.proposed_disposition)
    if not form.validate_on_submit():
        return _unit_page(unit, rma, decision=form, status=422)
    try:
        decide_disposition(
            inspection.id,
            disposition=form.disposition.data,
            actor=staff_actor(current_user),
            override_reason=form.override_reason.data or "",
        )
        commit()
    except DomainError as exc:
        db.session.rollback()
        unit, rma = _visible_unit(unit_id)
        if exc.details.get("field") == "override_reason":
            form.override_reason.errors = [exc.message]
            return _unit_page(unit, rma, decision=form, status=exc.status)
        return _unit_page(unit, rma, decision=form, error=exc.message, status=exc.status)
    return _after_decision(unit, rma)


def _after_decision(unit: ReceiptUnit, rma: Rma):
    """On to the case's next unit still to do, or back to the list when the case is done."""
    db.session.refresh(rma)
    if rma.status == RmaStatus.INSPECTED:
        flash(
            _l(
                "Every unit of %(n)s has its disposition: the case is inspected.",
                n=rma.display_number,
            ),
            "success",
        )
        return redirect(url_for("staff.inspection.index"))
    following = next_unit(rma.id, after=unit.unit_no)
    flash(_l("Unit %(no)d decided.", no=unit.unit_no), "success")
    if following is not None:
        return redirect(url_for("staff.inspection.unit", unit_id=following.id))
    return redirect(url_for("staff.inspection.index"))


# -- the case page's panel -------------------------------------------------------------------


@bp.app_template_global()
def rma_units(rma: Rma) -> dict[str, Any] | None:
    """For staff/_rma_units.html on the case page: what arrived, unit by unit, with grade and
    disposition; None when no parcel was received for the case."""
    receipt = db.session.scalar(sa.select(Receipt).where(Receipt.rma_id == rma.id))
    if receipt is None:
        return None
    return {
        "receipt": receipt,
        "rows": unit_rows([rma.id])[rma.id],
        "may_inspect": may_inspect(current_user)
        and rma.status == RmaStatus.RECEIVED
        and _may_see_receipt(receipt),
        "labels": INSPECTION_LABELS,
    }
