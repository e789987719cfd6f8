"""Answering many opinions (issue 12, part B): answer templates (定型文) per round, the staff member an opinion
is assigned to, and a version of headquarters' answer that a bulk answer checks.

Revision ID: 0005_answering
Revises: 0004_variants
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import consult.core.types

revision = "0005_answering"
down_revision = "0005_federation"
branch_labels = None
depends_on = None

DISPOSITIONS = "'adopted', 'partly', 'rejected', 'reference', 'merged'"


def upgrade():
    with op.batch_alter_table("opinion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer_version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_opinion_assignee_id_user_account"), "user_account", ["assignee_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
        batch_op.create_index(batch_op.f("ix_opinion_assignee_id"), ["assignee_id"], unique=False)

    op.create_table(
        "answer_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("disposition", sa.String(length=10), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", consult.core.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            f"disposition IS NULL OR disposition IN ({DISPOSITIONS})", name=op.f("ck_answer_template_disposition")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_answer_template_round_id_round"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_template")),
        sa.UniqueConstraint("round_id", "name", name=op.f("uq_answer_template_round_id_name")),
    )
    with op.batch_alter_table("answer_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_template_round_id"), ["round_id"], unique=False)


def downgrade():
    op.drop_table("answer_template")
    with op.batch_alter_table("opinion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opinion_assignee_id"))
        batch_op.drop_constraint(batch_op.f("fk_opinion_assignee_id_user_account"), type_="foreignkey")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("answer_version")
