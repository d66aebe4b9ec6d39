"""Jobs about RMAs: telling the customer what happened to their case."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _

from reverse.extensions import db
from reverse.notifications.mail import build_message, send
from reverse.rmas.constants import CUSTOMER_STATUS_TEXT, TYPE_LABELS
from reverse.rmas.models import Rma, RmaEvent


def _mail_customer(rma: Rma, key: str, subject: str, lines: list[str]) -> None:
    if not rma.customer.email:
        return
    body = "\n\n".join([*lines, _("Reverse customer service")])
    send(build_message(rma.customer.email, subject, body, message_id=f"<{key}@reverse.local>"))


def rma_created(rma_id: int) -> None:
    rma = db.session.get(Rma, rma_id)
    if rma is None:
        return
    with force_locale(rma.customer.locale):
        _mail_customer(
            rma,
            f"rma-{rma.id}-created",
            _("We received your request %(number)s", number=rma.display_number),
            [
                _("Thank you. We received your %(type)s request.", type=TYPE_LABELS[rma.type]),
                _("Request number: %(number)s", number=rma.display_number),
                str(CUSTOMER_STATUS_TEXT[rma.status]),
            ],
        )


def rma_status_changed(rma_id: int, event_id: int) -> None:
    event = db.session.get(RmaEvent, event_id)
    if event is None or event.rma_id != rma_id or not event.public or event.to_status is None:
        return
    rma = event.rma
    with force_locale(rma.customer.locale):
        _mail_customer(
            rma,
            f"rma-{rma.id}-event-{event.id}",
            _("Update on your request %(number)s", number=rma.display_number),
            [
                _("Request number: %(number)s", number=rma.display_number),
                str(CUSTOMER_STATUS_TEXT[event.to_status]),
                _(
                    "Updated at %(time)s",
                    time=event.created_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                ),
            ],
        )
