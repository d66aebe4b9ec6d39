"""`flask api …`: integrations and their keys from the command line (set-up scripts)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from reverse.api.constants import Scope
from reverse.api.models import ApiKey, Integration
from reverse.api.operations import create_integration, issue_key, revoke_key
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.core.errors import DomainError
from reverse.extensions import db

api_group = AppGroup("api", help="API integrations and keys.")


@api_group.command("create-key")
@click.option("--integration", "name", required=True, help="created when it does not exist")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="repeat for each scope",
)
@click.option("--label", default="")
def create_key(name: str, scopes: tuple[str, ...], label: str) -> None:
    """Issue a key and print it once (only its hash is kept)."""
    try:
        integration = db.session.scalar(sa.select(Integration).where(Integration.name == name))
        if integration is None:
            integration = create_integration(name)
        key, raw = issue_key(integration, scopes, Actor.system("cli"), label)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    commit()
    click.echo(raw)
    click.echo(f"{key.prefix} for {integration.name}: {', '.join(key.scopes)}", err=True)


@api_group.command("revoke-key")
@click.argument("prefix")
def revoke(prefix: str) -> None:
    """Revoke the key whose visible part is PREFIX (rvk_…)."""
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise click.ClickException(f"no key {prefix}")
    changed = revoke_key(key, Actor.system("cli"))
    commit()
    click.echo(f"{prefix} revoked" if changed else f"{prefix} was already revoked")


@api_group.command("keys")
def list_keys() -> None:
    """List every key: prefix, integration, scopes, state."""
    for key in db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id)):
        state = "revoked" if key.revoked_at else ("active" if key.is_active else "switched off")
        click.echo(f"{key.prefix}\t{key.integration.name}\t{','.join(key.scopes)}\t{state}")
