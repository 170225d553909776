"""Deaths reported elsewhere: life events get a kind (proof_of_life, death), what a death
did (effects) and its reversal; death_suspensions remember each record a death suspended
and what it was before; bulk jobs get a kind (enrolment, deaths) and rows the death
they recorded.

Revision ID: 0010_death_events
Revises: 0009_reference_classes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import JSONValue, UTCDateTime

revision = '0010_death_events'
down_revision = '0009_reference_classes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('life_events') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='proof_of_life', nullable=False))
        batch.add_column(sa.Column('effects', JSONValue, nullable=True))
        batch.add_column(sa.Column('reversed_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('reversed_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('reversal_reason', sa.String(length=200), nullable=True))
    op.create_table(
        'death_suspensions',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('life_event_id', sa.Uuid(), nullable=False),
        sa.Column('record_id', sa.Uuid(), nullable=False),
        sa.Column('prior_status', sa.String(length=16), nullable=False),
        sa.Column('prior_method', sa.String(length=16), nullable=True),
        sa.Column('prior_suspended_at', UTCDateTime(), nullable=True),
        sa.Column('prior_life_event_id', sa.Uuid(), nullable=True),
        sa.Column('suspended_at', UTCDateTime(), nullable=False),
        sa.Column('restored_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['life_event_id'], ['life_events.id'],
                                name=op.f('fk_death_suspensions_life_event_id_life_events')),
        sa.ForeignKeyConstraint(['prior_life_event_id'], ['life_events.id'],
                                name=op.f('fk_death_suspensions_prior_life_event_id_life_events')),
        sa.ForeignKeyConstraint(['record_id'], ['qualification_records.id'],
                                name=op.f('fk_death_suspensions_record_id_qualification_records')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_death_suspensions')),
        sa.UniqueConstraint('life_event_id', 'record_id', name=op.f('uq_death_suspensions_life_event_id_record_id')),
    )
    with op.batch_alter_table('death_suspensions') as batch:
        batch.create_index(batch.f('ix_death_suspensions_life_event_id'), ['life_event_id'], unique=False)
        batch.create_index(batch.f('ix_death_suspensions_record_id'), ['record_id'], unique=False)
    with op.batch_alter_table('enrolment_jobs') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='enrolment', nullable=False))
    with op.batch_alter_table('enrolment_rows') as batch:
        batch.add_column(sa.Column('life_event_id', sa.Uuid(), nullable=True))
        batch.create_foreign_key(batch.f('fk_enrolment_rows_life_event_id_life_events'), 'life_events',
                                 ['life_event_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('enrolment_rows') as batch:
        batch.drop_constraint(batch.f('fk_enrolment_rows_life_event_id_life_events'), type_='foreignkey')
        batch.drop_column('life_event_id')
    with op.batch_alter_table('enrolment_jobs') as batch:
        batch.drop_column('kind')
    with op.batch_alter_table('death_suspensions') as batch:
        batch.drop_index(batch.f('ix_death_suspensions_record_id'))
        batch.drop_index(batch.f('ix_death_suspensions_life_event_id'))
    op.drop_table('death_suspensions')
    with op.batch_alter_table('life_events') as batch:
        batch.drop_column('reversal_reason')
        batch.drop_column('reversed_by')
        batch.drop_column('reversed_at')
        batch.drop_column('effects')
        batch.drop_column('kind')
