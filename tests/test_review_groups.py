"""Kept groups of opinions (論点, issue 12): confirm a proposed group, name it, split it, move an opinion, undo;
統合 points to its group; proposals leave kept opinions out; 「この意見から要請項目を作る」. Pages and API."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from test_review_pages import submit
from test_review_search import opinion_id

from consult.extensions import db

TEXTS = [
    ("ガバメントクラウド移行の経費を国が全額負担すること", "移行経費が自治体の財政を圧迫している"),
    ("ガバメントクラウドへの移行経費は国の全額負担とすること", "移行の経費で財政が圧迫される"),
    ("ガバメントクラウド移行経費は全額を国が負担すること", "移行経費が財政を圧迫する"),
    ("窓口職員の人員を増やすこと", "窓口の負担が大きい"),
    ("標準化の期限を延ばすこと", "準備が間に合わない"),
]


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="本部 花子")


@pytest.fixture
def world(app, make_org, make_round, staff):
    orgs = [make_org(f"県本部{i}") for i in range(len(TEXTS))]
    dx = make_round(title="自治体DXの推進", items=2, targets=orgs)
    for n, (org, (proposed, reason)) in enumerate(zip(orgs, TEXTS, strict=True)):
        opinions = {0: ("amend", proposed, reason)}
        if n == 3:
            opinions[1] = ("amend", "別の項目", "")
        submit(app, dx.id, org.id, staff.id, opinions)
    ids = [opinion_id(app, org.id, 0, dx.id) for org in orgs]
    return {"dx": dx, "item": dx.items[0].id, "other_item": dx.items[1].id, "orgs": orgs, "ids": ids}


def _letter(app, round_id, now):
    """A campaign on the round with one letter: where a request item made from an opinion goes."""
    from consult.letters import operations as letters

    with app.app_context():
        campaign = letters.create_campaign(
            letters.CampaignInput(
                title="省庁要請", date_year=2025, date_month=3, sender_org="自治労", round_id=round_id
            ),
            now,
            user=None,
        )
        letter = letters.add_letter(campaign, letters.LetterInput(title="要請書"), user=None, now=now)
        db.session.commit()
        return letter.id


def test_confirm_name_split_move_and_undo_through_the_api(app, world, staff, api_as):
    client = api_as(staff)
    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    proposed_url = f"/api/v1/rounds/{dx}/items/{item}/groups"
    proposal = client.get(proposed_url).get_json()
    assert [g["opinion_ids"] for g in proposal] == [sorted(ids[:3])]
    kept = client.post(
        f"/api/v1/rounds/{dx}/items/{item}/kept-groups", json={"opinion_ids": ids[:3], "name": "移行経費"}
    )
    assert kept.status_code == 201, kept.get_json()
    group = kept.get_json()
    assert group["name"] == "移行経費" and group["opinion_ids"] == sorted(ids[:3]) and group["version"] == 1
    # What is kept is no longer proposed; nothing else changed, so the proposals stay the same.
    assert client.get(proposed_url).get_json() == [] == client.get(proposed_url).get_json()
    assert client.get(f"/api/v1/rounds/{dx}/items/{item}/kept-groups").get_json() == [group]

    gid = group["id"]
    renamed = client.patch(f"/api/v1/rounds/{dx}/groups/{gid}", json={"name": "移行経費の国負担", "version": 1})
    assert renamed.status_code == 200 and renamed.get_json()["version"] == 2
    stale = client.patch(f"/api/v1/rounds/{dx}/groups/{gid}", json={"name": "古い画面から", "version": 1})
    assert stale.status_code == 409
    assert client.get(f"/api/v1/rounds/{dx}/groups/{gid}").get_json()["name"] == "移行経費の国負担"

    split = client.post(
        f"/api/v1/rounds/{dx}/groups/{gid}/split", json={"opinion_ids": [ids[2]], "name": "全額", "version": 2}
    )
    assert split.status_code == 201 and split.get_json()["opinion_ids"] == [ids[2]]
    new_id = split.get_json()["id"]
    moved = client.post(
        f"/api/v1/rounds/{dx}/groups/{new_id}/move", json={"opinion_id": ids[2], "target_group_id": gid, "version": 1}
    )
    assert moved.status_code == 200, moved.get_json()
    # The emptied group went; the opinion is back in the first one.
    assert [(g["id"], g["opinion_ids"]) for g in moved.get_json()] == [(gid, sorted(ids[:3]))]
    assert client.get(f"/api/v1/rounds/{dx}/groups/{new_id}").status_code == 404
    out = client.post(f"/api/v1/rounds/{dx}/groups/{gid}/move", json={"opinion_id": ids[0], "target_group_id": None})
    assert out.status_code == 200 and out.get_json()[0]["opinion_ids"] == sorted(ids[1:3])
    assert client.delete(f"/api/v1/rounds/{dx}/groups/{gid}?version=1").status_code == 409  # stale
    version = client.get(f"/api/v1/rounds/{dx}/groups/{gid}").get_json()["version"]
    assert client.delete(f"/api/v1/rounds/{dx}/groups/{gid}?version={version}").status_code == 204
    assert [g["opinion_ids"] for g in client.get(proposed_url).get_json()] == [sorted(ids[:3])]


def test_an_opinion_is_in_one_group_at_most_also_in_the_database(app, world, staff, api_as, clock):
    client = api_as(staff)
    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    url = f"/api/v1/rounds/{dx}/items/{item}/kept-groups"
    assert client.post(url, json={"opinion_ids": ids[:2]}).status_code == 201
    again = client.post(url, json={"opinion_ids": [ids[1], ids[2]], "name": "重複"})
    assert again.status_code == 409
    # Another item's opinion, or an unknown one, is not this item's.
    other = opinion_id(app, world["orgs"][3].id, 1, dx)
    assert client.post(url, json={"opinion_ids": [other]}).status_code == 422
    assert client.post(url, json={"opinion_ids": []}).status_code == 422
    from consult.review.models import OpinionGroup, OpinionGroupMember

    with app.app_context():
        second = OpinionGroup(round_id=dx, item_id=item, name="直接", created_at=clock(), updated_at=clock())
        db.session.add(second)
        db.session.flush()
        db.session.add(OpinionGroupMember(opinion_id=ids[0], group_id=second.id))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_merged_points_to_its_group_and_never_loses_it(app, world, staff, api_as, login_as):
    from consult.answers.models import Opinion
    from consult.review import groups

    client = api_as(staff)
    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    put = f"/api/v1/rounds/{dx}/opinions/{ids[0]}/disposition"
    refused = client.put(put, json={"disposition": "merged", "hq_view": "まとめて回答"})
    assert refused.status_code == 422 and "論点" in refused.get_data(as_text=True)
    gid = client.post(
        f"/api/v1/rounds/{dx}/items/{item}/kept-groups", json={"opinion_ids": ids[:3], "name": "移行経費"}
    ).get_json()["id"]
    assert client.put(put, json={"disposition": "merged", "hq_view": "まとめて回答"}).status_code == 200
    out = client.post(f"/api/v1/rounds/{dx}/groups/{gid}/move", json={"opinion_id": ids[0], "target_group_id": None})
    assert out.status_code == 422
    version = client.get(f"/api/v1/rounds/{dx}/groups/{gid}").get_json()["version"]
    assert client.delete(f"/api/v1/rounds/{dx}/groups/{gid}?version={version}").status_code == 422
    with app.app_context():
        opinion = db.session.get(Opinion, ids[0])
        assert opinion is not None and opinion.disposition == "merged"
        group = groups.groups_of([ids[0]])[ids[0]]
        assert group.id == gid
        assert groups.disposition_label(opinion.disposition, group) == "統合（移行経費）"
        assert groups.disposition_label("adopted", group) == "採用"
    # The answer table says which group: on the page, in the API and in the export.
    assert client.post(f"/api/v1/rounds/{dx}/publish").status_code == 200
    published = client.get(f"/api/v1/rounds/{dx}/published").get_json()["items"]
    assert {row["opinion_id"]: row["disposition_label"] for row in published}[ids[0]] == "統合（移行経費）"
    page = login_as(staff).get(f"/rounds/{dx}/published").get_data(as_text=True)
    assert "統合（移行経費）" in page
    csv = login_as(staff).get(f"/rounds/{dx}/export/answers.csv").get_data()
    assert "統合（移行経費）" in csv.decode("utf-8-sig")


def test_the_page_confirms_names_and_keeps_typed_text_on_a_refusal(app, world, staff, login_as):
    from consult.review.models import OpinionGroup

    client = login_as(staff)
    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    page = f"/rounds/{dx}/aggregate/items/{item}/groups"
    html = client.get(page).get_data(as_text=True)
    assert "チェックした意見を論点として確定する" in html and "確定した論点はまだありません" in html
    too_long = "論" * 201
    bad = client.post(page, data={"opinion_ids": [str(i) for i in ids[:3]], "name": too_long, "key": str(min(ids[:3]))})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "200文字以内" in body and too_long in body
    done = client.post(page, data={"opinion_ids": [str(i) for i in ids[:2]], "name": "移行経費", "key": "1"})
    assert done.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "移行経費" in html and "論点の確定を取り消す" in html
    with app.app_context():
        group = db.session.scalars(select(OpinionGroup)).one()
        gid, version = group.id, group.version
    renamed = client.post(f"/rounds/{dx}/aggregate/groups/{gid}", data={"name": "国の負担", "version": str(version)})
    assert renamed.status_code == 302
    stale = client.post(f"/rounds/{dx}/aggregate/groups/{gid}", data={"name": "古い画面", "version": str(version)})
    assert stale.status_code == 409 and "古い画面" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(OpinionGroup, gid).name == "国の負担"


def test_a_stale_rename_loses_nothing(app, world, staff, clock):
    """Two staff members rename the same group from the same page: the second is refused, the first kept."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from consult.core.errors import ConflictError
    from consult.review import groups
    from consult.review.models import OpinionGroup
    from consult.rounds.models import RoundItem

    with app.app_context():
        item = db.session.get(RoundItem, world["item"])
        gid = groups.confirm_group(item, world["ids"][:2], "最初", user=None, now=clock()).id
        db.session.commit()
        seen = db.session.get(OpinionGroup, gid).version
        groups.rename_group(db.session.get(OpinionGroup, gid), "一人目", seen, user=None, now=clock())
        db.session.commit()
        with pytest.raises(ConflictError):
            groups.rename_group(db.session.get(OpinionGroup, gid), "二人目", seen, user=None, now=clock())
        db.session.rollback()
        assert db.session.get(OpinionGroup, gid).name == "一人目"
        if db.engine.dialect.name == "sqlite":
            return  # SQLite serialises writing requests with BEGIN IMMEDIATE; the version check above covers it
        with Session(db.engine) as one, Session(db.engine) as two:
            g1, g2 = one.get(OpinionGroup, gid), two.get(OpinionGroup, gid)
            g1.name, g2.name = "同時一", "同時二"
            g1.updated_at = g2.updated_at = clock()
            one.commit()
            with pytest.raises(StaleDataError):
                two.commit()
        db.session.expire_all()
        assert db.session.get(OpinionGroup, gid).name == "同時一"


