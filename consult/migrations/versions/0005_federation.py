"""Federation, publishing back (issue 10): round.published_back_at, when a prefecture published its answer to
headquarters back to the unions of its sub-round.

Revision ID: 0005_federation
Revises: 0004_variants
Create Date: 2026-12-02 04:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

import consult.core.types

revision = "0005_federation"
down_revision = "0005_indicators"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_back_at", consult.core.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_column("published_back_at")
