"""Order lines imported per second from a department-store sales CSV into PostgreSQL.

    .venv/bin/python bench/import.py [--database-url URL] [--orders N] [--lines N]

- PostgreSQL at --database-url (default postgresql://postgres@localhost/bench_import) is
  created when missing and migrated; a department-store channel, two counters and a catalogue
  of 1,000 variants are loaded once and reused by later runs.
- A CP932 file in the department-store layout is made in memory: --orders orders (default
  50,000) of --lines lines (default 4), full-width digits and yen signs as the stores send
  them, a customer phone on one order in three. Orders of an earlier run are deleted first.
- `import_orders` reads it and writes it, and the transaction commits: that is the time
  measured. The same file is then imported again (everything unchanged) and timed too.

Prints the figures and, as its last line:
    import: rows_per_s=…
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@localhost/bench_import"
COUNTERS = (
    ("BENCH-DS-ISETAN", "ベンチ伊勢丹新宿店", "Bench Isetan Shinjuku"),
    ("BENCH-DS-HANKYU", "ベンチ阪急うめだ本店", "Bench Hankyu Umeda"),
)
PRODUCTS, SIZES = 200, ("XS", "S", "M", "L", "XL")
HEADER = "伝票番号,売上日,売場コード,行No,JAN,数量,売価,値引額,顧客名,顧客電話"
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def bench_app(url: str) -> Flask:
    from reverse import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40})


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


def load(app: Flask) -> list[str]:
    """Channel, counters and catalogue, once; returns the JANs of the catalogue."""
    from flask_migrate import upgrade

    from reverse.core.codes import jan_check_digit
    from reverse.extensions import db

    with app.app_context():
        upgrade()
        conn = db.session.connection()
        jans = conn.scalars(
            sa.text("SELECT jan FROM variants WHERE sku LIKE 'BI-%' ORDER BY id")
        ).all()
        if jans:
            print(f"reusing a catalogue of {len(jans):,} variants")
            db.session.rollback()
            return list(jans)
        if not conn.scalar(sa.text("SELECT id FROM channels WHERE code = 'department_store'")):
            conn.execute(
                sa.text(
                    "INSERT INTO channels (code, name_ja, name_en, return_window_days,"
                    " window_starts, allowed_types, proof_required, refund_release,"
                    " store_credit_bonus_percent, created_at, updated_at) VALUES"
                    " ('department_store', '百貨店', 'Department stores', 30, 'purchase',"
                    ' \'["return", "exchange", "repair"]\', true, \'inspection\', 0,'
                    " now(), now())"
                )
            )
        for code, ja, en in COUNTERS:
            conn.execute(
                sa.text(
                    "INSERT INTO locations (code, kind, name_ja, name_en, retailer, postal_code,"
                    " prefecture, city, street, building, phone, active, created_at, updated_at)"
                    " VALUES (:code, 'department_store_counter', :ja, :en, '', '160-0022',"
                    " '東京都', '新宿区', '新宿3-14-1', '', '', true, now(), now())"
                ),
                {"code": code, "ja": ja, "en": en},
            )
        for p in range(PRODUCTS):
            product = conn.scalar(
                sa.text(
                    "INSERT INTO products (style_code, name_ja, name_en, category, returnable,"
                    " repairable, created_at, updated_at) VALUES (:s, :ja, :en, 'tops', true,"
                    " false, now(), now()) RETURNING id"
                ),
                {"s": f"BI-{p:04d}", "ja": f"ベンチ ニット {p}", "en": f"Bench knit {p}"},
            )
            for k, size in enumerate(SIZES):
                body = f"459998{p * len(SIZES) + k:06d}"
                jan = body + str(jan_check_digit(body))
                conn.execute(
                    sa.text(
                        "INSERT INTO variants (product_id, sku, jan, size, colour_ja, colour_en,"
                        " price_yen, created_at, updated_at) VALUES (:p, :sku, :jan, :size,"
                        " 'グレー', 'Grey', 9900, now(), now())"
                    ),
                    {"p": product, "sku": f"BI-{p:04d}-{size}", "jan": jan, "size": size},
                )
                jans.append(jan)
        db.session.commit()
        print(f"loaded a catalogue of {len(jans):,} variants")
        return jans


def make_file(jans: list[str], orders: int, lines: int) -> bytes:
    """The department-store layout in CP932, with full-width digits and yen signs."""
    out = [HEADER]
    for i in range(orders):
        number = f"B{i:08d}"
        day = f"2026/{1 + i % 12}/{1 + i % 28}"
        counter = COUNTERS[i % len(COUNTERS)][0]
        name, phone = ("", "")
        if i % 3 == 0:
            name, phone = (
                f"ベンチ 顧客{i % 20_000}",
                f"090-{1000 + i % 9000}-{(i * 7) % 10_000:04d}",
            )
        for k in range(lines):
            jan = jans[(i * 7 + k * 13) % len(jans)]
            price = 4900 + (i + k) % 50 * 100
            cells = [
                number,
                day,
                counter,
                str(k + 1),
                jan.translate(_FULL) if k % 2 else jan,
                str(1 + (i + k) % 3),
                f'"￥{price:,}"',
                str((i + k) % 5 * 100),
                name,
                phone,
            ]
            out.append(",".join(cells))
    return ("\r\n".join(out) + "\r\n").encode("cp932")


def clear(app: Flask) -> None:
    from reverse.extensions import db

    with app.app_context():
        conn = db.session.connection()
        conn.execute(
            sa.text(
                "DELETE FROM order_lines USING orders"
                " WHERE order_lines.order_id = orders.id AND orders.number LIKE 'B%'"
            )
        )
        conn.execute(sa.text("DELETE FROM orders WHERE number LIKE 'B%'"))
        conn.execute(sa.text("DELETE FROM customers WHERE name LIKE 'ベンチ 顧客%'"))
        db.session.commit()
        with db.engine.connect() as plain:
            plain.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def run(app: Flask, data: bytes) -> tuple[float, object]:
    from reverse.catalog.constants import ChannelCode
    from reverse.catalog.models import Channel
    from reverse.core.db import commit
    from reverse.extensions import db
    from reverse.orders.imports import import_orders

    with app.app_context():
        channel = db.session.scalar(
            sa.select(Channel).where(Channel.code == ChannelCode.DEPARTMENT_STORE)
        )
        started = time.perf_counter()
        result = import_orders(data, "department_store", channel)
        commit()
        return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=4)
    args = parser.parse_args()

    os.environ["REVERSE_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-import-")
    ensure_database(args.database_url)
    app = bench_app(args.database_url)
    jans = load(app)
    clear(app)
    data = make_file(jans, args.orders, args.lines)
    rows = args.orders * args.lines
    print(f"file: {rows:,} rows, {len(data) / 1e6:.1f} MB (CP932)")

    elapsed, result = run(app, data)
    assert not result.errors, result.errors[:5]
    assert result.created == args.orders, result
    assert result.lines_written == rows, result
    print(
        f"first import: {elapsed:.2f} s, {result.created:,} orders created,"
        f" {result.lines_written:,} lines"
    )
    again, second = run(app, data)
    assert second.unchanged == args.orders, second
    print(
        f"same file again: {again:.2f} s, {second.unchanged:,} unchanged"
        f" ({rows / again:,.0f} rows/s)"
    )
    print(f"import: rows_per_s={rows / elapsed:.0f}")


if __name__ == "__main__":
    main()
