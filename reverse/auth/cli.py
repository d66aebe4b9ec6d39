"""`flask users …`: create and list staff accounts."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from reverse.auth.constants import Role
from reverse.auth.models import User
from reverse.auth.operations import InvalidUser, create_user
from reverse.catalog.models import Location
from reverse.core.db import commit
from reverse.extensions import db


@click.group("users")
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--location", "location_code", help="Location code (required for store staff).")
@click.password_option(help="Prompted for when not given.")
@with_appcontext
def create_command(
    email: str, name: str, role: str, location_code: str | None, password: str
) -> None:
    """Create a staff user."""
    location = None
    if location_code:
        location = db.session.scalar(sa.select(Location).where(Location.code == location_code))
        if location is None:
            raise click.BadParameter(
                f"no location with code {location_code!r}", param_hint="--location"
            )
    try:
        user = create_user(email, name, password, role, location)
    except InvalidUser as exc:
        db.session.rollback()
        details = "; ".join(f"{field}: {msg}" for field, msg in exc.details.items())
        raise click.ClickException(f"{exc.message} {details}") from exc
    commit()
    click.echo(f"created {user.role.value} {user.email}")


@users_group.command("list")
@with_appcontext
def list_command() -> None:
    """List staff users."""
    for user in db.session.scalars(sa.select(User).order_by(User.id)):
        where = f" @ {user.location.code}" if user.location else ""
        state = "" if user.active else " (inactive)"
        click.echo(f"{user.email:32} {user.role.value:10} {user.name}{where}{state}")
