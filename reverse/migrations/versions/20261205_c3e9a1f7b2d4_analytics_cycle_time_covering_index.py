"""analytics: covering index for the cycle-time view

Revision ID: c3e9a1f7b2d4
Revises: b8f4d2e0c316
Create Date: 2026-12-05 09:58:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3e9a1f7b2d4'
down_revision = 'b8f4d2e0c316'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analytics_case_facts', schema=None) as batch_op:
        batch_op.create_index(
            'ix_analytics_case_facts_cycle',
            ['day', 'channel_code', 'location_id'],
            unique=False,
            postgresql_include=['to_receive_s', 'to_inspect_s', 'to_resolve_s', 'total_s'],
        )


def downgrade():
    with op.batch_alter_table('analytics_case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_case_facts_cycle')
