"""Mail through a real SMTP server process (aiosmtpd, see smtp_server.py): what arrives is a
proper mail (From, To, an encoded Japanese subject, a UTF-8 body, a Message-ID that a retried
job keeps), a server that is down leaves the job to be retried with backoff and it is sent
once when the server is back, and a configured user name logs in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.core.actors import Actor
from reverse.core.db import commit, utcnow
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import relay_once
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import RmaData, create_rma, move_rma
from reverse.rmas.tasks import rma_created
from tests.conftest import csrf_token

CREATED_JA = "このたびはお申し込みいただき、誠にありがとうございます。"


def submit(create_channel, create_customer, locale: str = "ja") -> Rma:
    """A customer files a return, as the request form does (the job runs on commit)."""
    rma, _token = create_rma(
        RmaData(
            type=RmaType.RETURN,
            channel=db.session.merge(create_channel()),
            customer=db.session.merge(
                create_customer(email="hanako@example.jp", name="山田 花子", locale=locale)
            ),
        ),
        Actor.customer(),
    )
    commit()
    return rma


def headers_of(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def the_row(task: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.task == task)).one()


def test_a_submitted_request_arrives_as_a_proper_japanese_mail(
    ctx, smtp_server, create_channel, create_customer
):
    rma = submit(create_channel, create_customer)

    [raw] = smtp_server.raw()
    [mail] = smtp_server.messages()
    assert mail["X-RcptTo"] == "hanako@example.jp"  # the envelope, as the server saw it
    assert mail["From"] == ctx.config["MAIL_FROM"]
    assert mail["To"] == "hanako@example.jp"
    assert mail["Subject"] == f"お申し込みを承りました（{rma.display_number}）"
    # Headers travel as ASCII: the Japanese subject is RFC 2047 encoded, not raw UTF-8.
    assert headers_of(raw).isascii()
    assert re.search(rb"^Subject: =\?utf-8\?", headers_of(raw), re.MULTILINE | re.IGNORECASE)
    assert mail["Message-ID"] == f"<rma-{rma.id}-created@reverse.local>"
    assert mail["Date"]
    assert mail.get_content_charset() == "utf-8"
    body = mail.get_content()
    assert body.startswith("山田 花子様\n")
    assert CREATED_JA in body
    assert f"受付番号: {rma.display_number}" in body
    assert re.search(r"http://127\.0\.0\.1:5000/r/[\w-]{20,}", body)
    assert the_row("reverse.rmas.tasks:rma_created").status == OutboxStatus.DONE


def test_a_status_move_sends_the_update_mail_in_english(
    ctx, smtp_server, create_channel, create_customer
):
    rma = submit(create_channel, create_customer, locale="en")
    move_rma(db.session.get(Rma, rma.id), RmaStatus.APPROVED, Actor.system("test"))
    commit()

    # Two mails can arrive within one second: pick each by its Message-ID, not by order.
    mails = {m["Message-ID"]: m for m in smtp_server.messages()}
    created = mails.pop(f"<rma-{rma.id}-created@reverse.local>")
    [update] = mails.values()
    assert created["Subject"] == f"We received your request {rma.display_number}"
    assert update["Subject"] == f"Update on your request {rma.display_number}"
    body = update.get_content().replace("\r\n", "\n")  # 7bit text keeps the wire's CRLF
    assert body.startswith("Dear 山田 花子,\n")  # the name stays as she wrote it
    assert "Your request is approved." in body
    assert "We write again shortly to tell you how to send us the item." in body


def test_a_rerun_job_sends_the_same_message_id(ctx, smtp_server, create_channel, create_customer):
    """A job whose first run died after the server took the mail runs again: the second copy
    has the same Message-ID, so mail clients and servers recognise it as the same mail."""
    rma = submit(create_channel, create_customer)
    rma_created(rma.id)  # the re-run
    db.session.rollback()

    first, second = smtp_server.messages()
    assert first["Message-ID"] == second["Message-ID"] == f"<rma-{rma.id}-created@reverse.local>"
    assert first.get_content().split("/r/")[0] == second.get_content().split("/r/")[0]


@pytest.mark.databases
def test_a_server_down_keeps_the_job_and_it_is_sent_once_when_back(
    ctx, smtp_server_down, create_channel, create_customer
):
    rma = submit(create_channel, create_customer)  # must not raise: the change is committed

    assert db.session.get(Rma, rma.id) is not None
    row = the_row("reverse.rmas.tasks:rma_created")
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.available_at > utcnow()  # backoff before the next try
    assert relay_once() == 0  # not before its time

    smtp_server_down.start()
    assert relay_once(now=utcnow() + timedelta(minutes=5)) == 1
    assert relay_once(now=utcnow() + timedelta(hours=2)) == 0  # done: never sent again

    row = the_row("reverse.rmas.tasks:rma_created")
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.DONE, 2, "")
    [mail] = smtp_server_down.messages()
    assert mail["Message-ID"] == f"<rma-{rma.id}-created@reverse.local>"
    assert CREATED_JA in mail.get_content()


def test_a_configured_user_logs_in_before_sending(
    ctx, smtp_server_with_auth, create_channel, create_customer
):
    ctx.config.update(SMTP_USERNAME="reverse", SMTP_PASSWORD="s3cret")
    rma = submit(create_channel, create_customer)

    assert smtp_server_with_auth.logins() == ["reverse"]
    [mail] = smtp_server_with_auth.messages()
    assert rma.display_number in mail["Subject"]


def test_a_wrong_password_leaves_the_job_failing_with_the_reason(
    ctx, smtp_server_with_auth, create_channel, create_customer
):
    ctx.config.update(SMTP_USERNAME="reverse", SMTP_PASSWORD="wrong")
    submit(create_channel, create_customer)

    row = the_row("reverse.rmas.tasks:rma_created")
    assert row.status == OutboxStatus.PENDING
    assert "SMTPAuthenticationError" in row.last_error
    assert smtp_server_with_auth.messages() == []
    assert smtp_server_with_auth.logins() == []


def test_find_my_request_on_the_site_mails_a_link_that_opens(
    app, client, smtp_server, create_rma, create_customer
):
    rma = create_rma(customer=create_customer(email="taro@example.jp", locale="en"))
    token = csrf_token(client.get("/find").text)
    form = {"csrf_token": token, "number": rma.display_number, "contact": "taro@example.jp"}
    answer = client.post("/find", data=form)
    assert answer.status_code == 302

    [mail] = smtp_server.messages()
    assert (mail["To"], mail["Subject"]) == (
        "taro@example.jp",
        f"Your link to request {rma.display_number}",
    )
    assert re.fullmatch(rf"<rma-{rma.id}-link-[0-9a-f]{{16}}@reverse\.local>", mail["Message-ID"])
    link = re.search(r"http://127\.0\.0\.1:5000(/r/[\w-]+)", mail.get_content())
    assert client.get(link.group(1)).status_code == 200
