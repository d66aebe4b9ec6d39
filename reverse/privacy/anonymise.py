"""Removing personal data once it is no longer needed, keeping every figure.

A case is anonymised when it is closed (closed, cancelled, expired) and has not changed for
the retention period: its address, the customer's words and every free-text note go, its
private links stop working, the photos and receipts the customer sent and its label PDFs are
deleted. Types, statuses, reason codes, items, amounts and dates stay, so the analytics, the
refund totals and the repair turnaround read the same before and after. The timeline keeps
its rows (it is append-only); only their free text is blanked.

A customer is anonymised when nothing of theirs is still running or recent: every case
anonymised (or about to be), no order and no pre-owned reservation within the period. Name,
reading, email and phone go; the row stays so that orders and cases keep pointing at it.

Portal drafts abandoned for the period are deleted with their photos.

Nothing here commits: `flask privacy anonymise` (privacy.cli.run) commits batch by batch and
calls `remove_files` only after the batch that stopped referring to them has committed.
Running it again finds nothing left to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from reverse.core.uploads import upload_path
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.intake.models import UnexpectedParcel
from reverse.orders.models import Order
from reverse.portal.models import PortalDraft
from reverse.repairs.models import RepairOrder, RepairQuote, RepairWorkEntry
from reverse.resale.constants import OPEN_RESERVATION_STATES
from reverse.resale.models import ResaleReservation
from reverse.rmas.constants import TERMINAL_STATUSES, AttachmentKind
from reverse.rmas.models import Attachment, Rma, RmaAccessLink, RmaEvent, RmaLine
from reverse.shipping.models import Shipment
from reverse.webhooks.models import WebhookDelivery

#: what the customer sent or what shows them; inspection photos show the item and stay
PERSONAL_ATTACHMENTS = (
    AttachmentKind.PHOTO,
    AttachmentKind.RECEIPT,
    AttachmentKind.TAG,
    AttachmentKind.PARCEL,
)
#: parameters of system messages that carry someone's words rather than a code or an amount
FREE_TEXT_PARAMS = frozenset({"note", "reason", "problem"})
#: cases anonymised per transaction: short locks, and progress kept if the run is stopped
BATCH = 500


@dataclass
class Report:
    cases: int = 0
    customers: int = 0
    drafts: int = 0
    files: int = 0
    labels: int = 0
    #: files to remove once the transaction that stopped using them commits
    pending_files: list[Path] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, int]:
        return {
            "cases": self.cases,
            "customers": self.customers,
            "drafts": self.drafts,
            "files": self.files,
            "labels": self.labels,
        }


# -- who is due -------------------------------------------------------------------------------


def _case_due(cutoff: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Rma.status.in_(TERMINAL_STATUSES), Rma.status_changed_at < cutoff)


def cases_due(cutoff: datetime) -> sa.Select[Any]:
    return sa.select(Rma.id).where(Rma.anonymised_at.is_(None), _case_due(cutoff))


def customers_due(cutoff: datetime) -> sa.Select[Any]:
    """Customers with nothing running or recent: each case done or due, no recent order or
    reservation, and known since before the cutoff."""
    live_case = (
        sa.select(Rma.id)
        .where(Rma.customer_id == Customer.id, Rma.anonymised_at.is_(None))
        .where(sa.not_(_case_due(cutoff)))
    )
    recent_order = sa.select(Order.id).where(
        Order.customer_id == Customer.id, Order.ordered_at >= cutoff
    )
    live_reservation = sa.select(ResaleReservation.id).where(
        ResaleReservation.customer_id == Customer.id,
        sa.or_(
            ResaleReservation.state.in_(OPEN_RESERVATION_STATES),
            ResaleReservation.created_at >= cutoff,
        ),
    )
    return sa.select(Customer.id).where(
        Customer.anonymised_at.is_(None),
        Customer.created_at < cutoff,
        ~live_case.exists(),
        ~recent_order.exists(),
        ~live_reservation.exists(),
    )


def drafts_due(cutoff: datetime) -> sa.Select[Any]:
    return sa.select(PortalDraft.id).where(PortalDraft.updated_at < cutoff)


def preview(cutoff: datetime) -> Report:
    """What `run` would do now, changing nothing (the dry run)."""

    def count(stmt: sa.Select[Any]) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0

    return Report(
        cases=count(cases_due(cutoff)),
        customers=count(customers_due(cutoff)),
        drafts=count(drafts_due(cutoff)),
    )


# -- doing it ---------------------------------------------------------------------------------


def _drop_attachments(condition: sa.ColumnElement[bool], report: Report) -> None:
    rows = db.session.execute(
        sa.select(Attachment.id, Attachment.stored_name).where(condition)
    ).all()
    if not rows:
        return
    ids = [row.id for row in rows]
    db.session.execute(sa.delete(Attachment).where(Attachment.id.in_(ids)))
    names = {row.stored_name for row in rows}
    # The same photo sent twice is stored once: keep the file while anyone still shows it.
    still_used = set(
        db.session.scalars(
            sa.select(Attachment.stored_name).where(Attachment.stored_name.in_(names))
        )
    )
    for name in sorted(names - still_used):
        report.pending_files.append(upload_path(name))


def _blank_events(rma_ids: list[int]) -> None:
    """Blank the free text of the cases' timelines. The rows stay (the ORM refuses to change
    them, so this is a plain UPDATE: anonymising is the one rewrite the timeline allows)."""
    events = RmaEvent.__table__
    rows = db.session.execute(
        sa.select(events.c.id, events.c.note, events.c.data).where(events.c.rma_id.in_(rma_ids))
    ).all()
    changes = []
    for row in rows:
        data = dict(row.data or {})
        note = row.note
        if data.get("i18n"):
            params = data.get("params") or {}
            if FREE_TEXT_PARAMS & set(params):
                data["params"] = {
                    k: ("" if k in FREE_TEXT_PARAMS else v) for k, v in params.items()
                }
        else:
            note = ""
        if note != row.note or data != (row.data or {}):
            changes.append({"event_id": row.id, "new_note": note, "new_data": data})
    if changes:
        db.session.execute(
            events.update()
            .where(events.c.id == sa.bindparam("event_id"))
            .values(note=sa.bindparam("new_note"), data=sa.bindparam("new_data")),
            changes,
        )


def anonymise_cases(rma_ids: list[int], now: datetime, report: Report) -> None:
    """Remove the personal data of these closed cases (see the module docstring)."""
    for rma in db.session.scalars(sa.select(Rma).where(Rma.id.in_(rma_ids))):
        rma.ship_name = rma.ship_postal_code = rma.ship_prefecture = ""
        rma.ship_city = rma.ship_street = rma.ship_building = ""
        rma.decision_reason = ""
        # a hash nobody has the token of: every link the customer was sent stops working
        rma.access_token_hash = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        rma.anonymised_at = now
    db.session.execute(
        sa.update(RmaLine).where(RmaLine.rma_id.in_(rma_ids)).values(comment="", symptom="")
    )
    _blank_events(rma_ids)
    db.session.execute(sa.delete(RmaAccessLink).where(RmaAccessLink.rma_id.in_(rma_ids)))

    repair_ids = sa.select(RepairOrder.id).where(RepairOrder.rma_id.in_(rma_ids))
    db.session.execute(
        sa.update(RepairOrder)
        .where(RepairOrder.rma_id.in_(rma_ids))
        .values(
            condition_notes="",
            accessories="",
            diagnosis="",
            warranty_note="",
            payment_note="",
            qc_note="",
        )
    )
    db.session.execute(
        sa.update(RepairQuote).where(RepairQuote.repair_id.in_(repair_ids)).values(note="")
    )
    db.session.execute(
        sa.update(RepairWorkEntry).where(RepairWorkEntry.repair_id.in_(repair_ids)).values(note="")
    )

    parcel_ids = sa.select(UnexpectedParcel.id).where(UnexpectedParcel.rma_id.in_(rma_ids))
    _drop_attachments(
        sa.or_(
            sa.and_(Attachment.rma_id.in_(rma_ids), Attachment.kind.in_(PERSONAL_ATTACHMENTS)),
            Attachment.unexpected_parcel_id.in_(parcel_ids),
        ),
        report,
    )
    db.session.execute(
        sa.update(UnexpectedParcel).where(UnexpectedParcel.rma_id.in_(rma_ids)).values(note="")
    )

    instance = Path(current_app.instance_path)
    for shipment in db.session.scalars(
        sa.select(Shipment).where(Shipment.rma_id.in_(rma_ids), Shipment.label_path.is_not(None))
    ):
        report.pending_files.append(instance / str(shipment.label_path))
        shipment.label_path = None
        report.labels += 1
    report.cases += len(rma_ids)
    db.session.flush()


def anonymise_customers(customer_ids: list[int], now: datetime, report: Report) -> None:
    for customer in db.session.scalars(sa.select(Customer).where(Customer.id.in_(customer_ids))):
        customer.email = None
        customer.phone = None
        customer.name = ""
        customer.name_kana = ""
        customer.anonymised_at = now
    db.session.execute(
        sa.update(ResaleReservation)
        .where(ResaleReservation.customer_id.in_(customer_ids))
        .values(closed_reason="")
    )
    report.customers += len(customer_ids)
    db.session.flush()


def blank_webhook_customers() -> None:
    """Purchase requests sent to the web shop named the customer; the copies kept for replays
    of anonymised customers' reservations do not any more. One pass per run, over every
    anonymised customer, so a run stopped half-way is finished by the next."""
    reservation_ids = set(
        db.session.scalars(
            sa.select(ResaleReservation.id)
            .join(Customer, Customer.id == ResaleReservation.customer_id)
            .where(Customer.anonymised_at.is_not(None))
        )
    )
    if not reservation_ids:
        return
    for delivery in db.session.scalars(
        sa.select(WebhookDelivery).where(WebhookDelivery.event_type == "resale.purchase_requested")
    ):
        data = delivery.payload.get("data") or {}
        customer = data.get("customer") or {}
        if data.get("reservation_id") in reservation_ids and any(customer.values()):
            blank = {key: None for key in customer}
            delivery.payload = {**delivery.payload, "data": {**data, "customer": blank}}


def delete_drafts(draft_ids: list[int], report: Report) -> None:
    _drop_attachments(
        sa.and_(Attachment.draft_id.in_(draft_ids), Attachment.rma_id.is_(None)), report
    )
    db.session.execute(sa.delete(PortalDraft).where(PortalDraft.id.in_(draft_ids)))
    report.drafts += len(draft_ids)


def remove_files(report: Report) -> None:
    """Delete the files the committed batches stopped referring to (call after the commit)."""
    for path in report.pending_files:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            report.files += 1
    report.pending_files.clear()
