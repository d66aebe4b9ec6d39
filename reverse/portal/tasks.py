"""Jobs of the customer pages."""

from __future__ import annotations

from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.rmas.models import Rma
from reverse.rmas.tasks import mail_customer


def send_access_link(rma_id: int, request_key: str = "") -> None:
    """ "Find my request": mail a fresh private link to the case. `request_key` names the
    request, so a retried job sends the same mail (Message-ID) and each request its own."""
    rma = db.session.get(Rma, rma_id)
    if rma is None:
        return
    key = request_key or f"{utcnow():%Y%m%d%H%M%S%f}"
    mail_customer(rma, "access_link", f"rma-{rma.id}-link-{key}")
