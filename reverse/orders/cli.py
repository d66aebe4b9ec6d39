"""`flask --app wsgi orders …`: order feeds from POS and department-store sales reports."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel, Location
from reverse.core.db import commit
from reverse.extensions import db
from reverse.orders.imports import FIELDS, PRESETS, ImportFileError, import_orders


@click.group("orders")
def orders_group() -> None:
    """Orders known to Reverse."""


def _mapping(preset: str | None, pairs: tuple[str, ...]) -> dict[str, str] | str:
    if preset and pairs:
        raise click.UsageError("give either --preset or --map, not both")
    if preset:
        return preset
    if not pairs:
        raise click.UsageError("give --preset or the columns with --map FIELD=HEADER")
    mapping = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or ours.strip() not in FIELDS:
            raise click.UsageError(
                f"--map {pair!r}: expected FIELD=HEADER with FIELD one of {', '.join(FIELDS)}"
            )
        mapping[ours.strip()] = theirs.strip()
    return mapping


@orders_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--channel",
    "channel_code",
    required=True,
    type=click.Choice([c.value for c in ChannelCode]),
    help="The channel the sales belong to.",
)
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="A known file layout.")
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Our field and the file's column header, e.g. order_number=伝票番号 (repeat).",
)
@click.option("--location", "location_code", help="Store or counter of rows that name none.")
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@with_appcontext
def import_command(
    file: Path,
    channel_code: str,
    preset: str | None,
    pairs: tuple[str, ...],
    location_code: str | None,
    dry_run: bool,
) -> None:
    """Import the orders of a sales CSV (UTF-8 or Shift_JIS). Exit code 1 when rows failed."""
    mapping = _mapping(preset, pairs)
    channel = db.session.scalar(sa.select(Channel).where(Channel.code == ChannelCode(channel_code)))
    if channel is None:
        raise click.ClickException(f"no channel {channel_code} is set up")
    location = None
    if location_code:
        location = db.session.scalar(sa.select(Location).where(Location.code == location_code))
        if location is None:
            raise click.ClickException(f"no location with the code {location_code}")
    try:
        result = import_orders(file.read_bytes(), mapping, channel, location=location)
    except ImportFileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    if dry_run:
        db.session.rollback()
    else:
        commit()
    click.echo(
        f"{'dry run: ' if dry_run else ''}rows {result.rows}, orders created {result.created},"
        f" updated {result.updated}, unchanged {result.unchanged}, skipped {result.skipped};"
        f" lines written {result.lines_written}"
    )
    for error in result.errors:
        where = f"line {error.line}" + (f", column {error.column}" if error.column else "")
        order = f" (order {error.order_number})" if error.order_number else ""
        click.echo(f"{where}{order}: {error.message}", err=True)
    if result.errors:
        raise SystemExit(1)
