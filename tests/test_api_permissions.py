"""Every API route × every role: who may read, who may change, who is refused, and with which status.

A route of the API that is not classified here fails the test, as tests/test_permissions.py does for the pages.
Refusals: 401 without a usable token (none, revoked, a disabled user's, or only a logged-in browser's cookie);
403 when the caller may know the object but may not do this; 404 when the caller may not know it exists.
"""

from __future__ import annotations

import pytest
from api_support import ApiClient, is_api_resource
from sqlalchemy import select

from consult.extensions import db

# What each (endpoint, method) is. Every route of the API must be listed: a new route fails until it is classified.
ANY = "any user"  # every authenticated user, on what they may see
ADMIN = "admin"  # headquarters' admins
HQ = "hq"  # headquarters (admin and staff)
VIEWER = "viewer"  # headquarters and the round's target branches
ANSWER = "answer"  # headquarters and the organisation itself
CAMPAIGNS = "campaigns"  # headquarters' request campaigns: a branch gets 403 on the list, 404 on a campaign
OPENER = "opener"  # issue 10: a prefecture (an inner node) the round is put to opens its own sub-round

ROUTES = {
    "api_auth.Me": {"GET": ANY},
    "api_notify.Notices": {"GET": ANY},
    "api_notify.ReadNotices": {"POST": ANY},
    "api_notify.Preferences": {"GET": ANY, "PUT": ANY},
    "api_notify.Remind": {"POST": HQ},
    "api_auth.MyTokens": {"GET": ANY, "POST": ANY},
    "api_auth.MyToken": {"DELETE": ANY},
    "api_auth.Users": {"GET": ADMIN, "POST": ADMIN},
    "api_auth.UserResource": {"GET": ADMIN, "PATCH": ADMIN},
    "api_orgs.Organizations": {"GET": ANY},
    "api_orgs.OrganizationResource": {"GET": ANY},
    "api_rounds.Rounds": {"GET": ANY, "POST": HQ},
    "api_rounds.RoundResource": {"GET": VIEWER, "PATCH": HQ},
    "api_rounds.OpenRound": {"POST": HQ},
    "api_rounds.CloseRound": {"POST": HQ},
    "api_rounds.Items": {"GET": VIEWER, "POST": HQ},
    "api_rounds.ItemResource": {"GET": VIEWER, "PATCH": HQ, "DELETE": HQ},
    "api_rounds.MoveItem": {"POST": HQ},
    "api_rounds.Targets": {"GET": HQ, "PUT": HQ},
    "api_rounds.Milestones": {"GET": VIEWER, "POST": HQ},
    "api_rounds.MilestoneResource": {"DELETE": HQ},
    "api_rounds.Attachments": {"GET": VIEWER, "POST": HQ},
    "api_rounds.AttachmentResource": {"GET": VIEWER, "DELETE": HQ},
    "api_rounds.Extensions": {"GET": HQ, "POST": HQ},
    "api_answers.AnswerResource": {"GET": ANSWER, "PUT": ANSWER},
    "api_answers.SubmitAnswer": {"POST": ANSWER},
    "api_answers.WithdrawAnswer": {"POST": ANSWER},
    "api_answers.NoOpinion": {"POST": ANSWER},
    "api_answers.AnswerHistory": {"GET": ANSWER},
    "api_answers.Board": {"GET": HQ},
    "api_review.Aggregate": {"GET": HQ},
    "api_review.Opinions": {"GET": HQ},
    "api_review.OpinionResource": {"GET": HQ},
    "api_review.Disposition": {"PUT": HQ},
    "api_review.Publish": {"POST": HQ},
    "api_review.Unpublish": {"POST": HQ},
    "api_review.Published": {"GET": VIEWER},
    "api_review.Search": {"GET": HQ},
    "api_review.SimilarOpinions": {"GET": HQ},
    "api_review.ProposedGroups": {"GET": HQ},
    "api_review.BulkAnswer": {"POST": HQ},
    "api_review.Assignments": {"POST": HQ},
    "api_review.AnswerTemplates": {"GET": HQ, "POST": HQ},
    "api_review.AnswerTemplateResource": {"GET": HQ, "PUT": HQ, "DELETE": HQ},
    "api_review.KeptGroups": {"GET": HQ, "POST": HQ},  # issue 12: kept groups (論点)
    "api_review.GroupResource": {"GET": HQ, "PATCH": HQ, "DELETE": HQ},
    "api_review.MoveGroupOpinion": {"POST": HQ},
    "api_review.SplitGroup": {"POST": HQ},
    "api_review.GroupRequestItem": {"POST": HQ},
    "api_review.OpinionRequestItem": {"POST": HQ},
    "api_letters.Campaigns": {"GET": HQ, "POST": HQ},
    "api_letters.CampaignResource": {"GET": CAMPAIGNS, "PATCH": CAMPAIGNS},
    "api_letters.Letters": {"GET": CAMPAIGNS, "POST": CAMPAIGNS},
    "api_letters.LetterResource": {"GET": CAMPAIGNS, "PATCH": CAMPAIGNS, "DELETE": CAMPAIGNS},
    "api_letters.RequestItems": {"POST": CAMPAIGNS},
    "api_letters.RequestItemResource": {"GET": CAMPAIGNS, "PATCH": CAMPAIGNS, "DELETE": CAMPAIGNS},
    "api_letters.MoveRequestItem": {"POST": CAMPAIGNS},
    "api_letters.ItemOpinions": {"GET": CAMPAIGNS, "POST": CAMPAIGNS},
    "api_letters.ItemOpinion": {"DELETE": CAMPAIGNS},
    "api_letters.Addressees": {"POST": CAMPAIGNS},
    "api_letters.AddresseeResource": {"GET": CAMPAIGNS, "PATCH": CAMPAIGNS, "DELETE": CAMPAIGNS},
    "api_letters.AddresseeLetter": {"GET": CAMPAIGNS},
    "api_letters.CampaignZip": {"GET": CAMPAIGNS},
    "api_letters.AddresseeOverrides": {"GET": CAMPAIGNS, "PUT": CAMPAIGNS},
    "api_letters.CampaignCopy": {"POST": CAMPAIGNS},
    "api_letters.LetterCopy": {"POST": CAMPAIGNS},
    "api_letters.AddresseeCopy": {"POST": CAMPAIGNS},
    "api_letters.LetterImport": {"POST": HQ},
    # issue 10: sub-consultations (the two-tier matrix is test_subround_api_routes_against_tier_roles below)
    "api_rounds.Subrounds": {"GET": VIEWER, "POST": OPENER},
    "api_rounds.SubOpinions": {"PUT": HQ},
    "api_answers.PublishBack": {"PUT": OPENER},
    "api_followup.Visits": {"GET": CAMPAIGNS, "POST": CAMPAIGNS},
    "api_followup.VisitResource": {"GET": CAMPAIGNS, "PATCH": CAMPAIGNS, "DELETE": CAMPAIGNS},
    "api_followup.VisitFileResource": {"DELETE": CAMPAIGNS},
    "api_followup.ConsultOnAnswer": {"POST": CAMPAIGNS},
    "api_followup.CarryIntoRound": {"POST": CAMPAIGNS},
    "api_followup.Indicators": {"GET": HQ, "POST": HQ},  # a branch: 403, as on the list of campaigns
    "api_followup.IndicatorResource": {"GET": CAMPAIGNS, "PATCH": CAMPAIGNS, "DELETE": CAMPAIGNS},
    "api_followup.ItemAnswerResource": {"GET": CAMPAIGNS, "PUT": CAMPAIGNS},
    "api_followup.Grading": {"GET": CAMPAIGNS, "PUT": CAMPAIGNS},
    "api_followup.CarryOver": {"POST": CAMPAIGNS},
    "api_followup.Outcome": {"GET": ANY},  # the world's outcome is published; unpublished: tests/test_followup_api.py
}

