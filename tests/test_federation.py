"""Issue 10: a prefecture's own discussion with its unions, and its answer to headquarters built from theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.extensions import db


@pytest.fixture
def fed(app, make_org, make_user, make_round, hq, clock):
    """HQ's round put to two prefectures; Tokyo has three local unions (and a council), Osaka two."""
    tokyo, osaka = make_org("東京都本部"), make_org("大阪府本部")
    unions = {
        "hachioji": make_org("八王子市職労", kind="local", parent=tokyo),
        "fuchu": make_org("府中市職労", kind="local", parent=tokyo),
        "chofu": make_org("調布市職労", kind="local", parent=tokyo),
        "sakai": make_org("堺市職労", kind="local", parent=osaka),
        "toyonaka": make_org("豊中市職労", kind="local", parent=osaka),
    }
    council = make_org("東京衛生協議会", kind="council", parent=tokyo)
    round_ = make_round(targets=[tokyo, osaka], deadline=clock() + timedelta(days=10), items=2)
    users = {
        "tokyo": make_user("member", tokyo, login="tokyo-officer"),
        "osaka": make_user("member", osaka, login="osaka-officer"),
        "staff": make_user("staff", hq, login="hq-staff"),
        **{key: make_user("member", org, login=f"{key}-member") for key, org in unions.items()},
    }
    return {
        "round": round_,
        "tokyo": tokyo,
        "osaka": osaka,
        "unions": unions,
        "council": council,
        "users": users,
        "items": [item.id for item in round_.items],
    }


def _open_sub(app, fed, clock, org_key="tokyo", days=5, targets=None):
    from consult.auth.models import User
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    with app.app_context():
        user = db.session.get(User, fed["users"][org_key].id)
        parent = db.session.get(Round, fed["round"].id)
        sub = rounds.open_subround(
            parent,
            user,
            deadline=clock() + timedelta(days=days),
            background="県内の意見をお寄せください。",
            organization_ids=targets,
            now=clock(),
        )
        db.session.commit()
        return sub.id


def _union_answer(app, clock, sub_id, org, texts: dict[int, tuple[str, str]], submit=True):
    """The union answers the sub-round: {parent item id: (stance, proposed text)}."""
    from consult.answers import operations as answering
    from consult.auth.models import User
    from consult.rounds.models import Round

    with app.app_context():
        sub = db.session.get(Round, sub_id)
        by_parent = {item.parent_item_id: item.id for item in sub.items}
        user = db.session.scalars(db.select(User).where(User.organization_id == org.id)).first()
        data = answering.AnswerInput(
            opinions={
                by_parent[item_id]: answering.OpinionInput(stance, "", text, f"{org.name}の理由")
                for item_id, (stance, text) in texts.items()
            }
        )
        answer = answering.save_answer(sub, org.id, user, data, None, clock(), submit=submit)
        db.session.commit()
        return {op.item.parent_item_id: op.id for op in answer.opinions}


def _page_version(client, rid) -> str:
    import re

    return re.search(r'name="version" value="(\d+)"', client.get(f"/answers/{rid}/roll-up").get_data(as_text=True))[1]


# ---------------------------------------------------------------- opening a sub-round


