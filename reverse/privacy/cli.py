"""`flask privacy anonymise` (cron it daily) and `flask privacy export` (answer a customer's
request for their data)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from reverse.core.db import utcnow
from reverse.core.normalise import InvalidInput
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.customers.models import Customer
from reverse.customers.queries import phone_matches
from reverse.extensions import db
from reverse.portal.models import PortalDraft
from reverse.privacy import audit
from reverse.privacy.anonymise import (
    BATCH,
    Report,
    anonymise_cases,
    anonymise_customers,
    blank_webhook_customers,
    cases_due,
    customers_due,
    delete_drafts,
    drafts_due,
    remove_files,
)
from reverse.privacy.models import AuditAction
from reverse.rmas.models import Rma

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
    from reverse.privacy.anonymise import preview

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


def run(older_than: timedelta, *, now: datetime | None = None, batch: int = BATCH) -> Report:
    """Anonymise everything due, one transaction per batch (short locks, and the work done so
    far kept if the run is stopped); files go once their batch has committed."""
    now = now or utcnow()
    cutoff = now - older_than
    report = Report()
    while ids := list(db.session.scalars(cases_due(cutoff).order_by(Rma.id).limit(batch))):
        anonymise_cases(ids, now, report)
        db.session.commit()
        remove_files(report)
    while ids := list(db.session.scalars(customers_due(cutoff).order_by(Customer.id).limit(batch))):
        anonymise_customers(ids, now, report)
        db.session.commit()
    blank_webhook_customers()
    db.session.commit()
    while ids := list(db.session.scalars(drafts_due(cutoff).order_by(PortalDraft.id).limit(batch))):
        delete_drafts(ids, report)
        db.session.commit()
        remove_files(report)
    return report


def find_customer(email: str | None, phone: str | None, customer_id: int | None) -> Customer:
    try:
        if customer_id is not None:
            customer = db.session.get(Customer, customer_id)
        elif email:
            customer = db.session.scalar(
                sa.select(Customer).where(Customer.email == normalise_email(email))
            )
        elif phone:
            found = db.session.scalars(
                sa.select(Customer).where(phone_matches(normalise_phone(phone))).limit(2)
            ).all()
            if len(found) > 1:
                raise click.ClickException(
                    "Several customers have this phone number: use --customer."
                )
            customer = found[0] if found else None
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
