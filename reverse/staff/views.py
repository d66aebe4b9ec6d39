"""Staff pages: the RMA list with filters, an RMA with its timeline, the user list."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import ROLE_LABELS, Role
from reverse.auth.models import User
from reverse.auth.policies import staff_required
from reverse.catalog.constants import CHANNEL_LABELS, LOCATION_KIND_LABELS, ChannelCode
from reverse.catalog.models import Channel, Location
from reverse.core.actors import ACTOR_KIND_LABELS, EVENT_CHANNEL_LABELS
from reverse.core.codes import parse_rma_number
from reverse.core.db import commit, utcnow
from reverse.extensions import db
from reverse.rmas.constants import (
    REASON_LABELS,
    RETURN_METHOD_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    STATUS_TONES,
    TYPE_LABELS,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import Rma
from reverse.rmas.operations import move_rma
from reverse.rmas.policies import can_see, scope_rmas, staff_actor
from reverse.staff.forms import RmaFilterForm, StatusChangeForm

bp = Blueprint("staff", __name__, url_prefix="/staff")

LABELS = {
    "status": STATUS_LABELS,
    "tone": STATUS_TONES,
    "type": TYPE_LABELS,
    "channel": CHANNEL_LABELS,
    "source": SOURCE_LABELS,
    "method": RETURN_METHOD_LABELS,
    "role": ROLE_LABELS,
    "reason": REASON_LABELS,
    "location_kind": LOCATION_KIND_LABELS,
    "actor_kind": ACTOR_KIND_LABELS,
    "event_channel": EVENT_CHANNEL_LABELS,
}


@bp.context_processor
def labels():
    return {"labels": LABELS}


@bp.route("/")
@staff_required()
def index():
    return redirect(url_for("staff.rma_list"))


def _location_choices(locale: str) -> list[tuple[str, str]]:
    stmt = sa.select(Location).where(Location.active).order_by(Location.kind, Location.code)
    if current_user.role == Role.STORE:
        stmt = stmt.where(Location.id == current_user.location_id)
    return [(str(loc.id), loc.name(locale)) for loc in db.session.scalars(stmt)]


@bp.route("/rmas")
@staff_required()
def rma_list():
    from reverse.core.templating import locale_code

    form = RmaFilterForm(formdata=request.args)
    form.fill_choices(_location_choices(locale_code()))
    stmt = scope_rmas(sa.select(Rma), current_user)
    if form.validate():
        stmt = _apply_filters(stmt, form)
        page = max(form.page.data or 1, 1)
    else:
        page = 1
    stmt = stmt.order_by(Rma.status_changed_at.asc() if form.age.data else Rma.created_at.desc())
    pagination = db.paginate(
        stmt.options(
            sa.orm.joinedload(Rma.customer),
            sa.orm.joinedload(Rma.channel),
            sa.orm.joinedload(Rma.location),
        ),
        page=page,
        per_page=current_app.config["STAFF_PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "staff/rma_list.html",
        form=form,
        pagination=pagination,
        now=utcnow(),
        status_valid=form.errors == {},
    )


def _apply_filters(stmt, form: RmaFilterForm):
    if form.q.data:
        number = parse_rma_number(form.q.data)
        if number is None:
            form.q.errors = [_l("Not an RMA number (R + 10 digits, e.g. R12345-67890).")]
            return stmt.where(sa.false())
        stmt = stmt.where(Rma.number == number)
    if form.status.data:
        stmt = stmt.where(Rma.status == RmaStatus(form.status.data))
    if form.type.data:
        stmt = stmt.where(Rma.type == RmaType(form.type.data))
    if form.channel.data:
        stmt = stmt.join(Channel, Rma.channel_id == Channel.id).where(
            Channel.code == ChannelCode(form.channel.data)
        )
    if form.location.data:
        stmt = stmt.where(Rma.location_id == int(form.location.data))
    if form.age.data:
        stmt = stmt.where(Rma.status_changed_at <= utcnow() - timedelta(days=int(form.age.data)))
    return stmt


def _visible_rma(number: str) -> Rma:
    canonical = parse_rma_number(number)
    rma = db.session.scalar(sa.select(Rma).where(Rma.number == canonical)) if canonical else None
    # Someone else's case looks exactly like a missing one: no hint that it exists.
    if rma is None or not can_see(current_user, rma):
        abort(404)
    return rma


def _status_form(rma: Rma, formdata=None) -> StatusChangeForm:
    form = StatusChangeForm(formdata=formdata)
    form.to_status.choices = [(s.value, STATUS_LABELS[s]) for s in rma.next_statuses()]
    if formdata is None:
        form.version.data = str(rma.version_id)
    return form


@bp.route("/rmas/<number>")
@staff_required()
def rma_detail(number: str):
    rma = _visible_rma(number)
    return render_template("staff/rma_detail.html", rma=rma, form=_status_form(rma))


@bp.route("/rmas/<number>/status", methods=["POST"])
@staff_required()
def rma_move(number: str):
    rma = _visible_rma(number)
    form = _status_form(rma, request.form)
    if not form.validate_on_submit():
        return render_template("staff/rma_detail.html", rma=rma, form=form), 422
    if form.version.data != str(rma.version_id):
        form.to_status.errors.append(
            _l(
                "Someone else changed this request while you were looking at it. "
                "Check the timeline and try again."
            )
        )
        form.version.data = str(rma.version_id)
        return render_template("staff/rma_detail.html", rma=rma, form=form), 409
    move_rma(
        rma, RmaStatus(form.to_status.data), staff_actor(current_user), note=form.note.data or ""
    )
    commit()
    flash(
        _l("Moved to “%(status)s”.", status=STATUS_LABELS[RmaStatus(form.to_status.data)]),
        "success",
    )
    return redirect(url_for("staff.rma_detail", number=rma.number))


@bp.route("/users")
@staff_required(Role.ADMIN)
def user_list():
    users = db.session.scalars(sa.select(User).order_by(User.role, User.email)).all()
    return render_template("staff/user_list.html", users=users)
