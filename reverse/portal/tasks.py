"""Jobs of the customer pages."""

from __future__ import annotations

from reverse.core.db import utcnow
from reverse.core.i18n import N_
from reverse.extensions import db
from reverse.rmas.models import Rma
from reverse.rmas.tasks import mail_customer


def send_access_link(rma_id: int) -> None:
    """ "Find my request": mail a fresh private link to the case."""
    rma = db.session.get(Rma, rma_id)
    if rma is None:
        return
    mail_customer(
        rma,
        f"rma-{rma.id}-link-{utcnow():%Y%m%d%H%M%S%f}",
        N_("Your link to request %(number)s"),
        "mail/access_link.txt",
    )
