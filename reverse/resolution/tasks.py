"""Jobs of settling a case: telling the customer about their refund, credit or outcome."""

from __future__ import annotations

from reverse.extensions import db
from reverse.resolution.constants import RefundKind, Resolution
from reverse.resolution.models import Refund
from reverse.resolution.operations import refund_of
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
        "credit.released" if credit else "refund.released",
        f"rma-{refund.rma_id}-refund-{refund.id}",
        refund=refund,
        credit=credit,
    )


def case_resolved(rma_id: int) -> None:
    """Mail the outcome of an exchange (the replacement's parcel, and the refund of a price
    difference) or a rejection (the reason and the parcel bringing the item back); a return's
    refund has its own mail."""
    from reverse.resolution.summary import customer_outcome

    rma = db.session.get(Rma, rma_id)
    if rma is None or rma.resolution not in (Resolution.EXCHANGE, Resolution.REJECTED):
        return
    mail_customer(
        rma,
        f"resolved.{rma.resolution.value}",
        f"rma-{rma.id}-resolved",
        outcome=customer_outcome(rma),
        refund=refund_of(rma),
    )
