"""Round trips through each API resource, against the real app and database: what is written reads back."""

from __future__ import annotations

import io
import zipfile

import pytest
from api_support import ApiClient


@pytest.fixture
def as_role(app, api_world):
    def client(role: str) -> ApiClient:
        return ApiClient(app.test_client(), api_world["tokens"][role])

    return client


# ---------------------------------------------------------------- rounds


def test_a_round_from_creation_to_closing(as_role, api_world):
    staff = as_role("staff")
    tokyo = api_world["orgs"]["tokyo"]
    created = staff.post(
        "/rounds",
        json={
            "title": "地方財政への意見",
            "background": "背景",
            "opens_at": "2025-03-10T09:00",
            "deadline": "2025-03-20T17:00",
        },
    )
    assert created.status_code == 201
    rid = created.get_json()["id"]
    assert created.get_json()["status"] == "draft" and created.get_json()["items"] == []

    item = staff.post(
        f"/rounds/{rid}/items", json={"number": "1", "heading": "交付税", "text": "現行の文言"}
    ).get_json()
    assert (item["revision"], item["text"], item["withdrawn"]) == (1, "現行の文言", False)
    changed = staff.patch(f"/rounds/{rid}/items/{item['id']}", json={"text": "新しい文言"}).get_json()
    assert changed["revision"] == 2 and [r["text"] for r in changed["revisions"]] == ["現行の文言", "新しい文言"]
    second = staff.post(f"/rounds/{rid}/items", json={"number": "2", "heading": "人員", "text": ""}).get_json()
    order = staff.post(f"/rounds/{rid}/items/{second['id']}/move", json={"direction": "up"}).get_json()
    assert [i["number"] for i in order] == ["2", "1"]

    assert staff.put(f"/rounds/{rid}/targets", json={"organization_ids": [tokyo.id]}).get_json() == {
        "organization_ids": [tokyo.id],
        "kept": [],
    }
    milestone = staff.post(f"/rounds/{rid}/milestones", json={"date": "2025-03-24", "meeting": "中央執行委員会"})
    assert milestone.status_code == 201 and milestone.get_json()["date"] == "2025-03-24"
    upload = staff.open(
        "POST",
        f"/rounds/{rid}/attachments",
        data={"file": (io.BytesIO(b"%PDF-1.4 draft"), "素案.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_data(as_text=True)
    attachment = upload.get_json()
    download = staff.get(f"/rounds/{rid}/attachments/{attachment['id']}")
    assert download.data == b"%PDF-1.4 draft" and download.mimetype == "application/pdf"
    not_a_pdf = staff.open(
        "POST",
        f"/rounds/{rid}/attachments",
        data={"file": (io.BytesIO(b"hello"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert not_a_pdf.status_code == 422 and "PDF" in not_a_pdf.get_json()["detail"]

    opened = staff.post(f"/rounds/{rid}/open")
    assert opened.status_code == 200 and opened.get_json()["status"] == "open"
    detail = staff.get(f"/rounds/{rid}")
    assert detail.headers["ETag"] == f'"{detail.get_json()["version"]}"'
    assert [i["heading"] for i in detail.get_json()["items"]] == ["人員", "交付税"]
    assert detail.get_json()["milestones"][0]["meeting"] == "中央執行委員会"
    # the branch sees it now, with its items
    branch = as_role("prefecture").get(f"/rounds/{rid}")
    assert branch.status_code == 200 and branch.get_json()["accepting"] is True

    version = detail.get_json()["version"]
    assert (
        staff.patch(f"/rounds/{rid}", json={"title": "地方財政への意見（改）", "version": version}).status_code == 200
    )
    stale = staff.patch(f"/rounds/{rid}", json={"title": "古い画面から", "version": version})
    assert stale.status_code == 409 and stale.get_json()["current_version"] == version + 1
    by_header = staff.patch(f"/rounds/{rid}", json={"title": "古い画面から"}, headers={"If-Match": f'"{version}"'})
    assert by_header.status_code == 409
    assert staff.get(f"/rounds/{rid}").get_json()["title"] == "地方財政への意見（改）"

    extension = staff.post(
        f"/rounds/{rid}/extensions",
        json={"organization_id": tokyo.id, "until": "2025-03-25T17:00:00+09:00", "reason": "県本部大会のため"},
    )
    assert extension.status_code == 201 and extension.get_json()["until"] == "2025-03-25T17:00:00+09:00"
    assert as_role("prefecture").get(f"/rounds/{rid}").get_json()["my_deadline"] == "2025-03-25T17:00:00+09:00"
    closed = staff.post(f"/rounds/{rid}/close")
    assert closed.get_json()["status"] == "closed"
    assert staff.post(f"/rounds/{rid}/close").status_code == 409
    removed = staff.delete(f"/rounds/{rid}/items/{item['id']}")
    assert removed.get_json() == {"outcome": "deleted"}


def test_listing_rounds_with_filters(as_role, api_world):
    rid, draft = api_world["ids"]["round_id"], api_world["ids"]["draft_round_id"]
    staff = as_role("staff")
    assert {r["id"] for r in staff.get("/rounds").get_json()} == {rid, draft}
    assert [r["id"] for r in staff.get("/rounds?status=draft").get_json()] == [draft]
    assert [r["id"] for r in as_role("union").get("/rounds?accepting=true").get_json()] == [rid]
    assert as_role("other_prefecture").get("/rounds").get_json() == []


# ---------------------------------------------------------------- answers


def test_a_branch_answers_through_the_api(as_role, api_world, clock):
    rid = api_world["ids"]["round_id"]
    osaka_less = api_world["orgs"]["hachioji"].id
    union = as_role("union")
    path = f"/rounds/{rid}/answers/{osaka_less}"
    first = union.get(path).get_json()
    assert first["state"] == "draft" and first["version"] == 2
    items = [i["id"] for i in union.get(f"/rounds/{rid}").get_json()["items"]]
    body = {
        "version": first["version"],
        "opinions": [
            {"item_id": items[0], "stance": "oppose", "reason": "現場の負担が増える"},
            {"item_id": items[2], "stance": "add", "proposed_text": "人員を確保すること。"},
        ],
        "proposals": [{"heading": "新しい項目", "proposed_text": "研修の充実", "reason": "必要"}],
        "comment": "単組として",
    }
    saved = union.put(path, json=body)
    assert saved.status_code == 200
    answer = saved.get_json()
    assert [(o["item_id"], o["stance"]) for o in answer["opinions"]] == [(items[0], "oppose"), (items[2], "add")]
    assert answer["proposals"][0]["heading"] == "新しい項目" and answer["comment"] == "単組として"
    assert saved.headers["ETag"] == f'"{answer["version"]}"'

    stale = union.put(path, json=body)
    assert stale.status_code == 409 and stale.get_json()["current_version"] == answer["version"]
    duplicate = union.put(path, json={**body, "version": answer["version"], "opinions": body["opinions"] * 2})
    assert duplicate.status_code == 422 and "opinions.2.item_id" in duplicate.get_json()["errors"]
    bad_stance = union.put(path, json={**body, "opinions": [{"item_id": items[0], "stance": "maybe"}]})
    assert bad_stance.get_json()["errors"]["opinions.0.stance"][0].startswith("次のいずれか")

    submitted = union.post(f"{path}/submit", json={"version": answer["version"]})
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"
    again = union.put(path, json={**body, "version": submitted.get_json()["version"]})
    assert again.status_code == 409 and "提出済み" in again.get_json()["detail"]
    withdrawn = union.post(f"{path}/withdraw")
    assert withdrawn.get_json()["state"] == "draft"
    no_opinion = union.post(f"{path}/no-opinion", json={"version": withdrawn.get_json()["version"]})
    assert no_opinion.get_json()["state"] == "no_opinion"

    history = union.get(f"{path}/history").get_json()
    assert [e["action"] for e in history][:4] == ["no_opinion", "withdraw", "submit", "save"]
    assert history[-1]["user_name"] and any(c["field"] == "区分" for c in history[3]["changes"])

    board = {row["organization_name"]: row for row in as_role("staff").get(f"/rounds/{rid}/board").get_json()}
    assert board["八王子市職員労働組合"]["state"] == "no_opinion" and board["東京都本部"]["state"] == "submitted"
    assert board["八王子市職員労働組合"]["extension_reason"] == "組合大会のため"
    only = as_role("staff").get(f"/rounds/{rid}/board?state=no_opinion").get_json()
    assert [row["organization_id"] for row in only] == [osaka_less]


def test_headquarters_enters_an_answer_on_behalf(as_role, api_world):
    rid, tokyo = api_world["ids"]["round_id"], api_world["orgs"]["tokyo"].id
    staff = as_role("staff")
    path = f"/rounds/{rid}/answers/{tokyo}"
    withdrawn = staff.post(f"{path}/withdraw").get_json()
    saved = staff.put(path, json={"version": withdrawn["version"], "comment": "本部が代理で入力"})
    assert saved.status_code == 200
    assert staff.get(f"{path}/history").get_json()[0]["on_behalf"] is True


def test_after_the_deadline_the_text_is_kept_as_a_late_draft(as_role, api_world, clock):
    rid, tokyo = api_world["ids"]["round_id"], api_world["orgs"]["tokyo"].id
    tokyo_client = as_role("prefecture")
    path = f"/rounds/{rid}/answers/{tokyo}"
    version = tokyo_client.post(f"{path}/withdraw").get_json()["version"]
    clock.advance(days=8)  # past the deadline
    late = tokyo_client.put(path, json={"version": version, "comment": "遅れて届いた意見"})
    assert late.status_code == 409
    problem = late.get_json()
    assert problem["type"] == "/api/v1/problems/late" and "締切後の下書き" in problem["detail"]
    assert problem["current_version"] == version + 1
    answer = tokyo_client.get(path).get_json()  # kept, beside the answer sent in time
    assert answer["late_draft"]["comment"] == "遅れて届いた意見" and answer["comment"] == "東京の全体意見"
    assert answer["accepting"] is False


# ---------------------------------------------------------------- aggregation and the answer table


def test_counts_opinions_by_cursor_and_dispositions(as_role, api_world, app, make_user):
    rid, opinion_id = api_world["ids"]["round_id"], api_world["ids"]["opinion_id"]
    staff = as_role("staff")
    counts = staff.get(f"/rounds/{rid}/aggregate").get_json()
    assert (counts["targets"], counts["answered"]) == (2, 1)
    assert counts["items"][0]["counts"]["amend"] == 1 and counts["stance_totals"]["amend"] == 1

    # a second submitted answer, so there are pages to walk
    union = as_role("union")
    path = f"/rounds/{rid}/answers/{api_world['orgs']['hachioji'].id}"
    union.post(f"{path}/submit")
    seen, cursor = [], None
    while True:
        page = staff.get(f"/rounds/{rid}/opinions?limit=1" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen.extend(row["id"] for row in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 2 and seen == sorted(seen)
    item_id = api_world["ids"]["item_id"]
    of_item = staff.get(f"/rounds/{rid}/opinions?item_id={item_id}").get_json()["items"]
    assert [row["id"] for row in of_item] == [opinion_id]
    assert of_item[0]["request_item_ids"] == [api_world["ids"]["request_item_id"]]
    assert staff.get(f"/rounds/{rid}/opinions?cursor=nonsense").get_json()["errors"]["cursor"]

    current = staff.get(f"/rounds/{rid}/opinions/{opinion_id}")
    seen_token = current.get_json()["seen"]
    assert current.headers["ETag"] == f'"{seen_token}"'
    updated = staff.put(
        f"/rounds/{rid}/opinions/{opinion_id}/disposition",
        json={"disposition": "partly", "hq_view": "一部を取り入れます。", "seen": seen_token},
    )
    assert updated.status_code == 200 and updated.get_json()["disposition"] == "partly"
    stale = staff.put(
        f"/rounds/{rid}/opinions/{opinion_id}/disposition",
        json={"disposition": "rejected", "hq_view": "古い画面から"},
        headers={"If-Match": f'"{seen_token}"'},
    )
    assert stale.status_code == 409
    assert staff.get(f"/rounds/{rid}/opinions/{opinion_id}").get_json()["hq_view"] == "一部を取り入れます。"

    assert staff.post(f"/rounds/{rid}/unpublish").get_json()["answers_published_at"] is None
    assert union.get(f"/rounds/{rid}/published").status_code == 404
    assert staff.post(f"/rounds/{rid}/publish").get_json()["answers_published_at"]
    mine = union.get(f"/rounds/{rid}/published?mine=true").get_json()["items"]
    assert mine and all(row["own"] for row in mine)


# ---------------------------------------------------------------- campaigns and letters


def test_a_campaign_from_letter_to_documents(as_role, api_world):
    rid, opinion_id = api_world["ids"]["round_id"], api_world["ids"]["opinion_id"]
    staff = as_role("staff")
    listed = staff.get("/campaigns").get_json()
    assert [c["title"] for c in listed] == ["省庁要請"] and listed[0]["date_text"] == "2025年3月●日"

    created = staff.post(
        "/campaigns",
        json={"title": "2026年度の要請", "round_id": rid, "date_year": 2026, "date_month": 2, "date_day": 10},
    )
    assert created.status_code == 201
    campaign = created.get_json()
    cid = campaign["id"]
    assert campaign["sender_org"] == "全日本自治団体労働組合" and campaign["date_text"] == "2026年2月10日"
    bad_date = staff.patch(f"/campaigns/{cid}", json={"date_month": 2, "date_day": 30})
    assert bad_date.status_code == 422 and "date_day" in bad_date.get_json()["errors"]

    letter = staff.post(f"/campaigns/{cid}/letters", json={"title": "要請書", "numbering": "dot-paren"}).get_json()
    lid = letter["id"]
    section = staff.post(f"/campaigns/{cid}/letters/{lid}/items", json={"text": "財政について"}).get_json()
    child = staff.post(
        f"/campaigns/{cid}/letters/{lid}/items", json={"text": "財源を確保すること。", "parent_id": section["id"]}
    ).get_json()
    shown = staff.get(f"/campaigns/{cid}/letters/{lid}").get_json()
    assert [(i["label"], i["text"]) for i in shown["items"]] == [
        ("１．", "財政について"),
        ("（１）", "財源を確保すること。"),
    ]

    linked = staff.post(
        f"/campaigns/{cid}/letters/{lid}/items/{child['id']}/opinions", json={"opinion_ids": [opinion_id]}
    )
    assert [op["organization_name"] for op in linked.get_json()] == ["東京都本部"]
    assert staff.get(f"/campaigns/{cid}/letters/{lid}/items/{child['id']}").get_json()["opinion_ids"] == [opinion_id]
    unlinked = staff.delete(f"/campaigns/{cid}/letters/{lid}/items/{child['id']}/opinions/{opinion_id}")
    assert unlinked.status_code == 204
    assert staff.delete(f"/campaigns/{cid}/letters/{lid}/items/{child['id']}/opinions/{opinion_id}").status_code == 404

    addressee = staff.post(
        f"/campaigns/{cid}/addressees",
        json={
            "letter_id": lid,
            "organisation": "総務省",
            "title": "総務大臣",
            "honorific": "殿",
            "item_ids": [section["id"]],
        },
    )
    assert addressee.status_code == 201
    aid = addressee.get_json()["id"]
    assert addressee.get_json()["item_ids"] == [section["id"]] and addressee.get_json()["filename"].endswith(".docx")
    everything = staff.patch(f"/campaigns/{cid}/addressees/{aid}", json={"item_ids": None, "name": "村上誠一郎"})
    assert everything.get_json()["item_ids"] is None and everything.get_json()["name"] == "村上誠一郎"

    docx = staff.get(f"/campaigns/{cid}/addressees/{aid}/letter.docx")
    assert docx.status_code == 200 and docx.headers["Cache-Control"] == "private, no-store"
    xml = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml").decode()
    assert "財源を確保すること。" in xml and "総務大臣" in xml
    bundle = staff.get(f"/campaigns/{cid}/letters.zip")
    assert bundle.mimetype == "application/zip" and len(zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()) == 1

    refused = staff.delete(f"/campaigns/{cid}/letters/{lid}")
    assert refused.status_code == 422 and "総務省" in refused.get_json()["detail"]
    detail = staff.get(f"/campaigns/{cid}").get_json()
    assert [a["organisation"] for a in detail["addressees"]] == ["総務省"] and len(detail["letters"]) == 1
    empty = staff.post("/campaigns", json={"title": "空", "date_year": 2026, "date_month": 1}).get_json()
    assert staff.get(f"/campaigns/{empty['id']}/letters.zip").status_code == 409
    assert staff.delete(f"/campaigns/{cid}/addressees/{aid}").status_code == 204
    assert staff.delete(f"/campaigns/{cid}/letters/{lid}").status_code == 204
    assert staff.get(f"/campaigns/{cid}").get_json()["letters"] == []


def test_opinions_of_another_round_are_not_linked(as_role, api_world):
    ids = api_world["ids"]
    staff = as_role("staff")
    other = staff.post("/campaigns", json={"title": "別件", "date_year": 2026, "date_month": 1}).get_json()
    letter = staff.post(f"/campaigns/{other['id']}/letters", json={"title": "別件の要請書"}).get_json()
    item = staff.post(
        f"/campaigns/{other['id']}/letters/{letter['id']}/items", json={"text": "検討すること。"}
    ).get_json()
    refused = staff.post(
        f"/campaigns/{other['id']}/letters/{letter['id']}/items/{item['id']}/opinions",
        json={"opinion_ids": [ids["opinion_id"]]},
    )
    assert refused.status_code == 422 and "もとになる討議" in refused.get_json()["detail"]


# ---------------------------------------------------------------- users


def test_admins_register_users(as_role, api_world):
    admin = as_role("admin")
    tokyo = api_world["orgs"]["tokyo"]
    created = admin.post(
        "/users",
        json={
            "login": "new-officer",
            "name": "新任 担当",
            "role": "member",
            "organization_id": tokyo.id,
            "password": "long-enough",
        },
    )
    assert created.status_code == 201 and created.get_json()["organization_id"] == tokyo.id
    taken = admin.post(
        "/users",
        json={
            "login": "new-officer",
            "name": "二人目",
            "role": "member",
            "organization_id": tokyo.id,
            "password": "long-enough",
        },
    )
    assert taken.status_code == 422 and "既に使われています" in taken.get_json()["detail"]
    wrong = admin.post(
        "/users",
        json={"login": "x y", "name": "", "role": "boss", "organization_id": 999999, "password": "short"},
    )
    assert set(wrong.get_json()["errors"]) == {"login", "name", "role", "password"}
    assert any(u["login"] == "new-officer" for u in admin.get("/users").get_json())
    assert as_role("staff").get("/users").status_code == 403
