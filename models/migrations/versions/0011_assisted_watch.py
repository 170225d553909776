"""Assisted captures under watch: the browser of each session and attempt, and what the
watch found about each assisted attempt (second face, flags).

Revision ID: 0011_assisted_watch
Revises: 0009_reference_classes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import JSONValue, UTCDateTime

revision = '0011_assisted_watch'
down_revision = '0010_death_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('certification_sessions', 'attempts'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('user_agent', sa.String(length=200), nullable=True))
    op.create_table('attempt_watch',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('attempt_id', sa.Uuid(), nullable=False),
    sa.Column('frames_checked', sa.Integer(), nullable=False),
    sa.Column('second_face_frames', sa.Integer(), nullable=False),
    sa.Column('second_face_embedding_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('flags', JSONValue, nullable=False),
    sa.Column('details', JSONValue, nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_attempt_watch_attempt_id_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt_watch')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_attempt_watch_attempt_id')),
    )
    op.create_index(op.f('ix_attempt_watch_region_code'), 'attempt_watch', ['region_code'], unique=False)
    op.create_index(op.f('ix_attempt_watch_created_at'), 'attempt_watch', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_attempt_watch_created_at'), table_name='attempt_watch')
    op.drop_index(op.f('ix_attempt_watch_region_code'), table_name='attempt_watch')
    op.drop_table('attempt_watch')
    for table in ('attempts', 'certification_sessions'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('user_agent')
