"""The migrations build exactly the schema the models describe, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from reverse.extensions import db


@pytest.mark.databases
def test_migrations_match_the_models(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []
