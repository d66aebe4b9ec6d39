"""The verification queue: declared purchases whose receipt a person has to check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.rmas.constants import ProofStatus
from reverse.rmas.models import Rma
from reverse.rmas.operations import verify_proof
from reverse.rmas.policies import staff_actor
from reverse.staff.common import pending_proofs, visible_rma
from reverse.staff.forms import VerifyProofForm

bp = Blueprint("verification", __name__)

STALE = _l(
    "Someone else changed this request while you were looking at it. "
    "Check it again before deciding."
)


def verify_form(rma: Rma, origin: str = "queue") -> VerifyProofForm:
    form = VerifyProofForm(formdata=None)
    form.version.data = str(rma.version_id)
    form.origin.data = origin
    return own_ids(form, rma)


def own_ids(form: VerifyProofForm, rma: Rma) -> VerifyProofForm:
    """Element ids of this case's form, so a page of many forms has no duplicates."""
    form.reason.id = form.reason.label.field_id = f"reason-{rma.number}"
    return form


def _queue_page(failed: tuple[Rma, VerifyProofForm] | None = None, status: int = 200):
    rmas = db.session.scalars(
        pending_proofs()
        .options(
            sa.orm.selectinload(Rma.lines),
            sa.orm.selectinload(Rma.attachments),
            sa.orm.joinedload(Rma.customer),
        )
        .order_by(Rma.created_at.asc(), Rma.id.asc())
    ).all()
    forms = {rma.id: verify_form(rma) for rma in rmas}
    #: messages about a case that is no longer in the queue (decided by someone else)
    notices: list[tuple[Rma, list[Any]]] = []
    if failed is not None:
        rma, form = failed
        if rma.id in forms:
            forms[rma.id] = own_ids(form, rma)
        else:
            notices.append((rma, [*form.decision.errors, *form.reason.errors]))
    return (
        render_template(
            "staff/verification.html", rmas=rmas, forms=forms, notices=notices, now=utcnow()
        ),
        status,
    )


@bp.route("/verification")
@staff_required(Role.SUPPORT)
def queue():
    return _queue_page()


def _show_again(rma: Rma, form: VerifyProofForm, status: int):
    if form.origin.data == "detail":
        from reverse.staff.views import detail_page

        return detail_page(rma, verify=form, status=status)
    return _queue_page((rma, form), status)


@bp.route("/rmas/<number>/verify", methods=["POST"])
@staff_required(Role.SUPPORT)
def verify(number: str):
    rma = visible_rma(number)
    form = VerifyProofForm()
    if not form.validate_on_submit():
        return _show_again(rma, form, 422)
    accepted = form.decision.data == "accept"
    if form.version.data != str(rma.version_id):
        wanted = ProofStatus.ACCEPTED if accepted else ProofStatus.REJECTED
        if rma.proof_status == wanted:
            # A double click or a resent form: the decision stands, nothing more to do.
            flash(_l("This decision was already recorded."), "info")
            return redirect(_after(form, rma))
        form.decision.errors.append(STALE)
        form.version.data = str(rma.version_id)
        return _show_again(rma, form, 409)
    try:
        verify_proof(rma, accepted, form.reason.data or "", staff_actor(current_user))
    except DomainError as exc:
        db.session.rollback()
        rma = visible_rma(number)
        form.decision.errors.append(exc.message)
        form.version.data = str(rma.version_id)
        return _show_again(rma, form, exc.status)
    commit()
    if accepted:
        flash(_l("%(number)s: proof accepted.", number=rma.display_number), "success")
    else:
        flash(
            _l("%(number)s: proof rejected; the customer is told why.", number=rma.display_number),
            "success",
        )
    return redirect(_after(form, rma))


def _after(form: VerifyProofForm, rma: Rma) -> str:
    if form.origin.data == "detail":
        return url_for("staff.rma_detail", number=rma.number)
    return url_for("staff.verification.queue")
