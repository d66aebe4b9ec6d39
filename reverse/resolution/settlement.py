"""The payment system's side of a refund: listing what it must pay, and marking a released
refund settled once it has paid (with its reference, recorded on the case's timeline)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.core.errors import ConcurrentChange, IllegalTransition
from reverse.core.i18n import N_
from reverse.extensions import db
from reverse.resolution.constants import RefundState
from reverse.resolution.models import Refund
from reverse.rmas.models import EventKind, RmaEvent
from reverse.rmas.operations import get_rma_for_update

#: the key of the settled event's data that names the refund
SETTLED_KEY = "refund_settled"


class AlreadySettled(ConcurrentChange):
    code = "already_settled"


def refund_page(
    *, state: RefundState | None, since: datetime | None, after_id: int | None, limit: int
) -> tuple[list[Refund], bool]:
    """Up to `limit` refunds in id order after `after_id`: in `state`, and created, released
    or settled at or after `since`; and whether more follow."""
    stmt = sa.select(Refund).options(joinedload(Refund.rma))
    if state is not None:
        stmt = stmt.where(Refund.state == state)
    if since is not None:
        stmt = stmt.where(
            sa.or_(
                Refund.created_at >= since,
                Refund.released_at >= since,
                Refund.settled_at >= since,
            )
        )
    if after_id is not None:
        stmt = stmt.where(Refund.id > after_id)
    found = list(db.session.scalars(stmt.order_by(Refund.id).limit(limit + 1)))
    return found[:limit], len(found) > limit


def settlement_reference(refund: Refund) -> str | None:
    """The payment system's reference of a settled refund (kept on the case's timeline)."""
    if refund.state != RefundState.SETTLED:
        return None
    for data in db.session.scalars(
        sa.select(RmaEvent.data)
        .where(RmaEvent.rma_id == refund.rma_id, RmaEvent.kind == EventKind.NOTE)
        .order_by(RmaEvent.id.desc())
    ):
        if data and data.get(SETTLED_KEY) == refund.id:
            return str(data.get("reference", ""))
    return None


def settle_refund(refund: Refund, reference: str, actor: Actor) -> bool:
    """The payment system paid a released refund: RELEASED → SETTLED once, with its reference
    on the case's timeline. The same settlement again changes nothing and returns False; a
    refund not yet released, or settled under another reference, is refused."""
    rma = get_rma_for_update(refund.rma_id)
    refund = db.session.execute(
        sa.select(Refund).where(Refund.id == refund.id).execution_options(populate_existing=True)
    ).scalar_one()
    if refund.state == RefundState.SETTLED:
        if settlement_reference(refund) == reference:
            return False
        raise AlreadySettled(
            _l("This refund was already settled under another reference."),
            reference=[_l("Already settled under another reference.")],
        )
    if refund.state != RefundState.RELEASED:
        raise IllegalTransition(
            _l("Only a refund released to the payment system can be settled."),
            from_state=refund.state.value,
            to_state=RefundState.SETTLED.value,
        )
    refund.state = RefundState.SETTLED
    refund.settled_at = utcnow()
    # Staff-only, with the reference in its data (the model offers no public method for a
    # NOTE with data of its own).
    rma._record(
        EventKind.NOTE,
        None,
        None,
        actor,
        note=N_("Refund of ¥%(amount)s settled by the payment system (reference %(reference)s)."),
        public=False,
        data={
            "i18n": True,
            "params": {"amount": f"{refund.amount_yen:,}", "reference": reference},
            SETTLED_KEY: refund.id,
            "reference": reference,
        },
    )
    db.session.flush()
    return True
