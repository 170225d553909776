"""One-time pensioner links, resumable uploads, consent times, reference photo decisions

Revision ID: 0003_web
Revises: 0004_agency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0003_web'
down_revision = '0004_agency'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pensioner_links',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('redeemed_at', UTCDateTime(), nullable=True),
    sa.Column('pass_hash', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('consent_at', UTCDateTime(), nullable=True),
    sa.Column('consent_version', sa.String(length=16), nullable=True),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_pensioner_links_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pensioner_links')),
    sa.UniqueConstraint('pass_hash', name=op.f('uq_pensioner_links_pass_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_pensioner_links_token_hash'))
    )
    with op.batch_alter_table('pensioner_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pensioner_links_pensioner_id'), ['pensioner_id'], unique=False)

    op.create_table('uploads',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('chunk_bytes', sa.Integer(), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempt_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_uploads_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_uploads_pensioner_id_pensioners')),
    sa.ForeignKeyConstraint(['session_id'], ['certification_sessions.id'], name=op.f('fk_uploads_session_id_certification_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('session_id', name=op.f('uq_uploads_session_id'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_pensioner_id'), ['pensioner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_status'), ['status'], unique=False)

    op.create_table('upload_chunks',
    sa.Column('upload_id', sa.Uuid(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_upload_chunks_upload_id_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('upload_id', 'index', name=op.f('pk_upload_chunks'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('uploaded_late', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('certification_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upload_deadline', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('link_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_certification_sessions_link_id_pensioner_links'), 'pensioner_links', ['link_id'], ['id'])

    with op.batch_alter_table('face_references', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decided_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('face_references', schema=None) as batch_op:
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')

    with op.batch_alter_table('certification_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certification_sessions_link_id_pensioner_links'), type_='foreignkey')
        batch_op.drop_column('link_id')
        batch_op.drop_column('upload_deadline')

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('uploaded_late')
        batch_op.drop_column('consent_at')

    op.drop_table('upload_chunks')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_status'))
        batch_op.drop_index(batch_op.f('ix_uploads_pensioner_id'))

    op.drop_table('uploads')
    with op.batch_alter_table('pensioner_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pensioner_links_pensioner_id'))

    op.drop_table('pensioner_links')
