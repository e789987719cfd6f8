"""Every answer route checks on the server who may see or change which organisation's answer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from test_answers_support import answer_post, new_client, stored


@pytest.fixture
def world(app, make_org, make_user, make_round, hq):
    pref = make_org("北海道本部")
    other = make_org("青森県本部")
    outsider = make_org("岩手県本部")
    round_ = make_round(targets=[pref, other])
    users = {
        "own": make_user("member", pref),
        "other": make_user("member", other),
        "non_target": make_user("member", outsider),
        "staff": make_user("staff", hq),
        "admin": make_user("admin", hq),
    }
    return SimpleNamespace(
        pref=pref, other=other, outsider=outsider, round=round_, users=users, items=[item.id for item in round_.items]
    )


def org_routes(round_id: int, org_id: int) -> list[tuple[str, str]]:
    base = f"/answers/{round_id}/org/{org_id}"
    return [
        ("GET", base),
        ("GET", base + "/edit"),
        ("GET", base + "/history"),
        ("POST", base + "/edit"),
        ("POST", base + "/withdraw"),
        ("POST", base + "/no-opinion"),
    ]


def call(client, method: str, url: str, items=()):
    if method == "GET":
        return client.get(url)
    return client.post(
        url,
        data=answer_post(0, {items[0]: {"stance": "agree"}}, item_ids=items)
        if url.endswith("/edit")
        else {"version": 0},
    )


# Who gets what on the routes of the answer of the target organisation 北海道本部.
EXPECTED = {"own": "ok", "other": 403, "non_target": 403, "staff": "ok", "admin": "ok"}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_permission_matrix_on_one_organisations_answer(app, world, who):
    client = new_client(app, world.users[who])
    for method, url in org_routes(world.round.id, world.pref.id):
        response = call(client, method, url, world.items)
        if EXPECTED[who] == 403:
            assert response.status_code == 403, (who, method, url)
            assert "権限がありません" in response.get_data(as_text=True)
        else:
            assert response.status_code in (200, 302), (who, method, url, response.status_code)
    if EXPECTED[who] == 403:
        assert stored(app, world.round.id, world.pref.id) is None


def test_round_page_permissions(app, world):
    url = f"/answers/{world.round.id}"
    for who, status in {"own": 200, "other": 200, "non_target": 403, "staff": 200, "admin": 200}.items():
        assert new_client(app, world.users[who]).get(url).status_code == status, who


def test_anonymous_is_sent_to_login(client, world):
    routes = [("GET", "/answers/"), ("GET", f"/answers/{world.round.id}"), *org_routes(world.round.id, world.pref.id)]
    for method, url in routes:
        response = call(client, method, url, world.items)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_unknown_round_or_org_is_404(app, world):
    for who in ("own", "staff"):
        client = new_client(app, world.users[who])
        assert client.get("/answers/999999").status_code == 404
        for method, url in org_routes(999999, world.pref.id) + org_routes(world.round.id, 999999):
            assert call(client, method, url, world.items).status_code == 404, (who, method, url)


def test_hq_on_an_organisation_that_is_not_a_target_gets_404(app, world):
    client = new_client(app, world.users["staff"])
    for method, url in org_routes(world.round.id, world.outsider.id):
        assert call(client, method, url, world.items).status_code == 404, (method, url)


def test_draft_round_is_hidden_from_members_but_hq_may_view(app, world, make_round):
    draft = make_round(title="準備中", targets=[world.pref], status="draft")
    member = new_client(app, world.users["own"])
    assert member.get(f"/answers/{draft.id}").status_code == 403
    for method, url in org_routes(draft.id, world.pref.id):
        assert call(member, method, url, [i.id for i in draft.items]).status_code == 403, url
    staff = new_client(app, world.users["staff"])
    assert staff.get(f"/answers/{draft.id}").status_code == 200
    assert staff.get(f"/answers/{draft.id}/org/{world.pref.id}").status_code == 200
    assert staff.get(f"/answers/{draft.id}/org/{world.pref.id}/edit").status_code == 403


def test_no_branch_sees_another_branchs_answer(app, world):
    own = new_client(app, world.users["own"])
    own.post(
        f"/answers/{world.round.id}/org/{world.pref.id}/edit",
        data=answer_post(
            0, {world.items[0]: {"stance": "amend", "reason": "北海道の秘密の理由"}}, item_ids=world.items
        ),
    )
    other = new_client(app, world.users["other"])
    for url in (f"/answers/{world.round.id}", "/answers/", f"/answers/{world.round.id}/org/{world.other.id}"):
        assert "北海道の秘密の理由" not in other.get(url).get_data(as_text=True)
    staff = new_client(app, world.users["staff"])
    assert "北海道の秘密の理由" in staff.get(f"/answers/{world.round.id}/org/{world.pref.id}").get_data(as_text=True)
    html = staff.get(f"/answers/{world.round.id}").get_data(as_text=True)
    assert "北海道本部" in html and "青森県本部" in html and "代理入力" in html
