"""Scan look-ups per second at a returns centre with a million cases on file, against a bare
Flask endpoint served the same way.

    .venv/bin/python bench/intake.py [--database-url URL] [--rmas N] [--duration S]
        [--warmup S] [--workers N] [--threads N] [--clients N] [--profile N]

- PostgreSQL at --database-url (default postgresql://postgres@localhost/bench_intake) is
  created when missing and migrated; --rmas cases (default 1,000,000) are loaded once with
  INSERT … SELECT generate_series (numbers with their Damm check digit, one line each, a
  parcel with a tracking number for 60 % of them); a second run finds them and reuses them.
- The app runs under gunicorn (gthread workers, so clients keep their connections alive)
  with REVERSE_* pointing at that database; a warehouse user logs in through the login form.
- A pool of --clients threads, one keep-alive HTTP connection each, asks
  `GET /staff/intake/lookup?code=…` with random RMA numbers and tracking numbers for
  --duration seconds after --warmup seconds; then the same against a bare Flask app that
  returns a small JSON, under the same gunicorn options.
- --profile N: instead, N look-ups in-process under cProfile, with the queries per look-up.

Prints the figures (and the time of the queue pages on the same data) and, as its last line:
    intake: scan_rps=… bare_rps=… ratio=… p95_ms=…
Client, server and database share the machine: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import os
import pstats
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask, jsonify

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@localhost/bench_intake"
EMAIL = "bench-warehouse@example.jp"
PASSWORD = "bench-intake-2026"  # noqa: S105 - a throw-away user of the bench database
#: the marker of a loaded data set, and the centre whose staff scan
CENTRE = "BENCH-RC-EAST"
LOCATIONS = (
    (CENTRE, "returns_centre", "ベンチ東返品センター", "Bench East Returns Centre"),
    ("BENCH-RC-WEST", "returns_centre", "ベンチ西返品センター", "Bench West Returns Centre"),
    ("BENCH-ST", "store", "ベンチ店", "Bench Store"),
)
CUSTOMERS = 100_000
PRODUCTS, SIZES = 200, ("XS", "S", "M", "L", "XL")
#: a multiplier coprime with 9 × 10⁸: body(i) is a permutation, so numbers never repeat
STRIDE = 7919
TRACKING_BASE = 40_000_000_000


# -- the numbers the data set holds (the same formulas in SQL and here) -------------------------


def rma_number(i: int) -> str:
    from reverse.core.codes import damm_digit

    body = str(100_000_000 + (i * STRIDE) % 900_000_000)
    return f"R{body}{damm_digit(body)}"


def has_parcel(i: int) -> bool:
    return i % 5 < 3


def is_repair(i: int) -> bool:
    """Repairs go to the repair centre: a returns centre's staff do not find them."""
    return i % 10 == 9


def tracking_number(i: int) -> str:
    body = TRACKING_BASE + i
    return f"{body}{body % 7}"


DAMM_SQL = """
CREATE FUNCTION pg_temp.damm(body text) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  t int[] := ARRAY[0,3,1,7,5,9,8,6,4,2, 7,0,9,2,1,5,4,8,6,3, 4,2,0,6,8,7,1,3,5,9,
                   1,7,5,0,9,8,3,4,2,6, 6,1,2,3,0,4,5,9,7,8, 3,6,7,4,2,0,9,5,8,1,
                   5,8,6,9,7,2,0,1,3,4, 8,9,4,5,3,6,2,0,1,7, 9,4,3,8,6,1,7,2,0,5,
                   2,5,8,1,4,3,6,7,9,0];
  interim int := 0;
BEGIN
  FOR k IN 1..length(body) LOOP
    interim := t[interim * 10 + substr(body, k, 1)::int + 1];
  END LOOP;
  RETURN interim;
END $$
"""

