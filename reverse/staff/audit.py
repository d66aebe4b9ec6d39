"""The audit log (/staff/audit): who logged in, changed, exported or looked up what. Admins
only; read-only (the table itself refuses changes)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional, ValidationError

from reverse.auth.constants import Role
from reverse.auth.models import User
from reverse.auth.policies import staff_required
from reverse.core.codes import parse_rma_number
from reverse.core.dates import utc_bounds
from reverse.core.normalise import nfkc
from reverse.extensions import db
from reverse.portal.forms import PurchaseDateField, select_choices
from reverse.privacy.models import AuditAction, AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/audit")

ACTION_LABELS = {
    AuditAction.LOGIN: _l("Logged in"),
    AuditAction.LOGIN_FAILED: _l("Login failed"),
    AuditAction.LOGOUT: _l("Logged out"),
    AuditAction.CHANGE: _l("Changed"),
    AuditAction.VIEW_CUSTOMER: _l("Opened a customer"),
    AuditAction.EXPORT: _l("Exported"),
    AuditAction.ANONYMISE: _l("Anonymised"),
}
ACTION_TONES = {
    AuditAction.LOGIN: "muted",
    AuditAction.LOGIN_FAILED: "bad",
    AuditAction.LOGOUT: "muted",
    AuditAction.CHANGE: "type",
    AuditAction.VIEW_CUSTOMER: "warn",
    AuditAction.EXPORT: "warn",
    AuditAction.ANONYMISE: "good",
}


class AuditFilterForm(FlaskForm):
    """GET filters; not a state change, so no CSRF token."""

    class Meta:
        csrf = False

    user = SelectField(_l("Staff member"), validators=[Optional()])
    action = SelectField(_l("Action"), validators=[Optional()])
    target = SearchField(
        _l("About"),
        filters=[lambda v: nfkc(v) if v else v],
        validators=[Optional(), Length(max=120, message=_l("Too long to search."))],
    )
    date_from = PurchaseDateField(_l("From"))
    date_to = PurchaseDateField(_l("Until"))

    def fill_choices(self) -> None:
        users = db.session.execute(sa.select(User.id, User.name).order_by(User.name)).all()
        self.user.choices = select_choices(
            [("", _l("Everyone")), *[(str(u.id), u.name) for u in users]]
        )
        self.action.choices = select_choices(
            [("", _l("All actions")), *[(a.value, label) for a, label in ACTION_LABELS.items()]]
        )

    def validate_date_to(self, field: PurchaseDateField) -> None:
        if self.date_from.data and field.data and self.date_from.data > field.data:
            raise ValidationError(_l("The end date is before the start date."))


def _filtered(form: AuditFilterForm) -> sa.Select:
    stmt = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if form.user.data:
        stmt = stmt.where(AuditEntry.user_id == int(form.user.data))
    if form.action.data:
        stmt = stmt.where(AuditEntry.action == AuditAction(form.action.data))
    if form.target.data:
        # an RMA number is found however it was typed (R12345-67890, full-width …)
        number = parse_rma_number(form.target.data)
        if number:
            stmt = stmt.where(AuditEntry.target == number)
        else:
            stmt = stmt.where(AuditEntry.target.contains(form.target.data.strip(), autoescape=True))
    # Japan days, as the dates are typed
    if form.date_from.data:
        start, _end = utc_bounds(form.date_from.data, form.date_from.data)
        stmt = stmt.where(AuditEntry.created_at >= start)
    if form.date_to.data:
        _start, end = utc_bounds(form.date_to.data, form.date_to.data)
        stmt = stmt.where(AuditEntry.created_at < end)
    return stmt


@bp.route("/")
@staff_required(Role.ADMIN)
def index():
    form = AuditFilterForm(formdata=request.args)
    form.fill_choices()
    valid = form.validate()
    stmt = _filtered(form) if valid else sa.select(AuditEntry).where(sa.false())
    pagination = db.paginate(
        stmt,
        per_page=current_app.config["STAFF_PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "staff/audit.html",
        form=form,
        valid=valid,
        pagination=pagination,
        action_labels=ACTION_LABELS,
        action_tones=ACTION_TONES,
    ), (200 if valid else 422)
