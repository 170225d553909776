"""Agencies and records: record lifecycle and feed numbering, schemes, certificates,
reviews, proof-of-life events, webhooks, exports and bulk enrolments

Revision ID: 0004_agency
Revises: 0002
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

from models.base import JSONValue, UTCDateTime

revision = '0004_agency'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('period_kind', sa.String(length=24), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('suspend_after_days', sa.Integer(), nullable=True),
    sa.Column('data_match_sources', JSONValue, nullable=False),
    sa.Column('signing_key_id', sa.String(length=32), nullable=False),
    sa.Column('signing_key_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('region_code', name=op.f('uq_agencies_region_code')),
    sa.UniqueConstraint('signing_key_id', name=op.f('uq_agencies_signing_key_id'))
    )
    op.create_table('enrolment_jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('principal_regions', JSONValue, nullable=False),
    sa.Column('csv_key', sa.String(length=255), nullable=False),
    sa.Column('photos_key', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_created', sa.Integer(), nullable=False),
    sa.Column('rows_failed', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_jobs'))
    )
    with op.batch_alter_table('enrolment_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_jobs_requested_by'), ['requested_by'], unique=False)

    op.create_table('export_jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('principal_regions', JSONValue, nullable=False),
    sa.Column('filters', JSONValue, nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('blob_key', sa.String(length=255), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('cursor', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_requested_by'), ['requested_by'], unique=False)

    op.create_table('feed_counters',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_feed_counters'))
    )
    op.create_table('webhooks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('events', JSONValue, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhooks_region_code'), ['region_code'], unique=False)

    op.create_table('enrolment_rows',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=True),
    sa.Column('errors', JSONValue, nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['enrolment_jobs.id'], name=op.f('fk_enrolment_rows_job_id_enrolment_jobs')),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_enrolment_rows_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_rows')),
    sa.UniqueConstraint('job_id', 'line', name=op.f('uq_enrolment_rows_job_id_line'))
    )
    with op.batch_alter_table('enrolment_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_rows_job_id'), ['job_id'], unique=False)

    op.create_table('life_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_life_events_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_life_events')),
    sa.UniqueConstraint('pensioner_id', 'source', 'reference', name=op.f('uq_life_events_pensioner_id_source_reference'))
    )
    with op.batch_alter_table('life_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_life_events_pensioner_id'), ['pensioner_id'], unique=False)

    op.create_table('pensioner_schemes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_pensioner_schemes_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pensioner_schemes')),
    sa.UniqueConstraint('pensioner_id', 'scheme', name=op.f('uq_pensioner_schemes_pensioner_id_scheme'))
    )
    with op.batch_alter_table('pensioner_schemes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pensioner_schemes_pensioner_id'), ['pensioner_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('attempt_id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('appeal_note', sa.Text(), nullable=True),
    sa.Column('opened_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_reviews_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_reviews_pensioner_id_pensioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_reviews_attempt_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_pensioner_id'), ['pensioner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_state'), ['state'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('payload', JSONValue, nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('qr_token', sa.Text(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('issued_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_certificates_agency_id_agencies')),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_certificates_pensioner_id_pensioners')),
    sa.ForeignKeyConstraint(['record_id'], ['qualification_records.id'], name=op.f('fk_certificates_record_id_qualification_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('record_id', name=op.f('uq_certificates_record_id'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_pensioner_id'), ['pensioner_id'], unique=False)

    op.create_table('record_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('change_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('pensioner_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('details', JSONValue, nullable=True),
    sa.ForeignKeyConstraint(['pensioner_id'], ['pensioners.id'], name=op.f('fk_record_events_pensioner_id_pensioners')),
    sa.ForeignKeyConstraint(['record_id'], ['qualification_records.id'], name=op.f('fk_record_events_record_id_qualification_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_events'))
    )
    with op.batch_alter_table('record_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_events_change_seq'), ['change_seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_events_record_id'), ['record_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('webhook_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('payload', JSONValue, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('last_try_at', UTCDateTime(), nullable=True),
    sa.Column('delivered_at', UTCDateTime(), nullable=True),
    sa.Column('enqueued_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['record_events.id'], name=op.f('fk_webhook_deliveries_event_id_record_events')),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('webhook_id', 'event_id', name=op.f('uq_webhook_deliveries_webhook_id_event_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_webhook_id'), ['webhook_id'], unique=False)

    with op.batch_alter_table('pensioners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_ref', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_pensioners_external_ref'), ['external_ref'], unique=False)

    with op.batch_alter_table('qualification_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('due_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('life_event_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('reasons', JSONValue, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('last_attempt_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('overdue_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('change_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_qualification_records_due_by'), ['due_by'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_qualification_records_life_event_id_life_events'), 'life_events', ['life_event_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_qualification_records_last_attempt_id_attempts'), 'attempts', ['last_attempt_id'], ['id'])

    _backfill()
    with op.batch_alter_table('qualification_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qualification_records_change_seq'), ['change_seq'], unique=True)


def _backfill() -> None:
    """Number existing records in feed order, date their calendar-year periods, and
    give every pensioner the schemes its records name (basic pension at least)."""
    bind = op.get_bind()
    records = sa.table(
        'qualification_records',
        sa.column('id', sa.Uuid()), sa.column('pensioner_id', sa.Uuid()),
        sa.column('scheme', sa.String()), sa.column('period', sa.String()),
        sa.column('period_start', sa.Date()), sa.column('due_by', sa.Date()),
        sa.column('change_seq', sa.BigInteger()), sa.column('updated_at', UTCDateTime()),
    )
    rows = bind.execute(
        sa.select(records.c.id, records.c.pensioner_id, records.c.scheme, records.c.period)
        .order_by(records.c.updated_at, records.c.id)
    ).all()
    for seq, (record_id, _pensioner_id, _scheme, period) in enumerate(rows, start=1):
        values: dict = {'change_seq': seq}
        if period.isdigit() and len(period) == 4:
            values.update(period_start=dt.date(int(period), 1, 1), due_by=dt.date(int(period), 12, 31))
        bind.execute(sa.update(records).where(records.c.id == record_id).values(**values))
    counters = sa.table('feed_counters', sa.column('name', sa.String()), sa.column('value', sa.BigInteger()))
    op.bulk_insert(counters, [{'name': 'records', 'value': len(rows)}, {'name': 'webhooks', 'value': 0}])

    pensioners = sa.table('pensioners', sa.column('id', sa.Uuid()))
    schemes = sa.table(
        'pensioner_schemes', sa.column('id', sa.Uuid()), sa.column('pensioner_id', sa.Uuid()),
        sa.column('scheme', sa.String()), sa.column('created_at', UTCDateTime()),
    )
    pairs = {(pid, scheme) for _rid, pid, scheme, _period in rows}
    pairs |= {(pid, 'basic_pension') for (pid,) in bind.execute(sa.select(pensioners.c.id)).all()}
    now = dt.datetime.now(dt.UTC)
    if pairs:
        op.bulk_insert(schemes, [
            {'id': uuid.uuid4(), 'pensioner_id': pid, 'scheme': scheme, 'created_at': now}
            for pid, scheme in sorted(pairs, key=str)
        ])



def downgrade() -> None:
    with op.batch_alter_table('qualification_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_qualification_records_last_attempt_id_attempts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_qualification_records_life_event_id_life_events'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_qualification_records_due_by'))
        batch_op.drop_index(batch_op.f('ix_qualification_records_change_seq'))
        batch_op.drop_column('change_seq')
        batch_op.drop_column('suspended_at')
        batch_op.drop_column('overdue_at')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('last_attempt_id')
        batch_op.drop_column('reasons')
        batch_op.drop_column('decision')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('life_event_id')
        batch_op.drop_column('due_by')
        batch_op.drop_column('period_start')

    with op.batch_alter_table('pensioners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pensioners_external_ref'))
        batch_op.drop_column('external_ref')

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_webhook_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_status'))

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('record_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_events_record_id'))
        batch_op.drop_index(batch_op.f('ix_record_events_change_seq'))

    op.drop_table('record_events')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_pensioner_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_state'))
        batch_op.drop_index(batch_op.f('ix_reviews_pensioner_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_opened_at'))

    op.drop_table('reviews')
    with op.batch_alter_table('pensioner_schemes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pensioner_schemes_pensioner_id'))

    op.drop_table('pensioner_schemes')
    with op.batch_alter_table('life_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_life_events_pensioner_id'))

    op.drop_table('life_events')
    with op.batch_alter_table('enrolment_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_rows_job_id'))

    op.drop_table('enrolment_rows')
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhooks_region_code'))

    op.drop_table('webhooks')
    op.drop_table('feed_counters')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_jobs_requested_by'))

    op.drop_table('export_jobs')
    with op.batch_alter_table('enrolment_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_jobs_requested_by'))

    op.drop_table('enrolment_jobs')
    op.drop_table('agencies')
