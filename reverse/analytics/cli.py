"""`flask analytics refresh`: rebuild the dashboard's summary tables now (cron it, or let the
page's button enqueue the same work as a job)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from reverse.extensions import db

analytics_group = AppGroup("analytics", help="The managers' dashboard.")


@analytics_group.command("refresh")
def refresh_command() -> None:
    """Rebuild the summary tables from the live data, in one transaction."""
    from reverse.analytics.refresh import refresh_summaries, vacuum_summaries

    refresh = refresh_summaries()
    db.session.commit()
    vacuum_summaries()
    click.echo(
        f"analytics refreshed: {refresh.cases} cases, {refresh.lines} lines, "
        f"{refresh.sales_rows} sales rows in {refresh.duration_ms} ms"
    )
