"""Letter variants (issue 13): per-addressee overrides of a letter (date, addressee block, organisation line,
closing, numbering; edits of the background paragraphs; an own outline of the request items).

Revision ID: 0004_variants
Revises: 0004_notify
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_variants"
down_revision = '0004_notify'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("addressee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_mode", sa.String(length=10), server_default="shared", nullable=False))
        batch_op.add_column(sa.Column("date_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("date_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("date_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("date_style", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("one_line", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("spread", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(
            sa.Column("print_organisation", sa.String(length=10), server_default="auto", nullable=False)
        )
        batch_op.add_column(sa.Column("closing", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("numbering", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("fullwidth_digits", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("own_outline", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint("date_mode", "date_mode IN ('shared', 'fixed', 'undecided')")
        batch_op.create_check_constraint(
            "own_date",
            "date_mode = 'shared' OR (date_year IS NOT NULL AND date_month BETWEEN 1 AND 12"
            " AND date_style IN ('western', 'era'))",
        )
        batch_op.create_check_constraint("fixed_day", "date_mode <> 'fixed' OR date_day BETWEEN 1 AND 31")
        batch_op.create_check_constraint("print_organisation", "print_organisation IN ('auto', 'always', 'never')")
        batch_op.create_check_constraint(
            "numbering",
            "numbering IS NULL OR numbering IN ('dot-paren', 'dot-circle', 'paren-circle', 'dot', 'circle', 'paren')",
        )

    op.create_table(
        "addressee_paragraph",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("addressee_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("was", sa.Text(), nullable=False),
        sa.CheckConstraint("op IN ('replace', 'insert', 'remove')", name=op.f("ck_addressee_paragraph_op")),
        sa.CheckConstraint("at >= 0", name=op.f("ck_addressee_paragraph_at")),
        sa.ForeignKeyConstraint(
            ["addressee_id"],
            ["addressee.id"],
            name=op.f("fk_addressee_paragraph_addressee_id_addressee"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addressee_paragraph")),
    )
    with op.batch_alter_table("addressee_paragraph", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addressee_paragraph_addressee_id"), ["addressee_id"], unique=False)

    op.create_table(
        "addressee_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("addressee_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("request_item_id", sa.Integer(), nullable=True),
        sa.Column("is_heading", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.CheckConstraint("request_item_id IS NOT NULL OR text IS NOT NULL", name=op.f("ck_addressee_request_source")),
        sa.ForeignKeyConstraint(
            ["addressee_id"],
            ["addressee.id"],
            name=op.f("fk_addressee_request_addressee_id_addressee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_item_id"],
            ["request_item.id"],
            name=op.f("fk_addressee_request_request_item_id_request_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addressee_request")),
        sa.UniqueConstraint("addressee_id", "position", name=op.f("uq_addressee_request_addressee_id_position")),
    )
    with op.batch_alter_table("addressee_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addressee_request_addressee_id"), ["addressee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_addressee_request_request_item_id"), ["request_item_id"], unique=False)


def downgrade():
    op.drop_table("addressee_request")
    op.drop_table("addressee_paragraph")
    with op.batch_alter_table("addressee", schema=None) as batch_op:
        for name in ("numbering", "print_organisation", "fixed_day", "own_date", "date_mode"):
            batch_op.drop_constraint(batch_op.f(f"ck_addressee_{name}"), type_="check")
        for column in (
            "own_outline", "fullwidth_digits", "numbering", "closing", "print_organisation", "spread", "one_line",
            "date_style", "date_day", "date_month", "date_year", "date_mode",
        ):  # fmt: skip
            batch_op.drop_column(column)
