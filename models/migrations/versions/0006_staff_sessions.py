"""Server-side staff sessions (logout and account changes revoke them), and indexes for
counting failed sign-ins per account and per client address in the audit log

Revision ID: 0006_staff_sessions
Revises: 0005_retention_revocation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0006_staff_sessions'
down_revision = '0005_retention_revocation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_staff_sessions_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_user_id'), ['user_id'], unique=False)
    # plain CREATE INDEX (not batch mode): on SQLite a batch rebuild of audit_log would
    # drop its append-only triggers
    op.create_index('ix_audit_log_action_actor_id_at', 'audit_log', ['action', 'actor_id', 'at'], unique=False)
    op.create_index('ix_audit_log_action_ip_at', 'audit_log', ['action', 'ip', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_action_ip_at', table_name='audit_log')
    op.drop_index('ix_audit_log_action_actor_id_at', table_name='audit_log')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_user_id'))
    op.drop_table('staff_sessions')
