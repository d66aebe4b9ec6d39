"""Inspecting received units: grade and checklist, the proposed disposition, the decision.

Each operation locks the case's row first, changes rows, records a staff-only note on the
case's timeline, flushes and never commits (the caller ends the unit of work with
`reverse.core.db.commit`). Repeats change nothing; a decision is applied exactly once: a
restocked unit adds one to stock, a resold one makes one resale item. When the last unit that
is here has its disposition, the case moves from received to inspected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from reverse.catalog.constants import Category
from reverse.catalog.models import Location, StockLevel
from reverse.core.actors import Actor
from reverse.core.db import is_postgresql, utcnow
from reverse.core.errors import ConcurrentChange, DomainError, IllegalTransition
from reverse.core.i18n import N_
from reverse.core.uploads import save_images
from reverse.extensions import db
from reverse.intake.constants import (
    ON_HAND_STATES,
    CheckItem,
    Disposition,
    Grade,
    checklist_for,
)
from reverse.intake.dispositions import propose_disposition
from reverse.intake.models import Inspection, Receipt, ReceiptUnit
from reverse.resale.operations import create_from_inspection
from reverse.rmas.constants import AttachmentKind, RmaStatus
from reverse.rmas.models import Attachment, Rma
from reverse.rmas.operations import get_rma_for_update, move_rma

MAX_NOTES_CHARS = 2000
MAX_REASON_CHARS = 500

#: the staff-only timeline note of each decision (translated for each reader when shown)
DECISION_NOTES = {
    Disposition.RESTOCK: N_("Unit %(no)d: restock — one added to the stock of %(location)s."),
    Disposition.RESALE: N_("Unit %(no)d: resale — resale item #%(item)d, suggested %(price)s."),
    Disposition.REFURBISH: N_(
        "Unit %(no)d: refurbish, then resale — resale item #%(item)d, suggested %(price)s."
    ),
    Disposition.RETURN_TO_VENDOR: N_("Unit %(no)d: return to vendor."),
    Disposition.RECYCLE: N_("Unit %(no)d: recycle."),
    Disposition.DISPOSE: N_("Unit %(no)d: dispose."),
    Disposition.RETURN_TO_CUSTOMER: N_("Unit %(no)d: return to customer."),
}


class InspectionRefused(DomainError):
    """An inspection or decision the case, the unit or the input does not allow."""

    code = "inspection_refused"


class UnitNotFound(InspectionRefused):
    status = 404
    code = "unit_not_found"


class AlreadyDecided(ConcurrentChange):
    """The unit's disposition was decided (differently, or by someone else) already."""

    code = "disposition_already_decided"


# -- what a unit is --------------------------------------------------------------------------


def unit_category(unit: ReceiptUnit) -> Category | None:
    """The category of what actually arrived (its checklist, its rules); None when unknown."""
    return unit.variant.product.category if unit.variant is not None else None


def unit_reason(unit: ReceiptUnit) -> str | None:
    """Why the customer sent it back; an extra unit was asked for by no line."""
    return (unit.rma_line.reason or None) if unit.rma_line is not None else None


def unit_checklist(unit: ReceiptUnit) -> tuple[CheckItem, ...]:
    return checklist_for(unit_category(unit))


def propose_for(unit: ReceiptUnit, rma: Rma, grade: Grade) -> tuple[Disposition, int | None]:
    """The proposal for this unit at this grade, and the id of the rule that made it."""
    disposition, rule = propose_disposition(
        rma.type, unit_reason(unit), unit_category(unit), grade, unit_state=unit.state
    )
    return disposition, rule.id if rule is not None else None


def on_hand_units(rma_id: int) -> list[ReceiptUnit]:
    """The case's units that are physically here (everything but short units), in order."""
    stmt = (
        sa.select(ReceiptUnit)
        .where(ReceiptUnit.rma_id == rma_id, ReceiptUnit.state.in_(list(ON_HAND_STATES)))
        .order_by(ReceiptUnit.unit_no)
    )
    return list(db.session.scalars(stmt))