def test_prefecture_opens_subround_on_its_page(app, fed, login_as, clock):
    from consult.rounds.models import Round
    from consult.rounds.signals import subround_opened

    sent = []

    def receiver(sender, **kwargs):
        sent.append((sender.id, kwargs["user"].id, kwargs["now"]))

    subround_opened.connect(receiver)
    try:
        client = login_as(fed["users"]["tokyo"])
        rid = fed["round"].id
        page = client.get(f"/answers/{rid}/subround").get_data(as_text=True)
        assert "八王子市職労" in page and "堺市職労" not in page  # only its own descendants
        deadline = (clock() + timedelta(days=5)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
        response = client.post(
            f"/answers/{rid}/subround",
            data={"deadline": deadline.strftime("%Y-%m-%dT%H:%M"), "background": "県本部の説明"},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    finally:
        subround_opened.disconnect(receiver)
    with app.app_context():
        sub = db.session.scalars(db.select(Round).where(Round.parent_id == rid)).one()
        assert sub.organization_id == fed["tokyo"].id and sub.status == "open"
        assert [i.parent_item_id for i in sub.items] == fed["items"]
        assert [i.heading for i in sub.items] == ["項目1", "項目2"]
        # by default: every local union beneath it, not the council
        assert sub.target_ids() == {fed["unions"][k].id for k in ("hachioji", "fuchu", "chofu")}
        assert sent == [(sub.id, fed["users"]["tokyo"].id, clock())]
        sub_id = sub.id
    # the same screens as headquarters', scoped to it
    assert client.get(f"/rounds/{sub_id}").status_code == 200
    board = client.get(f"/rounds/{sub_id}/board").get_data(as_text=True)
    assert "八王子市職労" in board and "堺市職労" not in board
    targets = client.get(f"/rounds/{sub_id}/targets").get_data(as_text=True)
    assert "府中市職労" in targets and "大阪府本部" not in targets and "堺市職労" not in targets
    assert client.get(f"/rounds/{sub_id}/items").status_code == 403  # the items are headquarters'
    # its list of rounds shows the sub-round as one it runs, linked to its screens, not as one to answer
    listing = client.get("/answers/").get_data(as_text=True)
    row = listing[listing.index(f'href="/rounds/{sub_id}"') :].split("</tr>")[0]
    assert "運営（県内討議）" in row and "未着手" not in row and "締切経過" not in row
    assert client.get(f"/rounds/{rid}").status_code == 403  # headquarters' own round stays headquarters'


def test_subround_deadline_must_fall_before_own_deadline_to_hq(app, fed, login_as, clock):
    from consult.auth.models import User
    from consult.core.errors import DomainError
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    client = login_as(fed["users"]["tokyo"])
    rid = fed["round"].id
    late = (clock() + timedelta(days=11)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    response = client.post(
        f"/answers/{rid}/subround", data={"deadline": late.strftime("%Y-%m-%dT%H:%M"), "background": "説明文"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "より前の日時にしてください" in page and "説明文" in page
    with app.app_context():
        assert db.session.scalars(db.select(Round).where(Round.parent_id == rid)).first() is None
        # with an extension to HQ, the prefecture's own limit moves with it
        parent = db.session.get(Round, rid)
        rounds.grant_extension(parent, fed["tokyo"].id, clock() + timedelta(days=14), "県大会", None, clock())
        db.session.commit()
        user = db.session.get(User, fed["users"]["tokyo"].id)
        sub = rounds.open_subround(
            parent, user, deadline=clock() + timedelta(days=12), background="", organization_ids=None, now=clock()
        )
        db.session.commit()
        # an extension inside the sub-round may not pass the prefecture's own deadline either
        with pytest.raises(DomainError):
            rounds.grant_extension(sub, fed["unions"]["fuchu"].id, clock() + timedelta(days=15), "理由", user, clock())
        rounds.grant_extension(sub, fed["unions"]["fuchu"].id, clock() + timedelta(days=13), "理由", user, clock())
        db.session.commit()


def test_subround_targets_only_descendants_and_only_once(app, fed, clock):
    from consult.auth.models import User
    from consult.core.errors import DomainError, TransitionError
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    with app.app_context():
        user = db.session.get(User, fed["users"]["tokyo"].id)
        parent = db.session.get(Round, fed["round"].id)
        with pytest.raises(DomainError):  # another prefecture's union
            rounds.open_subround(
                parent,
                user,
                deadline=clock() + timedelta(days=3),
                background="",
                organization_ids={fed["unions"]["sakai"].id},
                now=clock(),
            )
        union = db.session.get(User, fed["users"]["hachioji"].id)
        with pytest.raises(DomainError):  # a union is no target of HQ's round
            rounds.open_subround(
                parent, union, deadline=clock() + timedelta(days=3), background="", organization_ids=None, now=clock()
            )
    sub_id = _open_sub(app, fed, clock, targets={fed["unions"]["fuchu"].id, fed["council"].id})
    with app.app_context():
        sub = db.session.get(Round, sub_id)
        assert sub.target_ids() == {fed["unions"]["fuchu"].id, fed["council"].id}
        user = db.session.get(User, fed["users"]["tokyo"].id)
        rounds.set_targets(sub, {fed["unions"]["sakai"].id, fed["unions"]["chofu"].id}, user=user, now=clock())
        assert fed["unions"]["sakai"].id not in sub.target_ids()  # never outside the prefecture
        assert fed["unions"]["chofu"].id in sub.target_ids()
        db.session.rollback()
    with pytest.raises(TransitionError):  # one sub-round per prefecture and round
        _open_sub(app, fed, clock)


# ---------------------------------------------------------------- unions answer, the prefecture builds its answer


def test_unions_answer_and_prefecture_merges_with_sources(app, fed, login_as, clock):
    from consult.answers.models import Answer, Opinion, OpinionSource

    sub_id = _open_sub(app, fed, clock)
    item1, item2 = fed["items"]
    a = _union_answer(
        app, clock, sub_id, fed["unions"]["hachioji"], {item1: ("amend", "財源を明記する"), item2: ("agree", "")}
    )
    b = _union_answer(app, clock, sub_id, fed["unions"]["fuchu"], {item1: ("amend", "人員を確保する")})
    _union_answer(app, clock, sub_id, fed["unions"]["chofu"], {item1: ("oppose", "下書きのまま")}, submit=False)

    client = login_as(fed["users"]["tokyo"])
    rid = fed["round"].id
    page = client.get(f"/answers/{rid}/roll-up").get_data(as_text=True)
    assert "財源を明記する" in page and "人員を確保する" in page
    assert "下書きのまま" not in page  # only submitted opinions are weighed
    # merge two into one
    response = client.post(
        f"/answers/{rid}/roll-up/items/{item1}", data={"source": [a[item1], b[item1]], "version": "0"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    # adopt one as it is
    version = _page_version(client, rid)
    response = client.post(f"/answers/{rid}/roll-up/items/{item2}", data={"source": [a[item2]], "version": version})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        answer = db.session.scalars(
            db.select(Answer).where(Answer.round_id == rid, Answer.organization_id == fed["tokyo"].id)
        ).one()
        ops = answer.item_opinions()
        merged = ops[item1]
        assert merged.stance == "amend"
        assert "【八王子市職労】財源を明記する" in merged.proposed_text
        assert "【府中市職労】人員を確保する" in merged.proposed_text
        assert ops[item2].stance == "agree"
        links = set(db.session.execute(db.select(OpinionSource.opinion_id, OpinionSource.source_id)).tuples())
        assert links == {(merged.id, a[item1]), (merged.id, b[item1]), (ops[item2].id, a[item2])}
        # the unions' texts are untouched
        assert db.session.get(Opinion, a[item1]).proposed_text == "財源を明記する"
        merged_id = merged.id
    # a source from another item is refused next to the list, nothing changes
    version = _page_version(client, rid)
    response = client.post(f"/answers/{rid}/roll-up/items/{item2}", data={"source": [b[item1]], "version": version})
    assert response.status_code == 422 and "同じ項目" in response.get_data(as_text=True)
    # editing the wording on the ordinary form keeps the opinion, and so its sources
    form = client.get(f"/answers/{rid}/org/{fed['tokyo'].id}/edit").get_data(as_text=True)
    assert "財源を明記する" in form
    # decision recorded, then submitted to HQ
    response = client.post(
        f"/answers/{rid}/decision",
        data={"decided_by": "県本部執行委員会", "decided_on": "2026-12-05", "version": _page_version(client, rid)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        answer = db.session.scalars(
            db.select(Answer).where(Answer.round_id == rid, Answer.organization_id == fed["tokyo"].id)
        ).one()
        assert answer.decided_by == "県本部執行委員会" and str(answer.decided_on) == "2026-12-05"
        assert {
            s
            for (s,) in db.session.execute(
                db.select(OpinionSource.source_id).where(OpinionSource.opinion_id == merged_id)
            )
        } == {a[item1], b[item1]}


def _statements(app, client, url) -> tuple[int, str]:
    """(SQL statements run for one GET, the page's text)."""
    from sqlalchemy import event

    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def test_roll_up_lists_one_items_opinions_in_pages_with_every_items_counts(app, fed, login_as, clock, monkeypatch):
    from consult.answers import roll_up

    sub_id = _open_sub(app, fed, clock)
    item1, item2 = fed["items"]
    unions = fed["unions"]
    _union_answer(
        app, clock, sub_id, unions["hachioji"], {item1: ("amend", "一の八王子"), item2: ("agree", "二の八王子")}
    )
    client = login_as(fed["users"]["tokyo"])
    rid = fed["round"].id
    one_union, page = _statements(app, client, f"/answers/{rid}/roll-up")
    assert "一の八王子" in page and "二の八王子" not in page  # the first item's opinions, the other's counts
    assert page.count("単組の意見 1件") == 2 and f"?item={item2}#item-{item2}" in page
    assert "二の八王子" in client.get(f"/answers/{rid}/roll-up?item={item2}").get_data(as_text=True)
    _union_answer(app, clock, sub_id, unions["fuchu"], {item1: ("oppose", "一の府中"), item2: ("agree", "二の府中")})
    _union_answer(app, clock, sub_id, unions["chofu"], {item1: ("amend", "一の調布")})
    three_unions, page = _statements(app, client, f"/answers/{rid}/roll-up")
    assert three_unions == one_union  # a constant number of queries, whatever the number of unions
    assert "単組の意見 3件（修正 2・反対 1）" in page and "単組の意見 2件（賛成 2）" in page
    monkeypatch.setattr(roll_up, "PAGE_SIZE", 2)  # pages of two: 八王子 and 府中 first, 調布 on the second
    first = client.get(f"/answers/{rid}/roll-up?item={item1}").get_data(as_text=True)
    second = client.get(f"/answers/{rid}/roll-up?item={item1}&page=2").get_data(as_text=True)
    assert "一の八王子" in first and "一の府中" in first and "一の調布" not in first and "1 / 2 ページ" in first
    assert "一の調布" in second and "一の八王子" not in second
    assert "一の調布" in client.get(f"/answers/{rid}/roll-up?item={item1}&page=99").get_data(as_text=True)
    assert "一の八王子" in client.get(f"/answers/{rid}/roll-up?item=abc&page=-1").get_data(as_text=True)


def test_merge_is_pure():
    from consult.answers.roll_up import UnionOpinion, adopt, merge

    one = UnionOpinion(1, 10, "八王子", 5, "amend", "第1章", "財源", "理由A")
    two = UnionOpinion(2, 11, "府中", 5, "add", "第1章", "人員", "")
    assert adopt(one).proposed_text == "財源" and merge([one]) == adopt(one)
    both = merge([one, two])
    assert both.stance == "amend" and both.referred_text == "第1章"
    assert both.proposed_text == "【八王子】財源\n【府中】人員" and both.reason == "【八王子】理由A"


# ---------------------------------------------------------------- the API


def test_api_subround_answers_and_sources(app, fed, api_as, clock):
    rid = fed["round"].id
    item1, _item2 = fed["items"]
    tokyo = api_as(fed["users"]["tokyo"])
    due = (clock() + timedelta(days=4)).isoformat()
    response = tokyo.post(
        f"/api/v1/rounds/{rid}/subrounds", json={"deadline": due, "organization_ids": [], "background": "説明"}
    )
    assert response.status_code == 201, response.get_json()
    sub = response.get_json()
    assert sub["parent_id"] == rid and sub["organization_id"] == fed["tokyo"].id and len(sub["items"]) == 2
    sub_item = sub["items"][0]["id"]
    # the sub-round id works with the round endpoints like any round's
    assert tokyo.get(f"/api/v1/rounds/{sub['id']}").status_code == 200
    board = tokyo.get(f"/api/v1/rounds/{sub['id']}/board").get_json()
    assert {row["organization_name"] for row in board} == {"八王子市職労", "府中市職労", "調布市職労"}
    # a union answers through the same endpoint as for any round
    union = api_as(fed["users"]["hachioji"])
    oid = fed["unions"]["hachioji"].id
    body = {"version": 0, "opinions": [{"item_id": sub_item, "stance": "amend", "proposed_text": "財源を明記"}]}
    saved = union.put(f"/api/v1/rounds/{sub['id']}/answers/{oid}", json=body)
    assert saved.status_code == 200
    submitted = union.post(
        f"/api/v1/rounds/{sub['id']}/answers/{oid}/submit", json={"version": saved.get_json()["version"]}
    )
    assert submitted.status_code == 200, submitted.get_json()
    source_id = submitted.get_json()["opinions"][0]["id"]
    # other prefectures and other unions do not see it
    osaka = api_as(fed["users"]["osaka"])
    assert osaka.get(f"/api/v1/rounds/{sub['id']}").status_code == 404
    assert osaka.get(f"/api/v1/rounds/{sub['id']}/answers/{oid}").status_code == 404
    assert api_as(fed["users"]["fuchu"]).get(f"/api/v1/rounds/{sub['id']}/answers/{oid}").status_code == 404
    # the prefecture's answer to HQ, with sources
    pid = fed["tokyo"].id
    put = {
        "version": 0,
        "opinions": [
            {"item_id": item1, "stance": "amend", "proposed_text": "財源を明記（県本部）", "sources": [source_id]}
        ],
        "decided_by": "県本部執行委員会",
        "decided_on": "2026-12-05",
    }
    response = tokyo.put(f"/api/v1/rounds/{rid}/answers/{pid}", json=put)
    assert response.status_code == 200, response.get_json()
    got = response.get_json()
    assert got["opinions"][0]["sources"] == [source_id] and got["decided_by"] == "県本部執行委員会"
    # a source that is not the prefecture's union opinion: 422, nothing stored
    put_bad = dict(put, version=got["version"], opinions=[dict(put["opinions"][0], sources=[got["opinions"][0]["id"]])])
    assert tokyo.put(f"/api/v1/rounds/{rid}/answers/{pid}", json=put_bad).status_code == 422
    assert tokyo.post(f"/api/v1/rounds/{rid}/answers/{pid}/submit", json={}).status_code == 200
    staff = api_as(fed["users"]["staff"])
    rows = staff.get(f"/api/v1/rounds/{rid}/opinions").get_json()["items"]
    assert [(row["organization_id"], row["sources"]) for row in rows] == [(pid, [source_id])]
    # a prefecture may not open a sub-round on a round not put to it; HQ does not open one
    assert (
        api_as(fed["users"]["hachioji"]).post(f"/api/v1/rounds/{rid}/subrounds", json={"deadline": due}).status_code
        == 404
    )
    assert staff.post(f"/api/v1/rounds/{rid}/subrounds", json={"deadline": due}).status_code == 403


# ---------------------------------------------------------------- the demo


def test_demo_shows_the_two_tier_discussion(app, runner):
    from consult.answers.models import Answer, OpinionSource
    from consult.demo.data import CONCEPTS_TITLE
    from consult.orgs.models import Organization
    from consult.rounds.models import Round

    for _ in range(2):  # loading it again adds nothing
        result = runner.invoke(args=["demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        parent = db.session.scalars(db.select(Round).where(Round.title == CONCEPTS_TITLE)).one()
        subs = db.session.scalars(db.select(Round).where(Round.parent_id == parent.id)).all()
        runners = {db.session.get(Organization, sub.organization_id).code for sub in subs}
        assert runners == {"pref13", "pref01"}
        submitted = db.session.scalar(
            db.select(db.func.count())
            .select_from(Answer)
            .where(Answer.round_id.in_([s.id for s in subs]), Answer.status == "submitted")
        )
        assert submitted == 3  # some of the unions have answered (one is still a draft, one has not started)
        hokkaido = db.session.scalars(db.select(Organization).where(Organization.code == "pref01")).one()
        answer = db.session.scalars(
            db.select(Answer).where(Answer.round_id == parent.id, Answer.organization_id == hokkaido.id)
        ).one()
        assert answer.status == "submitted" and answer.decided_by == "県本部執行委員会"
        sources = db.session.scalar(
            db.select(db.func.count())
            .select_from(OpinionSource)
            .where(OpinionSource.opinion_id.in_([op.id for op in answer.opinions]))
        )
        assert sources == 3  # item 1 merges two unions' opinions, item 2 adopts one


# ---------------------------------------------------------------- HQ side: matrix, tiers, trace


def test_matrix_counts_sorts_filters_and_exports():
    import io

    from openpyxl import load_workbook

    from consult.review import matrix as grid

    rows = [grid.Row(1, "1", "第1章"), grid.Row(2, "2", "第2章")]
    cols = [grid.Column(10, "東京都本部", "prefecture"), grid.Column(11, "=大阪府本部", "prefecture")]
    m = grid.Matrix(rows, cols, {(1, 10): "amend", (2, 10): "agree", (1, 11): "amend"}, {(1, 10): 2})
    assert m.row_counts(rows[0])["amend"] == 2 and m.column_counts(cols[0])["agree"] == 1
    assert [c.id for c in grid.shaped(m, sort="answered").columns] == [10, 11]
    assert [c.id for c in grid.shaped(m, stance="agree").columns] == [10]
    assert [c.id for c in grid.shaped(m, q="大阪").columns] == [11]
    labels = {"amend": "修正", "agree": "賛成"}
    assert m.table(labels, "（単組%(n)s件）")[0][1:] == ([("修正", "（単組2件）"), ("修正", "")], m.row_counts(rows[0]))
    only_osaka = grid.shaped(m, q="大阪")  # counted over the shown columns only
    assert only_osaka.row_counts(rows[0])["amend"] == 1 and only_osaka.row_counts(rows[1])["agree"] == 0
    book = load_workbook(io.BytesIO(grid.to_xlsx(m, "討議")))
    sheet = book["意見一覧表"]
    assert [c.value for c in sheet[2]][:3] == ["項目", "東京都本部", "'=大阪府本部"]  # no formula from a name
    assert [c.value for c in sheet[3]][:3] == ["1 第1章", "修正", "修正"]
    assert [c.value for c in book["出典"][2]][:2] == ["1 第1章", 2]


def test_hq_reads_tiers_matrix_and_traces_a_request_item_down_to_a_union(app, fed, login_as, clock):
    from consult.answers import roll_up
    from consult.auth.models import User
    from consult.letters import operations as letters
    from consult.rounds.models import Round

    sub_id = _open_sub(app, fed, clock)
    item1, _item2 = fed["items"]
    a = _union_answer(app, clock, sub_id, fed["unions"]["hachioji"], {item1: ("amend", "財源を明記する")})
    rid = fed["round"].id
    with app.app_context():
        parent = db.session.get(Round, rid)
        officer = db.session.get(User, fed["users"]["tokyo"].id)
        item = next(i for i in parent.items if i.id == item1)
        answer = roll_up.build_opinion(parent, fed["tokyo"].id, item, [a[item1]], officer, None, clock())
        from consult.answers import operations as answering

        answering.save_answer(
            parent, fed["tokyo"].id, officer, answering.answer_input_of(answer), None, clock(), submit=True
        )
        prefecture_opinion = answer.item_opinions()[item1].id
        campaign = letters.create_campaign(
            letters.CampaignInput(
                title="要請",
                date_year=2025,
                date_month=3,
                date_day=None,
                sender_org="本部",
                sender_title="委員長",
                sender_name="氏名",
                round_id=rid,
            ),
            clock(),
            user=None,
        )
        letter = letters.add_letter(
            campaign, letters.LetterInput(title="要請書", greeting="敬意"), user=None, now=clock()
        )
        request_item = letters.add_request_item(letter, "財源を確保すること。", user=None, now=clock())
        letters.link_opinions(request_item, [prefecture_opinion], user=None, now=clock())
        db.session.commit()
        request_item_id = request_item.id
    hq = login_as(fed["users"]["staff"])
    tiers = hq.get(f"/rounds/{rid}/tiers").get_data(as_text=True)
    assert "県本部の意見 1件" in tiers and "その下の単組の意見 1件" in tiers  # counts told apart
    matrix = hq.get(f"/rounds/{rid}/matrix").get_data(as_text=True)
    assert "東京都本部" in matrix and "単組1件" in matrix
    xlsx = hq.get(f"/rounds/{rid}/matrix.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    # down: request item → Tokyo's opinion → Hachioji's opinion, its text hidden until HQ turns the setting on
    trace = hq.get(f"/rounds/request-items/{request_item_id}/trace").get_data(as_text=True)
    assert "東京都本部" in trace and "単組の意見（1件）" in trace and "八王子市職労" not in trace
    assert hq.post(f"/rounds/{rid}/tiers/sub-opinions", data={"show": "1"}).status_code == 302
    trace = hq.get(f"/rounds/request-items/{request_item_id}/trace").get_data(as_text=True)
    assert "八王子市職労" in trace and "財源を明記する" in trace and "単組意見" in trace
    # back up: the union opinion → Tokyo's opinion → the request item
    up = hq.get(f"/rounds/opinions/{a[item1]}/trace").get_data(as_text=True)
    assert "八王子市職労" in up and "東京都本部" in up and "財源を確保すること。" in up
    # the prefecture reads the matrix of its own sub-round, not headquarters'
    officer = login_as(fed["users"]["tokyo"])
    assert officer.get(f"/rounds/{sub_id}/matrix").status_code == 200
    assert officer.get(f"/rounds/{rid}/matrix").status_code == 403
    assert officer.get(f"/rounds/request-items/{request_item_id}/trace").status_code == 403


def test_opinion_exports_carry_the_sources_column(app, fed, login_as, clock):
    """The opinion table's 出典 column names the union opinions a prefecture opinion rests on: read back from the
    XLSX and the CSV; ids only until headquarters turns on reading the union opinions beneath."""
    import csv
    import io

    from openpyxl import load_workbook

    from consult.answers import roll_up
    from consult.auth.models import User
    from consult.rounds.models import Round

    sub_id = _open_sub(app, fed, clock)
    item1, _item2 = fed["items"]
    a = _union_answer(app, clock, sub_id, fed["unions"]["hachioji"], {item1: ("amend", "財源を明記する")})
    b = _union_answer(app, clock, sub_id, fed["unions"]["fuchu"], {item1: ("amend", "人員を確保する")})
    rid = fed["round"].id
    with app.app_context():
        parent = db.session.get(Round, rid)
        officer = db.session.get(User, fed["users"]["tokyo"].id)
        item = next(i for i in parent.items if i.id == item1)
        answer = roll_up.build_opinion(parent, fed["tokyo"].id, item, [a[item1], b[item1]], officer, None, clock())
        from consult.answers import operations as answering

        answering.save_answer(
            parent, fed["tokyo"].id, officer, answering.answer_input_of(answer), None, clock(), submit=True
        )
        db.session.commit()
    hq = login_as(fed["users"]["staff"])

    def read_back() -> tuple[list, list]:
        book = load_workbook(io.BytesIO(hq.get(f"/rounds/{rid}/export/opinions.xlsx").data))
        sheet = [[c.value for c in row] for row in book.active.iter_rows()]
        text = hq.get(f"/rounds/{rid}/export/opinions.csv").get_data().decode("utf-8-sig")
        return sheet, list(csv.reader(io.StringIO(text)))

    sheet, table = read_back()
    # The XLSX has the round's title row above its header, and print columns after 出典 (the 8th column).
    assert sheet[1][7] == "出典" and table[0][7] == "出典" and len(table[0]) == 8
    for rows in (sheet, table):
        tokyo = next(r for r in rows if r[6] == "東京都本部")
        assert tokyo[7] == f"#{min(a[item1], b[item1])}\n#{max(a[item1], b[item1])}"
    assert hq.post(f"/rounds/{rid}/tiers/sub-opinions", data={"show": "1"}).status_code == 302
    sheet, table = read_back()
    for rows in (sheet, table):
        tokyo = next(r for r in rows if r[6] == "東京都本部")
        assert tokyo[7].split("\n") == [f"#{a[item1]} 八王子市職労", f"#{b[item1]} 府中市職労"]


def test_a_union_answering_hq_and_its_prefecture_is_shown_as_answering_both_ways(app, fed, login_as, clock):
    """「両方から回答」 marks a union with a submitted answer both to HQ's round directly and to its prefecture's
    sub-round: not one merely targeted twice, nor one that answered one way only."""
    import io

    from openpyxl import load_workbook

    from consult.answers import operations as answering
    from consult.auth.models import User
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    unions = fed["unions"]
    rid = fed["round"].id
    with app.app_context():  # HQ also targets three of Tokyo's unions directly
        parent = db.session.get(Round, rid)
        ids = {fed["tokyo"].id, fed["osaka"].id, unions["hachioji"].id, unions["fuchu"].id, unions["chofu"].id}
        rounds.set_targets(parent, ids, user=None, now=clock())
        db.session.commit()
    sub_id = _open_sub(app, fed, clock)
    item1, _item2 = fed["items"]
    _union_answer(app, clock, sub_id, unions["hachioji"], {item1: ("amend", "県本部へ")})  # both ways
    _union_answer(app, clock, sub_id, unions["fuchu"], {item1: ("amend", "県本部へだけ")})  # its prefecture only
    with app.app_context():
        parent = db.session.get(Round, rid)
        for key in ("hachioji", "chofu"):  # 調布: HQ directly only
            user = db.session.scalars(db.select(User).where(User.organization_id == unions[key].id)).first()
            typed = answering.AnswerInput(opinions={item1: answering.OpinionInput("agree", "", "", "直接")})
            answering.save_answer(parent, unions[key].id, user, typed, None, clock(), submit=True)
        db.session.commit()
    hq = login_as(fed["users"]["staff"])
    page = hq.get(f"/rounds/{rid}/matrix").get_data(as_text=True)
    headers = page[page.index("<thead>") : page.index("</thead>")].split('<th scope="col">')
    marked = {h.split("<")[0].strip() for h in headers if "両方から回答" in h}
    assert marked == {"八王子市職労"}
    book = load_workbook(io.BytesIO(hq.get(f"/rounds/{rid}/matrix.xlsx").data))
    names = [c.value for c in book["意見一覧表"][2]]
    assert "八王子市職労（両方から回答）" in names and "調布市職労" in names and "府中市職労" in names
    # HQ's list of an item's opinions marks the same union, and only it.
    import re

    listing = hq.get(f"/rounds/{rid}/aggregate/items/{item1}").get_data(as_text=True)
    heads = re.findall(r"<h3>(.*?)</h3>", listing, re.S)
    assert [h.split("<")[0].strip() for h in heads if "両方から回答" in h] == ["八王子市職労"]
    assert any(h.startswith("調布市職労") for h in heads)


def test_prefecture_publishes_its_answer_back_to_its_unions(app, fed, login_as, clock):
    """Once submitted to HQ, the prefecture's answer is shown to its sub-round's unions on their page of the
    sub-round (marking the opinions resting on the reader's own), until it withdraws the publication."""
    from consult.rounds.models import Round

    sub_id = _open_sub(app, fed, clock)
    item1, item2 = fed["items"]
    unions = fed["unions"]
    a = _union_answer(app, clock, sub_id, unions["hachioji"], {item1: ("amend", "財源を明記する")})
    _union_answer(app, clock, sub_id, unions["fuchu"], {item2: ("agree", "賛成です")})
    rid = fed["round"].id
    officer = login_as(fed["users"]["tokyo"])
    version = _page_version(officer, rid)
    assert officer.post(f"/answers/{rid}/roll-up/items/{item1}", data={"source": [a[item1]], "version": version})
    refused = officer.post(f"/answers/{rid}/roll-up/publish-back", data={"show": "1"}, follow_redirects=True)
    assert "本部に提出した県本部の回答です" in refused.get_data(as_text=True)  # a draft is not published back
    with app.app_context():
        assert db.session.get(Round, sub_id).published_back_at is None
    edit = officer.get(f"/answers/{rid}/org/{fed['tokyo'].id}/edit").get_data(as_text=True)
    import re

    form_version = re.search(r'name="version"[^>]*value="(\d+)"', edit)[1]
    submitted = officer.post(
        f"/answers/{rid}/org/{fed['tokyo'].id}/edit",
        data={
            "version": form_version,
            "action": "submit",
            f"item-{item1}-stance": "amend",
            f"item-{item1}-proposed_text": "【八王子市職労】財源を明記する",
        },
    )
    assert submitted.status_code == 302, submitted.get_data(as_text=True)
    hachioji = login_as(fed["users"]["hachioji"])
    assert "東京都本部が公開した回答" not in hachioji.get(f"/answers/{sub_id}").get_data(as_text=True)
    officer = login_as(fed["users"]["tokyo"])
    assert officer.post(f"/answers/{rid}/roll-up/publish-back", data={"show": "1"}).status_code == 302
    hachioji = login_as(fed["users"]["hachioji"])
    page = hachioji.get(f"/answers/{sub_id}").get_data(as_text=True)
    assert "東京都本部が公開した回答" in page and "【八王子市職労】財源を明記する" in page
    assert "貴組織の意見を出典にしています" in page
    fuchu = login_as(fed["users"]["fuchu"])
    page = fuchu.get(f"/answers/{sub_id}").get_data(as_text=True)
    assert "東京都本部が公開した回答" in page and "貴組織の意見を出典にしています" not in page
    assert fuchu.post(f"/answers/{rid}/roll-up/publish-back", data={"show": "0"}).status_code == 403
    officer = login_as(fed["users"]["tokyo"])
    assert officer.post(f"/answers/{rid}/roll-up/publish-back", data={"show": "0"}).status_code == 302
    fuchu = login_as(fed["users"]["fuchu"])
    assert "東京都本部が公開した回答" not in fuchu.get(f"/answers/{sub_id}").get_data(as_text=True)


def test_prefecture_publishes_back_through_the_api(app, fed, login_as, api_as, clock):
    """PUT /api/v1/rounds/{round_id}/publish-back: the same operation as the page, for the prefecture only."""
    sub_id = _open_sub(app, fed, clock)
    item1 = fed["items"][0]
    a = _union_answer(app, clock, sub_id, fed["unions"]["hachioji"], {item1: ("amend", "財源を明記する")})
    rid = fed["round"].id
    url = f"/api/v1/rounds/{rid}/publish-back"
    officer = api_as(fed["users"]["tokyo"])
    draft = officer.put(url, json={"published": True})  # nothing submitted to HQ yet: refused, nothing stored
    assert draft.status_code in (409, 422) and "本部に提出した県本部の回答です" in draft.get_data(as_text=True)
    page = login_as(fed["users"]["tokyo"])
    assert page.post(
        f"/answers/{rid}/roll-up/items/{item1}", data={"source": [a[item1]], "version": _page_version(page, rid)}
    )
    from consult.answers import operations as answering

    with app.app_context():
        from consult.auth.models import User
        from consult.rounds.models import Round

        parent = db.session.get(Round, rid)
        answer = answering.find_answer(rid, fed["tokyo"].id)
        user = db.session.get(User, fed["users"]["tokyo"].id)
        answering.save_answer(
            parent, fed["tokyo"].id, user, answering.answer_input_of(answer), None, clock(), submit=True
        )
        db.session.commit()
    shown = officer.put(url, json={"published": True})
    assert shown.status_code == 200, shown.get_data(as_text=True)
    assert shown.get_json()["round_id"] == sub_id and shown.get_json()["published_back_at"] is not None
    hachioji = login_as(fed["users"]["hachioji"])
    assert "東京都本部が公開した回答" in hachioji.get(f"/answers/{sub_id}").get_data(as_text=True)
    # Headquarters does not publish a prefecture's answer (403); a union the HQ round is not put to never sees it.
    assert api_as(fed["users"]["staff"]).put(url, json={"published": False}).status_code == 403
    assert api_as(fed["users"]["hachioji"]).put(url, json={"published": False}).status_code == 404
    hidden = officer.put(url, json={"published": False})
    assert hidden.status_code == 200 and hidden.get_json()["published_back_at"] is None


def test_hq_item_changes_reach_the_open_subrounds(app, fed, clock):
    """HQ edits, adds, moves and removes items after a prefecture opened its sub-round: the sub-round's copies
    follow (its unions answer HQ's current text), and a copy a union answered is withdrawn, not deleted."""
    from consult.auth.models import User
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round, RoundItem

    sub_id = _open_sub(app, fed, clock)
    item1, item2 = fed["items"]
    _union_answer(app, clock, sub_id, fed["unions"]["hachioji"], {item1: ("amend", "財源を明記する")})
    with app.app_context():
        staff = db.session.get(User, fed["users"]["staff"].id)
        parent = db.session.get(Round, fed["round"].id)
        first = db.session.get(RoundItem, item1)
        assert rounds.update_item(first, rounds.ItemDraft("1", "新しい見出し", "新しい本文"), clock(), user=staff)
        (added,) = rounds.add_items(parent, [rounds.ItemDraft("3", "追加の項目")], clock(), user=staff)
        rounds.move_item(parent, added, -1, user=staff, now=clock())
        db.session.commit()

        def copies():
            db.session.expire_all()
            sub = db.session.get(Round, sub_id)
            return [(c.parent_item_id, c.number, c.heading, c.body, c.revision) for c in sub.items]

        assert copies() == [
            (item1, "1", "新しい見出し", "新しい本文", 2),
            (added.id, "3", "追加の項目", "", 1),
            (item2, *[(i.number, i.heading, i.body) for i in parent.items if i.id == item2][0], 1),
        ]
        rounds.remove_item(db.session.get(RoundItem, item2), clock(), user=staff)  # nobody answered it: deleted
        rounds.remove_item(db.session.get(RoundItem, item1), clock(), user=staff)  # a union answered the copy
        db.session.commit()
        assert [c[0] for c in copies()] == [added.id]
        sub = db.session.get(Round, sub_id)
        withdrawn = [c for c in sub.all_items if c.removed_at is not None]
        assert [c.heading for c in withdrawn] == ["新しい見出し"]  # kept with the union's opinion
