"""Every step a customer is told about by mail, in one table: its template and subject, and
for a status mail what happens next. The mail jobs read it; tests/notifications walks it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from reverse.core.i18n import N_
from reverse.rmas.constants import RmaStatus

S = RmaStatus


@dataclass(frozen=True)
class MailStep:
    #: under templates/mail/
    template: str
    #: msgid, formatted with number= (a case) or code= (a pre-owned item)
    subject: str
    #: what the customer reads after the status text: what happens next (status mails)
    next_step: Any = None


STATUS = "mail/rma_status_changed.txt"
UPDATE = N_("Update on your request %(number)s")
QUOTE = N_("Your repair quote for request %(number)s")
SETTLED = N_("Your request %(number)s is settled")
RESERVATION = "mail/resale_reservation.txt"
#: what the customer reads last, whatever happened (a settled case's outcome is in its mail)
THANKS = _l("Thank you. Nothing more is needed from you.")

CUSTOMER_MAILS: dict[str, MailStep] = {
    # -- a case: filed (web, call centre, store counter), then one mail per status it moves to
    "created": MailStep("mail/rma_created.txt", N_("We received your request %(number)s")),
    "status.accepted": MailStep(
        STATUS,
        UPDATE,
        _l("We send it to our repair centre and write again when our technician has seen it."),
    ),
    "status.approved": MailStep(
        STATUS, UPDATE, _l("We write again shortly to tell you how to send us the item.")
    ),
    "status.rejected": MailStep(
        STATUS,
        UPDATE,
        _l("Questions about this? Write to us on your page (link below)."),
    ),
    # what to do (label, 着払い address, store) is in the template, by return method
    "status.awaiting_item": MailStep(STATUS, UPDATE),
    "status.in_transit": MailStep(STATUS, UPDATE, _l("We write again as soon as it has arrived.")),
    "status.received": MailStep(
        STATUS, UPDATE, _l("We check it next and write again when it is done.")
    ),
    "status.inspected": MailStep(
        STATUS, UPDATE, _l("We are deciding how to settle your request and write again soon.")
    ),
    "status.resolved": MailStep(STATUS, UPDATE, _l("The outcome is shown on your page.")),
    "status.at_repair_centre": MailStep(
        STATUS, UPDATE, _l("Our technician looks at it next; we write again with what we find.")
    ),
    "status.diagnosed": MailStep(
        STATUS,
        UPDATE,
        _l("We write again with a quote, or when the work starts if the repair is free."),
    ),
    "status.quoted": MailStep(STATUS, QUOTE),
    "repair.quote_revised": MailStep(STATUS, QUOTE),
    "status.quote_approved": MailStep(
        STATUS, UPDATE, _l("We start the repair and write again when the item is ready.")
    ),
    "status.quote_declined": MailStep(STATUS, UPDATE),
    "status.in_repair": MailStep(STATUS, UPDATE, _l("We write again when the item is ready.")),
    "status.quality_check": MailStep(STATUS, UPDATE, _l("We write again when the item is ready.")),
    "status.returning": MailStep(STATUS, UPDATE),
    # a repair coming back by parcel; one collected at a store has its own subject
    "status.ready": MailStep(STATUS, N_("Your item is ready (%(number)s)")),
    "repair.ready_for_pickup": MailStep(STATUS, N_("Your item is ready for pickup (%(number)s)")),
    "status.handed_back": MailStep(STATUS, UPDATE, THANKS),
    "status.closed": MailStep(STATUS, UPDATE, THANKS),
    "status.cancelled": MailStep(
        STATUS, UPDATE, _l("Nothing more is needed from you. Please do not send the item.")
    ),
    # also what the daily label expiry tells (shipping expire-labels)
    "status.expired": MailStep(
        STATUS,
        UPDATE,
        _l(
            "The return label and slip can no longer be used. If you still want to send the "
            "item back, please start a new request."
        ),
    ),
    # -- sending the item: the prepaid label, once its PDF is rendered
    "label.ready": MailStep("mail/label_ready.txt", N_("Your return label for request %(number)s")),
    # -- settling a return or exchange
    "refund.released": MailStep(
        "mail/refund_released.txt", N_("Your refund for request %(number)s")
    ),
    "credit.released": MailStep(
        "mail/refund_released.txt", N_("Your store credit for request %(number)s")
    ),
    "resolved.exchange": MailStep("mail/case_resolved.txt", SETTLED),
    "resolved.rejected": MailStep("mail/case_resolved.txt", SETTLED),
    # -- "find my request"
    "access_link": MailStep("mail/access_link.txt", N_("Your link to request %(number)s")),
    # -- a pre-owned item reserved in the shop
    "reservation.confirmed": MailStep(
        RESERVATION, N_("Your reservation of pre-owned item %(code)s")
    ),
    "reservation.ready": MailStep(RESERVATION, N_("Pre-owned item %(code)s is ready for pickup")),
    "reservation.cancelled": MailStep(
        RESERVATION, N_("Your reservation of pre-owned item %(code)s is cancelled")
    ),
    "reservation.expired": MailStep(
        RESERVATION, N_("Your reservation of pre-owned item %(code)s has ended")
    ),
}


def status_step(status: RmaStatus | None, *, pickup: bool = False) -> str:
    """The step a status event tells: a repair's revised quote is an event with no status."""
    if status is None:
        return "repair.quote_revised"
    if status == S.READY and pickup:
        return "repair.ready_for_pickup"
    return f"status.{status.value}"
