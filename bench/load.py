"""The busiest day: customers filing returns, customers reading their status pages and
warehouse staff scanning parcels in, all at once, against the production set-up.

    .venv/bin/python bench/load.py [--database-url URL] [--redis-url URL] [--users N]
        [--duration S] [--workers N] [--threads N] [--think S]

- PostgreSQL at --database-url (default postgresql://postgres@localhost/bench_load) is
  created when missing, migrated and given the demo data once; each run adds fresh web-shop
  orders (one per filing it may need) so that every filing is a new, valid return.
- The app runs under gunicorn (gthread) with REVERSE_REDIS_URL set, so every mail and label
  goes through the outbox and RQ; one `flask worker` process runs those jobs meanwhile.
- --users virtual users (default 100) each loop for --duration seconds (default 300), pausing
  a random 0–2×--think seconds (default 1) between requests as people do. Each user is one
  of: a customer filing a return through every step of the form (40 %), a customer opening
  her status page (35 %), warehouse staff scanning a parcel in (25 %: the JSON look-up, then
  the receive form).
- An error is a 5xx, a connection failure, or any answer a step did not expect (a filing
  refused, a scan not found). The first few are printed with their bodies.

Prints the counts per kind of request and, as its last line:
    load: requests=… errors=… p95_ms=… rps=…
Client, server, worker and database share the machine: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from intake import ensure_database, free_port, gunicorn, stop

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@localhost/bench_load"
DEFAULT_REDIS = "redis://localhost:6379/6"
WAREHOUSE = "warehouse@example.jp"
PASSWORD = "reverse-demo-2026"  # noqa: S105 - the demo data's published password
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ORDER_LINE = re.compile(r'name="(lines-\d+)-order_line_id"[^>]*value="(\d+)"')
STATUS_LINK = re.compile(r'href="(/r/[A-Za-z0-9_\-]+)"')
NUMBER = re.compile(r"R\d{5}-\d{5}")


# -- data ----------------------------------------------------------------------------------------


def prepare(url: str, orders: int, env: dict[str, str]) -> str:
    """Migrate, load the demo once, and add `orders` fresh web-shop orders; returns their
    number prefix."""
    ensure_database(url)
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True)
    prefix = f"LD{int(time.time()) % 10_000_000:07d}"
    engine = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            channel = conn.scalar(sa.text("SELECT id FROM channels WHERE code = 'web'"))
            variants = conn.scalars(
                sa.text(
                    "SELECT v.id FROM variants v JOIN products p ON p.id = v.product_id"
                    " WHERE p.returnable ORDER BY v.id LIMIT 200"
                )
            ).all()
            conn.execute(
                sa.text(
                    "INSERT INTO customers (email, name, name_kana, locale, created_at, updated_at)"
                    " SELECT lower(:p) || '-' || i || '@example.jp', '負荷 テスト' || i, '', 'ja',"
                    " now(), now() FROM generate_series(1, :n) AS i"
                ),
                {"p": prefix, "n": orders},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO orders (channel_id, number, customer_id, ordered_at, delivered_at,"
                    " created_at, updated_at)"
                    " SELECT :c, :p || '-' || lpad(i::text, 6, '0'), cu.id,"
                    " now() - interval '5 days', now() - interval '3 days', now(), now()"
                    " FROM generate_series(1, :n) AS i"
                    " JOIN customers cu ON cu.email = lower(:p) || '-' || i || '@example.jp'"
                ),
                {"c": channel, "p": prefix, "n": orders},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO order_lines (order_id, variant_id, quantity, unit_price_yen,"
                    " discount_yen, final_sale)"
                    " SELECT o.id, (:variants)[1 + o.id % array_length(:variants, 1)], 1,"
                    " v.price_yen, 0, false FROM orders o"
                    " JOIN variants v ON v.id = (:variants)[1 + o.id % array_length(:variants, 1)]"
                    " WHERE o.number LIKE :p || '-%'"
                ),
                {"variants": list(variants), "p": prefix},
            )
    finally:
        engine.dispose()
    return prefix


# -- a browser without a browser ------------------------------------------------------------


class Errored(Exception):
    """A step got an answer it did not expect."""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Visitor:
    """One person's keep-alive connection and session cookie."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port, self.stats = port, stats
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> tuple[int, str, dict[str, str]]:
        headers = {"Accept-Language": "ja"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise Errored(f"{kind} {method} {path}: {type(exc).__name__} {exc}") from exc
        self.stats.record(kind, time.perf_counter() - started)
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        if response.status not in expect:
            raise Errored(f"{kind} {method} {path}: {response.status} {text[:300]!r}")
        return response.status, text, dict(response.getheaders())

    def close(self) -> None:
        self.conn.close()


def _token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise Errored("no CSRF token in the page")
    return match.group(1)


# -- what people do ------------------------------------------------------------------------------


@dataclass
class Shared:
    prefix: str
    orders: int
    next_order: int = 0
    #: status links and request numbers customers got, for readers and scanners
    links: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_order(self) -> tuple[str, str] | None:
        with self.lock:
            if self.next_order >= self.orders:
                return None
            self.next_order += 1
            i = self.next_order
        return f"{self.prefix}-{i:06d}", f"{self.prefix.lower()}-{i}@example.jp"

    def add(self, link: str, number: str) -> None:
        with self.lock:
            self.links.append(link)
            self.numbers.append(number)


def file_a_return(v: Visitor, shared: Shared, think: float) -> None:
    taken = shared.take_order()
    if taken is None:
        return
    number, email = taken
    v.cookie = ""  # a new visitor
    _s, page, _h = v.request("form", "GET", "/request")
    token = _token(page)
    steps: list[tuple[str, dict[str, str]]] = [
        ("/request", {"type": "return", "place": "web"}),
        ("/request/purchase", {"number": number, "contact": email}),
    ]
    for path, form in steps:
        pause(think)
        v.request("form", "POST", path, {"csrf_token": token, **form}, expect=(302,))
    _s, page, _h = v.request("form", "GET", "/request/purchase")
    lines = {f"{prefix}-order_line_id": line_id for prefix, line_id in ORDER_LINE.findall(page)}
    if not lines:
        raise Errored(f"order {number}: no lines to choose")
    first = next(iter(lines)).rsplit("-", 1)[0]
    steps = [
        (
            "/request/purchase/lines",
            lines | {f"{first}-selected": "y", f"{first}-quantity": "1"},
        ),
        ("/request/items", {"lines-0-reason": "size_too_small", "lines-0-comment": "サイズ違い"}),
        ("/request/method", {"method": "carriage_forward"}),
        (
            "/request/contact",
            {
                "name": "負荷 花子",
                "email": email,
                "phone": "０９０－１２３４－５６７８",
                "postal_code": "１５０－００４１",
                "prefecture": "東京都",
                "city": "渋谷区",
                "street": "神南1-2-3",
            },
        ),
    ]
    for path, form in steps:
        pause(think)
        v.request("form", "POST", path, {"csrf_token": token, **form}, expect=(302,))
    pause(think)
    v.request("form", "GET", "/request/review")
    v.request("submit", "POST", "/request/review", {"csrf_token": token, "accept_terms": "y"},
              expect=(302,))  # fmt: skip
    _s, done, _h = v.request("form", "GET", "/request/done")
    link, found = STATUS_LINK.search(done), NUMBER.search(done)
    if not (link and found):
        raise Errored("the confirmation page shows no link or number")
    shared.add(link.group(1), found.group(0).replace("-", ""))


def read_status(v: Visitor, shared: Shared, think: float) -> None:
    with shared.lock:
        link = random.choice(shared.links) if shared.links else None
    if link is None:
        return
    v.request("status", "GET", link)
    pause(think)
    v.request("status", "GET", link)  # a reload, as people do


def scan_parcel(v: Visitor, shared: Shared, think: float) -> None:
    with shared.lock:
        number = random.choice(shared.numbers) if shared.numbers else None
    if number is None:
        return
    v.request("scan", "GET", f"/staff/intake/lookup?code={number}")
    pause(think)
    _s, page, _h = v.request("scan", "GET", "/staff/intake/")
    # A new parcel is taken in (200); one already received says so and changes nothing (200).
    v.request("scan", "POST", "/staff/intake/", {"csrf_token": _token(page), "code": number})


def staff_login(v: Visitor) -> None:
    _s, page, _h = v.request("login", "GET", "/staff/login")
    form = {"email": WAREHOUSE, "password": PASSWORD, "csrf_token": _token(page)}
    v.request("login", "POST", "/staff/login", form, expect=(302,))


def pause(think: float) -> None:
    time.sleep(random.uniform(0, 2 * think))  # people read and type between requests


def user(port: int, kind: str, shared: Shared, stats: Stats, until: float, think: float) -> None:
    v = Visitor(port, stats)
    action = {"customer": file_a_return, "reader": read_status, "staff": scan_parcel}[kind]
    try:
        if kind == "staff":
            staff_login(v)
        while time.monotonic() < until:
            try:
                action(v, shared, think)
            except Errored as exc:
                stats.error(str(exc))
            pause(think)
    except Errored as exc:
        stats.error(str(exc))
    finally:
        v.close()


# -- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--think", type=float, default=1.0)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="reverse-load-"))
    env = {
        **os.environ,
        "REVERSE_DATABASE_URL": args.database_url,
        "REVERSE_REDIS_URL": args.redis_url,
        "REVERSE_INSTANCE_PATH": str(instance),
        "REVERSE_SECRET_KEY": "load-bench-" + "x" * 40,
        "REVERSE_LOGIN_RATE_LIMIT": "10000 per minute",
    }
    customers = int(args.users * 0.40)
    # A filing takes ~12 requests and ~8 pauses: twice the orders the customers can use.
    orders = max(1000, int(customers * args.duration / (args.think * 4)))
    print(f"preparing {orders:,} orders …", flush=True)
    prefix = prepare(args.database_url, orders, env)

    from redis import Redis

    Redis.from_url(args.redis_url).flushdb()
    port = free_port()
    server = gunicorn("wsgi:app", port, args, env)
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shared, stats = Shared(prefix=prefix, orders=orders), Stats()
    kinds = ["customer"] * customers
    kinds += ["reader"] * int(args.users * 0.35)
    kinds += ["staff"] * (args.users - len(kinds))
    try:
        # Readers and scanners need cases: the first filings come before the crowd.
        seed = Visitor(port, stats)
        for _ in range(5):
            file_a_return(seed, shared, 0)
        seed.close()
        print(f"{args.users} users for {args.duration:.0f} s …", flush=True)
        started = time.monotonic()
        until = started + args.duration
        threads = [
            threading.Thread(
                target=user, args=(port, kind, shared, stats, until, args.think), daemon=True
            )
            for kind in kinds
        ]
        for t in threads:
            t.start()
            time.sleep(args.think / len(threads))  # users arrive over a second, not at once
        for t in threads:
            t.join(timeout=args.duration + 120)
        elapsed = time.monotonic() - started
    finally:
        stop(server)
        stop(worker)

    everything = [s for values in stats.latencies.values() for s in values]
    for kind, values in sorted(stats.latencies.items()):
        print(
            f"  {kind:7} requests={len(values):6d}"
            f" median_ms={statistics.median(values) * 1000:7.1f} p95_ms={_p95(values) * 1000:7.1f}"
        )
    print(f"  filings={len(shared.numbers)}  orders left={orders - shared.next_order}")
    for text in stats.errors[:5]:
        print("  error:", text)
    print(
        f"load: requests={len(everything)} errors={len(stats.errors)}"
        f" p95_ms={_p95(everything) * 1000:.1f} rps={len(everything) / elapsed:.1f}"
    )


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else (values or [0.0])[0]


if __name__ == "__main__":
    main()
