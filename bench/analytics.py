"""The analytics dashboard on years of data: every view's queries timed against a million
cases and ten million events in PostgreSQL.

    .venv/bin/python bench/analytics.py [--database-url URL] [--rmas N] [--events-per-case K]
        [--orders N] [--repeat N]

- PostgreSQL at --database-url (default postgresql://postgres@localhost/bench_analytics) is
  created when missing and migrated; the data set is loaded once with INSERT … SELECT
  generate_series: --rmas cases (default 1,000,000) filed over three years across four
  channels and four sites, one line each with a reason and one of 1,000 variants, K events each
  (default 10: 10,000,000 events), --orders one-line orders (default 3,000,000: the sales the
  return rates divide by), and a repair order per repair case (one case in ten). A second run
  finds the data and reuses it.
- The summary tables are refreshed (`flask analytics refresh`'s work), and timed.
- Every view is then computed --repeat times (default 20) per filter set — the default last
  90 days, a whole year, one channel, one location — with its figures read as the page reads
  them; each view's p50 and p95 are printed.

Last line:  analytics: p95_ms=<worst view's p95> views=<number of views>
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intake import DAMM_SQL, STRIDE, ensure_database  # noqa: E402 - after the path is set

DEFAULT_URL = "postgresql://postgres@localhost/bench_analytics"
MARKER = "BENCH-AN-RC"
#: code, kind, name_ja, name_en, retailer
LOCATIONS = (
    (MARKER, "returns_centre", "ベンチ返品センター", "Bench Returns Centre", ""),
    ("BENCH-AN-ST1", "store", "ベンチ渋谷店", "Bench Shibuya", ""),
    ("BENCH-AN-DS1", "department_store_counter", "ベンチ伊勢丹", "Bench Isetan", "伊勢丹新宿店"),
    (
        "BENCH-AN-DS2",
        "department_store_counter",
        "ベンチ髙島屋",
        "Bench Takashimaya",
        "髙島屋日本橋店",
    ),
)
CHANNELS = ("web", "store", "department_store", "marketplace")
CATEGORIES = ("tops", "bottoms", "outerwear", "dresses", "knitwear", "shoes", "bags", "accessories")
REASONS = (
    "size_too_small",
    "size_too_large",
    "not_as_pictured",
    "changed_mind",
    "defective",
    "damaged_in_transit",
    "wrong_item",
)
CUSTOMERS = 50_000
PRODUCTS, SIZES = 200, ("XS", "S", "M", "L", "XL")
DAYS = 3 * 365

#: one order per i over the three years; channel i % 4, the counter's location for the
#: department store, our store for the store channel
ORDERS_SQL = """
INSERT INTO orders (channel_id, number, customer_id, location_id, ordered_at, delivered_at,
                    created_at, updated_at)
SELECT (ARRAY[:web, :store, :dept, :market])[i % 4 + 1], 'BA' || i, :c0 + i % :customers,
       CASE i % 4 WHEN 1 THEN :st1 WHEN 2 THEN CASE WHEN i % 8 = 2 THEN :ds1 ELSE :ds2 END END,
       at, at + interval '2 days', at, at
FROM (SELECT i, now() - ((:n - i) * CAST(:days AS float) / :n) * interval '1 day' AS at
      FROM generate_series(1, :n) AS i) AS g
"""

ORDER_LINES_SQL = """
INSERT INTO order_lines (order_id, variant_id, quantity, unit_price_yen, discount_yen, final_sale)
SELECT id, :v0 + (id * 37) % :variants, 1 + (id % 11 = 0)::int, 8900, 0, false
FROM orders WHERE number LIKE 'BA%'
"""

#: one case per i over the three years; types 6 : 3 : 1 return, exchange, repair; old ones
#: closed, the last three weeks' spread over the stages
RMAS_SQL = """
INSERT INTO rmas (number, access_token_hash, type, status, source, channel_id, customer_id,
                  order_id, location_id, return_method, declared_retailer, declared_price_yen,
                  proof_status, decision_reason, ship_name, ship_postal_code, ship_prefecture,
                  ship_city, ship_street, ship_building, outcome, resolution, status_changed_at,
                  version_id, created_at, updated_at)
