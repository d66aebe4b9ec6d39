"""Staff pages for parcels: the list, a label reprint, batch printing and carrier CSVs."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.dates import TOKYO, today_in_japan
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.shipping.constants import (
    CARRIER_LABELS,
    DIRECTION_LABELS,
    SHIPMENT_STATUS_LABELS,
    Carrier,
    ShipmentStatus,
)
from reverse.shipping.exports import generic_csv, yamato_b2_csv
from reverse.shipping.labels import render_labels
from reverse.shipping.models import Shipment
from reverse.shipping.operations import csv_shipment, label_data
from reverse.shipping.tasks import issued_label

bp = Blueprint("shipments", __name__, url_prefix="/shipments")

ROLES = (Role.WAREHOUSE, Role.STORE, Role.SUPPORT, Role.TECHNICIAN)
MAX_BATCH = 200


def _visible(stmt: sa.Select) -> sa.Select:
    """Store staff see the parcels that leave or reach their store."""
    if current_user.role == Role.STORE:
        here = current_user.location_id
        return stmt.where(
            sa.or_(Shipment.from_location_id == here, Shipment.to_location_id == here)
        )
    return stmt


def _selected() -> list[Shipment]:
    ids = [int(i) for i in request.form.getlist("shipment") if i.isdigit()][:MAX_BATCH]
    if not ids:
        return []
    stmt = _visible(sa.select(Shipment).where(Shipment.id.in_(ids)).order_by(Shipment.id))
    return list(db.session.scalars(stmt))


@bp.route("/")
@staff_required(*ROLES)
def index():
    status = request.args.get("status", "")
    carrier = request.args.get("carrier", "")
    stmt = _visible(sa.select(Shipment).order_by(Shipment.created_at.desc()))
    if status in {s.value for s in ShipmentStatus}:
        stmt = stmt.where(Shipment.status == ShipmentStatus(status))
    if carrier in {c.value for c in Carrier}:
        stmt = stmt.where(Shipment.carrier == Carrier(carrier))
    page = db.paginate(stmt, per_page=current_app.config["STAFF_PAGE_SIZE"], error_out=False)
    return render_template(
        "staff/shipments.html",
        pagination=page,
        status=status,
        carrier=carrier,
        statuses=SHIPMENT_STATUS_LABELS,
        carriers=CARRIER_LABELS,
        directions=DIRECTION_LABELS,
    )


@bp.route("/<int:shipment_id>/label.pdf")
@staff_required(*ROLES)
def label(shipment_id: int):
    """The stored label, or one rendered now when its job has not run (yet)."""
    shipment = db.session.scalar(_visible(sa.select(Shipment).where(Shipment.id == shipment_id)))
    if shipment is None or not shipment.tracking_number:
        abort(404)
    path = issued_label(shipment)
    if path is not None:
        return send_file(path, mimetype="application/pdf", download_name=path.name)
    pdf = render_labels([label_data(shipment)])
    return _pdf(pdf, f"{shipment.id}-{shipment.tracking_number}.pdf")


@bp.route("/print", methods=["POST"])
@staff_required(*ROLES)
def print_batch():
    shipments = [s for s in _selected() if s.tracking_number]
    if not shipments:
        flash(_l("Tick the parcels to print."), "error")
        return redirect(url_for("staff.shipments.index"))
    layout = "a4" if request.form.get("layout") == "a4" else "thermal"
    pdf = render_labels([label_data(s) for s in shipments], layout=layout)
    return _pdf(pdf, f"labels-{utcnow().astimezone(TOKYO):%Y%m%d-%H%M}.pdf")


@bp.route("/export", methods=["POST"])
@staff_required(*ROLES)
def export():
    shipments = [s for s in _selected() if s.tracking_number]
    carriers = {s.carrier for s in shipments}
    if not shipments or len(carriers) != 1:
        flash(_l("Tick the parcels of one carrier to export."), "error")
        return redirect(url_for("staff.shipments.index"))
    carrier = carriers.pop()
    today = today_in_japan()
    rows = [csv_shipment(s, today) for s in shipments]
    result = (
        yamato_b2_csv(rows, today=today)
        if carrier == Carrier.YAMATO
        else generic_csv(rows, carrier=carrier.value, today=today)
    )
    if result.problems and request.form.get("accept_replacements") != "1":
        # Show what Shift_JIS cannot carry before anyone ships to a shortened name.
        return render_template(
            "staff/shipments_export_problems.html",
            problems=result.problems,
            shipments=shipments,
        ), 422
    response = Response(result.content, mimetype=result.content_type.split(";")[0])
    response.headers["Content-Type"] = result.content_type
    response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


def _pdf(content: bytes, name: str) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response
