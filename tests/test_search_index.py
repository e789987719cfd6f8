"""The full-text index on real SQLite (FTS5) and real PostgreSQL (pg_trgm): same answers as a plain scan, kept in
the caller's transaction, served by the index. PostgreSQL runs when TEST_DATABASE_URL points at one."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, make_url, select, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from consult.core.search.fold import terms
from consult.core.search.index import SearchIndex, fold_texts, grams

SENTENCES = [
    "自治体ＤＸの推進にあたり、国費による確実な財政支援を行うこと。",
    "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞと健康保険証の一体化は延期すべきである。",
    "サーバーの更新費用とランニングコストの増加分を国が負担すること。",
    "サーバ移行の期限を見直し、人員の確保に留意すること。",
    "デジタル・ガバメント実行計画に基づく標準化・共通化について",
    "戸籍振り仮名の届出にかかる事務負担を軽減すること。",
    "消費税の逆進性を緩和するため、給付付き税額控除を導入すること。",
    "100%国費で措置し、地方負担_ゼロ_とすること（\\記号も含む）。",
    "「一般的な読み方」の判断基準を示すこと。",
    "教職員定数を改善し、少人数学級を実現すること。",
]
QUERIES = [
    "DX",
    "ＤＸ",
    "dx推進",
    "デジタル",
    "ﾃﾞｼﾞﾀﾙ",
    "でじたる",
    "マイナンバー",
    "まいなんばーかーど",
    "サーバー",
    "サーバ",
    "サ－バ",
    "税",
    "国",
    "国費",
    "負担 国",
    "標準化 共通化",
    "延期 保険証",
    "100%",
    "%",
    "_ゼロ_",
    "\\",
    "「一般的",
    '"',
    "存在しない",
    "こと。",
    "ー",
    "費 負担 こと",
]


def _corpus(n: int = 120) -> dict[int, list[str]]:
    """Documents of two or three fields, combining the sentences differently."""
    k = len(SENTENCES)
    return {
        i: [SENTENCES[i % k], SENTENCES[(i * 7 + 3) % k]] + ([SENTENCES[(i * 3) % k]] if i % 4 == 0 else [])
        for i in range(1, n + 1)
    }


def _expected(docs: dict[int, list[str]], query: str, within=None) -> list[int]:
    """The answer by a plain Python scan of the folded texts."""
    wanted = terms(query)
    return sorted(
        i
        for i, t in docs.items()
        if wanted and all(w in fold_texts(t) for w in wanted) and (within is None or i in within)
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request, tmp_path_factory):
    """A fresh database of each kind: an SQLite file, or a new PostgreSQL database beside TEST_DATABASE_URL's."""
    if request.param == "sqlite":
        eng = create_engine("sqlite:///" + str(tmp_path_factory.mktemp("search") / "search.sqlite"))
        yield eng
        eng.dispose()
        return
    test_url = os.environ.get("TEST_DATABASE_URL") or ""
    if not test_url.startswith("postgresql"):
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL to a PostgreSQL database")
    import psycopg

    base = make_url(test_url)
    name = f"{base.database}_search_{os.getpid()}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    eng = create_engine(base.set(database=name).render_as_string(False))
    yield eng
    eng.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def index(engine):
    """A new, empty index of its own name; dropped afterwards."""
    ix = SearchIndex("t" + uuid.uuid4().hex[:8])
    with engine.begin() as conn:
        ix.create(conn)
    yield ix
    with engine.begin() as conn:
        ix.drop(conn)


@pytest.fixture
def loaded(engine, index):
    docs = _corpus()
    with engine.begin() as conn:
        assert index.upsert_many(conn, "opinion", docs.items()) == len(docs)
    return docs


def test_width_kana_and_long_vowel_variants_find_the_same_opinions(engine, index):
    with engine.begin() as conn:
        index.upsert(conn, "opinion", 1, "自治体ＤＸの推進")
        index.upsert(conn, "opinion", 2, "自治体DXの推進")
        index.upsert(conn, "opinion", 3, "ﾃﾞｼﾞﾀﾙ化の推進")
        index.upsert(conn, "opinion", 4, "デジタル化の推進")
        index.upsert(conn, "opinion", 5, ["サーバーの更新", "ｻｰﾊﾞｰ"])
        index.upsert(conn, "opinion", 6, "サーバ更新")
    with engine.connect() as conn:
        for query in ("ＤＸ", "DX", "dx"):
            assert index.ref_ids(conn, query, "opinion") == [1, 2]
        for query in ("デジタル", "ﾃﾞｼﾞﾀﾙ", "でじたる"):
            assert index.ref_ids(conn, query, "opinion") == [3, 4]
        for query in ("サーバー", "サーバ", "ｻｰﾊﾞ", "さーば"):
            assert index.ref_ids(conn, query, "opinion") == [5, 6]


