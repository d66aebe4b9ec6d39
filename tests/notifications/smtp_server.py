"""A real SMTP server for the mail tests, run as its own process: aiosmtpd storing each mail
exactly as received (bytes) in a Maildir.

    python smtp_server.py PORT MAILDIR [LOGINS]

With LOGINS it requires AUTH (user "reverse", password "s3cret", LOGIN or PLAIN) and appends
each successful login's user name to that file. Runs until SIGTERM.
"""

from __future__ import annotations

import mailbox
import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    """Keeps every mail in a Maildir, with the envelope in X-MailFrom / X-RcptTo headers."""

    def __init__(self, folder: str) -> None:
        self.box = mailbox.Maildir(folder)

    async def handle_DATA(self, server, session, envelope) -> str:
        head = f"X-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {','.join(envelope.rcpt_tos)}\r\n"
        self.box.add(head.encode() + envelope.original_content)
        return "250 OK"


def authenticator(logins: Path):
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == b"reverse"
            and auth_data.password == b"s3cret"
        )
        if ok:
            with logins.open("a") as out:
                out.write(auth_data.login.decode() + "\n")
        return AuthResult(success=ok, handled=False)

    return check


def main() -> None:
    port, folder = int(sys.argv[1]), sys.argv[2]
    options = {}
    if len(sys.argv) > 3:
        options = {
            "authenticator": authenticator(Path(sys.argv[3])),
            "auth_required": True,
            # plain AUTH on loopback: the tests have no certificate (STARTTLS is not tested)
            "auth_require_tls": False,
        }
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port, **options)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller.start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
