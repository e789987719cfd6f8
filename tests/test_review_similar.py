"""「この意見に似た意見」 (issue 12): the other opinions of the same round most like one, on a page and in the API."""

from __future__ import annotations

import pytest
from test_review_pages import submit
from test_review_search import opinion_id


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="本部 花子")


@pytest.fixture
def world(app, make_org, make_round, staff):
    orgs = [make_org(f"県本部{i}") for i in range(5)]
    dx = make_round(title="自治体DXの推進", items=2, targets=orgs)
    other = make_round(title="別の討議", items=1, targets=orgs)
    sid = staff.id
    texts = [
        ("ガバメントクラウド移行の経費を国が全額負担すること", "移行経費が自治体の財政を圧迫している"),
        ("ガバメントクラウドへの移行経費は国の全額負担とすること", "移行の経費で財政が圧迫される"),
        ("窓口職員の人員を増やすこと", "窓口の負担が大きい"),
        ("標準化の期限を延ばすこと", "準備が間に合わない"),
    ]
    for org, (proposed, reason) in zip(orgs, texts, strict=False):
        submit(app, dx.id, org.id, sid, {0: ("amend", proposed, reason)})
    # The same words in another round are not "of the same round".
    submit(app, other.id, orgs[4].id, sid, {0: ("amend", texts[0][0], texts[0][1])})
    # A draft is not an opinion headquarters reads yet.
    submit(app, dx.id, orgs[4].id, sid, {1: ("amend", texts[0][0], texts[0][1])}, do_submit=False)
    return {"dx": dx, "other": other, "orgs": orgs}


def test_the_api_lists_the_most_similar_first(app, world, staff, api_as):
    client = api_as(staff)
    orgs, dx = world["orgs"], world["dx"].id
    first = opinion_id(app, orgs[0].id, 0, dx)
    body = client.get(f"/api/v1/opinions/{first}/similar").get_json()
    ids = [row["opinion_id"] for row in body]
    assert ids[0] == opinion_id(app, orgs[1].id, 0, dx)  # the paraphrase
    assert first not in ids
    assert opinion_id(app, orgs[4].id, 0, world["other"].id) not in ids  # another round
    scores = [row["score"] for row in body]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1
    assert body == client.get(f"/api/v1/opinions/{first}/similar").get_json()  # the same every time
    assert client.get("/api/v1/opinions/99999999/similar").status_code == 404


def test_a_branch_may_not_ask(app, world, make_user, api_as, login_as):
    member = make_user("member", org=world["orgs"][0])
    oid = opinion_id(app, world["orgs"][0].id, 0, world["dx"].id)
    assert api_as(member).get(f"/api/v1/opinions/{oid}/similar").status_code == 403
    assert login_as(member).get(f"/rounds/{world['dx'].id}/aggregate/opinions/{oid}/similar").status_code == 403


def test_the_page_shows_them_and_each_opinion_links_to_it(app, world, staff, login_as):
    client = login_as(staff)
    dx = world["dx"]
    oid = opinion_id(app, world["orgs"][0].id, 0, dx.id)
    item_page = client.get(f"/rounds/{dx.id}/aggregate/items/{dx.items[0].id}").get_data(as_text=True)
    assert f"/rounds/{dx.id}/aggregate/opinions/{oid}/similar" in item_page
    html = client.get(f"/rounds/{dx.id}/aggregate/opinions/{oid}/similar").get_data(as_text=True)
    assert "ガバメントクラウドへの移行経費は国の全額負担とすること" in html
    assert html.index("県本部1") < html.index("県本部3") if "県本部3" in html else True
    # Another round's opinion under this round's address is not found.
    other = opinion_id(app, world["orgs"][4].id, 0, world["other"].id)
    assert client.get(f"/rounds/{dx.id}/aggregate/opinions/{other}/similar").status_code == 404


def test_proposed_groups_share_words_and_stay_the_same(app, world, staff, api_as, login_as):
    client = api_as(staff)
    dx = world["dx"]
    orgs = world["orgs"]
    url = f"/api/v1/rounds/{dx.id}/items/{dx.items[0].id}/groups"
    body = client.get(url).get_json()
    paraphrases = sorted(opinion_id(app, orgs[i].id, 0, dx.id) for i in (0, 1))
    assert [g["opinion_ids"] for g in body] == [paraphrases]
    assert body[0]["key"] == paraphrases[0] and "全額負担" in body[0]["terms"]
    assert body == client.get(url).get_json()  # nothing changed: the same groups
    html = login_as(staff).get(f"/rounds/{dx.id}/aggregate/items/{dx.items[0].id}/groups").get_data(as_text=True)
    assert "全額負担" in html and "グループ 1（2 件）" in html
    other_item = world["other"].items[0].id
    assert client.get(f"/api/v1/rounds/{dx.id}/items/{other_item}/groups").status_code == 404
