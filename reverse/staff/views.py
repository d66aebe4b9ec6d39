"""Staff pages: the RMA list with filters, an RMA with its timeline, messages and photos, the
user list. The verification queue, call-centre filing and policy admin are nested blueprints."""

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
    send_file,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.models import User
from reverse.auth.policies import staff_required
from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel, Location
from reverse.core.codes import parse_rma_number
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.core.templating import locale_code
from reverse.core.uploads import IMAGE_TYPES, send_photo, upload_path
from reverse.extensions import db
from reverse.policy.views import bp as policy_bp
from reverse.rmas.constants import STATUS_LABELS, AttachmentKind, ProofStatus, RmaStatus, RmaType
from reverse.rmas.models import Attachment, EventKind, Rma
from reverse.rmas.operations import add_internal_note, add_staff_message, move_rma
from reverse.rmas.policies import can_see, scope_rmas, staff_actor
from reverse.staff.analytics import bp as analytics_bp
from reverse.staff.audit import bp as audit_bp
from reverse.staff.carriers import bp as carriers_bp
from reverse.staff.common import LABELS, pending_proof_count, visible_rma
from reverse.staff.dispositions import bp as dispositions_bp
from reverse.staff.filing import FILED_KEY
from reverse.staff.filing import bp as filing_bp
from reverse.staff.forms import (
    InternalNoteForm,
    RmaFilterForm,
    StaffMessageForm,
    StatusChangeForm,
    VerifyProofForm,
)
from reverse.staff.inspection import bp as inspection_bp
from reverse.staff.intake import bp as intake_bp
from reverse.staff.integrations import bp as integrations_bp
from reverse.staff.jobs import bp as jobs_bp
from reverse.staff.order_import import bp as order_import_bp
from reverse.staff.queues import bp as queues_bp
from reverse.staff.repair_counter import bp as repair_counter_bp
from reverse.staff.repair_desk import bp as repair_desk_bp
from reverse.staff.repair_workbench import bp as repairs_bp
from reverse.staff.resale import bp as resale_bp
from reverse.staff.resale_value import bp as resale_value_bp
from reverse.staff.resolution import bp as resolution_bp
from reverse.staff.shipments import bp as shipments_bp
from reverse.staff.stock import bp as stock_bp
from reverse.staff.support import bp as support_bp
from reverse.staff.verification import bp as verification_bp
from reverse.staff.verification import own_ids, verify_form

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.register_blueprint(verification_bp)
bp.register_blueprint(analytics_bp)
bp.register_blueprint(filing_bp)
bp.register_blueprint(policy_bp)
bp.register_blueprint(shipments_bp)
bp.register_blueprint(intake_bp)
bp.register_blueprint(inspection_bp)
bp.register_blueprint(resolution_bp)
bp.register_blueprint(queues_bp)
bp.register_blueprint(stock_bp)
bp.register_blueprint(dispositions_bp)
bp.register_blueprint(carriers_bp)
bp.register_blueprint(jobs_bp)
bp.register_blueprint(integrations_bp)
bp.register_blueprint(audit_bp)
bp.register_blueprint(resale_bp)
bp.register_blueprint(resale_value_bp)
bp.register_blueprint(repair_counter_bp)
bp.register_blueprint(repair_desk_bp)
bp.register_blueprint(repairs_bp)
bp.register_blueprint(support_bp)
bp.register_blueprint(order_import_bp)


@bp.context_processor
def labels():
    return {"labels": LABELS}


@bp.app_context_processor
def staff_nav():
    """For the staff menu in base.html: counted only when the menu asks (support, admin)."""
    return {"pending_verification_count": pending_proof_count}


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


def _status_form(rma: Rma, formdata=None) -> StatusChangeForm:
    form = StatusChangeForm(formdata=formdata)
    # No status is preselected: a move is always a deliberate choice.
    form.to_status.choices = [
        ("", _l("Choose…")),
        *[(s.value, STATUS_LABELS[s]) for s in rma.next_statuses()],
    ]
    if formdata is None:
        form.version.data = str(rma.version_id)
    return form


