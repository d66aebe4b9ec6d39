"""Rate limits hold across web processes: two gunicorn servers count in the same Redis."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask_migrate import upgrade

from reverse.auth.constants import Role
from reverse.auth.operations import create_user
from reverse.core.db import commit
from tests.conftest import make_test_app

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port that is not open yet, not timing a result
    raise RuntimeError("server did not start")


class Server:
    def __init__(self, port: int) -> None:
        self.port = port

    def wrong_login(self) -> int:
        """GET the login form, POST a wrong password with its CSRF token; the status."""
        return self.post_form("/staff/login", {"email": "support@example.jp", "password": "wrong"})

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        """GET the form at `path`, POST `fields` with its CSRF token; the status."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            page = conn.getresponse()
            html = page.read().decode()
            cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
            body = urlencode({**fields, "csrf_token": token})
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            answer = conn.getresponse()
            answer.read()
            return answer.status
        finally:
            conn.close()


@contextmanager
def web_processes(tmp_path: Path, storage_url: str, count: int) -> Iterator[list[Server]]:
    """`count` gunicorn processes of the app on one SQLite file, their rate-limit counters at
    `storage_url`, the login and find-my-request forms limited to 3 a minute."""
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    app = make_test_app(database, tmp_path)
    with app.app_context():
        upgrade()
        create_user("support@example.jp", "サポート", "correct-horse-battery", Role.SUPPORT)
        commit()
    env = {
        **os.environ,
        "REVERSE_INSTANCE_PATH": str(tmp_path),
        "REVERSE_DATABASE_URL": database,
        "REVERSE_RATELIMIT_STORAGE_URL": storage_url,
        "REVERSE_LOGIN_RATE_LIMIT": "3 per minute",
        "REVERSE_PORTAL_FIND_RATE_LIMIT": "3 per minute",
    }
    servers, processes = [], []
    try:
        for _ in range(count):
            port = _free_port()
            process = subprocess.Popen(
                [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes.append(process)
            _wait_for(port, process)
            servers.append(Server(port))
        yield servers
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def two_web_processes(tmp_path: Path, redis_url: str) -> Iterator[tuple[Server, Server]]:
    with web_processes(tmp_path, redis_url, 2) as (first, second):
        yield first, second


@pytest.mark.redis
def test_login_attempts_are_counted_across_web_processes(two_web_processes):
    first, second = two_web_processes
    # Alternating between the processes: each sees only two attempts of its own, yet the
    # fourth is refused, because the counters live in Redis and not in process memory.
    statuses = [server.wrong_login() for server in (first, second, first, second)]
    assert statuses == [422, 422, 422, 429]
    assert first.wrong_login() == 429


def test_the_forms_answer_and_still_limit_while_redis_is_down(tmp_path, own_redis):
    """The limiter's counters live in Redis; with Redis stopped, the login and "find my
    request" forms keep answering (no 500) and each process counts in memory meanwhile."""
    unknown = {"number": "R12345-67890", "contact": "nobody@example.jp"}
    with web_processes(tmp_path, own_redis.url, 1) as (server,):
        assert server.wrong_login() == 422  # counted in Redis

        own_redis.stop()

        logins = [server.wrong_login() for _ in range(5)]
        finds = [server.post_form("/find", unknown) for _ in range(5)]
    assert 500 not in logins + finds
    assert logins[0] == 422
    assert logins[-1] == 429  # the limit still holds, per process
    assert finds[0] in (302, 422)
    assert finds[-1] == 429
