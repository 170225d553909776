"""Retention of agency job files (when an export's file or a bulk enrolment's uploads
went), and who revoked a certificate and why

Revision ID: 0005_retention_revocation
Revises: 0003_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0005_retention_revocation'
down_revision = '0003_web'
branch_labels = None
depends_on = None

TABLES = ("export_jobs", "enrolment_jobs")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('files_purged_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('certificates') as batch:
        batch.add_column(sa.Column('revoked_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('revoke_reason', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('certificates') as batch:
        batch.drop_column('revoke_reason')
        batch.drop_column('revoked_by')
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('files_purged_at')