AUTHENTICATED = ("admin", "staff", "prefecture", "union", "other_prefecture")
UNAUTHENTICATED = ("anonymous", "revoked", "disabled", "cookie")
ROLES = AUTHENTICATED + UNAUTHENTICATED
BRANCHES = ("prefecture", "union", "other_prefecture")
TARGETS = ("prefecture", "union")  # the round is put to Tokyo and Hachioji, not to Osaka


def expected(kind: str, role: str, path_has_id: bool) -> int | None:
    """The refusal a role gets on a class of route (None: allowed)."""
    if role in UNAUTHENTICATED:
        return 401
    if kind == OPENER:  # headquarters and a local union get 403; a prefecture the round is not put to, 404
        return None if role == "prefecture" else 404 if role == "other_prefecture" else 403
    if role in ("admin",) or (role == "staff" and kind != ADMIN) or kind == ANY:
        return None
    if kind == ADMIN:
        return 403
    if kind == CAMPAIGNS:
        return 404  # a branch may not know a campaign exists
    round_visible = role in TARGETS
    if kind in (VIEWER, ANSWER):
        return None if round_visible else 404
    # HQ: on a round the branch sees, 403; on one it does not, 404; without a path id (a collection), 403
    return 403 if round_visible or not path_has_id else 404


def path_values(rule, world, role) -> dict:
    ids = dict(world["ids"])
    # a branch asks for its own organisation's answer; headquarters (and the refused) for Tokyo's
    ids["organization_id"] = world["own_org"][role] if role in BRANCHES else world["orgs"]["tokyo"].id
    if rule.endpoint.startswith(("api_letters.", "api_followup.")):
        ids["item_id"] = ids["request_item_id"]
    if rule.endpoint == "api_auth.MyToken":
        ids["token_id"] = world["token_ids"].get(role, 1)
    if rule.endpoint.startswith("api_auth.User"):
        ids["user_id"] = world["users"]["union"].id
    return {name: ids[name] for name in rule.arguments}


