"""Moving a case to a named status for another system: through the operation that owns the
step where a plain move would skip what the step means (a parcel received, a proof decided,
a case settled, a quote answered), through `move_rma` elsewhere. Flushes; never commits.

Steps that need what only a person at the centre has — an inspection unit by unit, a
diagnosis, a quote's lines, the hand-over at a counter — are refused (NeedsStaff).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from reverse.core.actors import Actor
from reverse.core.errors import DomainError, IllegalTransition
from reverse.extensions import db
from reverse.resolution.constants import Resolution
from reverse.rmas.constants import STATUS_LABELS, ProofStatus, RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import get_rma_for_update, move_rma, verify_proof

S = RmaStatus

#: steps only staff can take, with their tools; the API refuses them
STAFF_STEPS = frozenset({S.ACCEPTED, S.INSPECTED, S.DIAGNOSED, S.QUOTED, S.HANDED_BACK})


class NeedsStaff(DomainError):
    status = 409
    code = "needs_staff"


class NoteRequired(DomainError):
    code = "validation_error"


def take_step(
    rma: Rma,
    to: RmaStatus,
    actor: Actor,
    *,
    note: str = "",
    resolution: Resolution | None = None,
) -> bool:
    """Move `rma` to `to`; False when it already is there (nothing changes). Raises
    IllegalTransition (with from_status / to_status) for a move its lifecycle does not allow,
    NeedsStaff for a step only staff can take."""
    rma = get_rma_for_update(rma.id)
    source = rma.status
    if source == to:
        return False
    if to not in rma.next_statuses():
        raise IllegalTransition(
            _l(
                "This request cannot move from “%(source)s” to “%(target)s”.",
                source=STATUS_LABELS[source],
                target=STATUS_LABELS[to],
            ),
            from_status=source.value,
            to_status=to.value,
        )
    if to in STAFF_STEPS or (to == S.READY and source == S.RETURNING):
        raise NeedsStaff(
            _l(
                "“%(target)s” is a step staff take with their own tools; it cannot be set"
                " through the API.",
                target=STATUS_LABELS[to],
            ),
            from_status=source.value,
            to_status=to.value,
        )
    _step(rma, source, to, actor, note, resolution)
    db.session.flush()
    if rma.status == source:
        raise IllegalTransition(
            _l("This request could not move on."), from_status=source.value, to_status=to.value
        )
    return True


def _step(
    rma: Rma,
    source: RmaStatus,
    to: RmaStatus,
    actor: Actor,
    note: str,
    resolution: Resolution | None,
) -> None:
    from reverse.intake.operations import receive_parcel
    from reverse.repairs import operations as repairs
    from reverse.resolution.operations import resolve

    pending_proof = rma.proof_status == ProofStatus.PENDING
    if to == S.REJECTED:
        if not note:
            raise NoteRequired(
                _l("Give the reason the customer will read."), note=[_l("Required.")]
            )
        if pending_proof:
            verify_proof(rma, False, note, actor)
        else:
            rma.decision_reason = note
            move_rma(rma, to, actor, note=note)
    elif to in (S.APPROVED, S.AWAITING_ITEM) and pending_proof:
        verify_proof(rma, True, note, actor)
    elif to == S.RECEIVED:
        receive_parcel(rma.number, actor, location_id=rma.location_id)
    elif to == S.AT_REPAIR_CENTRE:
        repairs.receive_at_centre(rma.number, actor)
    elif to == S.RESOLVED:
        resolve(rma, resolution or _default_resolution(rma), actor, reason=note)
    elif to in (S.QUOTE_APPROVED, S.QUOTE_DECLINED):
        quote = repairs.repair_of(rma).open_quote
        if quote is None:
            raise NeedsStaff(_l("No quote waits for an answer."))
        repairs.answer_quote(rma, quote.id, to == S.QUOTE_APPROVED, actor)
    elif to == S.IN_REPAIR and source == S.QUALITY_CHECK:
        repairs.fail_quality_check(rma, actor, note)
    elif to == S.IN_REPAIR:
        repairs.start_repair(rma, actor)
    elif to == S.QUALITY_CHECK:
        repairs.ready_for_check(rma, actor)
    elif to in (S.READY, S.RETURNING) and source == S.QUALITY_CHECK:
        repairs.pass_quality_check(rma, actor, note=note)
    elif to in (S.READY, S.RETURNING):
        repairs.send_back(rma, actor, reason=note)
    else:
        move_rma(rma, to, actor, note=note)


def _default_resolution(rma: Rma) -> Resolution:
    """How the customer asked to be settled: the exchange, or money back / store credit."""
    if rma.type == RmaType.EXCHANGE:
        return Resolution.EXCHANGE
    return rma.resolution or Resolution.REFUND
