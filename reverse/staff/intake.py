"""The intake screen: built for a keyboard-wedge scanner (it types the code and presses Enter)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.db import commit
from reverse.extensions import db
from reverse.intake.operations import ScanError, receive_parcel, record_unexpected
from reverse.rmas.policies import staff_actor
from reverse.staff.common import LABELS

bp = Blueprint("intake", __name__, url_prefix="/intake")


class ScanForm(FlaskForm):
    code = StringField(
        _l("Scan or type a code"),
        validators=[
            DataRequired(_l("Scan a label, a return slip or type a request number.")),
            Length(max=60),
        ],
        render_kw={
            "autofocus": True,
            "autocomplete": "off",
            "spellcheck": "false",
            "inputmode": "text",
            "enterkeyhint": "go",
        },
    )


class UnexpectedForm(FlaskForm):
    code = StringField(_l("Code on the parcel (if any)"), validators=[Optional(), Length(max=60)])
    note = TextAreaField(
        _l("What is in it, who sent it"),
        validators=[DataRequired(_l("Describe the parcel.")), Length(max=2000)],
    )


@bp.route("/", methods=["GET", "POST"])
@staff_required(Role.WAREHOUSE)
def scan():
    form = ScanForm()
    result = error = None
    status = 200
    if form.validate_on_submit():
        try:
            result = receive_parcel(
                form.code.data, staff_actor(current_user), location_id=current_user.location_id
            )
            commit()
        except ScanError as exc:
            db.session.rollback()
            error, status = exc.message, 422
        form.code.data = ""  # ready for the next scan
    elif form.is_submitted():
        status = 422
    return render_template(
        "staff/intake.html",
        form=form,
        result=result,
        error=error,
        unexpected=UnexpectedForm(formdata=None),
        labels=LABELS,
    ), status


@bp.route("/unexpected", methods=["POST"])
@staff_required(Role.WAREHOUSE)
def unexpected():
    form = UnexpectedForm()
    if not form.validate_on_submit():
        return render_template(
            "staff/intake.html",
            form=ScanForm(formdata=None),
            result=None,
            error=None,
            unexpected=form,
            labels=LABELS,
        ), 422
    parcel = record_unexpected(
        form.code.data or "",
        staff_actor(current_user),
        location_id=current_user.location_id,
        note=form.note.data,
    )
    commit()
    return render_template(
        "staff/intake.html",
        form=ScanForm(formdata=None),
        result=None,
        error=None,
        unexpected=UnexpectedForm(formdata=None),
        labels=LABELS,
        recorded=parcel,
    )
