"""Enrolments on hold (a national ID already enrolled in another region), their review
items, and reference photos added from outside the pensioner's paying region

The national ID hash becomes unique among active enrolments only (a partial unique
index, on SQLite and PostgreSQL alike), so a held or closed enrolment may repeat it.

Revision ID: 0008_enrolment_hold
Revises: 0007_lockout
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0008_enrolment_hold'
down_revision = '0007_lockout'
branch_labels = None
depends_on = None

_ACTIVE_ONLY = sa.text("enrolment_status = 'active'")


def upgrade() -> None:
    with op.batch_alter_table('pensioners') as batch:
        batch.add_column(sa.Column('enrolment_status', sa.String(length=16), server_default='active', nullable=False))
        batch.add_column(sa.Column('hold_reason', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('closed_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('closed_reason', sa.String(length=32), nullable=True))
        batch.drop_constraint('uq_pensioners_national_id_hash', type_='unique')
        batch.create_index('ix_pensioners_national_id_hash', ['national_id_hash'], unique=False)
    op.create_index(
        'uq_pensioners_active_national_id_hash', 'pensioners', ['national_id_hash'], unique=True,
        sqlite_where=_ACTIVE_ONLY, postgresql_where=_ACTIVE_ONLY,
    )
    with op.batch_alter_table('face_references') as batch:
        batch.add_column(sa.Column('added_outside_paying_region', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    with op.batch_alter_table('reviews') as batch:
        batch.alter_column('attempt_id', existing_type=sa.Uuid(), nullable=True)
        batch.alter_column('kind', existing_type=sa.String(length=16), type_=sa.String(length=32),
                           existing_nullable=False)
        batch.add_column(sa.Column('other_pensioner_id', sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            'fk_reviews_other_pensioner_id_pensioners', 'pensioners', ['other_pensioner_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('reviews') as batch:
        batch.drop_constraint('fk_reviews_other_pensioner_id_pensioners', type_='foreignkey')
        batch.drop_column('other_pensioner_id')
        batch.alter_column('kind', existing_type=sa.String(length=32), type_=sa.String(length=16),
                           existing_nullable=False)
        batch.alter_column('attempt_id', existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table('face_references') as batch:
        batch.drop_column('added_outside_paying_region')
    op.drop_index('uq_pensioners_active_national_id_hash', table_name='pensioners')
    with op.batch_alter_table('pensioners') as batch:
        batch.drop_index('ix_pensioners_national_id_hash')
        batch.create_unique_constraint('uq_pensioners_national_id_hash', ['national_id_hash'])
        batch.drop_column('closed_reason')
        batch.drop_column('closed_at')
        batch.drop_column('hold_reason')
        batch.drop_column('enrolment_status')
