"""The follow-up through /api/v1: a visit, a graded answer with its lost-update guard, the outcome a branch reads
only once published, and the carry-over whose items name their predecessor in GET /campaigns/{id}."""

from __future__ import annotations

from api_support import ApiClient


def _client(app, world, role):
    return ApiClient(app.test_client(), world["tokens"][role])


def test_visit_answer_grade_and_carry_over(app, api_world):
    ids = api_world["ids"]
    cid, item, addressee = ids["campaign_id"], ids["request_item_id"], ids["addressee_id"]
    staff = _client(app, api_world, "staff")
    visit = staff.post(
        f"/campaigns/{cid}/visits",
        json={"addressee_id": addressee, "date": "2025-03-24T10:00:00+09:00", "place": "総務省 8階", "status": "done"},
    )
    assert visit.status_code == 201, visit.get_json()
    assert visit.get_json()["date"] == "2025-03-24T10:00:00+09:00" and visit.get_json()["status"] == "done"
    bad = staff.post(f"/campaigns/{cid}/visits", json={"addressee_id": addressee, "date": "2025-03-24", "status": "x"})
    assert bad.status_code == 422
    changed = staff.patch(
        f"/campaigns/{cid}/visits/{visit.get_json()['id']}", json={"status": "answered", "version": 1}
    )
    assert changed.status_code == 200 and changed.get_json()["status"] == "answered"
    stale = staff.patch(f"/campaigns/{cid}/visits/{visit.get_json()['id']}", json={"status": "done", "version": 1})
    assert stale.status_code == 409

    url = f"/campaigns/{cid}/request-items/{item}/answers/{addressee}"
    assert staff.get(url).get_json()["version"] == 0
    saved = staff.put(url, json={"text": "検討する。", "date": "2025-03-24", "grade": "現状維持", "version": 0})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["grade"] == "現状維持" and saved.get_json()["version"] == 1
    assert saved.get_json()["exchanges"][0]["stage"] == "第1次回答"
    assert staff.put(url, json={"text": "後から", "grade": "前進", "version": 0}).status_code == 409
    assert staff.put(url, json={"grade": "S", "version": 1}).status_code == 422  # not on the default scale
    second = staff.put(url, json={"text": "一部措置", "grade": "一部前進", "new_exchange": True, "version": 1})
    assert [e["stage"] for e in second.get_json()["exchanges"]] == ["第1次回答", "第2次回答"]

    branch = _client(app, api_world, "prefecture")
    assert branch.get(f"/campaigns/{cid}/outcome").status_code == 200  # the world publishes the outcome
    assert staff.put(f"/campaigns/{cid}/grading", json={"published": False}).get_json()["published"] is False
    assert branch.get(f"/campaigns/{cid}/outcome").status_code == 404
    assert branch.put(url, json={"grade": "前進"}).status_code == 404
    outcome = staff.get(f"/campaigns/{cid}/outcome").get_json()
    assert outcome["counts"]["一部前進"] == 1 and outcome["unanswered"] == 0

    carried = staff.post(f"/campaigns/{cid}/carry-over", json={"grades": ["一部前進", "後退"], "title": "2026年要請"})
    assert carried.status_code == 201, carried.get_json()
    new = carried.get_json()
    assert new["title"] == "2026年要請" and new["date_year"] == 2026
    detail = staff.get(f"/campaigns/{new['id']}").get_json()
    [request] = [i for letter in detail["letters"] for i in letter["items"]]
    assert request["predecessor_id"] == item and request["text"] == "財源を確保すること。"
    old = staff.get(f"/campaigns/{cid}").get_json()
    assert all(i["predecessor_id"] is None for letter in old["letters"] for i in letter["items"])
    nothing = staff.post(f"/campaigns/{cid}/carry-over", json={"grades": ["後退"], "title": "なし"})
    assert nothing.status_code == 422