#: one case per i, filed in order over the last year (the newest last, as ids grow): of the
#: last 30 days' returns and exchanges most are still open, older ones are settled but for one
#: in a hundred still awaiting its parcel; repairs (one in ten) are closed
RMAS_SQL = """
INSERT INTO rmas (number, access_token_hash, type, status, source, channel_id, customer_id,
                  location_id, return_method, declared_retailer, status_changed_at,
                  version_id, created_at, updated_at)
SELECT 'R' || body || pg_temp.damm(body),
       md5('bench-a' || i) || md5('bench-b' || i),
       CASE WHEN i % 10 = 9 THEN 'repair' WHEN i % 10 >= 6 THEN 'exchange' ELSE 'return' END,
       status, 'web', :channel, :c0 + (i * 31) % :customers,
       CASE WHEN i % 10 < 7 THEN :east WHEN i % 10 < 9 THEN :west ELSE :store END,
       'prepaid_label', '',
       filed + (now() - filed) * CASE WHEN status IN ('resolved', 'closed')
                                      THEN least(1.0, 20.0 / greatest(age_days, 1))
                                      WHEN age_days >= 30 THEN 0.0
                                      ELSE (r * 7 % 100) / 100.0 END,
       1, filed, filed
FROM (
  SELECT i, body, r, age_days, now() - age_days * interval '1 day' AS filed,
         CASE WHEN i % 10 = 9 THEN 'closed'
              WHEN age_days >= 30 THEN CASE WHEN r = 0 THEN 'awaiting_item' ELSE 'closed' END
              WHEN r < 25 THEN 'awaiting_item' WHEN r < 40 THEN 'in_transit'
              WHEN r < 50 THEN 'received' WHEN r < 58 THEN 'inspected'
              WHEN r < 75 THEN 'resolved' ELSE 'closed' END AS status
  FROM (
    SELECT i, (100000000 + (i::bigint * :stride) % 900000000)::text AS body,
           abs(hashint4(i)) % 100 AS r, (:n - i) * 365.0 / :n AS age_days
    FROM generate_series(1, :n) AS i
  ) AS g
) AS c
ORDER BY i
"""

LINES_SQL = """
INSERT INTO rma_lines (rma_id, variant_id, description, quantity, reason, comment, symptom)
SELECT id, :v0 + id % :variants, '', CASE WHEN id % 7 = 0 THEN 2 ELSE 1 END,
       'size_too_small', '', ''
FROM rmas WHERE id BETWEEN :first AND :last
"""

SHIPMENTS_SQL = """
INSERT INTO shipments (rma_id, direction, carrier, payment, status, tracking_number,
                       to_location_id, item_name, created_at, updated_at)
SELECT id, 'to_centre', 'yamato', 'receiver_pays', 'in_transit',
       (:base + n)::text || ((:base + n) % 7)::text, location_id, '衣類', created_at, created_at
FROM (SELECT id, id - :first + 1 AS n, location_id, created_at
      FROM rmas WHERE id BETWEEN :first AND :last) AS r
WHERE n % 5 < 3
"""


def bench_app(url: str) -> Flask:
    from reverse import create_app

    return create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40, "LOGIN_RATE_LIMIT": "10000/minute"}
    )


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it is missing (connected to the server's `postgres` database)."""
    target = sa.engine.make_url(url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}
            )
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
                print(f"created database {target.database}")
    finally:
        admin.dispose()


def load(app: Flask, n: int) -> None:
    """The data set, once: a second run finds the centre and its cases and keeps them."""
    from flask_migrate import upgrade

    from reverse.extensions import db

    with app.app_context():
        upgrade()
        conn = db.session.connection()
        ids = dict(
            conn.execute(sa.text("SELECT code, id FROM locations WHERE code LIKE 'BENCH-%'")).all()
        )
        if CENTRE in ids:
            have = conn.scalar(
                sa.text("SELECT count(*) FROM rmas WHERE location_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": list(ids.values())},
            )
            if have >= n:
                print(f"reusing {have:,} cases already loaded")
                db.session.rollback()
                return
            raise SystemExit(
                f"the bench database holds {have:,} cases, not {n:,}: drop it and run again"
            )
        started = time.perf_counter()
        first, last = _insert(conn, n, ids)
        db.session.commit()
        with db.engine.connect() as plain:
            plain.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        print(f"loaded {n:,} cases in {time.perf_counter() - started:.0f} s (ids {first}–{last})")