def client_for(app, world, role) -> ApiClient:
    if role == "anonymous":
        return ApiClient(app.test_client(), None)
    if role == "cookie":  # a browser logged in as the admin, sending its session cookie only
        client = app.test_client()
        login = client.post("/login", data={"login": world["users"]["admin"].login, "password": "password123"})
        assert login.status_code == 302
        return ApiClient(client, None)
    return ApiClient(app.test_client(), world["tokens"][role])


def api_routes(app):
    for rule in app.url_map.iter_rules():
        if is_api_resource(rule.endpoint):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def rows(app) -> dict:
    """Every row of every table but the tokens' (their last use is noted on reads)."""
    with app.app_context():
        found = {
            table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables
            if table.name != "api_token"
        }
        db.session.remove()
        return found


def test_every_api_route_is_classified(app):
    found = {(rule.endpoint, method) for rule, method in api_routes(app)}
    listed = {(endpoint, method) for endpoint, methods in ROUTES.items() for method in methods}
    assert found - listed == set(), "classify these API routes in tests/test_api_permissions.py"
    assert listed - found == set(), "these classified routes no longer exist"
    assert len(found) >= 60


@pytest.mark.parametrize("role", ROLES)
def test_every_api_route_against_role(app, api_world, role):
    client = client_for(app, api_world, role)
    before = rows(app)
    checked = 0
    for rule, method in api_routes(app):
        kind = ROUTES[rule.endpoint][method]
        url = rule.build(path_values(rule, api_world, role))[1]
        refusal = expected(kind, role, path_has_id=bool(rule.arguments))
        label = f"{role} {method} {url} ({kind})"
        if refusal is None and method != "GET":
            # An allowed change, sent with a field no schema has: refused as invalid (422), so the access check
            # passed and nothing is written; body-less changes are exercised by the round-trip tests.
            if method == "DELETE" or rule.endpoint.endswith(("OpenRound", "CloseRound", "Publish", "Unpublish")):
                continue
            response = client.open(method, url, json={"no_such_field": 1})
            assert response.status_code == 422, f"{label}: {response.status_code} {response.get_data(as_text=True)}"
            checked += 1
            continue
        response = client.open(method, url, json={"no_such_field": 1} if method != "GET" else None)
        code = response.status_code
        if refusal is None:
            assert code == 200, f"{label}: {code} {response.get_data(as_text=True)[:300]}"
        else:
            assert code == refusal, f"{label}: {code}, expected {refusal}: {response.get_data(as_text=True)[:300]}"
            assert response.mimetype == "application/problem+json", label
            if code == 401:
                assert response.headers["WWW-Authenticate"].startswith("Bearer"), label
        checked += 1
    assert checked >= 50
    if role != "admin" and role != "staff":
        assert rows(app) == before, f"a refused request of {role} changed the database"


