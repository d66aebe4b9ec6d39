"""One mail per case per transaction: several moves in one change tell the customer where the
case ended up, once; moves in separate changes are told one by one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import move_rma
from tests.conftest import read_mails

STAFF = Actor.system("test")


def submitted(create_rma) -> Rma:
    """A submitted return; its filing mail is left unsent (a new session forgets the job)."""
    rma = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    db.session.remove()
    return rma


@pytest.mark.databases
def test_two_moves_in_one_change_send_one_mail_about_the_last(ctx, create_rma, mail_folder):
    rma = submitted(create_rma)
    move_rma(db.session.get(Rma, rma.id), RmaStatus.APPROVED, STAFF)
    move_rma(db.session.get(Rma, rma.id), RmaStatus.AWAITING_ITEM, STAFF)
    commit()

    [(_to, _subject, body)] = read_mails(mail_folder)
    assert "お品物をご返送いただくか、店舗へお持ちください。" in body  # awaiting the item
    assert "お申し込みを承りました。" not in body  # not the approval before it
    jobs = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.task.like("%rma_status_changed"))
    ).all()
    assert len(jobs) == 1


def test_moves_in_separate_changes_each_send_their_mail(ctx, create_rma, mail_folder):
    rma = submitted(create_rma)
    for status in (RmaStatus.APPROVED, RmaStatus.AWAITING_ITEM):
        move_rma(db.session.get(Rma, rma.id), status, STAFF)
        commit()

    assert len(read_mails(mail_folder)) == 2


def test_a_move_after_a_rolled_back_change_is_mailed(ctx, create_rma, mail_folder):
    rma = submitted(create_rma)
    move_rma(db.session.get(Rma, rma.id), RmaStatus.APPROVED, STAFF)
    db.session.rollback()
    move_rma(db.session.get(Rma, rma.id), RmaStatus.REJECTED, STAFF)
    commit()

    [(_to, _subject, body)] = read_mails(mail_folder)
    assert "今回のお申し込みはお受けできませんでした。" in body
