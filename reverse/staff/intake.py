"""The intake screen: built for a keyboard-wedge scanner (it types the code and presses Enter).

One screen, two scan fields: the parcel (label, slip, RMA or tracking number) takes the parcel
in and opens its case; then each item's tag is checked against the case's units, which the desk
marks received, short, wrong item or damaged in transit, or adds as extra. Every answer comes
with a colour and a sound (static/js/staff.js) and the cursor back in the field."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.models import Product, Variant, item_label
from reverse.core.codes import format_rma_number
from reverse.core.db import commit, read_only
from reverse.core.errors import DomainError
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.intake.constants import UNIT_STATE_LABELS, UnitState
from reverse.intake.models import UnexpectedParcel
from reverse.intake.operations import (
    EXPECTED_UNIT_STATES,
    ScanError,
    ScannedCode,
    UnitCheck,
    WrongCase,
    add_extra_unit,
    check_item_code,
    match_unexpected,
    read_code,
    receipt_of,
    receive_parcel,
    record_unexpected,
    set_unit_states,
)
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import Attachment, Rma, RmaLine
from reverse.rmas.policies import can_see, staff_actor
from reverse.staff.common import LABELS, visible_rma

bp = Blueprint("intake", __name__, url_prefix="/intake")

SCAN_FIELD = {
    "autofocus": True,
    "autocomplete": "off",
    "spellcheck": "false",
    "inputmode": "text",
    "enterkeyhint": "go",
    "data-scan-field": "",
}


class ScanForm(FlaskForm):
    code = StringField(
        _l("Scan or type a code"),
        validators=[
            DataRequired(_l("Scan a label, a return slip or type a request number.")),
            Length(max=60),
        ],
        render_kw=SCAN_FIELD,
    )


class ItemForm(FlaskForm):
    code = StringField(
        _l("Scan each item's tag"),
        validators=[DataRequired(_l("Scan the tag of an item in the parcel.")), Length(max=60)],
        render_kw=SCAN_FIELD,
    )


class ExtraForm(FlaskForm):
    code = HiddenField(validators=[DataRequired(), Length(max=60)])
    units_seen = IntegerField(validators=[DataRequired()])


class UnitsForm(FlaskForm):
    """CSRF only: the unit fields (state-<no>, note-<no>) depend on the parcel."""


class UnexpectedForm(FlaskForm):
    code = StringField(_l("Code on the parcel (if any)"), validators=[Optional(), Length(max=60)])
    note = TextAreaField(
        _l("What is in it, who sent it"),
        validators=[DataRequired(_l("Describe the parcel.")), Length(max=2000)],
    )
    photos = MultipleFileField(
        _l("Photos of the parcel and its contents"),
        render_kw={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"},
    )


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    rma: Rma | None = context.get("rma")
    receipt = receipt_of(rma) if rma is not None else None
    defaults: dict[str, Any] = {
        "form": ScanForm(formdata=None),
        "item_form": ItemForm(formdata=None, prefix="item"),
        "units_form": UnitsForm(formdata=None),
        "unexpected": UnexpectedForm(formdata=None),
        "result": None,
        "error": None,
        "feedback": None,
        "receipt": receipt,
        "open_units": receipt is not None and rma is not None and rma.status == RmaStatus.RECEIVED,
        "unit_states": EXPECTED_UNIT_STATES,
        "unit_state_labels": UNIT_STATE_LABELS,
        "labels": LABELS,
    }
    defaults.update(context)
    return render_template("staff/intake.html", **defaults), status


@bp.route("/", methods=["GET", "POST"])
@staff_required(Role.WAREHOUSE)
def scan():
    form = ScanForm()
    if not form.validate_on_submit():
        return _page(422 if form.is_submitted() else 200, form=form)
    try:
        result = receive_parcel(
            form.code.data, staff_actor(current_user), location_id=current_user.location_id
        )
        commit()
    except ScanError as exc:
        db.session.rollback()
        return _page(422, error=exc.message)
    return _page(result=result, rma=result.rma, feedback="good" if result.new else "warn")


#: the look-up's query: the case with its customer and its lines in one round trip, only the
#: columns the answer shows, as rows rather than objects (it answers every scan at the desk)
LOOKUP = (
    sa.select(
        Rma.id,
        Rma.number,
        Rma.type,
        Rma.status,
        Rma.location_id,
        Customer.name.label("customer"),
        RmaLine.id.label("line_id"),
        RmaLine.description,
        RmaLine.quantity,
        Variant.sku,
        Variant.jan,
        Variant.size,
        Variant.colour_ja,
        Variant.colour_en,
        Product.name_ja,
        Product.name_en,
    )
    .join(Customer, Customer.id == Rma.customer_id)
    .outerjoin(RmaLine, RmaLine.rma_id == Rma.id)
    .outerjoin(Variant, Variant.id == RmaLine.variant_id)
    .outerjoin(Product, Product.id == Variant.product_id)
    .order_by(Rma.id, RmaLine.id)
)
#: … narrowed to a request number and to a tracking number
LOOKUPS = {by: ScannedCode.narrow(LOOKUP, by_tracking=by) for by in (False, True)}


@bp.route("/lookup")
@read_only
@staff_required(Role.WAREHOUSE)
def lookup():
    """The case a code finds, as JSON, without taking anything in: for the screen's instant
    answer and for other tools at the desk. 404 / 422 with an error body otherwise."""
    try:
        scanned = read_code(request.args.get("code", ""))
        rows = db.session.execute(LOOKUPS[scanned.by_tracking], scanned.params).all()
        if not rows:
            raise scanned.not_found()
    except ScanError as exc:
        body = {"error": {"code": exc.code, "message": str(exc.message), "details": exc.details}}
        return jsonify(body), exc.status
    case = rows[0]
    if not can_see(current_user, case):
        return jsonify({"error": {"code": "unknown_code", "message": "", "details": {}}}), 404
    ja = str(request.accept_languages.best_match(["ja", "en"])) == "ja"
    return jsonify(
        {
            "number": case.number,
            "display_number": format_rma_number(case.number),
            "type": case.type.value,
            "status": case.status.value,
            "customer": case.customer,
            "lines": [
                {
                    "item": (
                        item_label(
                            row.name_ja if ja else row.name_en,
                            row.colour_ja if ja else row.colour_en,
                            row.size,
                        )
                        if row.sku is not None
                        else row.description
                    ),
                    "sku": row.sku,
                    "jan": row.jan,
                    "quantity": row.quantity,
                }
                # one row per line of this case (a case without lines has one, without a line)
                for row in rows
                if row.id == case.id and row.line_id is not None
            ],
        }
    )


@bp.route("/<number>")
@staff_required(Role.WAREHOUSE)
def case(number: str):
    """A received case's units, to check item by item."""
    return _page(rma=visible_rma(number))


