"""`flask analytics refresh` rebuilds the summaries, and running it twice counts nothing twice."""

from __future__ import annotations

from datetime import date

import pytest

from reverse.analytics import queries as q
from reverse.analytics.refresh import latest_refresh
from reverse.extensions import db
from tests.analytics.conftest import AS_OF
from tests.fixtures.catalog import in_context


@pytest.mark.databases
def test_the_command_refreshes_and_a_second_run_changes_no_figure(backend, app, known_data):
    march = q.Filters(date(2026, 3, 1), date(2026, 3, 31))
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["analytics", "refresh"])
        assert result.exit_code == 0, result.output
        assert "analytics refreshed: 5 cases, 5 lines" in result.output
    with in_context(app):
        assert latest_refresh().as_of > AS_OF  # now, not the fixture's April 30th
        totals = q.return_rates(march, q.Group.CHANNEL).totals
        assert (totals.returned, totals.sold) == (5, 10)
        db.session.rollback()
