"""Scan-driven intake: find the case from whatever was scanned, and take the parcel in once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from reverse.catalog.models import Variant
from reverse.core.actors import Actor
from reverse.core.codes import is_valid_tracking_number, parse_rma_number
from reverse.core.db import lock_query
from reverse.core.errors import DomainError
from reverse.core.i18n import N_
from reverse.core.normalise import code_text, digits_and_dashes
from reverse.core.uploads import save_images
from reverse.extensions import db
from reverse.intake.constants import UnitState
from reverse.intake.inspection import finish_if_complete
from reverse.intake.models import Receipt, ReceiptUnit, UnexpectedParcel
from reverse.resolution.constants import RefundRelease
from reverse.resolution.operations import on_release_point
from reverse.rmas.constants import AttachmentKind, RmaStatus, RmaType
from reverse.rmas.models import Attachment, Rma, RmaLine
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


@dataclass(frozen=True)
class ScannedCode:
    """What a scanned or typed code names: a request number, or the tracking number of one of
    the case's parcels."""

    #: the request number (R + 10 digits) or the 12-digit tracking number
    key: str
    by_tracking: bool
    #: the code as read, for messages
    text: str

    @staticmethod
    def narrow(stmt: sa.Select, *, by_tracking: bool) -> sa.Select:
        """`stmt`, a query of cases, narrowed to the case whose key is bound as `code`: build
        it once and execute it with `params` (a statement built per call is analysed per call)."""
        if not by_tracking:
            return stmt.where(Rma.number == sa.bindparam("code"))
        return stmt.join(Shipment, Shipment.rma_id == Rma.id).where(
            Shipment.tracking_number == sa.bindparam("code")
        )

    @property
    def params(self) -> dict[str, str]:
        return {"code": self.key}

    def not_found(self) -> UnknownCode:
        if self.by_tracking:
            return UnknownCode(
                _l("No parcel with tracking number %(n)s.", n=self.key), code=self.key
            )
        return UnknownCode(_l("No request %(n)s.", n=self.text), code=self.text)


def read_code(code: str) -> ScannedCode:
    """Which case a scanned or typed code points at: an RMA number (printed, as Code 128 or QR,
    or typed with full-width digits) or a tracking number. ScanError when it can be neither."""
    text = code_text(code).strip()
    if not text or len(text) > 60:
        raise ScanError(_l("Scan a label, a return slip or type a request number."))
    number = parse_rma_number(text)
    if number is not None:
        return ScannedCode(key=number, by_tracking=False, text=text)
    digits = digits_and_dashes(text)
    if text.upper().startswith("R") and digits[1:].isdigit():
        raise ScanError(_l("%(n)s is not a valid request number (check digit).", n=text))
    if digits.isdigit() and len(digits) == 12:
        if not is_valid_tracking_number(digits):
            raise ScanError(
                _l("%(n)s is not a valid tracking number (check digit).", n=digits), code=digits
            )
        return ScannedCode(key=digits, by_tracking=True, text=text)
    raise UnknownCode(_l("“%(n)s” is neither a request number nor a tracking number.", n=text))


def find_case(code: str, *, options: Sequence[Any] = ()) -> Rma:
    """The case a scanned or typed code points at (see `read_code`); UnknownCode when no case
    has it. `options` are loader options for the query (what the caller will read of the case).
    """
    scanned = read_code(code)
    # unique(): options may join a collection (a case's lines) into the same rows
    stmt = scanned.narrow(sa.select(Rma).options(*options), by_tracking=scanned.by_tracking)
    rma = db.session.execute(stmt, scanned.params).unique().scalars().first()
    if rma is None:
        raise scanned.not_found()
    return rma


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
    on_release_point(rma, RefundRelease.RECEIPT, actor)
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
    code: str,
    actor: Actor,
    *,
    location_id: int | None,
    note: str = "",
    photos: Iterable[IO[bytes] | FileStorage] = (),
) -> UnexpectedParcel:
    """A parcel that matched nothing, with its photos, for support to match later. Every
    photo is checked first (UploadRejected): a refused one records nothing."""
    images = save_images(photos)
    parcel = UnexpectedParcel(
        location_id=location_id,
        scanned_code=code_text(code)[:60],
        note=note[:2000],
        received_by_label=actor.label,
    )
    db.session.add(parcel)
    db.session.flush()
    db.session.add_all(
        Attachment.of_image(
            image,
            kind=AttachmentKind.PARCEL,
            unexpected_parcel_id=parcel.id,
            added_by=actor.label,
        )
        for image in images
    )
    db.session.flush()
    return parcel