@pytest.mark.parametrize("query", QUERIES)
def test_answers_equal_a_plain_scan(engine, index, loaded, query):
    within = {i for i in loaded if i % 3 == 0}
    with engine.connect() as conn:
        assert index.ref_ids(conn, query, "opinion") == _expected(loaded, query)
        assert index.count(conn, query, kinds="opinion") == len(_expected(loaded, query))
        assert index.ref_ids(conn, query, "opinion", within=within) == _expected(loaded, query, within)
        # The same candidates through the FTS tables instead of reading the texts (SQLite's two ways).
        wide = SearchIndex(index.name, scan_within_limit=0)
        assert wide.ref_ids(conn, query, "opinion", within=within) == _expected(loaded, query, within)


@pytest.mark.parametrize("query", QUERIES)
def test_the_newest_first_walk_and_the_text_probe_equal_a_plain_scan(engine, index, loaded, query):
    """SQLite's walk of the FTS5 index newest first, in small chunks, finds every match once, newest first; the
    per-row probe the narrow searches use (both databases) agrees too."""
    from sqlalchemy import literal_column

    expected = _expected(loaded, query)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            chunks = list(index.newest_first(conn, query, ["opinion"], chunk=3, largest=7))
            walked = [i for c in chunks for i in c]
            assert walked == sorted(expected, reverse=True)  # indexed in id order: the newest are the largest
            assert all(len(c) <= 7 for c in chunks)
        if not terms(query):
            return  # the callers search only with a term
        ref = literal_column("cand.id")
        probe = index.holds(conn.dialect.name, query, ["opinion"], ref)
        candidates = " UNION ALL ".join(f"SELECT {i} AS id" for i in loaded)
        held = conn.execute(select(ref).select_from(text(f"({candidates}) AS cand")).where(probe))
        assert sorted(r[0] for r in held) == expected


def test_candidates_may_be_the_callers_own_select(engine, index, loaded):
    """How the app narrows a search to a round or an item: a SELECT of ids from its own tables."""
    meta = MetaData()
    chosen = Table(f"{index.name}_chosen", meta, Column("id", Integer, primary_key=True))
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(chosen.insert(), [{"id": i} for i in range(1, 41)])
    try:
        with engine.connect() as conn:
            ids = index.ref_ids(conn, "国費", "opinion", within=select(chosen.c.id))
            assert ids == _expected(loaded, "国費", set(range(1, 41))) != []
            embedded = (
                select(chosen.c.id)
                .where(chosen.c.id.in_(index.matching_ids(conn.dialect.name, "国費", "opinion")))
                .order_by(chosen.c.id)
            )
            assert list(conn.scalars(embedded)) == ids
    finally:
        with engine.begin() as conn:
            meta.drop_all(conn)


def test_a_changed_text_is_found_by_its_new_words_only(engine, index, loaded):
    with engine.begin() as conn:
        assert index.upsert(conn, "opinion", 7, ["少人数学級を実現すること。"]) is True
        assert index.upsert(conn, "opinion", 7, ["少人数学級を実現すること。"]) is False  # nothing changed
        assert index.upsert_many(conn, "opinion", [(7, "少人数学級を実現すること。"), (8, "新しい語句")]) == 1
    loaded[7], loaded[8] = ["少人数学級を実現すること。"], ["新しい語句"]
    with engine.connect() as conn:
        assert 7 in index.ref_ids(conn, "少人数", "opinion")
        assert index.ref_ids(conn, "新しい", "opinion") == [8]
        for query in QUERIES:
            assert index.ref_ids(conn, query, "opinion") == _expected(loaded, query), query
        index.check(conn)


