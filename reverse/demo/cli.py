"""`flask demo load`: the demo data set."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from reverse.auth.operations import InvalidUser
from reverse.core.db import commit
from reverse.demo.loader import DEFAULT_SEED, DEMO_PASSWORD, demo_loaded, load_demo
from reverse.extensions import db


@click.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed of the random generator; the same seed gives the same data.",
)
@with_appcontext
def load_command(seed: int) -> None:
    """Load the demo shop: catalogue, customers, orders, RMAs and one login per role."""
    if demo_loaded():
        click.echo("demo data already loaded; nothing to do.")
        return
    started = time.perf_counter()
    try:
        summary = load_demo(seed)
        commit()
    except InvalidUser as exc:
        # Most likely a staff account made by hand with one of the demo emails.
        db.session.rollback()
        details = "; ".join(f"{field}: {msg}" for field, msg in exc.details.items())
        raise click.ClickException(f"demo logins could not be created ({details})") from exc
    except Exception:
        # One transaction: a failure anywhere leaves the database as it was.
        db.session.rollback()
        raise
    click.echo(f"demo data loaded in {time.perf_counter() - started:.1f} s (seed {seed}):")
    for table, count in summary.counts.items():
        click.echo(f"  {table:12} {count:6,}")
    click.echo(f"staff logins (password {DEMO_PASSWORD}):")
    for email, role, location in summary.logins:
        where = f" @ {location}" if location else ""
        click.echo(f"  {email:26} {role}{where}")