def _insert(conn: sa.Connection, n: int, ids: dict[str, int]) -> tuple[int, int]:
    """Sites, customers, a catalogue, then the cases, their lines and parcels; returns the
    first and last case id."""
    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    conn.exec_driver_sql(DAMM_SQL)
    channel = _channel(conn)
    for code, kind, ja, en in LOCATIONS:
        ids[code] = conn.scalar(
            sa.text(
                "INSERT INTO locations (code, kind, name_ja, name_en, retailer, postal_code,"
                " prefecture, city, street, building, phone, active, created_at, updated_at)"
                " VALUES (:code, :kind, :ja, :en, '', '272-0002', '千葉県', '市川市',"
                " '二俣新町17-2', '', '', true, now(), now()) RETURNING id"
            ),
            {"code": code, "kind": kind, "ja": ja, "en": en},
        )
    conn.execute(
        sa.text(
            "INSERT INTO customers (email, name, name_kana, locale, created_at, updated_at)"
            " SELECT 'bench' || i || '@example.jp', 'ベンチ 顧客' || i, '', 'ja', now(), now()"
            " FROM generate_series(1, :k) AS i"
        ),
        {"k": CUSTOMERS},
    )
    c0 = conn.scalar(sa.text("SELECT min(id) FROM customers WHERE email LIKE 'bench%'"))
    v0 = _catalogue(conn)
    conn.execute(
        sa.text(RMAS_SQL),
        {
            "channel": channel,
            "c0": c0,
            "customers": CUSTOMERS,
            "east": ids[CENTRE],
            "west": ids["BENCH-RC-WEST"],
            "store": ids["BENCH-ST"],
            "stride": STRIDE,
            "n": n,
        },
    )
    # One INSERT in one session: the new ids are consecutive (whatever a failed earlier
    # run took from the sequence), so id - first + 1 is the i each case was made from.
    first, last = conn.execute(
        sa.text("SELECT min(id), max(id) FROM rmas WHERE location_id IN (:e, :w, :s)"),
        {"e": ids[CENTRE], "w": ids["BENCH-RC-WEST"], "s": ids["BENCH-ST"]},
    ).one()
    assert last - first + 1 == n, (first, last, n)
    span = {"first": first, "last": last}
    conn.execute(sa.text(LINES_SQL), {"v0": v0, "variants": PRODUCTS * len(SIZES)} | span)
    conn.execute(sa.text(SHIPMENTS_SQL), {"base": TRACKING_BASE} | span)
    return first, last


def _channel(conn: sa.Connection) -> int:
    existing = conn.scalar(sa.text("SELECT id FROM channels WHERE code = 'web'"))
    if existing:
        return existing
    return conn.scalar(
        sa.text(
            "INSERT INTO channels (code, name_ja, name_en, return_window_days, window_starts,"
            " allowed_types, proof_required, refund_release, store_credit_bonus_percent,"
            " created_at, updated_at) VALUES ('web', '公式オンラインストア', 'Web shop', 30,"
            " 'delivery', '[\"return\", \"exchange\", \"repair\"]', false, 'inspection', 0,"
            " now(), now()) RETURNING id"
        )
    )


def _catalogue(conn: sa.Connection) -> int:
    """PRODUCTS styles × SIZES; returns the first variant id."""
    from reverse.core.codes import jan_check_digit

    v0 = None
    for p in range(PRODUCTS):
        product = conn.scalar(
            sa.text(
                "INSERT INTO products (style_code, name_ja, name_en, category, returnable,"
                " repairable, created_at, updated_at) VALUES (:s, :ja, :en, 'tops', true,"
                " false, now(), now()) RETURNING id"
            ),
            {"s": f"BX-{p:04d}", "ja": f"ベンチ シャツ {p}", "en": f"Bench shirt {p}"},
        )
        for k, size in enumerate(SIZES):
            body = f"459999{p * len(SIZES) + k:06d}"
            vid = conn.scalar(
                sa.text(
                    "INSERT INTO variants (product_id, sku, jan, size, colour_ja, colour_en,"
                    " price_yen, created_at, updated_at) VALUES (:p, :sku, :jan, :size,"
                    " 'ネイビー', 'Navy', 6900, now(), now()) RETURNING id"
                ),
                {
                    "p": product,
                    "sku": f"BX-{p:04d}-{size}",
                    "jan": body + str(jan_check_digit(body)),
                    "size": size,
                },
            )
            v0 = vid if v0 is None else v0
    return v0