def test_a_deleted_document_is_no_longer_found(engine, index, loaded):
    with engine.begin() as conn:
        assert index.delete(conn, "opinion", 3) is True
        assert index.delete(conn, "opinion", 3) is False
        assert index.delete_many(conn, "opinion", [4, 5, 9999]) == 2
    for ref in (3, 4, 5):
        del loaded[ref]
    with engine.connect() as conn:
        for query in QUERIES:
            assert index.ref_ids(conn, query, "opinion") == _expected(loaded, query), query
        index.check(conn)


def test_index_entries_commit_and_roll_back_with_the_change(engine, index):
    """The caller's transaction holds both the row it changes and the index entry: one goes only with the other."""
    meta = MetaData()
    note = Table(f"{index.name}_note", meta, Column("id", Integer, primary_key=True))
    with engine.begin() as conn:
        meta.create_all(conn)
    try:
        with pytest.raises(RuntimeError), engine.begin() as conn:
            conn.execute(note.insert().values(id=1))
            index.upsert(conn, "opinion", 1, "振り仮名の届出")
            raise RuntimeError("the request fails after writing")
        with engine.connect() as conn:
            assert conn.execute(select(note.c.id)).all() == []
            assert index.ref_ids(conn, "振り仮名", "opinion") == []
        with engine.begin() as conn:
            conn.execute(note.insert().values(id=1))
            index.upsert(conn, "opinion", 1, "振り仮名の届出")
        with engine.connect() as conn:
            assert index.ref_ids(conn, "振り仮名", "opinion") == [1]
            assert index.ref_ids(conn, "届", "opinion") == [1]
            index.check(conn)
    finally:
        with engine.begin() as conn:
            meta.drop_all(conn)


def test_clear_empties_the_index_and_it_fills_again(engine, index, loaded):
    with engine.begin() as conn:
        index.clear(conn)
    with engine.connect() as conn:
        assert index.count(conn, "こと") == 0
        index.check(conn)
    with engine.begin() as conn:
        index.upsert_many(conn, "opinion", loaded.items())
    with engine.connect() as conn:
        assert index.ref_ids(conn, "国費", "opinion") == _expected(loaded, "国費")
        index.check(conn)


def test_kinds_are_kept_apart_and_hits_come_in_order(engine, index):
    with engine.begin() as conn:
        index.upsert(conn, "opinion", 2, "税制改革")
        index.upsert(conn, "opinion", 1, "税の再分配")
        index.upsert(conn, "item", 1, "税制改革構想")
        index.upsert(conn, "proposal", 5, "教育")
    with engine.connect() as conn:
        hits = index.search(conn, "税")
        assert [(h.kind, h.ref_id) for h in hits] == [("item", 1), ("opinion", 1), ("opinion", 2)]
        assert index.ref_ids(conn, "税制", "item") == [1]
        assert index.count(conn, "税", kinds=["opinion", "proposal"]) == 2
        assert index.ref_ids(conn, "税", "opinion", limit=1, offset=1) == [2]
        assert index.count(conn, "税", cap=2) == 2 and index.count(conn, "税", cap=10) == 3


@pytest.mark.parametrize("query", ["", "   ", "\u3000", None])
def test_a_query_without_terms_matches_nothing(engine, index, loaded, query):
    with engine.connect() as conn:
        assert index.search(conn, query) == [] and index.count(conn, query) == 0
        assert index.matching(conn.dialect.name, query) is None


def test_searches_are_served_by_the_index(engine, index, loaded):
    """No plan reads the documents one by one: every query starts from an index."""
    with engine.begin() as conn:
        index.optimize(conn)  # statistics, as autovacuum would have gathered them
    with engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # at this size a scan would be cheaper
        for query, used in (("国", "grams"), ("国費", "grams"), ("標準化", "folded_trgm"), ("負担 標準化", "")):
            stmt = index.matching(dialect, query)  # (a kind filter would win on so small a table)
            sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
            if dialect == "sqlite":
                plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
                assert not any(step.startswith(f"SCAN {index.document}") for step in plan), plan
                assert any("VIRTUAL TABLE INDEX" in step and ":M" in step for step in plan), plan
            else:
                plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
                assert "Seq Scan" not in plan and "Bitmap Index Scan on ix_" in plan, plan
                assert f"ix_{index.document}_{used}" in plan, plan


