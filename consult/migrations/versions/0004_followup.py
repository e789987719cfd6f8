"""Follow-up of request campaigns (issue 14): a campaign's grading scale and publication (followup_plan), visits
to addressees and their files, the answer to each request item per addressee with every exchange kept, the links
from next year's request items (or round items) to this year's, and numeric indicators per fiscal year.

Revision ID: 0004_followup
Revises: 0004_review
"""

import sqlalchemy as sa
from alembic import op

import consult.core.types


revision = '0004_followup'
down_revision = '0004_review'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('followup_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('higher_is_better', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('campaign_id IS NOT NULL OR organization_id IS NOT NULL', name=op.f('ck_followup_indicator_owner')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_followup_indicator_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_followup_indicator_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_indicator'))
    )
    with op.batch_alter_table('followup_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_indicator_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_indicator_organization_id'), ['organization_id'], unique=False)

    op.create_table('followup_plan',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('scale', sa.String(length=10), nullable=False),
    sa.Column('custom_labels', sa.Text(), nullable=False),
    sa.Column('published_at', consult.core.types.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("scale IN ('default', 'sabc', 'custom')", name=op.f('ck_followup_plan_scale')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_followup_plan_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_followup_plan'))
    )
    op.create_table('followup_indicator_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('actual', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['followup_indicator.id'], name=op.f('fk_followup_indicator_value_indicator_id_followup_indicator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_indicator_value')),
    sa.UniqueConstraint('indicator_id', 'fiscal_year', name=op.f('uq_followup_indicator_value_indicator_id_fiscal_year'))
    )
    with op.batch_alter_table('followup_indicator_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_indicator_value_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('followup_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_item_id', sa.Integer(), nullable=False),
    sa.Column('addressee_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['addressee_id'], ['addressee.id'], name=op.f('fk_followup_answer_addressee_id_addressee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_item_id'], ['request_item.id'], name=op.f('fk_followup_answer_request_item_id_request_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_answer')),
    sa.UniqueConstraint('request_item_id', 'addressee_id', name=op.f('uq_followup_answer_request_item_id_addressee_id'))
    )
    with op.batch_alter_table('followup_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_answer_addressee_id'), ['addressee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_answer_request_item_id'), ['request_item_id'], unique=False)

    op.create_table('followup_carry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('request_item_id', sa.Integer(), nullable=True),
    sa.Column('round_item_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['predecessor_id'], ['request_item.id'], name=op.f('fk_followup_carry_predecessor_id_request_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_item_id'], ['request_item.id'], name=op.f('fk_followup_carry_request_item_id_request_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_item_id'], ['round_item.id'], name=op.f('fk_followup_carry_round_item_id_round_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_carry')),
    sa.UniqueConstraint('request_item_id', name=op.f('uq_followup_carry_request_item_id')),
    sa.UniqueConstraint('round_item_id', name=op.f('uq_followup_carry_round_item_id'))
    )
    with op.batch_alter_table('followup_carry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_carry_predecessor_id'), ['predecessor_id'], unique=False)

    op.create_table('followup_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('addressee_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('our_side', sa.Text(), nullable=False),
    sa.Column('their_side', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('answer_expected_on', sa.Date(), nullable=True),
    sa.Column('created_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'done', 'answered')", name=op.f('ck_followup_visit_status')),
    sa.ForeignKeyConstraint(['addressee_id'], ['addressee.id'], name=op.f('fk_followup_visit_addressee_id_addressee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_followup_visit_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_visit'))
    )
    with op.batch_alter_table('followup_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_visit_addressee_id'), ['addressee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_visit_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('followup_exchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('grade', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('remedy', sa.Text(), nullable=False),
    sa.Column('graded_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['followup_answer.id'], name=op.f('fk_followup_exchange_answer_id_followup_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['graded_by_id'], ['user_account.id'], name=op.f('fk_followup_exchange_graded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_exchange')),
    sa.UniqueConstraint('answer_id', 'number', name=op.f('uq_followup_exchange_answer_id_number'))
    )
    with op.batch_alter_table('followup_exchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_exchange_answer_id'), ['answer_id'], unique=False)

    op.create_table('followup_visit_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', consult.core.types.UTCDateTime(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_followup_visit_attachment_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['followup_visit.id'], name=op.f('fk_followup_visit_attachment_visit_id_followup_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_visit_attachment'))
    )
    with op.batch_alter_table('followup_visit_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_visit_attachment_visit_id'), ['visit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('followup_visit_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_visit_attachment_visit_id'))

    op.drop_table('followup_visit_attachment')
    with op.batch_alter_table('followup_exchange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_exchange_answer_id'))

    op.drop_table('followup_exchange')
    with op.batch_alter_table('followup_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_visit_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_followup_visit_addressee_id'))

    op.drop_table('followup_visit')
    with op.batch_alter_table('followup_carry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_carry_predecessor_id'))

    op.drop_table('followup_carry')
    with op.batch_alter_table('followup_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_answer_request_item_id'))
        batch_op.drop_index(batch_op.f('ix_followup_answer_addressee_id'))

    op.drop_table('followup_answer')
    with op.batch_alter_table('followup_indicator_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_indicator_value_indicator_id'))

    op.drop_table('followup_indicator_value')
    op.drop_table('followup_plan')
    with op.batch_alter_table('followup_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_indicator_organization_id'))
        batch_op.drop_index(batch_op.f('ix_followup_indicator_campaign_id'))

    op.drop_table('followup_indicator')