def ensure_user(app: Flask) -> None:
    from reverse.auth.constants import Role
    from reverse.auth.models import User
    from reverse.auth.operations import create_user
    from reverse.catalog.models import Location
    from reverse.extensions import db

    with app.app_context():
        if db.session.scalar(sa.select(User).where(User.email == EMAIL)) is None:
            centre = db.session.scalar(sa.select(Location).where(Location.code == CENTRE))
            create_user(EMAIL, "ベンチ 倉庫", PASSWORD, Role.WAREHOUSE, centre)
            db.session.commit()


# -- serving ------------------------------------------------------------------------------------


def make_bare_app() -> Flask:
    """The baseline: Flask answering a small JSON, nothing else (gunicorn 'intake:…()')."""
    app = Flask("bare")

    @app.get("/lookup")
    def lookup():  # type: ignore[no-untyped-def]
        return jsonify({"number": "R1234567890", "status": "in_transit", "lines": []})

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(target: str, port: int, args: argparse.Namespace, env: dict) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--worker-class", "gthread",
        "--threads", str(args.threads),
        "--keep-alive", "30",
        "--log-level", "warning",
        "--chdir", str(ROOT),
        "--pythonpath", str(ROOT / "bench"),
        target,
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn {target} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"gunicorn {target} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def login(port: int) -> str:
    """Log in through the form; returns the Cookie header of the logged-in session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/staff/login")
    page = conn.getresponse()
    html = page.read().decode()
    cookie = _cookie(page)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = f"email={quote(EMAIL)}&password={quote(PASSWORD)}&csrf_token={quote(token)}"
    conn.request(
        "POST",
        "/staff/login",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    answer = conn.getresponse()
    answer.read()
    if answer.status != 302:
        raise SystemExit(f"login failed: HTTP {answer.status}")
    conn.close()
    return _cookie(answer)


def _cookie(response: http.client.HTTPResponse) -> str:
    return "; ".join(
        value.split(";", 1)[0] for key, value in response.getheaders() if key == "Set-Cookie"
    )


# -- load ----------------------------------------------------------------------------------------


@dataclass
class Tally:
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def hammer(
    port: int, paths: Callable[[random.Random], str], headers: dict, seconds: float, clients: int
) -> Tally:
    """`clients` threads, one keep-alive connection each, asking as fast as answers come."""
    deadline = time.perf_counter() + seconds
    tallies = [Tally() for _ in range(clients)]

    def client(tally: Tally, seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", paths(rng), headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                tally.failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[response.status] = tally.statuses.get(response.status, 0) + 1
            if response.status == 200:
                tally.ok += 1
            else:
                tally.failed += 1
        conn.close()

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client, tally, n) for n, tally in enumerate(tallies)]:
            future.result()  # a client that crashed says so
    total = Tally()
    for tally in tallies:
        total.ok += tally.ok
        total.failed += tally.failed
        total.latencies += tally.latencies
        for status, count in tally.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
    return total


def measure(
    name: str, port: int, paths: Callable, headers: dict, args: argparse.Namespace
) -> tuple[float, float]:
    hammer(port, paths, headers, args.warmup, args.clients)
    tally = hammer(port, paths, headers, args.duration, args.clients)
    rps = tally.ok / args.duration
    p95 = statistics.quantiles(tally.latencies, n=20)[-1] * 1000 if tally.latencies else 0.0
    print(
        f"{name}: {tally.ok:,} answers in {args.duration:.0f} s = {rps:,.0f}/s, "
        f"p50 {statistics.median(tally.latencies) * 1000:.1f} ms, p95 {p95:.1f} ms, "
        f"failed {tally.failed} {dict(sorted(tally.statuses.items()))}"
    )
    return rps, p95


def codes(n: int) -> Callable[[random.Random], str]:
    """Random codes as a scanner sends them: half RMA numbers, half tracking numbers."""

    def path(rng: random.Random) -> str:
        by_number = rng.random() < 0.5
        i = rng.randint(1, n)
        while is_repair(i) or not (by_number or has_parcel(i)):
            i = rng.randint(1, n)
        code = rma_number(i) if by_number else tracking_number(i)
        return f"/staff/intake/lookup?code={code}"

    return path


# -- extras: queue pages on the same data, and a profile ---------------------------------------


def time_queues(app: Flask) -> None:
    """The work-queue pages of the bench centre: the counts query and a first and a deep page."""
    from reverse.auth.models import User
    from reverse.core.db import utcnow
    from reverse.extensions import db
    from reverse.warehouse_queues import QueueName, queue_counts, queue_page

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        now = utcnow()
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            counts = queue_counts(user, app.config, now)
            timings.append(time.perf_counter() - started)
        parts = [f"counts_ms={min(timings) * 1000:.1f}"]
        for name in QueueName:
            total = counts[name].total
            for label, page in (("first", 1), ("last", max(1, -(-total // 50)))):
                started = time.perf_counter()
                queue_page(name, user, app.config, now, total=total, page=page, per_page=50)
                parts.append(
                    f"{name.value}_{label}_ms={(time.perf_counter() - started) * 1000:.1f}"
                )
        sizes = " ".join(f"{k.value}={v.total:,}" for k, v in counts.items())
        print(f"queues ({sizes}): " + " ".join(parts))


def profile(app: Flask, n: int, lookups: int) -> None:
    """Look-ups in-process through the test client, under cProfile, counting queries."""
    from reverse.extensions import db

    paths = codes(n)
    client = app.test_client()
    page = client.get("/staff/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    rng = random.Random(1)
    for _ in range(50):
        client.get(paths(rng))
    statements.clear()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(lookups):
        response = client.get(paths(rng))
        assert response.status_code == 200, response.text
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(
        f"{lookups} look-ups in-process: {elapsed / lookups * 1000:.2f} ms each, "
        f"{len(statements) / lookups:.1f} queries each"
    )
    for sql in dict.fromkeys(" ".join(s.split())[:150] for s in statements):
        print("   ", sql)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--rmas", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    os.environ["REVERSE_INSTANCE_PATH"] = str(instance)
    ensure_database(args.database_url)
    app = bench_app(args.database_url)
    load(app, args.rmas)
    ensure_user(app)
    if args.profile:
        profile(app, args.rmas, args.profile)
        return
    time_queues(app)

    env = os.environ | {
        "REVERSE_DATABASE_URL": args.database_url,
        "REVERSE_SECRET_KEY": secrets.token_urlsafe(40),
        "REVERSE_INSTANCE_PATH": str(instance),
        "REVERSE_LOGIN_RATE_LIMIT": "10000 per minute",
    }
    paths = codes(args.rmas)
    server = gunicorn("wsgi:app", free_port(), args, env)
    try:
        port = int(server.args[server.args.index("--bind") + 1].rsplit(":", 1)[1])
        cookie = login(port)
        scan_rps, p95 = measure(
            "scan", port, paths, {"Cookie": cookie, "Accept-Language": "ja"}, args
        )
    finally:
        stop(server)
    bare = gunicorn("intake:make_bare_app()", free_port(), args, env)
    try:
        port = int(bare.args[bare.args.index("--bind") + 1].rsplit(":", 1)[1])
        bare_rps, _ = measure("bare", port, lambda _rng: "/lookup", {}, args)
    finally:
        stop(bare)
    ratio = scan_rps / bare_rps if bare_rps else 0.0
    figures = f"scan_rps={scan_rps:.0f} bare_rps={bare_rps:.0f} ratio={ratio:.2f}"
    print(f"intake: {figures} p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
