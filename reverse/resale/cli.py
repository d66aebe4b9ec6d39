"""`flask --app wsgi resale …`: maintenance of the pre-owned shop."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from reverse.core.db import commit
from reverse.resale.operations import expire_overdue


@click.group("resale")
def resale_group() -> None:
    """Pre-owned stock."""


@resale_group.command("expire-reservations")
@with_appcontext
def expire_reservations_command() -> None:
    """End reservations past their hold and put their items back on sale (run hourly)."""
    count = expire_overdue()
    commit()
    click.echo(f"expired {count}")
