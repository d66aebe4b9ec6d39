"""Jobs of settling a case: telling the customer about their refund, credit or outcome."""

from __future__ import annotations

from reverse.core.i18n import N_
from reverse.extensions import db
from reverse.resolution.constants import RefundKind, Resolution
from reverse.resolution.models import Refund
from reverse.rmas.models import Rma
from reverse.rmas.tasks import mail_customer


def refund_released(refund_id: int) -> None:
    """Mail the customer the amount of the refund or store credit that was released."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        return
    credit = refund.kind == RefundKind.STORE_CREDIT
    mail_customer(
        refund.rma,
        f"rma-{refund.rma_id}-refund-{refund.id}",
        N_("Your store credit for request %(number)s")
        if credit
        else N_("Your refund for request %(number)s"),
        "mail/refund_released.txt",
        refund=refund,
        credit=credit,
    )


def case_resolved(rma_id: int) -> None:
    """Mail the outcome of an exchange (the replacement's parcel) or a rejection (the
    reason and the parcel bringing the item back); refunds have their own mail."""
    from reverse.resolution.summary import customer_outcome

    rma = db.session.get(Rma, rma_id)
    if rma is None or rma.resolution not in (Resolution.EXCHANGE, Resolution.REJECTED):
        return
    mail_customer(
        rma,
        f"rma-{rma.id}-resolved",
        N_("Your request %(number)s is settled"),
        "mail/case_resolved.txt",
        outcome=customer_outcome(rma),
    )
