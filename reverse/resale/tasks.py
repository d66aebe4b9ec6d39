"""Jobs of the pre-owned shop: telling a customer about their reservation."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from reverse.extensions import db
from reverse.notifications.mail import build_message, send
from reverse.notifications.steps import CUSTOMER_MAILS
from reverse.resale.models import ResaleReservation


def reservation_link(reservation: ResaleReservation) -> str:
    from reverse.resale.operations import reservation_token

    base = current_app.config["PUBLIC_BASE_URL"]
    return f"{base}/preowned/reservations/{reservation_token(reservation)}"


def reservation_mail(reservation_id: int, what: str) -> None:
    """Mail the customer what happened to their reservation, in their language, with the
    private link to it. The Message-ID is stable per reservation and step."""
    reservation = db.session.get(ResaleReservation, reservation_id)
    mail = CUSTOMER_MAILS.get(f"reservation.{what}")
    if reservation is None or mail is None or not reservation.customer.email:
        return
    customer = reservation.customer
    with force_locale(customer.locale):
        body = render_template(
            mail.template,
            reservation=reservation,
            item=reservation.item,
            what=what,
            link=reservation_link(reservation),
            locale=customer.locale,
        )
        message = build_message(
            customer.email,
            _(mail.subject, code=reservation.item.code),
            body,
            message_id=f"<resale-reservation-{reservation.id}-{what}@reverse.local>",
        )
    send(message)