def _inspection_of(unit_id: int) -> Inspection | None:
    """Read fresh: after the case's lock, what a colleague committed meanwhile."""
    stmt = (
        sa.select(Inspection)
        .where(Inspection.unit_id == unit_id)
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(stmt)


def _decided(rma_id: int) -> dict[int, Disposition | None]:
    """Each inspected unit's decided disposition (None: not decided yet), by unit id."""
    stmt = sa.select(Inspection.unit_id, Inspection.disposition).where(Inspection.rma_id == rma_id)
    return {unit_id: disposition for unit_id, disposition in db.session.execute(stmt)}


def next_unit(rma_id: int, *, after: int | None = None) -> ReceiptUnit | None:
    """The next unit of the case still waiting for inspection or a decision: the first one
    after unit number `after`, else the first from the start."""
    decided = _decided(rma_id)
    waiting = [u for u in on_hand_units(rma_id) if decided.get(u.id) is None]
    if after is not None:
        later = [u for u in waiting if u.unit_no > after]
        if later:
            return later[0]
    return waiting[0] if waiting else None


# -- inspecting ------------------------------------------------------------------------------


def _locked_unit(unit_id: int) -> tuple[ReceiptUnit, Rma]:
    unit = db.session.get(ReceiptUnit, unit_id)
    if unit is None:
        raise UnitNotFound(_l("No such unit."))
    rma = get_rma_for_update(unit.rma_id)
    db.session.refresh(unit)
    return unit, rma


def _check_open(unit: ReceiptUnit, rma: Rma) -> None:
    if rma.status != RmaStatus.RECEIVED:
        raise IllegalTransition(
            _l(
                "%(n)s is not waiting for inspection: its units can no longer be inspected.",
                n=rma.display_number,
            ),
            status=rma.status.value,
        )
    if unit.state not in ON_HAND_STATES:
        raise InspectionRefused(
            _l(
                "Unit %(no)d is not here (marked short): there is nothing to inspect.",
                no=unit.unit_no,
            )
        )


def _clean_checklist(unit: ReceiptUnit, checklist: Mapping[str, object]) -> dict[str, bool]:
    """The answers in checklist order; every question answered yes or no, no other keys."""
    keys = [item.key for item in unit_checklist(unit)]
    unknown = sorted(set(checklist) - set(keys))
    if unknown:
        raise InspectionRefused(
            _l(
                "“%(keys)s” is not on the checklist of this item (%(allowed)s).",
                keys=", ".join(unknown),
                allowed=", ".join(keys),
            ),
            unknown=unknown,
        )
    missing = [key for key in keys if not isinstance(checklist.get(key), bool)]
    if missing:
        raise InspectionRefused(
            _l(
                "Answer every question of the checklist (missing: %(keys)s).",
                keys=", ".join(missing),
            ),
            missing=missing,
        )
    return {key: bool(checklist[key]) for key in keys}


def _attach_photos(
    unit: ReceiptUnit, photos: Iterable[IO[bytes] | FileStorage], actor: Actor
) -> list[Attachment]:
    """Store each photo (checked and cleaned by core.uploads); one already on the unit is
    not added twice."""
    stored = save_images(photos)
    have = set(
        db.session.scalars(sa.select(Attachment.stored_name).where(Attachment.unit_id == unit.id))
    )
    added = []
    for image in stored:
        if image.name in have:
            continue
        have.add(image.name)
        attachment = Attachment.of_image(
            image,
            kind=AttachmentKind.INSPECTION,
            rma_id=unit.rma_id,
            unit_id=unit.id,
            added_by=actor.label,
        )
        db.session.add(attachment)
        added.append(attachment)
    return added


def inspect_unit(
    unit_id: int,
    *,
    grade: Grade | str,
    checklist: Mapping[str, bool],
    notes: str,
    actor: Actor,
    photos: Iterable[IO[bytes] | FileStorage] = (),
) -> Inspection:
    """Grade a unit of a received case, answer its category's checklist, attach photos, and
    record the disposition the rules propose.

    One inspection per unit: the same answers again return it unchanged (photos already on
    the unit are not added twice); different answers re-grade it while its disposition is
    undecided, and are refused once it is decided.
    """
    unit, rma = _locked_unit(unit_id)
    _check_open(unit, rma)
    try:
        grade = Grade(grade)
    except ValueError:
        raise InspectionRefused(_l("Choose a grade: A, B, C or D.")) from None
    answers = _clean_checklist(unit, checklist)
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES_CHARS:
        raise InspectionRefused(_l("Notes: at most %(n)d characters.", n=MAX_NOTES_CHARS))

    inspection = _inspection_of(unit.id)
    same = inspection is not None and (
        inspection.grade == grade and inspection.checklist == answers and inspection.notes == notes
    )
    if inspection is not None and not same and inspection.disposition is not None:
        raise AlreadyDecided(
            _l(
                "The disposition of unit %(no)d is already decided: its inspection can no "
                "longer change.",
                no=unit.unit_no,
            )
        )
    added = _attach_photos(unit, photos, actor)
    if same:
        if added:
            rma.add_note(
                actor,
                N_("Unit %(no)d: %(n)d inspection photo(s) added."),
                msgid=True,
                params={"no": unit.unit_no, "n": len(added)},
            )
        db.session.flush()
        return inspection  # type: ignore[return-value]  # `same` implies an inspection

    proposed, rule_id = propose_for(unit, rma, grade)
    previous = inspection.grade if inspection is not None else None
    if inspection is None:
        inspection = Inspection(unit_id=unit.id, rma_id=rma.id)
        db.session.add(inspection)
    inspection.grade = grade
    inspection.checklist = answers
    inspection.notes = notes
    inspection.inspector_id = actor.user_id
    inspection.inspector_label = actor.label
    inspection.inspected_at = utcnow()
    inspection.proposed_disposition = proposed
    inspection.rule_id = rule_id
    params = {"no": unit.unit_no, "grade": grade.value, "n": len(added)}
    if previous is None:
        note = N_("Unit %(no)d inspected: grade %(grade)s, %(n)d photo(s).")
    else:
        note = N_("Unit %(no)d inspected again: grade %(old)s → %(grade)s, %(n)d photo(s) added.")
        params["old"] = previous.value
    rma.add_note(actor, note, msgid=True, params=params)
    db.session.flush()
    return inspection


# -- deciding --------------------------------------------------------------------------------


def decide_disposition(
    inspection_id: int,
    *,
    disposition: Disposition | str,
    actor: Actor,
    override_reason: str = "",
) -> Inspection:
    """Decide what happens to an inspected unit, and make it happen — once.

    Accepting the proposal needs no reason; anything else needs `override_reason`. Restock
    adds one to the stock of the unit's item where it was received; resale makes a draft
    resale item priced by grade; the other dispositions are recorded. The same decision again
    changes nothing; a different one after the first is refused. Deciding the last undecided
    unit that is here moves the case to inspected.
    """
    found = db.session.get(Inspection, inspection_id)
    if found is None:
        raise UnitNotFound(_l("No such inspection."))
    rma = get_rma_for_update(found.rma_id)
    inspection = db.session.scalar(
        sa.select(Inspection)
        .where(Inspection.id == inspection_id)
        .execution_options(populate_existing=True)
    )
    assert inspection is not None  # inspections are never deleted
    try:
        disposition = Disposition(disposition)
    except ValueError:
        raise InspectionRefused(_l("Choose a disposition from the list.")) from None
    unit = inspection.unit
    db.session.refresh(unit)
    if inspection.disposition == disposition:
        return inspection
    if inspection.disposition is not None:
        raise AlreadyDecided(
            _l(
                "Unit %(no)d already has its disposition; it cannot be changed.",
                no=unit.unit_no,
            ),
            disposition=inspection.disposition.value,
        )
    _check_open(unit, rma)
    reason = (override_reason or "").strip()
    overridden = disposition != inspection.proposed_disposition
    if overridden and not reason:
        raise InspectionRefused(
            _l("Give the reason for choosing something other than the proposal."),
            field="override_reason",
        )
    if len(reason) > MAX_REASON_CHARS:
        raise InspectionRefused(
            _l("The reason: at most %(n)d characters.", n=MAX_REASON_CHARS),
            field="override_reason",
        )

    params = _apply(disposition, inspection, unit, actor)
    inspection.disposition = disposition
    inspection.override_reason = reason if overridden else ""
    inspection.decided_by_label = actor.label
    inspection.decided_at = utcnow()
    rma.add_note(actor, DECISION_NOTES[disposition], msgid=True, params=params)
    if overridden:
        rma.add_note(
            actor,
            N_("Unit %(no)d: the proposal was overridden. Reason: %(reason)s"),
            msgid=True,
            params={"no": unit.unit_no, "reason": reason},
        )
    db.session.flush()
    finish_if_complete(rma, actor)
    return inspection


def _apply(
    disposition: Disposition, inspection: Inspection, unit: ReceiptUnit, actor: Actor
) -> dict:
    """Carry out what the disposition means for stock and resale; the note's parameters."""
    params: dict[str, object] = {"no": unit.unit_no}
    if disposition not in (Disposition.RESTOCK, Disposition.RESALE, Disposition.REFURBISH):
        return params
    variant = unit.variant
    if variant is None:
        raise InspectionRefused(
            _l(
                "Unit %(no)d is not an item of our catalogue: it cannot go back into stock or "
                "resale. Choose another disposition.",
                no=unit.unit_no,
            ),
            field="disposition",
        )
    receipt = db.session.get(Receipt, unit.receipt_id)
    if disposition == Disposition.RESTOCK:
        location_id = receipt.location_id if receipt else None
        if location_id is None:
            raise InspectionRefused(
                _l(
                    "This parcel was received at no location, so there is no stock to add "
                    "unit %(no)d to. Choose another disposition.",
                    no=unit.unit_no,
                ),
                field="disposition",
            )
        add_to_stock(variant.id, location_id)
        location = db.session.get(Location, location_id)
        params["location"] = location.code if location is not None else str(location_id)
        return params
    item = create_from_inspection(
        unit_id=unit.id,
        variant=variant,
        location_id=receipt.location_id if receipt else None,
        grade=inspection.grade,
        disposition=disposition,
        notes=inspection.notes,
        actor=actor,
    )
    params.update(item=item.id, price=f"¥{item.suggested_price_yen:,}")
    return params


def add_to_stock(variant_id: int, location_id: int, quantity: int = 1) -> None:
    """Add to the on-hand stock of a variant at a location in one statement (an upsert), so
    two units restocked at once both count and a missing row is created once."""
    if is_postgresql():
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = StockLevel.__table__
    stmt = insert(table).values(
        variant_id=variant_id, location_id=location_id, on_hand=quantity, reserved=0
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.variant_id, table.c.location_id],
        set_={"on_hand": table.c.on_hand + quantity},
    )
    db.session.flush()
    db.session.execute(stmt)
    # A level already loaded in this session would show the old count.
    for obj in list(db.session.identity_map.values()):
        if (
            isinstance(obj, StockLevel)
            and obj.variant_id == variant_id
            and obj.location_id == location_id
        ):
            db.session.expire(obj)


# -- finishing -------------------------------------------------------------------------------


def finish_if_complete(rma: Rma, actor: Actor) -> bool:
    """Move a received case to inspected once every unit that is here has its disposition
    (short units need none), and tell resolution the inspection release point was reached.
    Called after each decision; also safe to call after units were marked short. Returns
    whether the case moved."""
    rma = get_rma_for_update(rma.id)
    if rma.status != RmaStatus.RECEIVED:
        return False
    has_units = db.session.scalar(sa.select(sa.exists().where(ReceiptUnit.rma_id == rma.id)))
    if not has_units:
        return False
    decided = _decided(rma.id)
    if any(decided.get(unit.id) is None for unit in on_hand_units(rma.id)):
        return False
    from reverse.resolution.constants import RefundRelease
    from reverse.resolution.operations import on_release_point  # resolution builds on intake

    event = move_rma(rma, RmaStatus.INSPECTED, actor)
    if event is None:
        return False
    on_release_point(rma, RefundRelease.INSPECTION, actor)
    return True
