"""Upgrades: a database made by the first revision, with data in every table, upgraded to the newest loses nothing;
the upgraded schema is the one a fresh database gets, and the one the models describe.

The revisions before the squash of issue 7 are kept in tests/fixtures/pre_squash/ (not in the package: no union
ran them): a database built by them, with the same data, has the squashed schema's columns, keys, constraints and
indexes (under other names), and every one of its rows loads into a database of the newest revision unchanged."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, make_url, select

from consult import MIGRATIONS_DIR, create_app
from consult.backup import head_revision
from consult.core.search.index import SearchIndex
from consult.extensions import db

FIRST = ScriptDirectory(str(MIGRATIONS_DIR)).get_base()  # the oldest revision of the chain
PRE_SQUASH = str(Path(__file__).resolve().parent / "fixtures" / "pre_squash")
OLD_FIRST, OLD_LETTERS = "c8edd5a4d84e", "2149508c75ab"  # the revisions before the squash
T0 = datetime(2025, 2, 1, 0, 0)  # naive UTC, as the columns store it


def at(**delta) -> datetime:
    return T0 + timedelta(**delta)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """make(name) -> the URL of a new empty database of the kind under test."""
    kind = request.param
    test_url = os.environ.get("TEST_DATABASE_URL") or ""
    if kind == "postgresql" and not test_url.startswith("postgresql"):
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL to a PostgreSQL database")
    created = []

    def make(name: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.sqlite')}"
        import psycopg

        base = make_url(test_url)
        db_name = f"{base.database}_{name}"
        admin = base.set(drivername="postgresql", database="postgres").render_as_string(False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        created.append((admin, db_name))
        return base.set(database=db_name).render_as_string(False)

    yield make
    import psycopg

    for admin, db_name in created:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def app_for(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})


def reflect() -> MetaData:
    meta = MetaData()
    meta.reflect(bind=db.engine)
    return meta


def dump(tables: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (or of the named tables and columns), ordered by primary key."""
    meta = reflect()
    out = {}
    with db.engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version" or (tables is not None and table.name not in tables):
                continue
            columns = [table.c[name] for name in tables[table.name]] if tables else list(table.c)
            stmt = select(*columns).order_by(*(table.primary_key.columns or columns))
            out[table.name] = [tuple(row) for row in conn.execute(stmt)]
    return out


def columns_of() -> dict[str, list[str]]:
    return {t.name: [c.name for c in t.c] for t in reflect().sorted_tables if t.name != "alembic_version"}


def move_sequences(conn, tables: list[str]) -> None:
    """PostgreSQL: rows went in with explicit ids, so move each table's id sequence past them."""
    if conn.dialect.name != "postgresql":
        return
    for name in tables:
        sequence = f"pg_get_serial_sequence('\"{name}\"', 'id')"
        conn.exec_driver_sql(f'SELECT setval({sequence}, (SELECT MAX(id) FROM "{name}"))')


