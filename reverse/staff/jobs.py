"""Jobs admin (/staff/jobs): the outbox by state, RQ's queues and workers, failed jobs and a
way to try one again. Admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.extensions import db
from reverse.jobs.constants import ALL_QUEUES, OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.jobs.monitor import overview, stale_after
from reverse.jobs.operations import retry_failed

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

STATUS_LABELS = {
    OutboxStatus.PENDING: _l("Waiting to run"),
    OutboxStatus.ENQUEUED: _l("Handed to a worker"),
    OutboxStatus.DONE: _l("Done"),
    OutboxStatus.FAILED: _l("Failed"),
}
QUEUE_LABELS = {
    "labels": _l("Labels"),
    "notifications": _l("Mail"),
    "webhooks": _l("Webhooks"),
    "default": _l("Other"),
}


class RetryForm(FlaskForm):
    """Only the CSRF token."""


@bp.route("/")
@staff_required(Role.ADMIN)
def index():
    return render_template(
        "staff/jobs.html",
        jobs=overview(),
        stale_after=stale_after(),
        status_labels=STATUS_LABELS,
        queue_labels=QUEUE_LABELS,
        queue_order=[str(q) for q in ALL_QUEUES],
        form=RetryForm(),
    )


@bp.route("/<int:message_id>/retry", methods=["POST"])
@staff_required(Role.ADMIN)
def retry(message_id: int):
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    changed = retry_failed(message, Actor.staff(current_user))
    commit()
    if changed:
        flash(_l("Job %(id)d will run again.", id=message_id), "success")
    else:
        flash(_l("Job %(id)d had not failed; nothing was changed.", id=message_id), "info")
    return redirect(url_for("staff.jobs.index"))
