"""Headquarters' search box (issue 12): Japanese-aware, highlighted, filtered, served by the full-text index that
each change keeps up to date in its own transaction; the same through the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from test_review_pages import submit

from consult.core import clock as app_clock
from consult.extensions import db


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="本部 花子")


@pytest.fixture
def hq_client(login_as, staff):
    return login_as(staff)


@pytest.fixture
def world(app, make_org, make_round, staff):
    """Two prefectures and a local union under the first; two rounds; opinions in full width and half width."""
    tokyo = make_org("東京都本部", code="pref13")
    osaka = make_org("大阪府本部", code="pref27")
    hachioji = make_org("八王子市職労", kind="local", parent=tokyo, code="local-hachioji")
    dx = make_round(title="自治体DXの推進", items=2, targets=[tokyo, osaka, hachioji])
    tax = make_round(title="税制改革構想", items=1, targets=[tokyo, osaka])
    sid = staff.id
    submit(
        app,
        dx.id,
        tokyo.id,
        sid,
        {0: ("amend", "ＤＸ推進の財源を確保する", "ﾃﾞｼﾞﾀﾙ人材が不足"), 1: ("agree", "", "賛成")},
    )
    submit(app, dx.id, osaka.id, sid, {0: ("oppose", "dx の期限を延ばす", "でじたる化の準備不足")})
    submit(app, dx.id, hachioji.id, sid, {0: ("amend", "サーバー統合", "窓口の負担")}, proposals=[("研修", "DX研修")])
    submit(app, tax.id, tokyo.id, sid, {0: ("amend", "DXと税制", "デジタル課税")})
    return {"dx": dx, "tax": tax, "tokyo": tokyo, "osaka": osaka, "hachioji": hachioji}


def opinion_id(app, org_id, item_index=0, round_id=None):
    """The id of an organisation's opinion on the item at item_index (None: its proposal) of a round."""
    from consult.answers.models import Answer, Opinion
    from consult.rounds.models import RoundItem

    with app.app_context():
        stmt = select(Opinion).join(Answer).where(Answer.organization_id == org_id)
        if round_id is not None:
            stmt = stmt.where(Answer.round_id == round_id)
        if item_index is None:
            stmt = stmt.where(Opinion.item_id.is_(None))
        else:
            stmt = stmt.join(RoundItem, RoundItem.id == Opinion.item_id).where(RoundItem.position == item_index + 1)
        return db.session.scalars(stmt).one().id


def found(app, q, **filters):
    from consult.review import search

    with app.app_context():
        query = search.Query.from_args({"q": q, **{k: str(v) for k, v in filters.items()}})
        results = search.search(query, 100)
        return sorted(hit.opinion.id for hit in results.opinions)


def test_width_case_and_kana_variants_find_the_same_opinions(app, world):
    w = world
    dx_all = found(app, "DX")
    assert dx_all == found(app, "ＤＸ") == found(app, "dx") == found(app, "ｄｘ")
    ids = {opinion_id(app, w["tokyo"].id, 0, w["dx"].id), opinion_id(app, w["osaka"].id, 0, w["dx"].id)}
    assert ids <= set(dx_all)
    digital = found(app, "デジタル")
    assert digital == found(app, "ﾃﾞｼﾞﾀﾙ") == found(app, "でじたる")
    assert len(digital) == 3  # ﾃﾞｼﾞﾀﾙ人材, でじたる化, デジタル課税
    assert found(app, "サーバ") == found(app, "サーバー") == found(app, "ｻｰﾊﾞ") != []
    assert found(app, "DX 財源") == [opinion_id(app, w["tokyo"].id, 0, w["dx"].id)]  # every term
    assert found(app, "存在しない語句") == []


def test_filters_round_item_organisation_prefecture_stance_disposition(app, world, staff):
    from consult.answers.models import Opinion
    from consult.auth.models import User
    from consult.review.operations import set_disposition

    w = world
    dx, tax = w["dx"].id, w["tax"].id
    assert {opinion_id(app, w["tokyo"].id, 0, tax)} == set(found(app, "DX", round=tax))
    assert opinion_id(app, w["tokyo"].id, 0, tax) not in found(app, "DX", round=dx)
    assert found(app, "DX", round=dx, item="proposals") == [opinion_id(app, w["hachioji"].id, None)]
    first_item = w["dx"].items[0].id
    assert set(found(app, "DX", item=first_item, round=dx)) == {
        opinion_id(app, w["tokyo"].id, 0, dx),
        opinion_id(app, w["osaka"].id, 0, dx),
    }
    assert found(app, "DX", org="pref27") == [opinion_id(app, w["osaka"].id, 0, dx)]
    assert found(app, "DX", org="大阪") == [opinion_id(app, w["osaka"].id, 0, dx)]
    # A prefecture: its own opinions and its local unions'.
    in_tokyo = found(app, "DX", prefecture=w["tokyo"].id)
    assert opinion_id(app, w["hachioji"].id, None) in in_tokyo and opinion_id(app, w["osaka"].id, 0, dx) not in in_tokyo
    assert found(app, "DX", stance="oppose") == [opinion_id(app, w["osaka"].id, 0, dx)]
    oid = opinion_id(app, w["osaka"].id, 0, dx)
    with app.app_context():
        set_disposition(
            db.session.get(Opinion, oid),
            "rejected",
            "時期は国が決めます",
            db.session.get(User, staff.id),
            app_clock.app_now(),
        )
        db.session.commit()
    assert found(app, "DX", disposition="rejected") == [oid]
    assert oid not in found(app, "DX", disposition="none")
    # 本部の考え方 is searched too, as soon as it is saved.
    assert found(app, "時期は国") == [oid]


