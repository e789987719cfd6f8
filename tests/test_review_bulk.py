"""Bulk answers (one 対応 and 本部の考え方 for many opinions), 定型文, staff assignment and 「自分の担当」."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, insert, select

from consult.extensions import db


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="本部 花子")


@pytest.fixture
def big_round(app, make_org, make_round, clock):
    """1,000 submitted opinions: 50 unions × 20 items, written straight into the tables (no per-answer save)."""
    from consult.answers.models import Answer, Opinion
    from consult.rounds.models import Round

    orgs = [make_org(f"単組{n:03d}", kind="local") for n in range(50)]
    round_ = make_round(items=20, targets=orgs)
    now = clock()
    with app.app_context():
        items = [i.id for i in db.session.get(Round, round_.id).items]
        answers = db.session.execute(
            insert(Answer).returning(Answer.id),
            [
                {
                    "round_id": round_.id,
                    "organization_id": org.id,
                    "status": "submitted",
                    "no_opinion": False,
                    "general_comment": "",
                    "created_at": now,
                    "updated_at": now,
                    "submitted_at": now,
                    "version": 1,
                }
                for org in orgs
            ],
        ).scalars()
        rows = [
            {"answer_id": a, "item_id": item, "stance": "amend", "proposed_text": f"案{a}-{item}", "reason": "理由"}
            for a in list(answers)
            for item in items
        ]
        db.session.execute(insert(Opinion), rows)
        db.session.commit()
        ids = list(db.session.scalars(select(Opinion.id).order_by(Opinion.id)))
    assert len(ids) == 1000
    return {"round": round_, "items": items, "ids": ids, "orgs": orgs}


def stored(app, ids):
    from consult.answers.models import Opinion

    with app.app_context():
        return {
            op.id: (op.disposition, op.hq_view, op.answer_version, op.assignee_id)
            for op in db.session.scalars(select(Opinion).where(Opinion.id.in_(ids)))
        }


def test_bulk_answer_to_1000_opinions_in_one_request_and_few_statements(app, big_round, staff, api_as):
    rid, ids = big_round["round"].id, big_round["ids"]
    api = api_as(staff)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = api.post(
            f"/api/v1/rounds/{rid}/answers/bulk",
            json={"opinion_ids": ids, "disposition": "reference", "hq_view": "今後の検討課題とします。"},
        )
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert sorted(body["updated"]) == ids and body["refused"] == []
    after = stored(app, ids)
    assert {v[:3] for v in after.values()} == {("reference", "今後の検討課題とします。", 1)}
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE OPINION")]
    assert len(updates) == 2  # 1,000 ids in chunks of 500, not one statement per row
    assert len(statements) < 60
    # The full-text index follows in the same transaction: the new 本部の考え方 is found.
    with app.app_context():
        from consult.review.queries import Filters, filtered_opinions

        stmt = filtered_opinions(rid, "all", Filters(q="検討課題"))
        assert len(db.session.execute(stmt).all()) == 1000


def test_bulk_answer_refuses_rows_changed_since_they_were_read(app, big_round, staff, api_as):
    """Lost-update count: a bulk built on versions read before another save writes none of the changed rows."""
    rid, ids = big_round["round"].id, big_round["ids"][:100]
    api = api_as(staff)
    versions = [0] * len(ids)
    changed = ids[::10]  # someone answers ten of them one by one meanwhile
    for oid in changed:
        response = api.put(
            f"/api/v1/rounds/{rid}/opinions/{oid}/disposition", json={"disposition": "adopted", "hq_view": "採用"}
        )
        assert response.status_code == 200
    response = api.post(
        f"/api/v1/rounds/{rid}/answers/bulk",
        json={
            "opinion_ids": [*ids, 999999],
            "disposition": "rejected",
            "hq_view": "不採用",
            "versions": [*versions, 0],
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    refused = {r["opinion_id"]: r["reason"] for r in body["refused"]}
    assert refused == {**dict.fromkeys(changed, "changed"), 999999: "unknown"}
    after = stored(app, ids)
    lost = [oid for oid in changed if after[oid][:2] != ("adopted", "採用")]
    assert lost == []
    assert all(after[oid][:2] == ("rejected", "不採用") for oid in ids if oid not in changed)
    mismatched = api.post(
        f"/api/v1/rounds/{rid}/answers/bulk", json={"opinion_ids": ids[:2], "disposition": None, "versions": [0]}
    )
    assert mismatched.status_code == 422


def test_bulk_answer_of_another_round_refuses_and_limits_hold(app, big_round, make_round, staff, api_as):
    other = make_round(items=1)
    api = api_as(staff)
    response = api.post(
        f"/api/v1/rounds/{other.id}/answers/bulk", json={"opinion_ids": big_round["ids"][:3], "disposition": "adopted"}
    )
    assert response.status_code == 200
    assert {r["reason"] for r in response.get_json()["refused"]} == {"unknown"}
    assert all(v[0] is None for v in stored(app, big_round["ids"][:3]).values())
    too_many = api.post(
        f"/api/v1/rounds/{other.id}/answers/bulk", json={"opinion_ids": list(range(1, 5003)), "disposition": None}
    )
    assert too_many.status_code == 422


def test_bulk_page_ticks_rows_or_the_whole_filter(app, big_round, staff, login_as):
    rid, item = big_round["round"].id, big_round["items"][0]
    client = login_as(staff)
    html = client.get(f"/rounds/{rid}/aggregate/items/{item}").get_data(as_text=True)
    picks = re.findall(r'name="bulk-pick" value="(\d+\.\d+)"', html)
    scope = re.search(r'name="bulk-scope" type="hidden" value="([^"]*)"', html).group(1)
    assert len(picks) == 50 and len(scope.split()) == 50
    ticked = picks[:3]
    response = client.post(
        f"/rounds/{rid}/aggregate/bulk",
        data={
            "item": str(item),
            "bulk-pick": ticked,
            "bulk-disposition": "partly",
            "bulk-hq_view": "一部を反映します。",
            "action": "answer",
            "stance": "amend",
        },
    )
    assert response.status_code == 302 and "stance=amend" in response.headers["Location"]
    ticked_ids = [int(p.split(".")[0]) for p in ticked]
    assert {v[:2] for v in stored(app, ticked_ids).values()} == {("partly", "一部を反映します。")}
    # 「すべて選ぶ」 with the scope read before those three were answered: they are refused, the rest written.
    response = client.post(
        f"/rounds/{rid}/aggregate/bulk",
        data={"item": str(item), "bulk-scope": scope, "bulk-everything": "y", "bulk-disposition": "rejected"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "47件に対応と本部の考え方を記入しました。" in page and "3件は記入しませんでした" in page
    item_ids = [int(p.split(".")[0]) for p in scope.split()]
    after = stored(app, item_ids)
    assert sum(1 for v in after.values() if v[0] == "rejected") == 47
    # Nothing ticked: a message next to the list, the typed text kept, no 500.
    response = client.post(
        f"/rounds/{rid}/aggregate/bulk", data={"item": str(item), "bulk-hq_view": "書きかけの文", "action": "answer"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "意見を1件以上選んでください。" in page and "書きかけの文" in page


def test_templates_crud_and_fill_an_empty_answer(app, big_round, staff, login_as, api_as):
    rid, item, ids = big_round["round"].id, big_round["items"][0], big_round["ids"]
    client = login_as(staff)
    response = client.post(
        f"/rounds/{rid}/aggregate/templates",
        data={"new-name": "検討課題", "new-disposition": "reference", "new-body": "今後の検討課題とします。"},
    )
    assert response.status_code == 302
    duplicate = client.post(f"/rounds/{rid}/aggregate/templates", data={"new-name": "検討課題", "new-body": "x"})
    assert duplicate.status_code == 200 and "同じ名前の定型文" in duplicate.get_data(as_text=True)
    api = api_as(staff)
    templates = api.get(f"/api/v1/rounds/{rid}/answer-templates").get_json()
    assert [t["name"] for t in templates] == ["検討課題"]
    tid = templates[0]["id"]
    page = client.get(f"/rounds/{rid}/aggregate/items/{item}").get_data(as_text=True)
    assert f'<option value="{tid}">検討課題</option>' in page
    oid = ids[0]
    response = client.post(
        f"/rounds/{rid}/aggregate/bulk",
        data={"item": str(item), "bulk-pick": f"{oid}.0", "bulk-template": str(tid), "action": "answer"},
    )
    assert response.status_code == 302
    assert stored(app, [oid])[oid][:2] == ("reference", "今後の検討課題とします。")
    stale = api.put(
        f"/api/v1/rounds/{rid}/answer-templates/{tid}", json={"name": "検討課題", "body": "改", "version": 99}
    )
    assert stale.status_code == 409
    changed = api.put(f"/api/v1/rounds/{rid}/answer-templates/{tid}", json={"name": "継続検討", "body": "改"})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert client.post(f"/rounds/{rid}/aggregate/templates/{tid}/delete").status_code == 302
    assert api.get(f"/api/v1/rounds/{rid}/answer-templates/{tid}").status_code == 404


def test_assign_opinions_and_filter_mine(app, big_round, staff, make_user, login_as, api_as):
    rid, item, ids = big_round["round"].id, big_round["items"][0], big_round["ids"]
    other = make_user("staff", name="本部 次郎")
    member = make_user("member")
    api = api_as(staff)
    response = api.post(f"/api/v1/rounds/{rid}/assignments", json={"opinion_ids": ids[:5], "assignee_id": staff.id})
    assert response.status_code == 200 and response.get_json()["updated"] == ids[:5]
    refused = api.post(f"/api/v1/rounds/{rid}/assignments", json={"opinion_ids": ids[:5], "assignee_id": member.id})
    assert refused.status_code == 422
    mine = api.get(f"/api/v1/rounds/{rid}/opinions?mine=true").get_json()["items"]
    assert [row["id"] for row in mine] == ids[:5] and {row["assignee_id"] for row in mine} == {staff.id}
    client = login_as(staff)
    page = client.get(f"/rounds/{rid}/aggregate/items/{item}?mine=1").get_data(as_text=True)
    assert page.count('<article class="opinion') == 1 and "担当：本部 花子" in page
    # One row's own form hands its opinion to someone else.
    from consult.review.operations import disposition_token

    oid = ids[0]
    response = client.post(
        f"/rounds/{rid}/aggregate/opinions/{oid}",
        data={f"op-{oid}-seen": disposition_token(None, ""), f"op-{oid}-assignee": str(other.id)},
    )
    assert response.status_code == 302
    assert stored(app, [oid])[oid][3] == other.id
    page = client.get(f"/rounds/{rid}/aggregate/items/{item}?mine=1").get_data(as_text=True)
    assert "条件に合う意見はありません。" in page


def test_answers_stay_drafts_until_published_and_publishing_notifies(app, big_round, staff, make_user, api_as, clock):
    """Branches read nothing of a bulk answer until headquarters publishes; publishing records the notices."""
    from consult.notify.models import Notice

    rid, ids = big_round["round"].id, big_round["ids"]
    member = make_user("member", org=big_round["orgs"][0])
    api = api_as(staff)
    assert api.post(f"/api/v1/rounds/{rid}/answers/bulk", json={"opinion_ids": ids, "disposition": "adopted"})
    assert api_as(member).get(f"/api/v1/rounds/{rid}/published").status_code == 404
    with app.app_context():
        from consult.rounds.models import Round

        assert db.session.get(Round, rid).answers_published_at is None
        before = db.session.query(Notice).count()
    clock.advance(minutes=1)
    assert api.post(f"/api/v1/rounds/{rid}/publish").status_code == 200
    with app.app_context():
        assert db.session.query(Notice).count() > before
    rows = api_as(member).get(f"/api/v1/rounds/{rid}/published").get_json()["items"]
    assert rows and {row["disposition"] for row in rows} == {"adopted"}