def insert_initial_data() -> None:
    """Organisations, users, a round with items and revisions, two answers with opinions and history — as the
    first schema stores them, written with plain inserts against the reflected tables."""
    t = reflect().tables
    rows = {
        "organization": [
            dict(id=1, code="hq", name="全日本自治団体労働組合", kind="hq", parent_id=None, position=0),
            dict(id=2, code="pref13", name="東京都本部", kind="prefecture", parent_id=1, position=13),
            dict(id=3, code="local-hachioji", name="八王子市職員組合", kind="local", parent_id=2, position=1),
        ],
        "user_account": [
            dict(
                id=1,
                login="admin",
                name="本部 管理者",
                email="admin@example.jp",
                password_hash="scrypt:x$y$z",
                role="admin",
                organization_id=1,
                active=True,
                session_token="t1",
            ),
            dict(
                id=2,
                login="tokyo",
                name="東京 太郎",
                email=None,
                password_hash="pbkdf2:sha256:1000$a$b",
                role="member",
                organization_id=2,
                active=True,
                session_token="t2",
            ),
            dict(
                id=3,
                login="retired",
                name="退職 花子",
                email=None,
                password_hash="x",
                role="member",
                organization_id=3,
                active=False,
                session_token="t3",
            ),
        ],
        "round": [
            dict(
                id=1,
                title="自治体DXに関する組織討議",
                background="背景\n二段落目",
                status="open",
                opens_at=at(),
                deadline=at(days=30),
                created_at=at(minutes=-5),
                created_by_id=1,
                version=3,
            )
        ],
        "round_item": [
            dict(id=1, round_id=1, position=1, number="1", heading="標準化", body="本文1", revision=1, removed_at=None),
            dict(
                id=2,
                round_id=1,
                position=2,
                number="2",
                heading="ガバメントクラウド",
                body="改訂後の本文",
                revision=2,
                removed_at=None,
            ),
            dict(
                id=3,
                round_id=1,
                position=3,
                number="3",
                heading="取り下げた項目",
                body="本文3",
                revision=1,
                removed_at=at(days=2),
            ),
        ],
        "item_revision": [
            dict(id=1, item_id=1, revision=1, number="1", heading="標準化", body="本文1", created_at=at()),
            dict(
                id=2,
                item_id=2,
                revision=1,
                number="2",
                heading="ガバメントクラウド",
                body="最初の本文",
                created_at=at(),
            ),
            dict(
                id=3,
                item_id=2,
                revision=2,
                number="2",
                heading="ガバメントクラウド",
                body="改訂後の本文",
                created_at=at(days=1),
            ),
            dict(id=4, item_id=3, revision=1, number="3", heading="取り下げた項目", body="本文3", created_at=at()),
        ],
        "round_target": [dict(round_id=1, organization_id=2), dict(round_id=1, organization_id=3)],
        "milestone": [
            dict(id=1, round_id=1, date=at(days=40).date(), meeting="第14回中央執行委員会", what="自治労案の確認")
        ],
        "attachment": [
            dict(
                id=1,
                round_id=1,
                filename="素案.pdf",
                content_type="application/pdf",
                size=6,
                data=b"%PDF\x00\xff",
                uploaded_at=at(),
                uploaded_by_id=1,
            )
        ],
        "deadline_extension": [
            dict(
                id=1,
                round_id=1,
                organization_id=3,
                until=at(days=33),
                reason="大会のため",
                granted_at=at(days=29),
                granted_by_id=1,
            )
        ],
        "answer": [
            dict(
                id=1,
                round_id=1,
                organization_id=2,
                status="submitted",
                no_opinion=False,
                general_comment="総括的な意見です。",
                created_at=at(days=3),
                updated_at=at(days=5),
                updated_by_id=2,
                submitted_at=at(days=5),
                submitted_by_id=2,
                late_at=at(days=31),
                late_payload={"general_comment": "締切後に届いた意見", "opinions": {}, "proposals": []},
                version=4,
            ),
            dict(
                id=2,
                round_id=1,
                organization_id=3,
                status="draft",
                no_opinion=False,
                general_comment="",
                created_at=at(days=4),
                updated_at=at(days=4),
                updated_by_id=None,
                submitted_at=None,
                submitted_by_id=None,
                late_at=None,
                late_payload=None,
                version=1,
            ),
        ],
        "opinion": [
            dict(
                id=1,
                answer_id=1,
                item_id=1,
                item_revision=1,
                position=1,
                stance="amend",
                heading="",
                referred_text="現行の文言",
                proposed_text="修正案の文言",
                reason="理由です",
                disposition="adopted",
                hq_view="本部の考え方",
            ),
            dict(
                id=2,
                answer_id=1,
                item_id=2,
                item_revision=1,
                position=2,
                stance="oppose",
                heading="",
                referred_text="",
                proposed_text="",
                reason="旧版への意見",
                disposition=None,
                hq_view="",
            ),
            dict(
                id=3,
                answer_id=1,
                item_id=3,
                item_revision=1,
                position=3,
                stance="delete",
                heading="",
                referred_text="",
                proposed_text="",
                reason="取り下げ前の意見",
                disposition="rejected",
                hq_view="",
            ),
            dict(
                id=4,
                answer_id=1,
                item_id=None,
                item_revision=None,
                position=4,
                stance="add",
                heading="新しい項目の提案",
                referred_text="",
                proposed_text="提案の本文",
                reason="提案理由",
                disposition=None,
                hq_view="",
            ),
            dict(
                id=5,
                answer_id=2,
                item_id=1,
                item_revision=1,
                position=1,
                stance="agree",
                heading="",
                referred_text="",
                proposed_text="",
                reason="",
                disposition=None,
                hq_view="",
            ),
        ],
        "answer_event": [
            dict(
                id=1,
                answer_id=1,
                user_id=2,
                action="save",
                at=at(days=3),
                on_behalf=False,
                changes=[{"where": "1 標準化", "field": "修正案", "before": "", "after": "修正案の文言"}],
            ),
            dict(id=2, answer_id=1, user_id=1, action="save", at=at(days=4), on_behalf=True, changes=[]),
            dict(id=3, answer_id=1, user_id=2, action="submit", at=at(days=5), on_behalf=False, changes=[]),
            dict(id=4, answer_id=2, user_id=3, action="save", at=at(days=4), on_behalf=False, changes=[]),
        ],
    }
    with db.engine.begin() as conn:
        for name, table in rows.items():
            conn.execute(t[name].insert(), table)
        move_sequences(conn, [name for name in rows if "id" in t[name].c])


