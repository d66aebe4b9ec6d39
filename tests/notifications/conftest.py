"""The mail tests' fixtures: the file backend's mailbox, cases ready to settle (shared with the
resolution tests) and a real SMTP server process (aiosmtpd) with a mailbox on disk."""

from __future__ import annotations

import email
import email.policy
import mailbox
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask

# Cases ready to settle, made the way the resolution tests make them.
from tests.resolution.conftest import centre, channel, make_case, variant  # noqa: F401

HERE = Path(__file__).parent


@pytest.fixture
def mail_folder(app: Flask) -> Iterator[Path]:
    """The file backend's folder, empty at the start and the end of the test."""
    folder = Path(app.config["MAIL_FILE_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_listening(server: SmtpServer, timeout: float = 15.0) -> None:
    """Poll (bounded) until the server accepts connections; fail with its output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the SMTP server exited: {server.log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as conn:
                conn.recv(100)  # its 220 greeting: ready to talk
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the SMTP server did not start listening in time")


@dataclass
class SmtpServer:
    """A running SMTP server process (tests/notifications/smtp_server.py) and its Maildir."""

    port: int
    folder: Path
    #: one user name per successful AUTH, when the server requires it
    logins_path: Path
    log_path: Path
    auth: bool = False
    process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, str(HERE / "smtp_server.py"), str(self.port), str(self.folder)]
        if self.auth:
            command.append(str(self.logins_path))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        _wait_until_listening(self)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def raw(self) -> list[bytes]:
        """Every mail the server received, as received (oldest first)."""
        if not self.folder.exists():
            return []
        box = mailbox.Maildir(self.folder, create=False)
        found = [box.get_bytes(key) for key in box.iterkeys()]
        # Maildir names start with the delivery second only: within one second the order is
        # not the arrival order, so tests that get several mails pick them by header.
        return [raw for _name, raw in sorted(zip(box.keys(), found, strict=True))]

    def messages(self) -> list[EmailMessage]:
        """Every mail received, parsed with the modern email policy."""
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.raw()]

    def logins(self) -> list[str]:
        return self.logins_path.read_text().split() if self.logins_path.exists() else []


def _server(app: Flask, tmp_path: Path, auth: bool, start: bool = True) -> Iterator[SmtpServer]:
    server = SmtpServer(
        port=free_port(),
        folder=tmp_path / "maildir",
        logins_path=tmp_path / "logins.txt",
        log_path=tmp_path / "smtp-server.log",
        auth=auth,
    )
    if start:
        server.start()
    saved = {k: app.config[k] for k in ("MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT")}
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    try:
        yield server
    finally:
        app.config.update(saved)
        server.stop()


@pytest.fixture
def smtp_server(app: Flask, tmp_path: Path) -> Iterator[SmtpServer]:
    """A real SMTP server process the app sends to (MAIL_BACKEND=smtp) for this test."""
    yield from _server(app, tmp_path, auth=False)


@pytest.fixture
def smtp_server_down(app: Flask, tmp_path: Path) -> Iterator[SmtpServer]:
    """The app sends to a port where nothing listens yet; `.start()` brings the server up."""
    yield from _server(app, tmp_path, auth=False, start=False)


@pytest.fixture
def smtp_server_with_auth(app: Flask, tmp_path: Path) -> Iterator[SmtpServer]:
    """The same, requiring AUTH (user "reverse", password "s3cret")."""
    saved = {k: app.config[k] for k in ("SMTP_USERNAME", "SMTP_PASSWORD")}
    yield from _server(app, tmp_path, auth=True)
    app.config.update(saved)
