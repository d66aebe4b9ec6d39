"""Outgoing mail: SMTP in production, .eml files in the embedded set-up."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app


def build_message(
    to: str, subject: str, body: str, *, message_id: str | None = None
) -> EmailMessage:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    # A stable Message-ID per job lets a retried job be recognised as the same mail.
    message["Message-ID"] = message_id or make_msgid(domain="reverse.local")
    message.set_content(body)
    return message


def send(message: EmailMessage) -> None:
    cfg = current_app.config
    if cfg["MAIL_BACKEND"] == "smtp":
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"]) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls()
            if cfg["SMTP_USERNAME"]:
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
            smtp.send_message(message)
        return
    folder = Path(cfg["MAIL_FILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_") or uuid.uuid4().hex
    # Written whole under a temporary name, then renamed: a reader never sees half a mail,
    # and a retried job overwrites its own file instead of adding a second one.
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(bytes(message))
    tmp.replace(folder / f"{name}.eml")