# ---------------------------------------------------------------- unit by unit

#: what the desk may set an expected unit to (an extra unit is added, never set)
EXPECTED_UNIT_STATES = (
    UnitState.RECEIVED,
    UnitState.SHORT,
    UnitState.WRONG_ITEM,
    UnitState.DAMAGED,
)


class WrongCase(ScanError):
    """An item tag scanned into a case it does not belong to."""

    code = "wrong_case"


@dataclass(frozen=True)
class UnitCheck:
    """What an item tag scanned at the desk says about the open case."""

    variant: Variant
    #: the case's units of that variant (empty: the item is not on this request)
    units: list[ReceiptUnit]


def receipt_of(rma: Rma) -> Receipt | None:
    return db.session.scalar(sa.select(Receipt).where(Receipt.rma_id == rma.id))


def check_item_code(rma: Rma, code: str) -> UnitCheck:
    """The units of `rma` an item's tag (JAN, or SKU typed) matches. Read-only.

    A tag of an item on another case still waiting for its parcel raises WrongCase naming that
    case — the unit was packed into, or scanned at, the wrong parcel; an RMA number or tracking
    number here is a parcel code in the item field."""
    text = code_text(code).strip()
    if not text or len(text) > 60:
        raise ScanError(_l("Scan the tag of an item in the parcel."))
    digits = digits_and_dashes(text).replace("-", "")
    variant = None
    if digits.isdigit() and len(digits) == 13:
        variant = db.session.scalar(sa.select(Variant).where(Variant.jan == digits))
    if variant is None:
        variant = db.session.scalar(sa.select(Variant).where(Variant.sku == text.upper()))
    if variant is None:
        if parse_rma_number(text) is not None or (digits.isdigit() and len(digits) == 12):
            raise ScanError(
                _l("%(code)s is a parcel code: scan parcels in the field above.", code=text)
            )
        raise UnknownCode(_l("No item with the code %(code)s.", code=text), code=text)
    receipt = receipt_of(rma)
    units = [u for u in (receipt.units if receipt else []) if u.variant_id == variant.id]
    expected = any(line.variant_id == variant.id for line in rma.lines)
    if not units and not expected:
        other = _waiting_case_with(variant, rma)
        if other is not None:
            raise WrongCase(
                _l(
                    "%(item)s is not on %(this)s. It is expected on %(other)s: keep it apart.",
                    item=variant.sku,
                    this=rma.display_number,
                    other=other.display_number,
                ),
                other=other.display_number,
            )
    return UnitCheck(variant, units)


def _waiting_case_with(variant: Variant, rma: Rma) -> Rma | None:
    """Another case still waiting for a parcel with this item on it (the oldest)."""
    return db.session.scalar(
        sa.select(Rma)
        .join(RmaLine, RmaLine.rma_id == Rma.id)
        .where(
            RmaLine.variant_id == variant.id,
            Rma.id != rma.id,
            Rma.status.in_(RECEIVABLE),
        )
        .order_by(Rma.created_at)
        .limit(1)
    )


