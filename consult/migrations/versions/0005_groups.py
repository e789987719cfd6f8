"""Kept groups of opinions (issue 12): the 論点 headquarters confirmed per round item, and their members (an
opinion is in one group at most: the opinion is the membership's key).

Revision ID: 0005_groups
Revises: 0004_variants
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from consult.core.types import UTCDateTime

revision = "0005_groups"
down_revision = "0005_answering"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "opinion_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["round_item.id"], name=op.f("fk_opinion_group_item_id_round_item"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_opinion_group_round_id_round"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_group")),
    )
    with op.batch_alter_table("opinion_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opinion_group_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opinion_group_round_id"), ["round_id"], unique=False)

    op.create_table(
        "opinion_group_member",
        sa.Column("opinion_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["opinion_group.id"],
            name=op.f("fk_opinion_group_member_group_id_opinion_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opinion_id"], ["opinion.id"], name=op.f("fk_opinion_group_member_opinion_id_opinion"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("opinion_id", name=op.f("pk_opinion_group_member")),
    )
    with op.batch_alter_table("opinion_group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opinion_group_member_group_id"), ["group_id"], unique=False)


def downgrade():
    op.drop_table("opinion_group_member")
    op.drop_table("opinion_group")
