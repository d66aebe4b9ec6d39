"""Jobs about RMAs: telling the customer what happened to their case, with a private link."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from reverse.core.i18n import N_
from reverse.core.templating import local_datetime
from reverse.extensions import db
from reverse.notifications.mail import build_message, send
from reverse.rmas.constants import CUSTOMER_STATUS_TEXT, TYPE_LABELS
from reverse.rmas.models import Rma, RmaEvent


def status_link(rma: Rma) -> str:
    """A fresh private link; the token exists only in the mail (its hash is stored)."""
    from reverse.portal.operations import new_access_link

    token = new_access_link(rma)
    return f"{current_app.config['PUBLIC_BASE_URL']}/r/{token}"


def mail_customer(rma: Rma, key: str, subject: str, template: str, **context: object) -> None:
    """Mail the customer in their language. `key` makes the Message-ID stable, so a retried
    job is recognisably the same mail."""
    if not rma.customer.email:
        return
    with force_locale(rma.customer.locale):
        body = render_template(
            template,
            rma=rma,
            link=status_link(rma),
            type_label=TYPE_LABELS[rma.type],
            status_text=CUSTOMER_STATUS_TEXT[rma.status],
            **context,
        )
        message = build_message(
            rma.customer.email,
            _(subject, number=rma.display_number),
            body,
            message_id=f"<{key}@reverse.local>",
        )
    send(message)


def rma_created(rma_id: int) -> None:
    rma = db.session.get(Rma, rma_id)
    if rma is None:
        return
    mail_customer(
        rma,
        f"rma-{rma.id}-created",
        N_("We received your request %(number)s"),
        "mail/rma_created.txt",
    )


def rma_status_changed(rma_id: int, event_id: int) -> None:
    event = db.session.get(RmaEvent, event_id)
    if event is None or event.rma_id != rma_id or not event.public or event.to_status is None:
        return
    rma = event.rma
    mail_customer(
        rma,
        f"rma-{rma.id}-event-{event.id}",
        N_("Update on your request %(number)s"),
        "mail/rma_status_changed.txt",
        event=event,
        event_text=CUSTOMER_STATUS_TEXT[event.to_status],
        event_time=local_datetime(event.created_at),
    )
