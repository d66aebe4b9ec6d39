"""Work queues of a returns centre: what waits for its parcel, for inspection and for a
decision, oldest (and so overdue) first, with each case's age against its SLA."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.staff.common import LABELS
from reverse.warehouse_queues import (
    QUEUES,
    QueueName,
    QueueSpec,
    SlaState,
    age_parts,
    due_soon_fraction,
    queue_counts,
    queue_page,
)

bp = Blueprint("queues", __name__, url_prefix="/queues")

#: who works the queues; support may look (the pages change nothing)
ROLES = (Role.WAREHOUSE, Role.SUPPORT)

SLA_LABELS = {
    SlaState.OK: _l("On time"),
    SlaState.DUE_SOON: _l("Due soon"),
    SlaState.OVERDUE: _l("Overdue"),
}
SLA_TONES = {SlaState.OK: "good", SlaState.DUE_SOON: "warn", SlaState.OVERDUE: "bad"}


def age_text(age: timedelta) -> str:
    """ "3 days", "5 hours", "12 minutes": the largest whole unit."""
    n, unit = age_parts(age)
    if unit == "days":
        return ngettext("%(num)d day", "%(num)d days", n)
    if unit == "hours":
        return ngettext("%(num)d hour", "%(num)d hours", n)
    return ngettext("%(num)d minute", "%(num)d minutes", n)


def sla_text(spec: QueueSpec, config: Mapping[str, Any]) -> str:
    """The SLA in the unit it is configured in ("14 days", "48 hours")."""
    amount = round(float(config[spec.setting]))
    if spec.unit == "days":
        return ngettext("%(num)d day", "%(num)d days", amount)
    return ngettext("%(num)d hour", "%(num)d hours", amount)


def _location_filter() -> tuple[int | None, list[Location]]:
    """Staff without a location of their own may narrow the queues to one site."""
    if current_user.location_id is not None:
        return None, []
    sites = list(
        db.session.scalars(
            sa.select(Location)
            .where(Location.active, Location.kind != LocationKind.REPAIR_CENTRE)
            .order_by(
                sa.case((Location.kind == LocationKind.RETURNS_CENTRE, 0), else_=1),
                Location.kind,
                Location.code,
            )
        )
    )
    wanted = request.args.get("location", type=int)
    return (wanted if wanted in {s.id for s in sites} else None), sites


@bp.route("/", defaults={"name": QueueName.RECEIPT.value})
@bp.route("/<name>")
@staff_required(*ROLES)
def index(name: str):
    if name not in QUEUES:
        abort(404)
    queue = QueueName(name)
    config = current_app.config
    location_id, sites = _location_filter()
    now = utcnow()
    counts = queue_counts(current_user, config, now, location_id=location_id)
    rows = queue_page(
        queue,
        current_user,
        config,
        now,
        total=counts[queue].total,
        page=max(request.args.get("page", 1, type=int), 1),
        per_page=config["STAFF_PAGE_SIZE"],
        location_id=location_id,
    )
    return render_template(
        "staff/queues.html",
        queue=QUEUES[queue],
        queues=QUEUES,
        counts=counts,
        rows=rows,
        sites=sites,
        location_id=location_id,
        sla_text=sla_text(QUEUES[queue], config),
        due_soon_percent=round(due_soon_fraction(config) * 100),
        sla_labels=SLA_LABELS,
        sla_tones=SLA_TONES,
        age_text=age_text,
        labels=LABELS,
    )
