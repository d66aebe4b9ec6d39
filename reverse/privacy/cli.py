"""`flask privacy anonymise` (cron it daily) and `flask privacy export` (answer a customer's
request for their data)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from reverse.core.db import utcnow
from reverse.core.normalise import InvalidInput
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.privacy import audit
from reverse.privacy.models import AuditAction

privacy_group = AppGroup("privacy", help="Personal data: anonymise closed cases, export.")


@privacy_group.command("anonymise")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    required=True,
    help="Days a case has been closed (and a customer inactive) before its data goes.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be anonymised; change nothing.")
def anonymise_command(days: int, dry_run: bool) -> None:
    """Remove personal data from cases closed for DAYS days, keeping every figure."""
    from reverse.privacy.anonymise import preview, run

    older_than = timedelta(days=days)
    if dry_run:
        report = preview(utcnow() - older_than)
        click.echo(
            f"would anonymise: {report.cases} cases, {report.customers} customers, "
            f"{report.drafts} abandoned drafts"
        )
        return
    report = run(older_than)
    db.session.add(
        audit.entry(
            AuditAction.ANONYMISE,
            endpoint="flask privacy anonymise",
            detail={"older_than_days": days, **report.as_dict()},
        )
    )
    db.session.commit()
    click.echo(
        f"anonymised: {report.cases} cases, {report.customers} customers, "
        f"{report.drafts} abandoned drafts deleted, {report.files} files and "
        f"{report.labels} labels removed"
    )


def find_customer(email: str | None, phone: str | None, customer_id: int | None) -> Customer:
    try:
        if customer_id is not None:
            customer = db.session.get(Customer, customer_id)
        elif email:
            customer = db.session.scalar(
                sa.select(Customer).where(Customer.email == normalise_email(email))
            )
        elif phone:
            customer = db.session.scalar(
                sa.select(Customer).where(Customer.phone == normalise_phone(phone))
            )
        else:
            raise click.UsageError("Give --email, --phone or --customer.")
    except InvalidInput as exc:
        raise click.BadParameter(str(exc)) from exc
    if customer is None:
        raise click.ClickException("No customer matches.")
    return customer


@privacy_group.command("export")
@click.option("--email", help="The customer's email address.")
@click.option("--phone", help="The customer's phone number (any usual Japanese form).")
@click.option("--customer", "customer_id", type=int, help="The customer's id.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the ZIP (default: reverse-customer-<id>-<date>.zip here).",
)
def export_command(
    email: str | None, phone: str | None, customer_id: int | None, out: Path | None
) -> None:
    """Write everything held about one customer to a ZIP (data.json and their files)."""
    from reverse.privacy.export import archive_name, export_archive

    customer = find_customer(email, phone, customer_id)
    out = out or Path(archive_name(customer))
    out.write_bytes(export_archive(customer))
    db.session.add(
        audit.entry(
            AuditAction.EXPORT,
            endpoint="flask privacy export",
            target=f"customer {customer.id}",
        )
    )
    db.session.commit()
    click.echo(f"wrote {out}")
