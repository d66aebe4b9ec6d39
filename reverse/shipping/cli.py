"""`flask shipping …`: tracking CSV import, label expiry, carrier ranges."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from reverse.catalog.models import Location
from reverse.core.dates import TOKYO
from reverse.core.db import commit
from reverse.extensions import db
from reverse.shipping.constants import Carrier
from reverse.shipping.models import CarrierAccount
from reverse.shipping.operations import (
    InvalidAccount,
    InvalidRange,
    add_carrier_account,
    add_range,
)
from reverse.shipping.tracking import (
    TrackingError,
    TrackingReport,
    expire_unused_labels,
    record_tracking,
)

#: accepted header names (English or the Japanese a carrier's export uses)
COLUMNS = {
    "tracking_number": ("tracking_number", "伝票番号", "お問い合わせ番号"),
    "status": ("status", "ステータス", "状態"),
    "time": ("time", "occurred_at", "日時"),
    "place": ("place", "場所", "担当店"),
}


def parse_time(value: str) -> datetime:
    """ISO 8601, or "2026/11/24 14:05" as carriers write it (Japan time)."""
    text = value.strip().replace("/", "-")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=TOKYO)


def import_tracking_csv(data: bytes) -> tuple[int, int, list[tuple[int, str]]]:
    """Record every row it can; returns (recorded, duplicates, [(line, error)])."""
    text = data.decode("utf-8-sig") if data[:3] == b"\xef\xbb\xbf" else _decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    mapping = {
        key: next((h for h in (reader.fieldnames or []) if h.strip() in names), None)
        for key, names in COLUMNS.items()
    }
    missing = [k for k in ("tracking_number", "status", "time") if mapping[k] is None]
    if missing:
        return 0, 0, [(1, f"missing column(s): {', '.join(missing)}")]
    recorded = duplicates = 0
    errors: list[tuple[int, str]] = []
    for line_no, row in enumerate(reader, start=2):
        try:
            report = TrackingReport(
                tracking_number=row[mapping["tracking_number"]] or "",
                status=row[mapping["status"]] or "",
                occurred_at=parse_time(row[mapping["time"]] or ""),
                place=(row.get(mapping["place"]) if mapping["place"] else "") or "",
            )
            with db.session.begin_nested():
                event = record_tracking(report, source="csv")
        except (TrackingError, ValueError) as exc:
            errors.append((line_no, str(getattr(exc, "message", exc))))
            continue
        recorded += event is not None
        duplicates += event is None
    return recorded, duplicates, errors


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp932")  # carriers' exports are often Shift_JIS


@click.group("shipping")
def shipping_group() -> None:
    """Parcels and carriers."""


@shipping_group.command("import-tracking")
@click.argument("path", type=click.File("rb"))
@with_appcontext
def import_tracking_command(path: io.BufferedReader) -> None:
    """Import carrier tracking events from a CSV (tracking number, status, time, place)."""
    recorded, duplicates, errors = import_tracking_csv(path.read())
    commit()
    click.echo(f"recorded {recorded}, already known {duplicates}, refused {len(errors)}")
    for line_no, message in errors:
        click.echo(f"  line {line_no}: {message}", err=True)
    if errors:
        raise SystemExit(1)


@shipping_group.command("expire-labels")
@click.option("--days", type=int, default=None, help="Default: LABEL_EXPIRY_DAYS.")
@with_appcontext
def expire_labels_command(days: int | None) -> None:
    """Expire cases whose return label was not used in time (run daily)."""
    count = expire_unused_labels(days or current_app.config["LABEL_EXPIRY_DAYS"])
    commit()
    click.echo(f"expired {count}")


@shipping_group.command("add-account")
@click.option("--location", "location_code", required=True, help="Location code.")
@click.option("--carrier", required=True, type=click.Choice([c.value for c in Carrier]))
@click.option("--customer-code", required=True, help="The shipper code the carrier gave you.")
@click.option("--name", default="")
@with_appcontext
def add_account_command(location_code: str, carrier: str, customer_code: str, name: str) -> None:
    """Add a carrier account to a location."""
    location = db.session.scalar(sa.select(Location).where(Location.code == location_code))
    if location is None:
        raise click.BadParameter(f"no location {location_code!r}", param_hint="--location")
    try:
        account = add_carrier_account(location, Carrier(carrier), customer_code, name=name)
    except InvalidAccount as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    commit()
    click.echo(f"account {account.id}: {location.code} {carrier} {account.customer_code}")


@shipping_group.command("add-range")
@click.argument("account_id", type=int)
@click.argument("first")
@click.argument("last")
@with_appcontext
def add_range_command(account_id: int, first: str, last: str) -> None:
    """Record a tracking-number range the carrier issued (11-digit bodies or 12-digit numbers)."""
    account = db.session.get(CarrierAccount, account_id)
    if account is None:
        raise click.BadParameter(f"no carrier account {account_id}", param_hint="ACCOUNT_ID")
    try:
        rng = add_range(account, first, last)
    except InvalidRange as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    commit()
    click.echo(f"range {rng.id}: {rng.remaining} numbers")


@shipping_group.command("accounts")
@with_appcontext
def accounts_command() -> None:
    """List carrier accounts and what is left of their ranges."""
    for account in db.session.scalars(sa.select(CarrierAccount).order_by(CarrierAccount.id)):
        left = sum(r.remaining for r in account.ranges)
        click.echo(
            f"{account.id:4} {account.location.code:24} {account.carrier.value:11} "
            f"{account.customer_code:14} {left:>8} left"
        )
