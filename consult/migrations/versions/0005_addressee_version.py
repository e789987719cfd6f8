"""A version column on the addressee (issue 13): two people editing one addressee's overrides at once cannot
silently overwrite each other; the second save is refused.

Revision ID: 0005_addressee_version
Revises: 0004_variants
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_addressee_version"
down_revision = "0005_groups"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("addressee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("addressee", schema=None) as batch_op:
        batch_op.drop_column("version")