SELECT 'R' || body || pg_temp.damm(body), md5('ban-a' || i) || md5('ban-b' || i),
       CASE WHEN i % 10 = 9 THEN 'repair' WHEN i % 10 >= 6 THEN 'exchange' ELSE 'return' END,
       CASE WHEN i % 10 = 9 THEN 'closed'
            WHEN age_days > 21 THEN 'closed'
            WHEN r < 30 THEN 'awaiting_item' WHEN r < 45 THEN 'received'
            WHEN r < 55 THEN 'inspected' ELSE 'resolved' END,
       'web', (ARRAY[:web, :store, :dept, :market])[i % 4 + 1], :c0 + (i * 31) % :customers,
       CASE WHEN i % 4 <> 2 OR i % 3 = 0 THEN :o0 + (i * 3) % :orders END,
       CASE i % 4 WHEN 1 THEN :st1 WHEN 2 THEN CASE WHEN i % 8 = 2 THEN :ds1 ELSE :ds2 END
            ELSE :rc END,
       'prepaid_label',
       CASE WHEN i % 4 = 2 AND i % 3 <> 0 THEN
            CASE WHEN i % 8 = 2 THEN '伊勢丹新宿店' ELSE '髙島屋日本橋店' END ELSE '' END,
       CASE WHEN i % 4 = 2 AND i % 3 <> 0 THEN 12000 END,
       'not_needed', '', '', '', '', '', '', '', '{}',
       CASE WHEN i % 10 = 9 THEN NULL WHEN age_days <= 21 AND r < 55 THEN NULL
            WHEN i % 10 >= 6 THEN 'exchange' WHEN r % 3 = 0 THEN 'store_credit' ELSE 'refund' END,
       filed + interval '1 day', 1, filed, filed
FROM (SELECT i, (100000000 + (i::bigint * :stride) % 900000000)::text AS body,
             abs(hashint4(i)) % 100 AS r, (:n - i) * CAST(:days AS float) / :n AS age_days,
             now() - ((:n - i) * CAST(:days AS float) / :n) * interval '1 day' AS filed
      FROM generate_series(1, :n) AS i) AS g
ORDER BY i
"""

LINES_SQL = """
INSERT INTO rma_lines (rma_id, variant_id, order_line_id, description, quantity, reason,
                       comment, symptom)
SELECT id, :v0 + (id * 13) % :variants, NULL, '', 1 + (id % 9 = 0)::int,
       (ARRAY['size_too_small', 'size_too_large', 'not_as_pictured', 'changed_mind',
              'defective', 'damaged_in_transit', 'wrong_item'])[1 + (id * 7 + id / 5) % 7],
       '', ''
FROM rmas WHERE id BETWEEN :first AND :last
"""

#: K events per case: created, then the stages a return passes through at growing offsets
#: (hours, varied per case), then notes; never later than now
EVENTS_SQL = """
INSERT INTO rma_events (rma_id, kind, from_status, to_status, actor_kind, actor_label,
                        channel, note, public, data, created_at)
SELECT id, CASE WHEN k = 1 THEN 'created' WHEN k <= 7 THEN 'status_changed' ELSE 'note' END,
       (ARRAY[NULL, 'submitted', 'approved', 'awaiting_item', 'in_transit', 'received',
              'inspected'])[least(k, 7)],
       CASE WHEN k <= 7 THEN (ARRAY['submitted', 'approved', 'awaiting_item', 'in_transit',
              'received', 'inspected', 'resolved'])[k] END,
       'system', 'bench', 'warehouse', '', true, '{}',
       least(now(), created_at + (ARRAY[0, 1, 2, 30, 96, 130, 150, 160, 170, 180])[least(k, 10)]
             * (0.5 + (abs(hashint4(id * 16 + k)) % 100) / 100.0) * interval '1 hour')
FROM rmas, generate_series(1, :k) AS k
WHERE id BETWEEN :first AND :last
"""

REPAIRS_SQL = """
INSERT INTO repair_orders (rma_id, intake_location_id, handback, warranty, warranty_note,
                           promised_on, condition_notes, accessories, kind, diagnosis,
                           diagnosed_by, decline_fee_yen, amount_due_yen, payment_note, qc_by,
                           qc_note, received_at, handed_back_at, created_at, updated_at)
SELECT id, :st1, 'ship', false, '', (created_at + interval '21 days')::date, '', '',
       (ARRAY['stitching', 'zip', 'sole', 'other'])[1 + id % 4], '', '', 0,
       3300 * (1 + id % 4), '', '', '', created_at + interval '1 day',
       created_at + (10 + id % 20) * interval '1 day', created_at, created_at
