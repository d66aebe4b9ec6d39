"""Label rendering: a job per shipment, safe to run again."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from reverse.extensions import db
from reverse.jobs.constants import QueueName
from reverse.jobs.outbox import enqueue
from reverse.rmas.constants import ReturnMethod, RmaStatus
from reverse.shipping.constants import Direction, ShipmentStatus
from reverse.shipping.labels import render_label
from reverse.shipping.models import Shipment
from reverse.shipping.operations import label_data


def label_folder() -> Path:
    return Path(current_app.instance_path) / "labels"


def label_file(shipment: Shipment) -> Path:
    return label_folder() / f"{shipment.id}-{shipment.tracking_number}.pdf"


def render_shipment_label(shipment_id: int) -> None:
    """Render the label once. The file name is fixed by the shipment and written by rename,
    so a job killed half-way and run again leaves exactly one whole label."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return
    path = label_file(shipment)
    if shipment.label_path and path.exists():
        return
    _write(path, render_label(label_data(shipment)))
    shipment.label_path = str(path.relative_to(current_app.instance_path))
    if shipment.status == ShipmentStatus.CREATED:
        shipment.status = ShipmentStatus.LABEL_READY
    if _customer_prints_it(shipment):
        # The status page promises this mail; it commits (and is sent) with the label.
        enqueue("reverse.rmas.tasks:label_ready", shipment.id, queue=QueueName.NOTIFICATIONS)


def _customer_prints_it(shipment: Shipment) -> bool:
    """A prepaid label the customer downloads and sticks on their parcel to us, still
    usable (not expired or cancelled while the job waited)."""
    rma = shipment.rma
    return (
        rma is not None
        and shipment.direction == Direction.TO_CENTRE
        and shipment.status == ShipmentStatus.LABEL_READY
        and rma.return_method == ReturnMethod.PREPAID_LABEL
        and rma.status == RmaStatus.AWAITING_ITEM
    )


def _write(path: Path, pdf: bytes) -> None:
    """Write the whole file under a name of this process's own, then rename it into place:
    a reader never sees half a label. What a killed run left half-written is swept away once
    the label is whole (a run still writing at that moment fails its rename, and its retry
    finds the label done)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pdf)
    tmp.replace(path)
    for leftover in path.parent.glob(f"{path.stem}.*.tmp"):
        leftover.unlink(missing_ok=True)


def issued_label(shipment: Shipment) -> Path | None:
    """The file of a label that was issued (its job ran), rendered again and kept when the
    file is gone: a database restored without its files, a replaced disk. None while the
    label job has not run."""
    if not shipment.label_path or not shipment.tracking_number:
        return None
    path = Path(current_app.instance_path) / shipment.label_path
    if not path.is_file():
        _write(path, render_label(label_data(shipment)))
    return path