@bp.route("/<number>/item", methods=["POST"])
@staff_required(Role.WAREHOUSE)
def item(number: str):
    """An item's tag scanned into the open case: which unit it is, or why it does not fit.
    Records nothing."""
    rma = visible_rma(number)
    form = ItemForm(prefix="item")
    if not form.validate_on_submit():
        return _page(422, rma=rma, item_form=form)
    try:
        check: UnitCheck = check_item_code(rma, form.code.data)
    except ScanError as exc:
        feedback = "bad"
        return _page(
            422,
            rma=rma,
            item_error=exc.message,
            wrong_case=isinstance(exc, WrongCase),
            feedback=feedback,
        )
    extra_form = None
    if not check.units:
        receipt = receipt_of(rma)
        extra_form = ExtraForm(
            formdata=None, code=check.variant.jan, units_seen=len(receipt.units) if receipt else 0
        )
    return _page(
        rma=rma,
        check=check,
        extra_form=extra_form,
        feedback="good" if check.units else "warn",
    )


@bp.route("/<number>/extra", methods=["POST"])
@staff_required(Role.WAREHOUSE)
def extra(number: str):
    rma = visible_rma(number)
    form = ExtraForm()
    if not form.validate_on_submit():
        return _page(422, rma=rma, item_error=_l("Scan the item again."), feedback="bad")
    try:
        unit = add_extra_unit(
            rma.id, form.code.data, staff_actor(current_user), units_seen=form.units_seen.data
        )
        commit()
    except DomainError as exc:
        db.session.rollback()
        return _page(422, rma=rma, item_error=exc.message, feedback="bad")
    notice = (
        _l("Extra unit %(no)d recorded.", no=unit.unit_no)
        if unit
        else _l("That extra unit was already recorded — nothing changed.")
    )
    return _page(rma=visible_rma(number), notice=notice, feedback="good" if unit else "warn")


