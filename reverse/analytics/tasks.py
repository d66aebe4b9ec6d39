"""The refresh job: rebuilds the summary tables (its commit, made by the job runner together
with the outbox row's done mark, publishes the new figures at once)."""

from __future__ import annotations

from reverse.analytics.refresh import refresh_summaries


def refresh_job() -> None:
    """Safe to run twice: each run rebuilds everything from the live tables."""
    refresh_summaries()
