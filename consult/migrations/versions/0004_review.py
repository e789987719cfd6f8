"""Answering at scale (issue 12): the full-text search index of opinions, 本部の考え方 and items.

The index (consult.core.search.index, named "search") is SQL of its own: on SQLite a document table and two FTS5
tables (trigram, and characters/pairs), on PostgreSQL a document table with pg_trgm and gram GIN indexes (the
extension is created here). What the database already holds is indexed on the way up.

Revision ID: 0004_review
Revises: 0004_fed
Create Date: 2026-12-01 21:50:00
"""

import sqlalchemy as sa
from alembic import op

from consult.core.search.index import SearchIndex

revision = "0004_review"
down_revision = '0004_fed'
branch_labels = None
depends_on = None

INDEX = SearchIndex("search")


def _index_existing(bind) -> None:
    opinions = bind.execute(
        sa.text("SELECT id, heading, referred_text, proposed_text, reason, hq_view FROM opinion ORDER BY id")
    ).all()
    for start in range(0, len(opinions), 5000):
        batch = opinions[start : start + 5000]
        INDEX.upsert_many(bind, "opinion", [(r[0], [r[1], r[2], r[3], r[4]]) for r in batch])
        INDEX.upsert_many(bind, "answer", [(r[0], r[5]) for r in batch])
    items = bind.execute(sa.text("SELECT id, number, heading, body FROM round_item ORDER BY id")).all()
    INDEX.upsert_many(bind, "item", [(r[0], [r[1], r[2], r[3]]) for r in items])


def upgrade():
    bind = op.get_bind()
    INDEX.create(bind)
    _index_existing(bind)


def downgrade():
    INDEX.drop(op.get_bind())