FROM rmas WHERE id BETWEEN :first AND :last AND type = 'repair'
"""


def bench_app(url: str) -> Flask:
    from reverse import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40})


def load(app: Flask, n: int, k: int, orders: int) -> None:
    """The data set, once; a second run finds it (by its returns centre) and keeps it."""
    from flask_migrate import upgrade

    from reverse.extensions import db

    with app.app_context():
        upgrade()
        conn = db.session.connection()
        if conn.scalar(sa.text("SELECT id FROM locations WHERE code = :c"), {"c": MARKER}):
            have = conn.scalar(sa.text("SELECT count(*) FROM rmas"))
            events = conn.scalar(sa.text("SELECT count(*) FROM rma_events"))
            print(f"reusing {have:,} cases and {events:,} events already loaded")
            db.session.rollback()
            return
        started = time.perf_counter()
        _insert(conn, n, k, orders)
        db.session.commit()
        with db.engine.connect() as plain:
            plain.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        print(f"loaded {n:,} cases, {n * k:,} events in {time.perf_counter() - started:.0f} s")


def _step(what: str, conn: sa.Connection, sql: str, params: dict) -> None:
    started = time.perf_counter()
    rows = conn.execute(sa.text(sql), params).rowcount
    print(f"  {what}: {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)


def _insert(conn: sa.Connection, n: int, k: int, orders: int) -> None:
    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    conn.exec_driver_sql(DAMM_SQL)
    channels = {code: _channel(conn, code) for code in CHANNELS}
    ids = {}
    for code, kind, ja, en, retailer in LOCATIONS:
        ids[code] = conn.scalar(
            sa.text(
                "INSERT INTO locations (code, kind, name_ja, name_en, retailer, postal_code,"
                " prefecture, city, street, building, phone, active, created_at, updated_at)"
                " VALUES (:code, :kind, :ja, :en, :retailer, '272-0002', '千葉県', '市川市',"
                " '二俣新町17-2', '', '', true, now(), now()) RETURNING id"
            ),
            {"code": code, "kind": kind, "ja": ja, "en": en, "retailer": retailer},
        )
    conn.execute(
        sa.text(
            "INSERT INTO customers (email, name, name_kana, locale, created_at, updated_at)"
            " SELECT 'bench-an' || i || '@example.jp', 'ベンチ 顧客' || i, '', 'ja', now(), now()"
            " FROM generate_series(1, :k) AS i"
        ),
        {"k": CUSTOMERS},
    )
    c0 = conn.scalar(sa.text("SELECT min(id) FROM customers WHERE email LIKE 'bench-an%'"))
    v0 = _catalogue(conn)
    common = {
        "web": channels["web"],
        "store": channels["store"],
        "dept": channels["department_store"],
        "market": channels["marketplace"],
        "st1": ids["BENCH-AN-ST1"],
        "ds1": ids["BENCH-AN-DS1"],
        "ds2": ids["BENCH-AN-DS2"],
        "rc": ids[MARKER],
        "c0": c0,
        "customers": CUSTOMERS,
        "days": DAYS,
    }
    variants = PRODUCTS * len(SIZES)
    _step("orders", conn, ORDERS_SQL, common | {"n": orders})
    _step("order lines", conn, ORDER_LINES_SQL, {"v0": v0, "variants": variants})
    o0 = conn.scalar(sa.text("SELECT min(id) FROM orders WHERE number LIKE 'BA%'"))
    params = common | {"n": n, "stride": STRIDE, "o0": o0, "orders": orders}
    _step("cases", conn, RMAS_SQL, params)
    first, last = conn.execute(sa.text("SELECT min(id), max(id) FROM rmas")).one()
    span = {"first": first, "last": last}
    _step("lines", conn, LINES_SQL, span | {"v0": v0, "variants": variants})
    _step("events", conn, EVENTS_SQL, span | {"k": k})
    _step("repair orders", conn, REPAIRS_SQL, span | {"st1": ids["BENCH-AN-ST1"]})


def _channel(conn: sa.Connection, code: str) -> int:
    existing = conn.scalar(sa.text("SELECT id FROM channels WHERE code = :c"), {"c": code})
    if existing:
        return existing
    return conn.scalar(
        sa.text(
            "INSERT INTO channels (code, name_ja, name_en, return_window_days, window_starts,"
            " allowed_types, proof_required, refund_release, store_credit_bonus_percent,"
            " created_at, updated_at) VALUES (:c, :c, :c, 30, 'delivery',"
            ' \'["return", "exchange", "repair"]\', false, \'inspection\', 0,'
            " now(), now()) RETURNING id"
        ),
        {"c": code},
    )


def _catalogue(conn: sa.Connection) -> int:
    """PRODUCTS styles × SIZES over the categories; returns the first variant id."""
    from reverse.core.codes import jan_check_digit

    v0 = None
    for p in range(PRODUCTS):
        product = conn.scalar(
            sa.text(
                "INSERT INTO products (style_code, name_ja, name_en, category, returnable,"
                " repairable, created_at, updated_at) VALUES (:s, :ja, :en, :cat, true,"
                " true, now(), now()) RETURNING id"
            ),
            {
                "s": f"BA-{p:04d}",
                "ja": f"ベンチ 商品 {p}",
                "en": f"Bench item {p}",
                "cat": CATEGORIES[p % len(CATEGORIES)],
            },
        )
        for k, size in enumerate(SIZES):
            body = f"459998{p * len(SIZES) + k:06d}"
            vid = conn.scalar(
                sa.text(
                    "INSERT INTO variants (product_id, sku, jan, size, colour_ja, colour_en,"
                    " price_yen, created_at, updated_at) VALUES (:p, :sku, :jan, :size,"
                    " 'ネイビー', 'Navy', 8900, now(), now()) RETURNING id"
                ),
                {
                    "p": product,
                    "sku": f"BA-{p:04d}-{size}",
                    "jan": body + str(jan_check_digit(body)),
                    "size": size,
                },
            )
            v0 = vid if v0 is None else v0
    return v0


def refresh(app: Flask) -> None:
    from reverse.analytics.refresh import refresh_summaries, vacuum_summaries
    from reverse.extensions import db

    with app.app_context():
        db.session.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        result = refresh_summaries()
        db.session.commit()
        vacuum_summaries()  # what `flask analytics refresh` does, and autovacuum in time
        print(
            f"refresh: {result.cases:,} cases, {result.lines:,} lines, "
            f"{result.sales_rows:,} sales rows in {result.duration_ms / 1000:.1f} s"
        )


def time_views(app: Flask, repeat: int) -> tuple[float, int]:
    """Each view (and each grouping of the return rates) under each filter set; returns the
    worst p95 in milliseconds."""
    from reverse.analytics import queries as q
    from reverse.analytics.refresh import latest_refresh
    from reverse.core.dates import today_in_japan
    from reverse.extensions import db

    today = today_in_japan()
    with app.app_context():
        as_of = latest_refresh().as_of
        store = db.session.scalar(sa.text("SELECT id FROM locations WHERE code = 'BENCH-AN-ST1'"))
        filter_sets = {
            "90d": q.Filters(today - timedelta(days=89), today),
            "1y": q.Filters(today - timedelta(days=364), today),
            "web90d": q.Filters(today - timedelta(days=89), today, channel="web"),
            "store90d": q.Filters(today - timedelta(days=89), today, location_id=store),
        }
        views: list[tuple[str, q.View, q.Group]] = [
            (f"returns:{g.value}", q.View.RETURNS, g) for g in q.Group
        ] + [(v.value, v, q.Group.REASON) for v in q.View if v != q.View.RETURNS]
        worst = 0.0
        print(
            "  view                  p50 ms  p95 ms   p95 by filter set: " + " ".join(filter_sets)
        )
        for name, view, group in views:
            samples, per_set = [], []
            for filters in filter_sets.values():
                these = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    q.view_data(view, filters, group=group, config=app.config, as_of=as_of)
                    these.append((time.perf_counter() - started) * 1000)
                    db.session.rollback()
                samples += these
                per_set.append(_p95(these))
            p95 = _p95(samples)
            worst = max(worst, p95)
            sets = " ".join(f"{v:6.0f}" for v in per_set)
            print(f"  {name:<20} {statistics.median(samples):7.1f} {p95:7.1f}   {sets}")
        return worst, len(views)


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--rmas", type=int, default=1_000_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--orders", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    ensure_database(args.database_url)
    app = bench_app(args.database_url)
    load(app, args.rmas, args.events_per_case, args.orders)
    refresh(app)
    worst, count = time_views(app, args.repeat)
    print(f"analytics: p95_ms={worst:.0f} views={count}")


if __name__ == "__main__":
    main()