def test_postgresql_grams_are_the_python_grams(engine, index):
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("the grams function is PostgreSQL's")
        for texts in [*_corpus(20).values(), ["a"], [""], ["ab cd"]]:
            folded = fold_texts(texts)
            found = conn.execute(text(f"SELECT {index.name}_grams(:t)"), {"t": folded}).scalar_one()
            assert {g for g in found if " " not in g} == set(grams(folded))


def test_concurrent_writers_lose_nothing_and_keep_the_index_whole(engine, index):
    """Threads rewriting the same documents at once: every document ends with one of its texts, and the index
    finds exactly what a scan of the final texts finds. SQLite writers take the lock at BEGIN, as the app's do."""
    if engine.dialect.name == "sqlite":
        engine = create_engine(engine.url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection, record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _immediate(conn):
            raw = conn.connection.dbapi_connection
            if raw.in_transaction:  # the app's own listener (consult/__init__.py) began a deferred one: empty yet
                raw.execute("COMMIT")
            raw.execute("BEGIN IMMEDIATE")

    errors: list[BaseException] = []

    def writer(worker: int):
        try:
            for round_ in range(15):
                with engine.begin() as conn:
                    index.upsert_many(
                        conn,
                        "opinion",
                        [
                            (
                                ref,
                                f"書き手{worker}の{round_}回目 文書{ref} {SENTENCES[(worker + ref) % len(SENTENCES)]}",
                            )
                            for ref in range(1, 6)
                        ],
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT ref_id, folded FROM {index.document} ORDER BY ref_id")).all()
        assert [r for r, _ in rows] == [1, 2, 3, 4, 5]
        final = {r: [f] for r, f in rows}
        for query in ["書き手0", "書き手3", "14回目", "文書2", "国", "税", *QUERIES[:8]]:
            assert index.ref_ids(conn, query, "opinion") == _expected(final, query), query
        index.check(conn)


def test_followed_models_are_indexed_at_every_flush_of_the_session(engine, index):
    """How the app keeps opinions in the index without a call in every operation: the session's flush does it."""

    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = f"{index.name}_note"
        id = Column(Integer, primary_key=True)
        body = Column(String(200))
        reason = Column(String(200))

    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    index.follow(sessions, Note, "note", lambda n: [n.body, n.reason])
    try:
        with sessions.begin() as session:
            session.add_all([Note(id=1, body="ﾏｲﾅ保険証", reason="延期を"), Note(id=2, body="標準化", reason="")])
        with engine.connect() as conn:
            assert index.ref_ids(conn, "マイナ", "note") == [1] and index.ref_ids(conn, "延期", "note") == [1]
        with sessions.begin() as session:
            session.get(Note, 1).reason = "見直しを"
            session.delete(session.get(Note, 2))
        with pytest.raises(RuntimeError), sessions.begin() as session:
            session.add(Note(id=3, body="取り消される"))
            session.flush()
            raise RuntimeError("rolled back with the row")
        with engine.connect() as conn:
            assert index.ref_ids(conn, "延期", "note") == [] and index.ref_ids(conn, "見直し", "note") == [1]
            assert index.ref_ids(conn, "標準化", "note") == [] and index.ref_ids(conn, "取り消", "note") == []
            index.check(conn)
        with Session(engine) as other:  # a session nobody follows changes nothing in the index
            other.add(Note(id=4, body="追跡されない"))
            other.commit()
        with engine.begin() as conn:  # what a Core UPDATE or a cascade leaves behind, prune removes
            index.upsert(conn, "note", 99, "消えた行")
            assert index.prune(conn, "note", select(Note.id)) == 1
            assert index.ref_ids(conn, "消えた", "note") == [] and index.ref_ids(conn, "見直し", "note") == [1]
    finally:
        Base.metadata.drop_all(engine)


def test_check_finds_a_text_changed_behind_the_index_and_rebuild_repairs_it(engine, index, loaded):
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's indexes follow the document table by themselves")
    from sqlalchemy.exc import DatabaseError

    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {index.document} SET folded = 'かきかえ' WHERE ref_id = 5")
    with engine.connect() as conn, pytest.raises(DatabaseError):
        index.check(conn)
    with engine.begin() as conn:
        index.rebuild(conn)
    loaded[5] = ["かきかえ"]
    with engine.connect() as conn:
        index.check(conn)
        for query in [*QUERIES, "かきかえ", "きか"]:
            assert index.ref_ids(conn, query, "opinion") == _expected(loaded, query), query