def test_the_scale_is_the_campaigns_own(app, api_world):
    ids = api_world["ids"]
    cid, item, addressee = ids["campaign_id"], ids["request_item_id"], ids["addressee_id"]
    staff = _client(app, api_world, "staff")
    grading = staff.put(f"/campaigns/{cid}/grading", json={"scale": "sabc"}).get_json()
    assert grading["grades"] == ["S", "A", "B", "C"]
    url = f"/campaigns/{cid}/request-items/{item}/answers/{addressee}"
    refused = staff.put(url, json={"grade": "B", "reason": "遅れている"})
    assert refused.status_code == 422 and "remedy" in refused.get_json()["errors"]
    assert staff.put(url, json={"grade": "B", "reason": "遅れている", "remedy": "再要請"}).status_code == 200
    custom = staff.put(f"/campaigns/{cid}/grading", json={"scale": "custom", "custom_labels": "満額\n不満"})
    assert custom.get_json()["grades"] == ["満額", "不満"]


def test_carry_into_a_round_consult_on_an_answer_and_delete_visits_and_files(app, api_world):
    from consult.followup.models import CarryLink, Visit, VisitAttachment

    ids = api_world["ids"]
    cid, item, addressee = ids["campaign_id"], ids["request_item_id"], ids["addressee_id"]
    staff = _client(app, api_world, "staff")
    consult = f"/campaigns/{cid}/request-items/{item}/answers/{addressee}/consult"
    assert staff.post(consult, json={}).status_code == 404  # no answer yet
    url = f"/campaigns/{cid}/request-items/{item}/answers/{addressee}"
    assert staff.put(url, json={"grade": "後退", "version": 0}).status_code == 200
    assert staff.post(consult, json={}).status_code == 422  # graded, but no text to put to the members
    staff.put(url, json={"text": "財源は地方で確保されたい。", "grade": "後退", "version": 1})
    opened = staff.post(consult, json={})
    assert opened.status_code == 201, opened.get_json()
    round_ = opened.get_json()
    assert round_["status"] == "draft" and "総務省" in round_["title"]
    assert staff.get(f"/rounds/{round_['id']}/items").get_json()[0]["text"] == "財源は地方で確保されたい。"

    carried = staff.post(f"/campaigns/{cid}/carry-into-round", json={"grades": ["後退"], "title": "2026年の要求"})
    assert carried.status_code == 201, carried.get_json()
    assert carried.get_json()["title"] == "2026年の要求" and carried.get_json()["status"] == "draft"
    [round_item] = staff.get(f"/rounds/{carried.get_json()['id']}/items").get_json()
    assert round_item["heading"] == "財源を確保すること。"
    from sqlalchemy import select

    from consult.extensions import db

    with app.app_context():
        link = db.session.scalars(select(CarryLink).where(CarryLink.round_item_id == round_item["id"])).one()
        assert link.predecessor_id == item
    nothing = staff.post(f"/campaigns/{cid}/carry-into-round", json={"grades": ["前進"], "title": "なし"})
    assert nothing.status_code == 422

    vid, fid = ids["visit_id"], ids["file_id"]
    assert staff.get(f"/campaigns/{cid}/visits/{vid}").get_json()["file_names"] == ["回答.pdf"]
    branch = _client(app, api_world, "prefecture")
    assert branch.delete(f"/campaigns/{cid}/visits/{vid}/files/{fid}").status_code == 404
    assert staff.delete(f"/campaigns/{cid}/visits/{vid}/files/{fid}").status_code == 204
    assert staff.get(f"/campaigns/{cid}/visits/{vid}").get_json()["file_names"] == []
    assert staff.delete(f"/campaigns/{cid}/visits/{vid}/files/{fid}").status_code == 404
    version = staff.get(f"/campaigns/{cid}/visits/{vid}").get_json()["version"]
    staff.patch(f"/campaigns/{cid}/visits/{vid}", json={"notes": "変更", "version": version})
    assert staff.delete(f"/campaigns/{cid}/visits/{vid}?version={version}").status_code == 409  # changed since
    assert staff.delete(f"/campaigns/{cid}/visits/{vid}", headers={"If-Match": f'"{version + 1}"'}).status_code == 204
    assert staff.get(f"/campaigns/{cid}/visits/{vid}").status_code == 404
    with app.app_context():
        assert db.session.get(Visit, vid) is None and db.session.get(VisitAttachment, fid) is None
