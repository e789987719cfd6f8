"""Follow-up notices (issue 14): two kinds of notice, a visit's reminder to the staff who go and an addressee's
answer overdue, and the record of those done (notice_followup_sent) so that none is sent twice.

Revision ID: 0005_indicators
Revises: 0004_variants
Create Date: 2026-12-02
"""

import sqlalchemy as sa

import consult.core.types
from alembic import op

revision = "0005_indicators"
down_revision = "0004_variants"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "'round_opened', 'reminder', 'extension_granted', 'answer_submitted', 'answer_withdrawn', 'late_answer', "
    "'answers_published', 'opinion_changed', 'subround_opened'"
)
NEW_KINDS = OLD_KINDS + ", 'visit_reminder', 'answer_overdue'"


def _kinds(kinds: str) -> None:
    for table in ("notice", "notice_preference"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_kind"), type_="check")
            batch_op.create_check_constraint("kind", f"kind IN ({kinds})")


def upgrade():
    op.create_table(
        "notice_followup_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("at", consult.core.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_followup_sent")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_notice_followup_sent_kind_key")),
    )
    _kinds(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notice WHERE kind IN ('visit_reminder', 'answer_overdue')")
    op.execute("DELETE FROM notice_preference WHERE kind IN ('visit_reminder', 'answer_overdue')")
    _kinds(OLD_KINDS)
    op.drop_table("notice_followup_sent")
