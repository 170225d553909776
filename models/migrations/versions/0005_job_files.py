"""Retention of agency job files: when an export's file or a bulk enrolment's uploads went

Revision ID: 0005_job_files
Revises: 0003_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0005_job_files'
down_revision = '0003_web'
branch_labels = None
depends_on = None

TABLES = ("export_jobs", "enrolment_jobs")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('files_purged_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('files_purged_at')