def insert_letters_data() -> None:
    """A campaign whose request items cite the old opinions, an addressee with a subset, a template."""
    t = reflect().tables
    rows = {
        "letter_template": [
            dict(id=1, filename="要請書.docx", data=b"PK\x03\x04docx", uploaded_at=at(days=50), uploaded_by_id=1)
        ],
        "campaign": [
            dict(
                id=1,
                title="2025年自治体DX要請行動",
                round_id=1,
                date_year=2025,
                date_month=6,
                date_day=None,
                date_style="era",
                sender_org="自治労",
                sender_title="中央執行委員長",
                sender_name="委員長名",
                created_at=at(days=50),
                version=2,
            )
        ],
        "letter": [
            dict(
                id=1,
                campaign_id=1,
                position=1,
                title="自治体DXの推進に関する要請書",
                greeting="拝啓",
                background="一段落目\n二段落目",
                closing="敬具",
                numbering="kanji_paren",
                fullwidth_digits=True,
                version=1,
            )
        ],
        "request_item": [
            dict(id=1, letter_id=1, parent_id=None, position=1, text="標準化について"),
            dict(id=2, letter_id=1, parent_id=1, position=1, text="十分な財源を措置すること"),
        ],
        "request_item_opinion": [
            dict(request_item_id=2, opinion_id=1),
            dict(request_item_id=2, opinion_id=4),
            dict(request_item_id=1, opinion_id=2),
        ],
        "addressee": [
            dict(
                id=1,
                campaign_id=1,
                letter_id=1,
                position=1,
                organisation="総務省",
                kind="ministry",
                title="大臣",
                name="",
                honorific="様",
                greeting="",
                extra_paragraph="",
                all_items=False,
            )
        ],
        "addressee_item": [dict(addressee_id=1, request_item_id=2)],
    }
    with db.engine.begin() as conn:
        for name, table in rows.items():
            conn.execute(t[name].insert(), table)


def schema() -> dict:
    """What matters of the schema: columns, keys, constraints and indexes of every table."""
    inspector = inspect(db.engine)
    out = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = {
            "columns": [(c["name"], c["nullable"], type(c["type"]).__name__) for c in inspector.get_columns(table)],
            "pk": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
            "fks": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    (fk.get("options") or {}).get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
            ),
            "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(table)),
        }
    return out


def insert_audit_data() -> None:
    t = reflect().tables
    with db.engine.begin() as conn:
        conn.execute(
            t["audit_event"].insert(),
            [
                dict(
                    id=1,
                    at=at(days=5),
                    user_id=2,
                    action="answer_submit",
                    object_kind="answer",
                    object_id=1,
                    round_id=1,
                    summary="回答の提出: 東京都本部の回答",
                    details={"org_id": 2},
                    address="127.0.0.1",
                )
            ],
        )


def read_back_through_the_models() -> None:
    """The app's models read what the earlier schema stored, as written."""
    from consult.answers.models import Answer

    answer = db.session.get(Answer, 1)
    assert answer.submitted_at == datetime(2025, 2, 6, tzinfo=UTC)
    assert answer.late_payload["general_comment"] == "締切後に届いた意見"
    opinions = {op.id: op for op in answer.opinions}
    assert opinions[1].disposition == "adopted" and opinions[1].hq_view == "本部の考え方"
    # What headquarters had answered was answered in the wording stored then (revision 0002).
    assert opinions[1].answered_revision == opinions[1].revision == 1 and opinions[4].answered_revision is None
    assert opinions[4].item_id is None and opinions[4].heading == "新しい項目の提案"
    assert [e.changes for e in answer.events][0][0]["after"] == "修正案の文言"
    assert [op.id for op in opinions[1].request_items[0].opinions] == [1, 4]
    db.session.remove()