def detail_page(
    rma: Rma,
    *,
    form: StatusChangeForm | None = None,
    verify: VerifyProofForm | None = None,
    message: StaffMessageForm | None = None,
    note: InternalNoteForm | None = None,
    status: int = 200,
):
    """The case page; the form that failed comes in with its errors, the others fresh."""
    if verify is None and _may_verify(rma):
        verify = verify_form(rma, origin="detail")
    elif verify is not None:
        own_ids(verify, rma)
    filed = session.get(FILED_KEY)
    if filed and filed.get("number") == rma.number:
        # The private link of a case just filed by phone: shown once, then forgotten.
        session.pop(FILED_KEY)
    else:
        filed = None
    return (
        render_template(
            "staff/rma_detail.html",
            rma=rma,
            form=form or _status_form(rma),
            verify_form=verify if _may_verify(rma) else None,
            message_form=message or StaffMessageForm(formdata=None, prefix="message"),
            note_form=note or InternalNoteForm(formdata=None, prefix="note"),
            messages=[e for e in rma.events if e.kind == EventKind.MESSAGE],
            receipts=[a for a in rma.attachments if a.kind == AttachmentKind.RECEIPT],
            photos=[a for a in rma.attachments if a.kind != AttachmentKind.RECEIPT],
            filed=filed,
        ),
        status,
    )


def _may_verify(rma: Rma) -> bool:
    return rma.proof_status == ProofStatus.PENDING and current_user.has_role(
        Role.ADMIN, Role.SUPPORT
    )


@bp.route("/rmas/<number>")
@staff_required()
def rma_detail(number: str):
    return detail_page(visible_rma(number))


@bp.route("/rmas/<number>/status", methods=["POST"])
@staff_required()
def rma_move(number: str):
    rma = visible_rma(number)
    form = _status_form(rma, request.form)
    if not form.validate_on_submit():
        return detail_page(rma, form=form, status=422)
    if form.version.data != str(rma.version_id):
        form.to_status.errors.append(
            _l(
                "Someone else changed this request while you were looking at it. "
                "Check the timeline and try again."
            )
        )
        form.version.data = str(rma.version_id)
        return detail_page(rma, form=form, status=409)
    move_rma(
        rma, RmaStatus(form.to_status.data), staff_actor(current_user), note=form.note.data or ""
    )
    commit()
    flash(
        _l("Moved to “%(status)s”.", status=STATUS_LABELS[RmaStatus(form.to_status.data)]),
        "success",
    )
    return redirect(url_for("staff.rma_detail", number=rma.number))


@bp.route("/rmas/<number>/messages", methods=["POST"])
@staff_required()
def rma_message(number: str):
    rma = visible_rma(number)
    form = StaffMessageForm(prefix="message")
    if not form.validate_on_submit():
        return detail_page(rma, message=form, status=422)
    try:
        add_staff_message(rma, form.text.data, staff_actor(current_user))
    except DomainError as exc:
        db.session.rollback()
        form.text.errors = [exc.message]
        return detail_page(rma, message=form, status=422)
    commit()
    flash(_l("Message sent: the customer sees it on their status page."), "success")
    return redirect(url_for("staff.rma_detail", number=rma.number, _anchor="p-messages"))


@bp.route("/rmas/<number>/notes", methods=["POST"])
@staff_required()
def rma_note(number: str):
    rma = visible_rma(number)
    form = InternalNoteForm(prefix="note")
    if not form.validate_on_submit():
        return detail_page(rma, note=form, status=422)
    add_internal_note(rma, form.text.data, staff_actor(current_user))
    commit()
    flash(_l("Note added."), "success")
    return redirect(url_for("staff.rma_detail", number=rma.number, _anchor="p-timeline"))


@bp.route("/attachments/<int:attachment_id>")
@staff_required()
def attachment(attachment_id: int):
    item = db.session.get(Attachment, attachment_id)
    # Photos of a case the viewer may not see look exactly like missing ones; photos of a
    # parcel matching no case are for the desk and support.
    if item is None:
        abort(404)
    if item.rma is not None:
        if not can_see(current_user, item.rma):
            abort(404)
    elif item.unexpected_parcel_id is None or not current_user.has_role(
        Role.ADMIN, Role.WAREHOUSE, Role.SUPPORT
    ):
        abort(404)
    try:
        path = upload_path(item.stored_name)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    if item.content_type in IMAGE_TYPES:
        return send_photo(item.stored_name, item.content_type)
    # Anything else is downloaded, never rendered in the staff member's browser.
    return send_file(
        path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=item.stored_name,
        max_age=0,
    )


@bp.route("/users")
@staff_required(Role.ADMIN)
def user_list():
    users = db.session.scalars(sa.select(User).order_by(User.role, User.email)).all()
    return render_template("staff/user_list.html", users=users)