def test_a_request_item_from_an_opinion_or_a_group(app, world, staff, api_as, login_as, clock):
    from consult.letters.models import RequestItem

    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    letter_id = _letter(app, dx, clock())
    client = login_as(staff)
    form = client.get(f"/rounds/{dx}/aggregate/opinions/{ids[3]}/request-item").get_data(as_text=True)
    assert TEXTS[3][0] in form and "要請書" in form  # the wording starts from the proposed change
    bad = client.post(
        f"/rounds/{dx}/aggregate/opinions/{ids[3]}/request-item", data={"letter": "999999", "text": "打った文"}
    )
    assert bad.status_code == 422 and "打った文" in bad.get_data(as_text=True)
    made = client.post(
        f"/rounds/{dx}/aggregate/opinions/{ids[3]}/request-item",
        data={"letter": str(letter_id), "text": "窓口職員を増員すること。"},
    )
    assert made.status_code == 302
    with app.app_context():
        request_item = db.session.scalars(select(RequestItem).where(RequestItem.letter_id == letter_id)).one()
        assert request_item.text == "窓口職員を増員すること。"
        assert [op.id for op in request_item.opinions] == [ids[3]]

    api = api_as(staff)
    gid = api.post(f"/api/v1/rounds/{dx}/items/{item}/kept-groups", json={"opinion_ids": ids[:3]}).get_json()["id"]
    made = api.post(f"/api/v1/rounds/{dx}/groups/{gid}/request-items", json={"letter_id": letter_id})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["text"] == TEXTS[0][0] and made.get_json()["opinion_ids"] == sorted(ids[:3])
    one = api.post(
        f"/api/v1/rounds/{dx}/opinions/{ids[4]}/request-items",
        json={"letter_id": letter_id, "text": "期限を延長すること。"},
    )
    assert one.status_code == 201 and one.get_json()["opinion_ids"] == [ids[4]]
    assert (
        api.post(f"/api/v1/rounds/{dx}/opinions/{ids[4]}/request-items", json={"letter_id": 999999}).status_code == 422
    )


