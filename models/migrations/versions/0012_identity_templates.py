"""Protected face templates for the identity search (one face behind several pensions)

Revision ID: 0012_identity_templates
Revises: 0009_reference_classes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0012_identity_templates'
down_revision = '0011_assisted_watch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'identity_templates',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('owner_id', sa.Uuid(), nullable=False),
        sa.Column('pensioner_id', sa.Uuid(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('quality_class', sa.String(length=16), nullable=False),
        sa.Column('template', sa.LargeBinary(), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_identity_templates_pensioner_id_pensioners')),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_identity_templates')),
        sa.UniqueConstraint('owner_id', name=op.f('uq_identity_templates_owner_id')),
    )
    op.create_index(op.f('ix_identity_templates_pensioner_id'), 'identity_templates', ['pensioner_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_identity_templates_pensioner_id'), table_name='identity_templates')
    op.drop_table('identity_templates')
