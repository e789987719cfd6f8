"""A full-text index of folded documents on SQLite (FTS5) and PostgreSQL (pg_trgm), kept in the caller's transaction.

Every searchable thing is a *document*: a `kind` ("opinion", "proposal", "item", ...), the id it has in its own
table (`ref_id`), and its texts folded by `consult.core.search.fold`. A query is folded the same way and split into
terms; a document matches when every term is a substring of its folded text. Both databases answer exactly that
(the tests compare them with a plain Python scan); only the machinery differs:

* terms of 3 characters or more: SQLite FTS5 with the trigram tokenizer (a phrase of trigrams is an exact
  substring); PostgreSQL `LIKE '%term%'` served by a pg_trgm GIN index;
* terms of 1 or 2 characters, which no trigram index can serve: an index of each document's distinct
  characters and character pairs (a bigram index) -- on SQLite a second, contentless FTS5 table whose tokens are
  those grams, on PostgreSQL a GIN index over the expression `<name>_grams(folded)`, an immutable function.

So no query scans the documents: the outer loop is always an index lookup. Nothing here commits: each function
takes an SQLAlchemy `Connection` (or `Session`) and runs inside the transaction the caller has open, so a change
and its index entry commit or roll back together. `SearchIndex.follow` does that for ORM models by itself, at
every flush; writes that bypass the ORM (Core `update()`, `ON DELETE CASCADE`) call `upsert_many`/`prune`.
On SQLite, a writer takes the write lock at BEGIN (`BEGIN IMMEDIATE`, as the app's POSTs do): an upsert reads the
old text before it replaces it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import ARRAY, BigInteger, Text, any_, bindparam, cast, column, event, func, inspect, select, table, text
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from consult.core.search.fold import fold, terms

KIND_LENGTH = 32
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
# ASCII punctuation would split the FTS5 'ascii' tokenizer's tokens: the gram table writes it full width (the
# folded text never holds full-width ASCII, NFKC removed it, so the mapping is one-to-one).
_GRAM_ASCII = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F) if not chr(c).isalnum()})

Texts = str | Sequence[str | None] | None
Within = Collection[int] | Select | None


def fold_texts(texts: Texts) -> str:
    """One folded text for a document made of several fields; a space keeps terms from matching across them."""
    if texts is None or isinstance(texts, str):
        return fold(texts)
    return " ".join(f for f in (fold(t) for t in texts) if f)


def grams(folded: str) -> list[str]:
    """The distinct single characters and character pairs of a folded text, spaces excluded, sorted."""
    found = {c for c in folded if c != " "}
    found.update(folded[i : i + 2] for i in range(len(folded) - 1) if " " not in folded[i : i + 2])
    return sorted(found)


def _gram_tokens(folded: str) -> str:
    return " ".join(grams(folded)).translate(_GRAM_ASCII)


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _connection(conn: Connection | Session) -> Connection:
    return conn.connection() if isinstance(conn, Session) else conn


@dataclass(frozen=True)
class Hit:
    """A matching document: what kind of thing it is, and its id in its own table."""

    kind: str
    ref_id: int


@dataclass(frozen=True)
class SearchIndex:
    """The index's tables, all named after `name`: `<name>_document` plus the per-database index structures."""

    name: str = "search"
    # Up to this many candidates given as ids, SQLite reads their folded texts instead of opening the FTS tables.
    scan_within_limit: int = 2000

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"index name must be a lower-case identifier: {self.name!r}")

    @property
    def document(self) -> str:
        return f"{self.name}_document"

    # -----------------------------------------------------------------------------------------------------
    # Schema

    def ddl(self, dialect: str) -> list[str]:
        """The statements that create the index, for `create` and for a migration's `op.execute`."""
        n, doc = self.name, self.document
        if dialect == "sqlite":
            return [
                f"CREATE TABLE {doc} (doc_id INTEGER PRIMARY KEY, kind VARCHAR({KIND_LENGTH}) NOT NULL, "
                f"ref_id INTEGER NOT NULL, folded TEXT NOT NULL, "
                f"CONSTRAINT uq_{doc}_kind_ref UNIQUE (kind, ref_id))",
                # Exact substrings of 3+ characters; reads its content from the document table when it must.
                f"CREATE VIRTUAL TABLE {n}_trigram USING fts5(folded, content='{doc}', content_rowid='doc_id', "
                f"tokenize='trigram case_sensitive 1', columnsize=0)",
                # Distinct characters and pairs as tokens: no positions are needed, nor any content.
                f"CREATE VIRTUAL TABLE {n}_gram USING fts5(grams, content='', tokenize='ascii', detail='none', "
                f"columnsize=0)",
            ]
        if dialect == "postgresql":
            return [
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                f"CREATE TABLE {doc} (doc_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                f"kind VARCHAR({KIND_LENGTH}) NOT NULL, ref_id BIGINT NOT NULL, folded TEXT NOT NULL, "
                f"CONSTRAINT uq_{doc}_kind_ref UNIQUE (kind, ref_id))",
                # Every character and pair of characters (duplicates and spaces do no harm to a GIN index): the
                # same grams as `grams()` in Python, as the tests check. Its COST keeps the planner from calling it
                # row by row in a filter (about 30 us a document): it is meant to be read from the index only.
                f"CREATE FUNCTION {n}_grams(t text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE "
                "COST 1000 AS $$ DECLARE u text[] := string_to_array(t, NULL); r text[] := u; "
                "BEGIN FOR i IN 1 .. coalesce(array_length(u, 1), 0) - 1 LOOP r := r || (u[i] || u[i + 1]); END LOOP; "
                "RETURN r; END $$",
                f"CREATE INDEX ix_{doc}_folded_trgm ON {doc} USING gin (folded gin_trgm_ops)",
                f"CREATE INDEX ix_{doc}_grams ON {doc} USING gin ({n}_grams(folded))",
            ]
        raise ValueError(f"no search index for {dialect}")

    def drop_ddl(self, dialect: str) -> list[str]:
        """The statements that remove the index (the pg_trgm extension stays)."""
        n, doc = self.name, self.document
        if dialect == "sqlite":
            return [f"DROP TABLE IF EXISTS {t}" for t in (f"{n}_gram", f"{n}_trigram", doc)]
        return [f"DROP TABLE IF EXISTS {doc}", f"DROP FUNCTION IF EXISTS {n}_grams(text)"]

    def owns(self, table_name: str | None) -> bool:
        """Whether a table is one of the index's (its document table, the FTS5 tables and their shadow tables)."""
        n = self.name
        return bool(table_name) and (
            table_name == self.document or re.fullmatch(f"{n}_(trigram|gram)(_[a-z]+)?", table_name) is not None
        )

    def include_name(self, name, type_, _parent_names) -> bool:
        """Alembic's `include_name` hook: autogenerate and compare_metadata leave the index's tables alone."""
        return not (type_ == "table" and self.owns(name))

    def create(self, conn: Connection | Session) -> None:
        """Create the index's tables; on PostgreSQL, refuse a database whose locale hides Japanese from pg_trgm."""
        conn = _connection(conn)
        for statement in self.ddl(conn.dialect.name):
            conn.exec_driver_sql(statement)
        if conn.dialect.name == "postgresql":
            # pg_trgm keeps only the characters the database's LC_CTYPE calls letters: under "C" that is ASCII.
            if not conn.execute(text("SELECT show_trgm('でじたる')")).scalar():
                raise RuntimeError("pg_trgm sees no Japanese letters: create the database with a UTF-8 LC_CTYPE")

    def drop(self, conn: Connection | Session) -> None:
        """Remove the index's tables."""
        conn = _connection(conn)
        for statement in self.drop_ddl(conn.dialect.name):
            conn.exec_driver_sql(statement)

    # -----------------------------------------------------------------------------------------------------
    # Writing, in the caller's transaction

    def upsert(self, conn: Connection | Session, kind: str, ref_id: int, texts: Texts) -> bool:
        """Index a document's texts (replacing what it had); False when its folded text did not change."""
        return self.upsert_many(conn, kind, [(ref_id, texts)]) > 0

    def upsert_many(self, conn: Connection | Session, kind: str, rows: Iterable[tuple[int, Texts]]) -> int:
        """Index many documents of one kind; returns how many were new or changed."""
        conn = _connection(conn)
        folded = {int(ref_id): fold_texts(texts) for ref_id, texts in rows}
        if not folded:
            return 0
        if conn.dialect.name == "postgresql":
            return self._pg_upsert(conn, kind, folded)
        return self._sqlite_upsert(conn, kind, folded)

    def _pg_upsert(self, conn: Connection, kind: str, folded: dict[int, str]) -> int:
        doc = self.document
        statement = text(
            f"INSERT INTO {doc} (kind, ref_id, folded) SELECT :kind, r, f "
            "FROM unnest(CAST(:refs AS bigint[]), CAST(:texts AS text[])) AS u(r, f) "
            f"ON CONFLICT (kind, ref_id) DO UPDATE SET folded = excluded.folded "
            f"WHERE {doc}.folded IS DISTINCT FROM excluded.folded"
        )
        result = conn.execute(statement, {"kind": kind, "refs": list(folded), "texts": list(folded.values())})
        return result.rowcount

    def _sqlite_upsert(self, conn: Connection, kind: str, folded: dict[int, str]) -> int:
        old = self._sqlite_rows(conn, kind, folded)
        changed = {ref: f for ref, f in folded.items() if ref not in old or old[ref][1] != f}
        if not changed:
            return 0
        self._sqlite_unindex(conn, [old[ref] for ref in changed if ref in old])
        doc = self.document
        _executemany(
            conn,
            f"UPDATE {doc} SET folded = ? WHERE doc_id = ?",
            [(f, old[ref][0]) for ref, f in changed.items() if ref in old],
        )
        _executemany(
            conn,
            f"INSERT INTO {doc} (kind, ref_id, folded) VALUES (?, ?, ?)",
            [(kind, ref, f) for ref, f in changed.items() if ref not in old],
        )
        ids = self._sqlite_rows(conn, kind, changed)
        self._sqlite_index(conn, [(ids[ref][0], f) for ref, f in changed.items()])
        return len(changed)

    def _sqlite_rows(self, conn: Connection, kind: str, refs: Iterable[int]) -> dict[int, tuple[int, str]]:
        """ref_id -> (doc_id, folded) of the documents of one kind that exist among `refs`."""
        rows = conn.exec_driver_sql(
            f"SELECT ref_id, doc_id, folded FROM {self.document} "
            "WHERE kind = ? AND ref_id IN (SELECT value FROM json_each(?))",
            (kind, json.dumps(list(refs))),
        )
        return {ref: (doc_id, f) for ref, doc_id, f in rows}

    def _sqlite_index(self, conn: Connection, rows: list[tuple[int, str]]) -> None:
        """Add (doc_id, folded) rows to both FTS5 tables."""
        _executemany(conn, f"INSERT INTO {self.name}_trigram (rowid, folded) VALUES (?, ?)", rows)
        _executemany(
            conn,
            f"INSERT INTO {self.name}_gram (rowid, grams) VALUES (?, ?)",
            [(doc_id, _gram_tokens(f)) for doc_id, f in rows],
        )

    def _sqlite_unindex(self, conn: Connection, rows: list[tuple[int, str]]) -> None:
        """Take (doc_id, folded) rows out of both FTS5 tables, which must be told the values they indexed."""
        n = self.name
        _executemany(conn, f"INSERT INTO {n}_trigram ({n}_trigram, rowid, folded) VALUES ('delete', ?, ?)", rows)
        _executemany(
            conn,
            f"INSERT INTO {n}_gram ({n}_gram, rowid, grams) VALUES ('delete', ?, ?)",
            [(doc_id, _gram_tokens(f)) for doc_id, f in rows],
        )

    def delete(self, conn: Connection | Session, kind: str, ref_id: int) -> bool:
        """Remove a document from the index; False when it was not there."""
        return self.delete_many(conn, kind, [ref_id]) > 0

    def delete_many(self, conn: Connection | Session, kind: str, ref_ids: Iterable[int]) -> int:
        """Remove documents of one kind; returns how many there were."""
        conn = _connection(conn)
        refs = [int(r) for r in ref_ids]
        if not refs:
            return 0
        if conn.dialect.name == "postgresql":
            return conn.execute(
                text(f"DELETE FROM {self.document} WHERE kind = :kind AND ref_id = ANY(:refs)"),
                {"kind": kind, "refs": refs},
            ).rowcount
        old = self._sqlite_rows(conn, kind, refs)
        self._sqlite_unindex(conn, list(old.values()))
        _executemany(conn, f"DELETE FROM {self.document} WHERE doc_id = ?", [(d,) for d, _ in old.values()])
        return len(old)

    def clear(self, conn: Connection | Session) -> None:
        """Remove every document (between tests, or before indexing everything again)."""
        conn = _connection(conn)
        n = self.name
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {self.document} RESTART IDENTITY")
            return
        for fts in (f"{n}_trigram", f"{n}_gram"):
            conn.exec_driver_sql(f"INSERT INTO {fts} ({fts}) VALUES ('delete-all')")
        conn.exec_driver_sql(f"DELETE FROM {self.document}")

    def prune(self, conn: Connection | Session, kind: str, existing: Select) -> int:
        """Remove the documents of a kind whose ref_id `existing` (a SELECT of ids) no longer holds; how many."""
        conn = _connection(conn)
        doc = self._doc
        gone = select(doc.c.ref_id).where(doc.c.kind == kind, doc.c.ref_id.not_in(existing))
        return self.delete_many(conn, kind, list(conn.scalars(gone)))

    def follow(self, session, model: type, kind: str, texts: Callable[[object], Texts]) -> None:
        """Index `model`'s rows (by their one-column primary key) at every flush of `session` (a Session,
        sessionmaker or scoped_session), in its transaction: new and changed rows are upserted with `texts(row)`,
        deleted ones removed."""

        def after_flush(flushed: Session, _context) -> None:
            changed = [o for o in (*flushed.new, *flushed.dirty) if isinstance(o, model)]
            deleted = [o for o in flushed.deleted if isinstance(o, model)]
            if changed:
                self.upsert_many(flushed, kind, [(_primary_key(o), texts(o)) for o in changed])
            if deleted:
                self.delete_many(flushed, kind, [_primary_key(o) for o in deleted])

        event.listen(session, "after_flush", after_flush)

    def rebuild(self, conn: Connection | Session) -> None:
        """Rebuild the index structures from the document table (after a bulk load, or to repair)."""
        conn = _connection(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"REINDEX TABLE {self.document}")
            return
        n = self.name
        conn.exec_driver_sql(f"INSERT INTO {n}_trigram ({n}_trigram) VALUES ('rebuild')")
        conn.exec_driver_sql(f"INSERT INTO {n}_gram ({n}_gram) VALUES ('delete-all')")
        rows = conn.exec_driver_sql(f"SELECT doc_id, folded FROM {self.document}")
        while batch := rows.fetchmany(5000):
            _executemany(
                conn,
                f"INSERT INTO {n}_gram (rowid, grams) VALUES (?, ?)",
                [(doc_id, _gram_tokens(f)) for doc_id, f in batch],
            )

    def optimize(self, conn: Connection | Session) -> None:
        """Merge the index's segments (SQLite) or refresh the planner's statistics (both); never needed for results."""
        conn = _connection(conn)
        if conn.dialect.name == "sqlite":
            for fts in (f"{self.name}_trigram", f"{self.name}_gram"):
                conn.exec_driver_sql(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
        conn.exec_driver_sql(f"ANALYZE {self.document}")

    def check(self, conn: Connection | Session) -> None:
        """Raise when an FTS5 table is damaged or disagrees with the documents (SQLite); for tests and repairs."""
        conn = _connection(conn)
        if conn.dialect.name == "sqlite":
            n = self.name
            # rank 1: compare the trigram index with the document table it reads (the gram table has no content).
            conn.exec_driver_sql(f"INSERT INTO {n}_trigram ({n}_trigram, rank) VALUES ('integrity-check', 1)")
            conn.exec_driver_sql(f"INSERT INTO {n}_gram ({n}_gram) VALUES ('integrity-check')")

    # -----------------------------------------------------------------------------------------------------
    # Searching

    def matching(
        self, dialect: str, query: str, *, kinds: str | Sequence[str] | None = None, within: Within = None
    ) -> Select | None:
        """A SELECT of (kind, ref_id) of the documents matching every term; None when the query has no term."""
        return self._matching(dialect, terms(query), kinds, within)

    def matching_ids(self, dialect: str, query: str, kind: str, within: Within = None) -> Select | None:
        """A SELECT of the ref_ids of one kind that match, to embed: `Opinion.id.in_(index.matching_ids(...))`."""
        stmt = self._matching(dialect, terms(query), kind, within)
        return None if stmt is None else stmt.with_only_columns(self._doc.c.ref_id)

    def search(
        self,
        conn: Connection | Session,
        query: str,
        *,
        kinds: str | Sequence[str] | None = None,
        within: Within = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Hit]:
        """The matching documents, ordered by kind then ref_id; [] when the query has no term."""
        conn = _connection(conn)
        stmt = self.matching(conn.dialect.name, query, kinds=kinds, within=within)
        if stmt is None:
            return []
        stmt = stmt.order_by(self._doc.c.kind, self._doc.c.ref_id).offset(offset or None).limit(limit)
        return [Hit(kind, int(ref)) for kind, ref in conn.execute(stmt)]

    def ref_ids(
        self,
        conn: Connection | Session,
        query: str,
        kind: str,
        *,
        within: Within = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[int]:
        """The matching ref_ids of one kind, in ascending order."""
        return [hit.ref_id for hit in self.search(conn, query, kinds=kind, within=within, limit=limit, offset=offset)]

    def count(
        self,
        conn: Connection | Session,
        query: str,
        *,
        kinds: str | Sequence[str] | None = None,
        within: Within = None,
        cap: int | None = None,
    ) -> int:
        """How many documents match (at most `cap`, for "1,000件以上", which costs less); 0 without a term."""
        conn = _connection(conn)
        stmt = self.matching(conn.dialect.name, query, kinds=kinds, within=within)
        if stmt is None:
            return 0
        if cap is not None:
            stmt = stmt.limit(cap)
        return conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()

    def newest_first(
        self, conn: Connection | Session, query: str, kinds: Sequence[str], *, chunk: int = 256, largest: int = 8192
    ) -> Iterator[list[int]]:
        """SQLite: the ref_ids of the matching documents in chunks, the most recently indexed first.

        A page of the newest matches then reads a few hundred entries of one FTS5 table in descending rowid order
        (which FTS5 walks without collecting every match) instead of the whole list of a common word's matches;
        the other terms are checked on each candidate's folded text. Chunks grow from `chunk` to `largest`."""
        conn = _connection(conn)
        wanted = terms(query)
        if not wanted:
            return
        long_terms = [t for t in wanted if len(t) >= 3]
        if long_terms:
            fts, match = f"{self.name}_trigram", " AND ".join(map(_fts_phrase, long_terms))
            rest = [t for t in wanted if len(t) < 3]
        else:  # only 1-2 character terms: the gram table, whose tokens are those terms
            fts, rest = f"{self.name}_gram", []
            match = " AND ".join(_fts_phrase(t.translate(_GRAM_ASCII)) for t in wanted)
        kinds_json = json.dumps(list(kinds))
        checks = " AND instr(d.folded, ?) > 0" * len(rest)
        sql = (
            f"SELECT c.r, d.ref_id, (d.kind IN (SELECT value FROM json_each(?)){checks}) "
            f"FROM (SELECT rowid AS r FROM {fts} WHERE {fts} MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?) AS c "
            f"JOIN {self.document} AS d ON d.doc_id = c.r ORDER BY c.r DESC"
        )
        before = 2**63 - 1
        while True:
            rows = conn.exec_driver_sql(sql, (kinds_json, *rest, match, before, chunk)).all()
            if rows:
                yield [ref for _r, ref, ok in rows if ok]
            if len(rows) < chunk:  # a document of the FTS table always has its row, so the walk is over
                return
            before = rows[-1][0]
            chunk = min(chunk * 4, largest)

    def holds(self, dialect: str, query: str, kinds: Sequence[str], ref_id) -> object:
        """An EXISTS clause: a document of these kinds for `ref_id` (a correlated column) holds every term, read
        from its folded text -- for candidates that other filters already narrowed to a few thousand."""
        doc = self._doc
        probe = func.strpos if dialect == "postgresql" else func.instr
        return (
            select(doc.c.doc_id)
            .where(
                doc.c.kind.in_(list(kinds)), doc.c.ref_id == ref_id, *(probe(doc.c.folded, t) > 0 for t in terms(query))
            )
            .exists()
        )

    @cached_property
    def _doc(self):
        return table(self.document, column("doc_id"), column("kind"), column("ref_id"), column("folded"))

    def _matching(self, dialect: str, wanted: list[str], kinds, within: Within) -> Select | None:
        if not wanted:
            return None
        doc = self._doc
        stmt = select(doc.c.kind, doc.c.ref_id)
        if kinds is not None:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            stmt = stmt.where(doc.c.kind.in_(kinds))
        if within is not None:
            stmt = stmt.where(_within(dialect, doc.c.ref_id, within))
        long_terms = [t for t in wanted if len(t) >= 3]
        short_terms = [t for t in wanted if len(t) < 3]
        if dialect == "postgresql":
            for term in long_terms:
                stmt = stmt.where(doc.c.folded.like(f"%{_like_escape(term)}%", escape="\\"))
            if short_terms:
                grams_of = getattr(func, f"{self.name}_grams")(doc.c.folded)
                stmt = stmt.where(grams_of.op("@>")(cast(pg_array(short_terms), ARRAY(Text))))
                # The same test, cheap: PostgreSQL runs the cheaper filter first when it walks candidates one by
                # one, so the grams are only computed for the rows that match anyway.
                stmt = stmt.where(*(func.strpos(doc.c.folded, t) > 0 for t in short_terms))
            return stmt
        if dialect != "sqlite":
            raise ValueError(f"no search index for {dialect}")
        if within is not None and not isinstance(within, Select) and len(within) <= self.scan_within_limit:
            # A few candidates: reading their folded texts costs less than opening the index.
            for term in wanted:
                stmt = stmt.where(func.instr(doc.c.folded, term) > 0)
            return stmt
        if long_terms:
            tri = table(f"{self.name}_trigram", column("rowid"), column(f"{self.name}_trigram"))
            found = select(tri.c.rowid).where(
                tri.c[f"{self.name}_trigram"].op("MATCH")(" AND ".join(map(_fts_phrase, long_terms)))
            )
            stmt = stmt.where(doc.c.doc_id.in_(found))
        if short_terms:
            gram = table(f"{self.name}_gram", column("rowid"), column(f"{self.name}_gram"))
            match = " AND ".join(_fts_phrase(t.translate(_GRAM_ASCII)) for t in short_terms)
            stmt = stmt.where(
                doc.c.doc_id.in_(select(gram.c.rowid).where(gram.c[f"{self.name}_gram"].op("MATCH")(match)))
            )
        return stmt


def _within(dialect: str, ref_id, within: Within):
    """ref_id among the candidates: the caller's SELECT, or the ids as one array (PostgreSQL) or JSON parameter."""
    if isinstance(within, Select):
        return ref_id.in_(within)
    ids = [int(i) for i in within]
    if dialect == "postgresql":
        return ref_id == any_(bindparam("within", ids, type_=ARRAY(BigInteger), unique=True))
    return ref_id.in_(
        select(column("value")).select_from(func.json_each(bindparam("within", json.dumps(ids), unique=True)))
    )


def _primary_key(row) -> int:
    return inspect(row).mapper.primary_key_from_instance(row)[0]


def _executemany(conn: Connection, sql: str, rows: list[tuple]) -> None:
    if rows:
        conn.exec_driver_sql(sql, rows)