def test_a_branch_may_not_touch_groups(app, world, make_user, api_as, login_as):
    member = make_user("member", org=world["orgs"][0])
    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    assert (
        api_as(member).post(f"/api/v1/rounds/{dx}/items/{item}/kept-groups", json={"opinion_ids": ids[:2]}).status_code
        == 403
    )
    page = login_as(member).post(f"/rounds/{dx}/aggregate/items/{item}/groups", data={"opinion_ids": [str(ids[0])]})
    assert page.status_code == 403


def test_racing_confirmations_keep_an_opinion_in_one_group(app, world, clock):
    """Four staff members confirm groups that share one opinion at the same moment: one wins, the others are
    refused, and the opinion is in exactly one group (lost-write count)."""
    import threading

    from consult.core.errors import ConflictError
    from consult.review import groups
    from consult.review.models import OpinionGroup, OpinionGroupMember
    from consult.rounds.models import RoundItem

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite serialises writing requests with BEGIN IMMEDIATE; the key is checked above")
    ids = world["ids"]
    start = threading.Barrier(4)
    outcome: list[str] = []

    def confirm(other: int) -> None:
        with app.app_context():
            start.wait()
            try:
                item = db.session.get(RoundItem, world["item"])
                groups.confirm_group(item, [ids[0], other], f"論点{other}", user=None, now=clock())
                db.session.commit()
                outcome.append("kept")
            except ConflictError:
                db.session.rollback()
                outcome.append("refused")
            except Exception as exc:  # noqa: BLE001  (shown in the assertion)
                outcome.append(repr(exc)[:200])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(other,)) for other in ids[1:5]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcome) == ["kept", "refused", "refused", "refused"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(OpinionGroup)) == 1
        members = db.session.scalars(select(OpinionGroupMember.opinion_id)).all()
        assert members.count(ids[0]) == 1 and len(members) == 2


