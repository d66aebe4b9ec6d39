"""Jobs about RMAs: telling the customer what happened to their case, with a private link."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from reverse.core.i18n import N_
from reverse.core.templating import local_datetime
from reverse.extensions import db
from reverse.notifications.mail import build_message, send
from reverse.repairs.constants import Handback
from reverse.resolution.operations import return_to_customer_shipment
from reverse.rmas.constants import CUSTOMER_STATUS_TEXT, TYPE_LABELS, RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaEvent
from reverse.shipping.constants import CARRIER_LABELS


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
    if event is None or event.rma_id != rma_id or not event.public:
        return
    rma = event.rma
    repair = repair_mail_context(rma)
    if event.to_status is not None:
        event_text: Any = CUSTOMER_STATUS_TEXT[event.to_status]
    elif repair:
        # A repair's revised quote is the one note mailed on its own (repairs.send_quote).
        data = event.data or {}
        event_text = _l(event.note, **data.get("params", {})) if data.get("i18n") else event.note
    else:
        return
    mail_customer(
        rma,
        f"rma-{rma.id}-event-{event.id}",
        _subject(event, repair),
        "mail/rma_status_changed.txt",
        event=event,
        event_text=event_text,
        event_time=local_datetime(event.created_at),
        **repair,
    )


def _subject(event: RmaEvent, repair: dict[str, Any]) -> str:
    if repair and event.to_status in (None, RmaStatus.QUOTED):
        return N_("Your repair quote for request %(number)s")
    if repair.get("pickup") is not None and event.to_status == RmaStatus.READY:
        return N_("Your item is ready for pickup (%(number)s)")
    return N_("Update on your request %(number)s")


def repair_mail_context(rma: Rma) -> dict[str, Any]:
    """What a repair's status mail adds (templates/mail/_repair_status.txt): the quote, the
    pickup store or the parcel home. Empty for other cases, whose mails stay as they are."""
    repair = rma.repair if rma.type == RmaType.REPAIR else None
    if repair is None:
        return {}
    pickup = repair.pickup_location if repair.handback == Handback.STORE_PICKUP else None
    return {
        "repair": repair,
        "quote": repair.open_quote or repair.current_quote,
        "pickup": pickup,
        "home_parcel": return_to_customer_shipment(rma) if pickup is None else None,
        "carrier_labels": CARRIER_LABELS,
        "locale": rma.customer.locale or "ja",
    }