@pytest.mark.parametrize("role", BRANCHES)
def test_a_branch_never_sees_a_round_being_prepared(app, api_world, role):
    client = client_for(app, api_world, role)
    draft = api_world["ids"]["draft_round_id"]
    assert client.get(f"/rounds/{draft}").status_code == 404
    assert draft not in [r["id"] for r in client.get("/rounds").get_json()]
    org = api_world["own_org"][role]
    assert client.get(f"/rounds/{draft}/answers/{org}").status_code == 404


def test_a_branch_never_reads_another_branch_answer(app, api_world):
    rid = api_world["ids"]["round_id"]
    orgs = api_world["orgs"]
    tokyo = client_for(app, api_world, "prefecture")
    hachioji = client_for(app, api_world, "union")
    assert tokyo.get(f"/rounds/{rid}/answers/{orgs['tokyo'].id}").get_json()["comment"] == "東京の全体意見"
    # Tokyo's own local union is still another organisation's answer: unknown to Tokyo, as on the pages
    assert tokyo.get(f"/rounds/{rid}/answers/{orgs['hachioji'].id}").status_code == 404
    assert hachioji.get(f"/rounds/{rid}/answers/{orgs['tokyo'].id}").status_code == 404
    assert tokyo.get(f"/rounds/{rid}/answers/{orgs['osaka'].id}").status_code == 404
    assert tokyo.put(f"/rounds/{rid}/answers/{orgs['hachioji'].id}", json={"version": 0}).status_code == 404


def test_the_published_table_hides_other_branches_names(app, api_world):
    rid = api_world["ids"]["round_id"]
    union = client_for(app, api_world, "union")
    rows_ = union.get(f"/rounds/{rid}/published").get_json()["items"]
    tokyo_row = next(row for row in rows_ if row["opinion_id"] == api_world["ids"]["opinion_id"])
    assert tokyo_row["organization_name"] == "他の組織" and tokyo_row["organization_id"] is None
    assert tokyo_row["hq_view"] == "本部の考え方"
    staff = client_for(app, api_world, "staff")
    named = staff.get(f"/rounds/{rid}/published").get_json()["items"]
    assert {row["organization_name"] for row in named} >= {"東京都本部"}


def test_organisations_a_branch_sees(app, api_world):
    orgs = api_world["orgs"]
    names = {o["name"] for o in client_for(app, api_world, "prefecture").get("/organizations").get_json()}
    assert names == {"全日本自治団体労働組合", "東京都本部", "八王子市職員労働組合"}
    union = client_for(app, api_world, "union")
    assert {o["name"] for o in union.get("/organizations").get_json()} == {
        "全日本自治団体労働組合",
        "東京都本部",
        "八王子市職員労働組合",
    }
    assert union.get(f"/organizations/{orgs['osaka'].id}").status_code == 404
    everything = client_for(app, api_world, "staff").get("/organizations").get_json()
    assert {o["name"] for o in everything} >= {"大阪府本部", "東京都本部"}


def test_another_users_token_is_unknown(app, api_world):
    staff_token = api_world["token_ids"]["staff"]
    response = client_for(app, api_world, "prefecture").delete(f"/me/tokens/{staff_token}")
    assert response.status_code == 404
    assert client_for(app, api_world, "staff").get("/me").status_code == 200


# ---------------------------------------------------------------- issue 10: the two tiers


