"""Scan-driven intake: find the case from whatever was scanned, and take the parcel in once."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.core.actors import Actor
from reverse.core.codes import is_valid_tracking_number, parse_rma_number
from reverse.core.errors import DomainError
from reverse.core.normalise import code_text, digits_and_dashes
from reverse.extensions import db
from reverse.intake.constants import UnitState
from reverse.intake.models import Receipt, ReceiptUnit, UnexpectedParcel
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import get_rma_for_update, move_rma
from reverse.shipping.models import Shipment

#: statuses from which a parcel can be taken in at a returns centre
RECEIVABLE = frozenset({RmaStatus.AWAITING_ITEM, RmaStatus.IN_TRANSIT})


class ScanError(DomainError):
    code = "scan_error"


class UnknownCode(ScanError):
    status = 404
    code = "unknown_code"


@dataclass(frozen=True)
class ScanResult:
    rma: Rma
    receipt: Receipt
    #: False when this parcel had already been taken in (a repeated scan changes nothing)
    new: bool


def find_case(code: str) -> Rma:
    """The case a scanned or typed code points at: an RMA number (printed, as Code 128 or
    QR, or typed with full-width digits) or a tracking number of one of its parcels."""
    text = code_text(code).strip()
    if not text or len(text) > 60:
        raise ScanError(_l("Scan a label, a return slip or type a request number."))
    number = parse_rma_number(text)
    if number is not None:
        rma = db.session.scalar(sa.select(Rma).where(Rma.number == number))
        if rma is None:
            raise UnknownCode(_l("No request %(n)s.", n=text), code=text)
        return rma
    digits = digits_and_dashes(text)
    if text.upper().startswith("R") and digits[1:].isdigit():
        raise ScanError(_l("%(n)s is not a valid request number (check digit).", n=text))
    if digits.isdigit() and len(digits) == 12:
        if not is_valid_tracking_number(digits):
            raise ScanError(
                _l("%(n)s is not a valid tracking number (check digit).", n=digits), code=digits
            )
        rma = db.session.scalar(
            sa.select(Rma)
            .join(Shipment, Shipment.rma_id == Rma.id)
            .where(Shipment.tracking_number == digits)
        )
        if rma is None:
            raise UnknownCode(_l("No parcel with tracking number %(n)s.", n=digits), code=digits)
        return rma
    raise UnknownCode(_l("“%(n)s” is neither a request number nor a tracking number.", n=text))


def receive_parcel(code: str, actor: Actor, *, location_id: int | None = None) -> ScanResult:
    """Take in the parcel of the case `code` points at — once. A repeat (or a colleague
    scanning the same parcel at the same moment) finds the first receipt and changes nothing."""
    rma = get_rma_for_update(find_case(code).id)
    existing = db.session.scalar(sa.select(Receipt).where(Receipt.rma_id == rma.id))
    if existing is not None:
        return ScanResult(rma, existing, new=False)
    if rma.type == RmaType.REPAIR:
        raise ScanError(
            _l("%(n)s is a repair: take it in at the repair centre.", n=rma.display_number)
        )
    if rma.status not in RECEIVABLE:
        raise ScanError(
            _l("%(n)s is not waiting for a parcel.", n=rma.display_number), status=rma.status.value
        )
    receipt = Receipt(
        rma_id=rma.id,
        location_id=location_id,
        scanned_code=code_text(code)[:60],
        received_by=actor.user_id,
        received_by_label=actor.label,
    )
    db.session.add(receipt)
    db.session.flush()
    add_expected_units(receipt, rma, actor)
    move_rma(rma, RmaStatus.RECEIVED, actor)
    return ScanResult(rma, receipt, new=True)


def add_expected_units(receipt: Receipt, rma: Rma, actor: Actor) -> list[ReceiptUnit]:
    """One unit row per unit the case asks for, numbered 1, 2, … in line order, taken as
    received; the desk then marks any that are short, wrong or damaged."""
    units = []
    for line in rma.lines:
        for _ in range(line.quantity):
            unit = ReceiptUnit(
                receipt_id=receipt.id,
                rma_id=rma.id,
                unit_no=len(units) + 1,
                rma_line_id=line.id,
                variant_id=line.variant_id,
                state=UnitState.RECEIVED,
                recorded_by_label=actor.label,
            )
            units.append(unit)
    db.session.add_all(units)
    db.session.flush()
    return units


def record_unexpected(
    code: str, actor: Actor, *, location_id: int | None, note: str = ""
) -> UnexpectedParcel:
    parcel = UnexpectedParcel(
        location_id=location_id,
        scanned_code=code_text(code)[:60],
        note=note[:2000],
        received_by_label=actor.label,
    )
    db.session.add(parcel)
    db.session.flush()
    return parcel