def test_the_page_highlights_matches_in_the_original_text(app, world, hq_client):
    html = hq_client.get("/rounds/search?q=でじたる").get_data(as_text=True)
    assert "<mark>ﾃﾞｼﾞﾀﾙ</mark>人材が不足" in html
    assert "<mark>でじたる</mark>化の準備不足" in html
    assert "<mark>デジタル</mark>課税" in html
    assert "3 件見つかりました。" in html
    html = hq_client.get(f"/rounds/search?q=ＤＸ&round={world['dx'].id}&stance=oppose").get_data(as_text=True)
    assert "<mark>dx</mark> の期限を延ばす" in html and "ＤＸ推進" not in html
    # Items of the draft are found too (their number, heading and text).
    html = hq_client.get("/rounds/search?q=項目1の本文").get_data(as_text=True)
    assert "<mark>項目1の本文</mark>" in html


def test_bad_search_input_is_never_an_error(app, world, hq_client):
    for query in (
        "?q=",
        "?q=%20%20",
        "?q=DX&round=abc&item=x&prefecture=-1&stance=zzz&disposition=q&page=9999",
        "?q=" + "あ" * 500,
        "?q=%25_%5C",
        "?round=99999999999999999999&q=DX",
    ):
        assert hq_client.get("/rounds/search" + query).status_code == 200


def test_branches_may_not_search(app, world, login_as, make_user, api_as):
    member = make_user("member", org=world["tokyo"])
    assert login_as(member).get("/rounds/search?q=DX").status_code == 403
    assert api_as(member).get("/api/v1/search?q=DX").status_code == 403


def test_the_index_follows_changes_in_the_same_transaction(app, world, staff):
    """A branch's new wording is found at once and its old wording no more; a rolled-back change leaves the index."""
    w = world
    oid = opinion_id(app, w["osaka"].id, 0, w["dx"].id)
    assert oid in found(app, "期限を延ばす")
    from consult.answers.models import Answer
    from consult.answers.operations import withdraw_answer
    from consult.auth.models import User

    with app.app_context():
        answer = db.session.scalars(select(Answer).where(Answer.organization_id == w["osaka"].id)).one()
        withdraw_answer(
            db.session.get(type(answer.round), answer.round_id),
            answer,
            db.session.get(User, staff.id),
            None,
            app_clock.app_now(),
        )
        db.session.commit()
    submit(app, w["dx"].id, w["osaka"].id, staff.id, {0: ("oppose", "工程表を見直す", "人手")})
    assert oid not in found(app, "期限を延ばす")
    assert found(app, "工程表") == [oid]
    # A change rolled back takes its index entry with it.
    from consult.answers.models import Opinion

    with app.app_context():
        op = db.session.get(Opinion, oid)
        op.hq_view = "ロールバックされる考え方"
        db.session.flush()
        assert (
            db.session.execute(text("SELECT count(*) FROM search_document WHERE folded LIKE '%ろーるばっく%'")).scalar()
            == 1
        )
        db.session.rollback()
    assert found(app, "ロールバック") == []


def test_searches_are_served_by_the_index(app, world):
    from consult.review import search

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the plan of PostgreSQL's index is checked by tests/test_search_index.py")
        stmt = search.opinion_statement(search.Query(q="デジタル"), "sqlite")
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "search_trigram VIRTUAL TABLE INDEX" in plan, plan
        assert "SCAN opinion" not in plan, plan


def test_the_api_finds_the_same_with_match_spans(app, world, staff, api_as):
    client = api_as(staff)
    wide = client.get("/api/v1/search?q=ＤＸ").get_json()
    narrow = client.get("/api/v1/search?q=dx").get_json()
    assert [h["opinion_id"] for h in wide["items"]] == [h["opinion_id"] for h in narrow["items"]]
    assert sorted(h["opinion_id"] for h in wide["items"]) == found(app, "DX")
    body = client.get(f"/api/v1/search?q=ﾃﾞｼﾞﾀﾙ&round_id={world['dx'].id}").get_json()
    assert len(body["items"]) == 2
    match = next(m for h in body["items"] for m in h["matches"] if m["text"] == "ﾃﾞｼﾞﾀﾙ人材が不足")
    assert match == {"field": "reason", "text": "ﾃﾞｼﾞﾀﾙ人材が不足", "spans": [[0, 6]]}
    # Paged by cursor.
    page = client.get("/api/v1/search?q=DX&limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"/api/v1/search?q=DX&limit=100&cursor={page['next_cursor']}").get_json()
    assert len(page["items"]) + len(rest["items"]) == len(found(app, "DX"))
    assert client.get("/api/v1/search").get_json() == {"items": [], "next_cursor": None}
    assert client.get("/api/v1/search?q=" + "あ" * 201).status_code == 422