@bp.route("/<number>/units", methods=["POST"])
@staff_required(Role.WAREHOUSE)
def units(number: str):
    """Save what the desk found for each expected unit."""
    rma = visible_rma(number)
    form = UnitsForm()
    if not form.validate_on_submit():
        return _page(422, rma=rma, units_error=_l("The form expired. Please try again."))
    changes: dict[int, tuple[UnitState, str]] = {}
    for key, value in request.form.items():
        if not key.startswith("state-"):
            continue
        try:
            unit_no, state = int(key.removeprefix("state-")), UnitState(value)
        except ValueError:
            return _page(422, rma=rma, units_error=_l("Choose a state for every unit."))
        changes[unit_no] = (state, request.form.get(f"note-{unit_no}", ""))
    try:
        changed = set_unit_states(rma.id, changes, staff_actor(current_user))
        commit()
    except DomainError as exc:
        db.session.rollback()
        return _page(422, rma=rma, units_error=exc.message, feedback="bad")
    notice = _l("Saved %(n)d unit(s).", n=len(changed)) if changed else _l("Nothing changed.")
    return _page(rma=visible_rma(number), notice=notice, feedback="good" if changed else "warn")


@bp.route("/unexpected", methods=["POST"])
@staff_required(Role.WAREHOUSE)
def unexpected():
    form = UnexpectedForm()
    if not form.validate_on_submit():
        return _page(422, unexpected=form)
    files = [f for f in form.photos.data or [] if f and f.filename]
    try:
        parcel = record_unexpected(
            form.code.data or "",
            staff_actor(current_user),
            location_id=current_user.location_id,
            note=form.note.data,
            photos=files,
        )
        commit()
    except DomainError as exc:
        db.session.rollback()
        form.photos.errors = [exc.message]
        return _page(422, unexpected=form)
    return _page(recorded=parcel, photo_count=len(files), feedback="warn")


class MatchForm(FlaskForm):
    code = StringField(
        _l("Request number or tracking number"),
        validators=[DataRequired(_l("Type the request number.")), Length(max=60)],
    )


@bp.route("/unexpected-parcels")
@staff_required(Role.WAREHOUSE, Role.SUPPORT)
def unexpected_parcels():
    """Parcels that matched nothing at the desk: unmatched first, for support to match."""
    parcels = db.session.scalars(
        sa.select(UnexpectedParcel)
        .order_by(UnexpectedParcel.rma_id.is_not(None), UnexpectedParcel.received_at.desc())
        .limit(200)
    ).all()
    photos: dict[int, list[Attachment]] = {}
    if parcels:
        for photo in db.session.scalars(
            sa.select(Attachment).where(
                Attachment.unexpected_parcel_id.in_([p.id for p in parcels])
            )
        ):
            photos.setdefault(photo.unexpected_parcel_id, []).append(photo)
    matched = {
        rma.id: rma
        for rma in db.session.scalars(
            sa.select(Rma).where(Rma.id.in_([p.rma_id for p in parcels if p.rma_id]))
        )
    }
    return render_template(
        "staff/unexpected_parcels.html",
        parcels=parcels,
        photos=photos,
        matched=matched,
        form=MatchForm(formdata=None),
        labels=LABELS,
    )


@bp.route("/unexpected-parcels/<int:parcel_id>/match", methods=["POST"])
@staff_required(Role.WAREHOUSE, Role.SUPPORT)
def match(parcel_id: int):
    form = MatchForm()
    if not form.validate_on_submit():
        flash(_l("Type the request number."), "error")
        return redirect(url_for(".unexpected_parcels", _anchor=f"parcel-{parcel_id}"))
    try:
        _, rma = match_unexpected(parcel_id, form.code.data, staff_actor(current_user))
        commit()
    except ScanError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".unexpected_parcels", _anchor=f"parcel-{parcel_id}"))
    flash(_l("Parcel #%(id)d matched to %(n)s.", id=parcel_id, n=rma.display_number), "success")
    return redirect(url_for(".unexpected_parcels", _anchor=f"parcel-{parcel_id}"))