def test_subround_api_routes_against_tier_roles(app, make_org, make_user, hq, clock, api_as):
    """Tokyo's sub-round through the API: its officer runs it, its union answers it, Osaka and Osaka's union
    never learn it exists, headquarters sees everything."""
    from datetime import timedelta

    from consult.auth.models import User
    from consult.rounds import operations as rounds

    tokyo, osaka = make_org("東京都本部"), make_org("大阪府本部")
    hachioji = make_org("八王子市職労", kind="local", parent=tokyo)
    sakai = make_org("堺市職労", kind="local", parent=osaka)
    people = {
        "pref_officer": make_user("member", tokyo),
        "other_pref_officer": make_user("member", osaka),
        "union_member": make_user("member", hachioji),
        "other_union_member": make_user("member", sakai),
        "staff": make_user("staff", hq),
    }
    with app.app_context():
        staff = db.session.get(User, people["staff"].id)
        parent = rounds.create_round(
            "三つの構想", "", clock() - timedelta(days=1), clock() + timedelta(days=9), staff, clock()
        )
        rounds.add_items(parent, [rounds.ItemDraft("1", "第1章", "本文")], clock(), user=staff)
        rounds.set_targets(parent, {tokyo.id, osaka.id}, user=staff, now=clock())
        rounds.open_round(parent, clock(), user=staff)
        officer = db.session.get(User, people["pref_officer"].id)
        sub = rounds.open_subround(
            parent, officer, deadline=clock() + timedelta(days=5), background="", organization_ids=None, now=clock()
        )
        db.session.commit()
        sid, pid = sub.id, parent.id
    clients = {role: api_as(user) for role, user in people.items()}
    answer = f"/api/v1/rounds/{sid}/answers/{hachioji.id}"
    expected = {
        # path: {role: status}
        f"/api/v1/rounds/{sid}": {"pref_officer": 200, "union_member": 200, "staff": 200},
        f"/api/v1/rounds/{sid}/board": {"pref_officer": 200, "union_member": 403, "staff": 200},
        f"/api/v1/rounds/{sid}/extensions": {"pref_officer": 200, "union_member": 403, "staff": 200},
        f"/api/v1/rounds/{sid}/targets": {"pref_officer": 200, "union_member": 403, "staff": 200},
        answer: {"pref_officer": 200, "union_member": 200, "staff": 200},
        f"/api/v1/rounds/{pid}/subrounds": {"pref_officer": 200, "other_pref_officer": 200, "staff": 200},
    }
    for path, allowed in expected.items():
        for role, client in clients.items():
            code = client.get(path).status_code
            assert code == allowed.get(role, 404), f"{role} GET {path}: {code}"
    # what each sees of the sub-rounds: its own only (HQ every one)
    assert [r["id"] for r in clients["pref_officer"].get(f"/api/v1/rounds/{pid}/subrounds").get_json()] == [sid]
    assert clients["other_pref_officer"].get(f"/api/v1/rounds/{pid}/subrounds").get_json() == []
    # the prefecture reads its union's answer but never writes it; the union writes its own
    assert clients["pref_officer"].put(answer, json={"version": 0}).status_code == 403
    assert clients["union_member"].put(answer, json={"version": 0}).status_code == 200
    assert clients["other_union_member"].put(answer, json={"version": 0}).status_code == 404
    # only the officer (not HQ, not a union, not another prefecture) changes the sub-round's board of extensions
    body = {"organization_id": hachioji.id, "until": (clock() + timedelta(days=6)).isoformat(), "reason": "大会"}
    assert clients["union_member"].post(f"/api/v1/rounds/{sid}/extensions", json=body).status_code == 403
    assert clients["other_pref_officer"].post(f"/api/v1/rounds/{sid}/extensions", json=body).status_code == 404
    assert clients["pref_officer"].post(f"/api/v1/rounds/{sid}/extensions", json=body).status_code == 201
    # the items of a sub-round are headquarters'
    item = {"number": "2", "heading": "追加", "text": ""}
    assert clients["pref_officer"].post(f"/api/v1/rounds/{sid}/items", json=item).status_code in (403, 409)
