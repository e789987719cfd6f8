"""The whole schema: organisations, users, the audit log, rounds and their items, answers and opinions, request
campaigns, letters, addressees and templates. Squashed from the three revisions before issue 7 (kept in
tests/fixtures/pre_squash/ for the test that proves nothing was lost); constraint names follow
consult.extensions.NAMING_CONVENTION.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import consult.core.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['organization.id'], name=op.f('fk_organization_parent_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization')),
    sa.UniqueConstraint('code', name=op.f('uq_organization_code'))
    )
    op.create_index(op.f('ix_organization_parent_id'), 'organization', ['parent_id'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_user_account_organization_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('login', name=op.f('uq_user_account_login'))
    )
    op.create_index(op.f('ix_user_account_organization_id'), 'user_account', ['organization_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_kind', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_audit_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index(op.f('ix_audit_event_action'), 'audit_event', ['action'], unique=False)
    op.create_index('ix_audit_event_at_id', 'audit_event', ['at', 'id'], unique=False)
    op.create_index(op.f('ix_audit_event_round_id'), 'audit_event', ['round_id'], unique=False)
    op.create_index(op.f('ix_audit_event_user_id'), 'audit_event', ['user_id'], unique=False)

    op.create_table('letter_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_letter_template_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_template'))
    )
    op.create_table('round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('background', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opens_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('deadline', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('answers_published_at', consult.core.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f('ck_round_status')),
    sa.CheckConstraint('deadline > opens_at', name=op.f('ck_round_deadline_after_opening')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_round_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round'))
    )
    op.create_table('answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('no_opinion', sa.Boolean(), nullable=False),
    sa.Column('general_comment', sa.Text(), nullable=False),
    sa.Column('created_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', consult.core.types.UTCDateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('late_at', consult.core.types.UTCDateTime(), nullable=True),
    sa.Column('late_payload', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f('ck_answer_status')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_answer_organization_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_answer_round_id_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_answer_submitted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_answer_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer')),
    sa.UniqueConstraint('round_id', 'organization_id', name=op.f('uq_answer_round_id_organization_id'))
    )
    op.create_index(op.f('ix_answer_organization_id'), 'answer', ['organization_id'], unique=False)
    op.create_index(op.f('ix_answer_round_id'), 'answer', ['round_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_attachment_round_id_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_attachment_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    op.create_index(op.f('ix_attachment_round_id'), 'attachment', ['round_id'], unique=False)

    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('date_year', sa.Integer(), nullable=False),
    sa.Column('date_month', sa.Integer(), nullable=False),
    sa.Column('date_day', sa.Integer(), nullable=True),
    sa.Column('date_style', sa.String(length=10), nullable=False),
    sa.Column('sender_org', sa.String(length=200), nullable=False),
    sa.Column('sender_title', sa.String(length=200), nullable=False),
    sa.Column('sender_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("date_style IN ('western', 'era')", name=op.f('ck_campaign_date_style')),
    sa.CheckConstraint('date_day IS NULL OR date_day BETWEEN 1 AND 31', name=op.f('ck_campaign_day')),
    sa.CheckConstraint('date_month BETWEEN 1 AND 12', name=op.f('ck_campaign_month')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_campaign_round_id_round'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    op.create_index(op.f('ix_campaign_round_id'), 'campaign', ['round_id'], unique=False)

    op.create_table('deadline_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('until', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_deadline_extension_granted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_deadline_extension_organization_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_deadline_extension_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_extension'))
    )
    op.create_index(op.f('ix_deadline_extension_round_id'), 'deadline_extension', ['round_id'], unique=False)

    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('meeting', sa.String(length=200), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_milestone_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone'))
    )
    op.create_index(op.f('ix_milestone_round_id'), 'milestone', ['round_id'], unique=False)

    op.create_table('round_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('heading', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('removed_at', consult.core.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_round_item_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_item'))
    )
    op.create_index(op.f('ix_round_item_round_id'), 'round_item', ['round_id'], unique=False)

    op.create_table('round_target',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_round_target_organization_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_round_target_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'organization_id', name=op.f('pk_round_target'))
    )
    op.create_table('answer_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_answer_event_answer_id_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_answer_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_event'))
    )
    op.create_index(op.f('ix_answer_event_answer_id'), 'answer_event', ['answer_id'], unique=False)

    op.create_table('item_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('heading', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['round_item.id'], name=op.f('fk_item_revision_item_id_round_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_revision')),
    sa.UniqueConstraint('item_id', 'revision', name=op.f('uq_item_revision_item_id_revision'))
    )
    op.create_index(op.f('ix_item_revision_item_id'), 'item_revision', ['item_id'], unique=False)

    op.create_table('letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('greeting', sa.Text(), nullable=False),
    sa.Column('background', sa.Text(), nullable=False),
    sa.Column('closing', sa.Text(), nullable=False),
    sa.Column('numbering', sa.String(length=20), nullable=False),
    sa.Column('fullwidth_digits', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_letter_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter'))
    )
    op.create_index(op.f('ix_letter_campaign_id'), 'letter', ['campaign_id'], unique=False)

    op.create_table('opinion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('item_revision', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('stance', sa.String(length=10), nullable=False),
    sa.Column('heading', sa.String(length=300), nullable=False),
    sa.Column('referred_text', sa.Text(), nullable=False),
    sa.Column('proposed_text', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('disposition', sa.String(length=10), nullable=True),
    sa.Column('hq_view', sa.Text(), nullable=False),
    sa.CheckConstraint("disposition IS NULL OR disposition IN ('adopted', 'partly', 'rejected', 'reference', 'merged')", name=op.f('ck_opinion_disposition')),
    sa.CheckConstraint("stance IN ('agree', 'amend', 'add', 'delete', 'oppose', 'other')", name=op.f('ck_opinion_stance')),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_opinion_answer_id_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['round_item.id'], name=op.f('fk_opinion_item_id_round_item'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion')),
    sa.UniqueConstraint('answer_id', 'item_id', name=op.f('uq_opinion_answer_id_item_id'))
    )
    op.create_index(op.f('ix_opinion_answer_id'), 'opinion', ['answer_id'], unique=False)
    op.create_index(op.f('ix_opinion_item_id'), 'opinion', ['item_id'], unique=False)

    op.create_table('addressee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('honorific', sa.String(length=2), nullable=False),
    sa.Column('greeting', sa.Text(), nullable=False),
    sa.Column('extra_paragraph', sa.Text(), nullable=False),
    sa.Column('all_items', sa.Boolean(), nullable=False),
    sa.CheckConstraint("honorific IN ('様', '殿')", name=op.f('ck_addressee_honorific')),
    sa.CheckConstraint("kind IN ('ministry', 'party', 'other')", name=op.f('ck_addressee_kind')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_addressee_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_addressee_letter_id_letter'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addressee'))
    )
    op.create_index(op.f('ix_addressee_campaign_id'), 'addressee', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_addressee_letter_id'), 'addressee', ['letter_id'], unique=False)

    op.create_table('request_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_request_item_letter_id_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['request_item.id'], name=op.f('fk_request_item_parent_id_request_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_item'))
    )
    op.create_index(op.f('ix_request_item_letter_id'), 'request_item', ['letter_id'], unique=False)
    op.create_index(op.f('ix_request_item_parent_id'), 'request_item', ['parent_id'], unique=False)

    op.create_table('addressee_item',
    sa.Column('addressee_id', sa.Integer(), nullable=False),
    sa.Column('request_item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['addressee_id'], ['addressee.id'], name=op.f('fk_addressee_item_addressee_id_addressee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_item_id'], ['request_item.id'], name=op.f('fk_addressee_item_request_item_id_request_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('addressee_id', 'request_item_id', name=op.f('pk_addressee_item'))
    )
    op.create_table('request_item_opinion',
    sa.Column('request_item_id', sa.Integer(), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opinion_id'], ['opinion.id'], name=op.f('fk_request_item_opinion_opinion_id_opinion'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_item_id'], ['request_item.id'], name=op.f('fk_request_item_opinion_request_item_id_request_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_item_id', 'opinion_id', name=op.f('pk_request_item_opinion'))
    )
    op.create_index(op.f('ix_request_item_opinion_opinion_id'), 'request_item_opinion', ['opinion_id'], unique=False)


def downgrade():
    op.drop_table('request_item_opinion')
    op.drop_table('addressee_item')
    op.drop_table('request_item')
    op.drop_table('addressee')
    op.drop_table('opinion')
    op.drop_table('letter')
    op.drop_table('item_revision')
    op.drop_table('answer_event')
    op.drop_table('round_target')
    op.drop_table('round_item')
    op.drop_table('milestone')
    op.drop_table('deadline_extension')
    op.drop_table('campaign')
    op.drop_table('attachment')
    op.drop_table('answer')
    op.drop_table('round')
    op.drop_table('letter_template')
    op.drop_table('audit_event')
    op.drop_table('user_account')
    op.drop_table('organization')
