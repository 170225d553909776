"""Reference photos as agencies hold them: source (id_card, social_security_card,
upload, staff_capture, certification), pixel size, quality score and class, date taken

Photos enrolled before sources were recorded (`enrolment`) become `upload`.

Revision ID: 0009_reference_classes
Revises: 0008_enrolment_hold
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_reference_classes'
down_revision = '0008_enrolment_hold'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('face_references') as batch:
        batch.add_column(sa.Column('quality_class', sa.String(length=16), server_default='full', nullable=False))
        batch.add_column(sa.Column('width_px', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('height_px', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('quality_score', sa.Float(), nullable=True))
        batch.add_column(sa.Column('taken_on', sa.Date(), nullable=True))
    op.execute("UPDATE face_references SET source = 'upload' WHERE source = 'enrolment'")


def downgrade() -> None:
    op.execute("UPDATE face_references SET source = 'enrolment' WHERE source IN ('upload', 'id_card', 'social_security_card')")
    with op.batch_alter_table('face_references') as batch:
        batch.drop_column('taken_on')
        batch.drop_column('quality_score')
        batch.drop_column('height_px')
        batch.drop_column('width_px')
        batch.drop_column('quality_class')