def set_unit_states(
    rma_id: int, changes: dict[int, tuple[UnitState, str]], actor: Actor
) -> list[ReceiptUnit]:
    """Mark expected units (by unit number) received, short, wrong item or damaged in
    transit, with a note. Only while the case waits for inspection and the unit has not
    been inspected; setting what is already set changes nothing. Returns the changed units."""
    rma = get_rma_for_update(rma_id)
    receipt = _open_receipt(rma)
    by_no = {unit.unit_no: unit for unit in receipt.units}
    changed = []
    for unit_no, (state, note) in sorted(changes.items()):
        unit = by_no.get(unit_no)
        if unit is None:
            raise ScanError(_l("%(n)s has no unit %(no)d.", n=rma.display_number, no=unit_no))
        note = note.strip()[:500]
        if unit.state == state and unit.note == note:
            continue
        if unit.state == UnitState.EXTRA or state not in EXPECTED_UNIT_STATES:
            raise ScanError(_l("Unit %(no)d cannot be marked that way.", no=unit_no))
        if unit.inspection is not None:
            raise ScanError(_l("Unit %(no)d is already inspected.", no=unit_no))
        unit.state, unit.note, unit.recorded_by_label = state, note, actor.label
        changed.append(unit)
    if changed:
        summary = ", ".join(f"{u.unit_no}: {u.state.value}" for u in changed)
        rma.add_note(
            actor, N_("Units checked at the desk: %(units)s"), msgid=True, params={"units": summary}
        )
        db.session.flush()
        # marking the last undecided unit short can leave nothing to inspect
        finish_if_complete(rma, actor)
    return changed


def add_extra_unit(
    rma_id: int, code: str, actor: Actor, *, units_seen: int, note: str = ""
) -> ReceiptUnit | None:
    """Record a unit found in the parcel that the request did not ask for. `units_seen` is
    how many units the desk's screen showed: when it no longer matches, the same extra unit
    was already added (a double submit, or a colleague) and nothing changes (returns None)."""
    rma = get_rma_for_update(rma_id)
    receipt = _open_receipt(rma)
    if len(receipt.units) != units_seen:
        return None
    check = check_item_code(rma, code)
    unit = ReceiptUnit(
        receipt_id=receipt.id,
        rma_id=rma.id,
        unit_no=max((u.unit_no for u in receipt.units), default=0) + 1,
        rma_line_id=None,
        variant_id=check.variant.id,
        state=UnitState.EXTRA,
        note=note.strip()[:500],
        recorded_by_label=actor.label,
    )
    db.session.add(unit)
    rma.add_note(
        actor,
        N_("Extra unit in the parcel: %(item)s"),
        msgid=True,
        params={"item": check.variant.sku},
    )
    db.session.flush()
    db.session.refresh(receipt)
    return unit


def _open_receipt(rma: Rma) -> Receipt:
    receipt = receipt_of(rma)
    if receipt is None:
        raise ScanError(_l("%(n)s has not been received yet.", n=rma.display_number))
    if rma.status != RmaStatus.RECEIVED:
        raise ScanError(
            _l("%(n)s is past receiving: its units can no longer change.", n=rma.display_number)
        )
    return receipt


# ---------------------------------------------------------------- unexpected parcels


def match_unexpected(parcel_id: int, code: str, actor: Actor) -> tuple[UnexpectedParcel, Rma]:
    """Support found whose parcel it is: link it (and its photos) to the case `code` points
    at, and take it in for that case when the case was waiting for it. Matching it to the
    same case again changes nothing; to another case is refused."""
    parcel = db.session.execute(
        lock_query(sa.select(UnexpectedParcel).where(UnexpectedParcel.id == parcel_id))
    ).scalar_one_or_none()
    if parcel is None:
        raise UnknownCode(_l("No unexpected parcel #%(id)d.", id=parcel_id))
    rma = find_case(code)
    if parcel.rma_id == rma.id:
        return parcel, rma
    if parcel.rma_id is not None:
        raise ScanError(_l("Parcel #%(id)d is already matched to another request.", id=parcel.id))
    parcel.rma_id = rma.id
    for photo in db.session.scalars(
        sa.select(Attachment).where(Attachment.unexpected_parcel_id == parcel.id)
    ):
        photo.rma_id = rma.id
    rma = get_rma_for_update(rma.id)
    rma.add_note(
        actor,
        N_("Unexpected parcel #%(id)s matched to this request: %(note)s"),
        msgid=True,
        params={"id": parcel.id, "note": parcel.note[:200]},
    )
    db.session.flush()
    if rma.status in RECEIVABLE and rma.type != RmaType.REPAIR:
        receive_parcel(rma.number, actor, location_id=parcel.location_id)
    return parcel, rma
