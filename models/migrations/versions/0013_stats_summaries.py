"""Statistics: summary tables for the agency dashboard and fairness monitor; the device
family on sessions and attempts; the nearest reference's class on attempts; the paying
region on review items (the dashboard's live review queue reads it without a join).

Revision ID: 0013_stats_summaries
Revises: 0009_reference_classes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_stats_summaries'
down_revision = '0012_identity_templates'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('reviews') as batch:
        batch.add_column(sa.Column('region_code', sa.String(length=6), nullable=True))
        batch.create_index('ix_reviews_state_region_code', ['state', 'region_code'], unique=False)
    op.execute(
        "UPDATE reviews SET region_code = (SELECT pensioners.region_code FROM pensioners "
        "WHERE pensioners.id = reviews.pensioner_id)"
    )
    with op.batch_alter_table('certification_sessions') as batch:
        batch.add_column(sa.Column('device_family', sa.String(length=16), nullable=True))
    with op.batch_alter_table('attempts') as batch:
        batch.add_column(sa.Column('device_family', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('reference_class', sa.String(length=16), nullable=True))
    op.create_table(
        'stats_record_counts',
        sa.Column('id', _ID, nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('scheme', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('week', sa.Date(), nullable=True),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_record_counts')),
    )
    op.create_index('ix_stats_record_counts_period_region', 'stats_record_counts', ['period', 'region_code'])
    op.create_table(
        'stats_attempt_counts',
        sa.Column('id', _ID, nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('band', sa.String(length=32), nullable=False),
        sa.Column('thresholds_version', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('try_no', sa.Integer(), nullable=False),
        sa.Column('passed_in_period', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_attempt_counts')),
    )
    op.create_index('ix_stats_attempt_counts_period_region', 'stats_attempt_counts', ['period', 'region_code'])
    op.create_table(
        'stats_reason_counts',
        sa.Column('id', _ID, nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('band', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('false_reject', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_reason_counts')),
    )
    op.create_index('ix_stats_reason_counts_period_region', 'stats_reason_counts', ['period', 'region_code'])
    op.create_table(
        'stats_refreshes',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_stats_refreshes')),
    )


def downgrade() -> None:
    op.drop_table('stats_refreshes')
    for table in ('stats_reason_counts', 'stats_attempt_counts', 'stats_record_counts'):
        op.drop_index(f'ix_{table}_period_region', table_name=table)
        op.drop_table(table)
    with op.batch_alter_table('attempts') as batch:
        batch.drop_column('reference_class')
        batch.drop_column('device_family')
    with op.batch_alter_table('certification_sessions') as batch:
        batch.drop_column('device_family')
    with op.batch_alter_table('reviews') as batch:
        batch.drop_index('ix_reviews_state_region_code')
        batch.drop_column('region_code')