def test_a_kept_group_is_answered_in_one_step_from_its_page(app, world, staff, login_as, api_as):
    """The group link narrows the item's list to the group; 「すべて選ぶ」 then answers its opinions only."""
    import re

    from test_review_bulk import stored

    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    kept = api_as(staff).post(f"/api/v1/rounds/{dx}/items/{item}/kept-groups", json={"opinion_ids": ids[:3]})
    gid = kept.get_json()["id"]
    client = login_as(staff)
    groups_page = client.get(f"/rounds/{dx}/aggregate/items/{item}/groups").get_data(as_text=True)
    link = f"/rounds/{dx}/aggregate/items/{item}?group={gid}#bulk"
    assert link in groups_page.replace("&amp;", "&")
    html = client.get(f"/rounds/{dx}/aggregate/items/{item}?group={gid}").get_data(as_text=True)
    scope = re.search(r'name="bulk-scope" type="hidden" value="([^"]*)"', html).group(1)
    assert sorted(int(pair.split(".")[0]) for pair in scope.split()) == sorted(ids[:3])
    response = client.post(
        f"/rounds/{dx}/aggregate/bulk",
        data={
            "item": str(item),
            "group": str(gid),
            "bulk-scope": scope,
            "bulk-everything": "y",
            "bulk-disposition": "merged",
            "bulk-hq_view": "移行経費の国負担として一つにまとめて要請します。",
            "action": "answer",
        },
    )
    assert response.status_code == 302 and f"group={gid}" in response.headers["Location"]
    after = stored(app, ids)
    assert {after[i][:2] for i in ids[:3]} == {("merged", "移行経費の国負担として一つにまとめて要請します。")}
    assert all(after[i][0] is None for i in ids[3:])  # the opinions outside the group are untouched


def test_a_bulk_merge_takes_only_opinions_in_a_group(app, world, staff, api_as):
    """統合 in a bulk answer follows the rule of one answer: an opinion in no kept group is refused, not merged."""
    from test_review_bulk import stored

    dx, item, ids = world["dx"].id, world["item"], world["ids"]
    client = api_as(staff)
    assert (
        client.post(f"/api/v1/rounds/{dx}/items/{item}/kept-groups", json={"opinion_ids": ids[:2]}).status_code == 201
    )
    response = client.post(
        f"/api/v1/rounds/{dx}/answers/bulk", json={"opinion_ids": ids[:4], "disposition": "merged", "hq_view": "統合"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert sorted(body["updated"]) == sorted(ids[:2])
    assert {r["opinion_id"]: r["reason"] for r in body["refused"]} == {ids[2]: "ungrouped", ids[3]: "ungrouped"}
    after = stored(app, ids[:4])
    assert [after[i][0] for i in ids[:4]] == ["merged", "merged", None, None]
