"""Self-service failures and locks in the database; at most one undecided attempt per
pensioner

Revision ID: 0007_lockout
Revises: 0006_staff_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0007_lockout'
down_revision = '0006_staff_sessions'
branch_labels = None
depends_on = None

_UNDECIDED = sa.text("status IN ('queued', 'processing')")


def upgrade() -> None:
    op.create_table(
        'self_service_failures',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('pensioner_id', sa.Uuid(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('attempt_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_self_service_failures_attempt_id_attempts')),
        sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_self_service_failures_pensioner_id_pensioners')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_self_service_failures')),
    )
    op.create_index(op.f('ix_self_service_failures_pensioner_id'), 'self_service_failures', ['pensioner_id'])
    op.create_table(
        'self_service_locks',
        sa.Column('pensioner_id', sa.Uuid(), nullable=False),
        sa.Column('locked_at', UTCDateTime(), nullable=True),
        sa.Column('locked_until', UTCDateTime(), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('counts_since', UTCDateTime(), nullable=True),
        sa.Column('lifted_at', UTCDateTime(), nullable=True),
        sa.Column('lifted_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_self_service_locks_pensioner_id_pensioners')),
        sa.PrimaryKeyConstraint('pensioner_id', name=op.f('pk_self_service_locks')),
    )
    # Before the index can exist, a pensioner with several undecided attempts (possible
    # until now) keeps the oldest; the later ones are set aside as errors, not failures.
    op.execute(
        "UPDATE attempts SET status = 'error', error = 'set aside: another attempt of the "
        "pensioner was undecided when one undecided attempt per pensioner became the rule' "
        "WHERE status IN ('queued', 'processing') AND EXISTS (SELECT 1 FROM attempts AS a2 "
        "WHERE a2.pensioner_id = attempts.pensioner_id AND a2.status IN ('queued', 'processing') "
        "AND (a2.created_at < attempts.created_at OR (a2.created_at = attempts.created_at AND a2.id < attempts.id)))"
    )
    op.create_index(
        'uq_attempts_one_undecided', 'attempts', ['pensioner_id'], unique=True,
        sqlite_where=_UNDECIDED, postgresql_where=_UNDECIDED,
    )


def downgrade() -> None:
    op.drop_index('uq_attempts_one_undecided', table_name='attempts')
    op.drop_table('self_service_locks')
    op.drop_index(op.f('ix_self_service_failures_pensioner_id'), table_name='self_service_failures')
    op.drop_table('self_service_failures')
