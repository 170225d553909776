"""Initial schema: pensioners, face references, sessions, attempts, qualification records.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import JSONValue, UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pensioners',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('national_id_hash', sa.String(length=64), nullable=False),
    sa.Column('national_id_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('national_id_masked', sa.String(length=18), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('phone_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('residence_region_code', sa.String(length=6), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pensioners')),
    sa.UniqueConstraint('national_id_hash', name=op.f('uq_pensioners_national_id_hash'))
    )
    with op.batch_alter_table('pensioners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pensioners_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_pensioners_residence_region_code'), ['residence_region_code'], unique=False)

    op.create_table('certification_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('challenge', JSONValue, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('assisted_by', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('used_at', UTCDateTime(), nullable=True),
    sa.Column('consent_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_certification_sessions_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certification_sessions')),
    sa.UniqueConstraint('nonce', name=op.f('uq_certification_sessions_nonce'))
    )
    with op.batch_alter_table('certification_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certification_sessions_pensioner_id'), ['pensioner_id'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('assisted_by', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('video_key', sa.String(length=255), nullable=True),
    sa.Column('video_sha256', sa.String(length=64), nullable=False),
    sa.Column('video_bytes', sa.Integer(), nullable=False),
    sa.Column('video_content_type', sa.String(length=100), nullable=False),
    sa.Column('video_duration_ms', sa.Integer(), nullable=True),
    sa.Column('video_width', sa.Integer(), nullable=True),
    sa.Column('video_height', sa.Integer(), nullable=True),
    sa.Column('reasons', JSONValue, nullable=False),
    sa.Column('match_distance', sa.Float(), nullable=True),
    sa.Column('result', JSONValue, nullable=True),
    sa.Column('key_frame_keys', JSONValue, nullable=False),
    sa.Column('thresholds_version', sa.String(length=32), nullable=True),
    sa.Column('engine_version', sa.String(length=32), nullable=True),
    sa.Column('fingerprint', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('processing_runs', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('enqueued_at', UTCDateTime(), nullable=True),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_attempts_pensioner_id_pensioners')),
    sa.ForeignKeyConstraint(['session_id'], ['certification_sessions.id'], name=op.f('fk_attempts_session_id_certification_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts')),
    sa.UniqueConstraint('session_id', name=op.f('uq_attempts_session_id'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_pensioner_id'), ['pensioner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_video_sha256'), ['video_sha256'], unique=False)

    op.create_table('face_references',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('embedding_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('photo_key', sa.String(length=255), nullable=True),
    sa.Column('face_box', JSONValue, nullable=True),
    sa.Column('quality', JSONValue, nullable=True),
    sa.Column('attempt_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_face_references_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_face_references_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_references'))
    )
    with op.batch_alter_table('face_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_references_pensioner_id'), ['pensioner_id'], unique=False)

    op.create_table('qualification_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('certified_at', UTCDateTime(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('attempt_id', sa.Uuid(), nullable=True),
    sa.Column('assisted_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_qualification_records_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_qualification_records_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification_records')),
    sa.UniqueConstraint('pensioner_id', 'scheme', 'period', name=op.f('uq_qualification_records_pensioner_id_scheme_period'))
    )
    with op.batch_alter_table('qualification_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qualification_records_pensioner_id'), ['pensioner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qualification_records_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_qualification_records_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('qualification_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qualification_records_status'))
        batch_op.drop_index(batch_op.f('ix_qualification_records_period'))
        batch_op.drop_index(batch_op.f('ix_qualification_records_pensioner_id'))

    op.drop_table('qualification_records')
    with op.batch_alter_table('face_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_references_pensioner_id'))

    op.drop_table('face_references')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempts_video_sha256'))
        batch_op.drop_index(batch_op.f('ix_attempts_status'))
        batch_op.drop_index(batch_op.f('ix_attempts_period'))
        batch_op.drop_index(batch_op.f('ix_attempts_pensioner_id'))
        batch_op.drop_index(batch_op.f('ix_attempts_created_at'))

    op.drop_table('attempts')
    with op.batch_alter_table('certification_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certification_sessions_pensioner_id'))

    op.drop_table('certification_sessions')
    with op.batch_alter_table('pensioners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pensioners_residence_region_code'))
        batch_op.drop_index(batch_op.f('ix_pensioners_region_code'))

    op.drop_table('pensioners')