def test_upgrade_from_the_first_revision_keeps_every_row(fresh_url):
    url = fresh_url("upgrade")
    app = app_for(url)
    with app.app_context():
        upgrade(revision=FIRST)
        insert_initial_data()
        insert_letters_data()
        insert_audit_data()
        first_columns = columns_of()
        before = dump()
        assert sum(len(rows) for rows in before.values()) == 30 + 10 + 1

        upgrade()
        assert dump(first_columns) == before  # every row and every value of the first schema
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
        read_back_through_the_models()

        # Down to the first revision and up again keeps every row of the first schema.
        downgrade(revision=FIRST)
        assert dump(first_columns) == before
        upgrade()
        assert dump(first_columns) == before
        db.engine.dispose()


def test_down_to_nothing_and_up_again_gives_the_same_schema(fresh_url):
    url = fresh_url("downup")
    app = app_for(url)
    with app.app_context():
        upgrade()
        fresh = schema()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert schema() == fresh
        db.engine.dispose()


def test_an_upgraded_database_has_the_schema_of_a_fresh_one_and_of_the_models(fresh_url):
    upgraded, fresh = fresh_url("upgraded"), fresh_url("fresh")
    app = app_for(upgraded)
    with app.app_context():
        upgrade(revision=FIRST)
        insert_initial_data()
        upgrade()
        upgraded_schema = schema()
        db.engine.dispose()
    app = app_for(fresh)
    with app.app_context():
        upgrade()
        fresh_schema = schema()
        with db.engine.connect() as conn:  # a model changed without a migration shows here
            context = MigrationContext.configure(conn, opts={"include_name": SearchIndex("search").include_name})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()
    assert upgraded_schema == fresh_schema
    assert ("answer_id",) in [fk[0] for fk in fresh_schema["opinion"]["fks"]]
    assert fresh_schema["opinion"]["checks"] == ["ck_opinion_disposition", "ck_opinion_stance"]


def shape(full: dict) -> dict:
    """The schema without the names of constraints and indexes (the squash gave them the naming convention)."""
    return {
        table: {
            "columns": parts["columns"],
            "pk": parts["pk"],
            "fks": parts["fks"],
            "unique": parts["unique"],
            "indexes": sorted((columns, unique) for _name, columns, unique in parts["indexes"]),
            "checks": len(parts["checks"]),
        }
        for table, parts in full.items()
        if table != "alembic_version"
    }


def test_data_of_the_revisions_before_the_squash_carries_into_the_newest_schema(fresh_url):
    old_url, new_url = fresh_url("presquash"), fresh_url("squashed")
    app = app_for(old_url)
    with app.app_context():
        upgrade(directory=PRE_SQUASH, revision=OLD_FIRST)
        insert_initial_data()
        upgrade(directory=PRE_SQUASH, revision=OLD_LETTERS)
        insert_letters_data()
        upgrade(directory=PRE_SQUASH)
        insert_audit_data()
        old_schema = shape(schema())
        old_columns = columns_of()
        before = dump()
        db.engine.dispose()
    app = app_for(new_url)
    with app.app_context():
        upgrade(revision=FIRST)  # the squash itself; the revisions after it add to it (upgraded below)
        assert shape(schema()) == old_schema  # the squash kept every column, key, constraint and index
        t = reflect().tables
        with db.engine.begin() as conn:  # every row, table by table in the order of the foreign keys
            for table in reflect().sorted_tables:
                rows = before.get(table.name)
                if rows:
                    names = old_columns[table.name]
                    conn.execute(t[table.name].insert(), [dict(zip(names, row, strict=True)) for row in rows])
            move_sequences(conn, [name for name, rows in before.items() if rows and "id" in t[name].c])
        upgrade()  # and on to the newest revision, with the data
        assert dump(old_columns) == before
        read_back_through_the_models()
        db.engine.dispose()
