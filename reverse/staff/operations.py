"""State changes staff make that are not about one existing case: filing one for a customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reverse.core.actors import Actor
from reverse.portal.operations import new_draft, submit_draft, update_draft
from reverse.rmas.constants import RmaSource
from reverse.rmas.models import Rma


def file_for_customer(
    data: dict[str, Any],
    actor: Actor,
    *,
    now: datetime | None = None,
    source: RmaSource = RmaSource.CALL_CENTRE,
) -> tuple[Rma, str]:
    """Open a case from the call centre (or, with `source`, the API) with the customer
    form's own rules.

    `data` has the shape of a portal draft's data. The draft lives only inside this
    transaction: `submit_draft` turns it into the case and deletes it. Raises PortalError when
    the policy refuses (the caller rolls back, so nothing is written).
    """
    draft, _key = new_draft()
    update_draft(draft, **data)
    return submit_draft(draft, actor, source=source, now=now)
