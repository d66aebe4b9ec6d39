"""privacy: audit log, anonymised_at on customers and cases

Revision ID: c3a9e5f1d472
Revises: b8f4d2e0c316
Create Date: 2026-12-05 11:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

import reverse.core.db


# revision identifiers, used by Alembic.
revision = 'c3a9e5f1d472'
down_revision = 'b8f4d2e0c316'
branch_labels = None
depends_on = None

ACTIONS = ('login', 'login_failed', 'logout', 'change', 'view_customer', 'export', 'anonymise')

#: PostgreSQL (production) refuses to change or remove an audit entry, whoever asks; on
#: SQLite (a laptop) the ORM refuses it (reverse.privacy.models), and tests may empty it
APPEND_ONLY = {
    'postgresql': [
        """
        CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit entries are append-only';
        END;
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
        """,
    ],
}


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', reverse.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_label', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.Enum(*ACTIONS, name='auditaction', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('endpoint', sa.String(length=120), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_target'), ['target'], unique=False)
        batch_op.create_index('ix_audit_entries_user_created', ['user_id', 'created_at'], unique=False)
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)

    with op.batch_alter_table('rmas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', reverse.core.db.UTCDateTime(timezone=True), nullable=True))

    # an anonymised customer has neither email nor phone: the CHECK allows it for them only
    with op.batch_alter_table('customers', schema=None, recreate='auto') as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', reverse.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_customers_reachable'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_customers_reachable'),
            'email IS NOT NULL OR phone IS NOT NULL OR anonymised_at IS NOT NULL',
        )


def downgrade():
    with op.batch_alter_table('customers', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_customers_reachable'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_customers_reachable'), 'email IS NOT NULL OR phone IS NOT NULL'
        )
        batch_op.drop_column('anonymised_at')

    with op.batch_alter_table('rmas', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')

    op.drop_table('audit_entries')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION audit_entries_append_only()')
