"""One mail per case per transaction: when one change moves a case several steps (inspected,
then settled and refunded), the customer gets one mail about where the case ended up."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from reverse.extensions import db
from reverse.jobs.constants import QueueName
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import enqueue

_SLOT = "reverse.notifications.case_mail"

#: A later mail about a case replaces the earlier one of the same transaction when it ranks
#: as high or higher: the last status move < the refund < the settled outcome < the filing
#: confirmation (which already tells where the new case stands).
RANK = {
    "reverse.rmas.tasks:rma_status_changed": 1,
    "reverse.resolution.tasks:refund_released": 2,
    "reverse.resolution.tasks:case_resolved": 3,
    "reverse.rmas.tasks:rma_created": 4,
}


def enqueue_case_mail(rma_id: int, task: str, *args: Any) -> OutboxMessage | None:
    """Record the mail job `task(*args)` about case `rma_id` (see RANK); returns the outbox
    row that will send this transaction's mail about the case, or None when an earlier mail
    of the transaction outranks this one."""
    slot: dict[int, OutboxMessage] = db.session.info.setdefault(_SLOT, {})
    current = slot.get(rma_id)
    if current is not None and not sa.inspect(current).persistent:
        current = None  # made inside a savepoint that was rolled back
    if current is None:
        slot[rma_id] = enqueue(task, *args, queue=QueueName.NOTIFICATIONS)
        return slot[rma_id]
    if RANK[task] < RANK[current.task]:
        return None
    # The row is this transaction's own and not yet handed over: point it at the newer mail.
    current.task = task
    current.args = list(args)
    db.session.flush()
    return current


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    # Both also fire when a savepoint ends, inside the transaction the slot belongs to.
    if not session.in_nested_transaction():
        session.info.pop(_SLOT, None)
