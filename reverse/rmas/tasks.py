"""Jobs about RMAs: telling the customer what happened to their case, with a private link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from reverse.core.templating import local_datetime
from reverse.extensions import db
from reverse.notifications.mail import build_message, send
from reverse.notifications.steps import CUSTOMER_MAILS, status_step
from reverse.repairs.constants import Handback
from reverse.resolution.operations import return_to_customer_shipment
from reverse.rmas.constants import CUSTOMER_STATUS_TEXT, TYPE_LABELS, RmaType
from reverse.rmas.models import Rma, RmaEvent
from reverse.shipping.constants import CARRIER_LABELS
from reverse.shipping.models import Shipment
from reverse.shipping.operations import return_shipment


def status_link(rma: Rma) -> str:
    """A fresh private link; the token exists only in the mail (its hash is stored)."""
    from reverse.portal.operations import new_access_link

    token = new_access_link(rma)
    return f"{current_app.config['PUBLIC_BASE_URL']}/r/{token}"


def mail_customer(rma: Rma, step: str, key: str, **context: object) -> None:
    """Mail the customer the `step` of notifications.steps.CUSTOMER_MAILS in their language.
    `key` makes the Message-ID stable, so a retried job is recognisably the same mail."""
    if not rma.customer.email:
        return
    mail = CUSTOMER_MAILS[step]
    with force_locale(rma.customer.locale):
        body = render_template(
            mail.template,
            rma=rma,
            link=status_link(rma),
            type_label=TYPE_LABELS[rma.type],
            status_text=CUSTOMER_STATUS_TEXT[rma.status],
            next_step=mail.next_step,
            locale=rma.customer.locale or "ja",
            **context,
        )
        message = build_message(
            rma.customer.email,
            _(mail.subject, number=rma.display_number),
            body,
            message_id=f"<{key}@reverse.local>",
        )
    send(message)


def rma_created(rma_id: int) -> None:
    rma = db.session.get(Rma, rma_id)
    if rma is None:
        return
    mail_customer(rma, "created", f"rma-{rma.id}-created", return_label=return_shipment(rma))


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
        status_step(event.to_status, pickup=repair.get("pickup") is not None),
        f"rma-{rma.id}-event-{event.id}",
        event=event,
        event_text=event_text,
        event_time=local_datetime(event.created_at),
        return_label=return_shipment(rma),
        **repair,
    )


def label_ready(shipment_id: int) -> None:
    """Mail the customer that their prepaid return label can be downloaded (its PDF exists)."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.rma is None or not shipment.label_path:
        return
    days = current_app.config["LABEL_EXPIRY_DAYS"]
    mail_customer(
        shipment.rma,
        "label.ready",
        f"shipment-{shipment.id}-label",
        shipment=shipment,
        carrier_labels=CARRIER_LABELS,
        # the day `shipping expire-labels` would expire it (counted from when it was issued)
        use_by=shipment.created_at + timedelta(days=days),
    )


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
    }
