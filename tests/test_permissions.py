"""Every route of the app against every role: who may look, who may change, who is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from api_support import is_api_resource
from sqlalchemy import select

from consult.extensions import db

# Who may use an endpoint. Every route of the app must be listed: a new route fails until it is classified.
PUBLIC = {
    "auth.login",
    "main.health",
    "main.set_language",
    "static",
    "api-docs.openapi_json",  # the API's OpenAPI document and its browsable reference
    "api-reference.docs",
    "api-reference.docs_file",
    "notify.unsubscribe",  # the link in every e-mail: its signed token is the permission
}
ANY_USER = {
    "main.index",
    "auth.password",
    "auth.logout",
    "answers.index",
    "auth.account",
    "auth.create_api_token",
    "auth.revoke_api_token",
    "notify.inbox",
    "notify.mark_read",
    "notify.preferences",
}
ADMIN = {"auth.users", "orgs.index", "auth.reset_user_password", "auth.set_user_active", "audit.index"}
ADMIN |= {"notify.failures"}
PUBLISHED = {"review.published", "review.published_docx", "review.published_xlsx"}  # issue 12: the downloads
ROUND_VIEWERS = {"answers.round_page", "rounds.download", *PUBLISHED}  # HQ and target members
OUTCOME = {"followup.outcome"}  # a campaign's grades: HQ, and every branch once published (the world publishes)
ANSWER = {"answers.show", "answers.edit", "answers.history", "answers.no_opinion", "answers.withdraw"}
HQ_PREFIXES = ("rounds.", "review.", "letters.", "followup.")
HQ = {"answers.board", "answers.board_download", "answers.extensions"}  # headquarters' pages of the answers feature
# issue 10: a prefecture's part of a round put to it (opening its sub-round, building its answer from its unions')
PREFECTURE = {
    "answers.subround_new",
    "answers.roll_up_page",
    "answers.roll_up_item",
    "answers.decision",
    "answers.publish_back",
}
HQ |= {"notify.reminders", "notify.save_schedule", "notify.remind", "notify.follow"}  # a round's reminders
ROLES = ("anonymous", "member", "other_member", "outsider", "staff", "admin")


def classify(endpoint: str) -> str:
    for name, group in (
        ("public", PUBLIC),
        ("any", ANY_USER),
        ("admin", ADMIN),
        ("viewers", ROUND_VIEWERS),
        ("answer", ANSWER),
        ("prefecture", PREFECTURE),
        ("outcome", OUTCOME),
    ):
        if endpoint in group:
            return name
    if endpoint.startswith(HQ_PREFIXES) or endpoint in HQ:
        return "hq"
    raise AssertionError(f"route {endpoint} is not classified in test_permissions.py")


def allowed(kind: str, role: str) -> bool:
    """The rule each class of route follows, for the answer of the member's own organisation."""
    return {
        "public": True,
        "any": role != "anonymous",
        "admin": role == "admin",
        "hq": role in ("staff", "admin"),
        "viewers": role in ("member", "other_member", "staff", "admin"),
        "answer": role in ("member", "staff", "admin"),
        "prefecture": role in ("member", "other_member"),  # the round's target prefectures
        "outcome": role != "anonymous",
    }[kind]


@pytest.fixture
def world(app, make_org, make_user, make_round, hq, clock):
    """A round open to Tokyo and Osaka, with an attachment, a milestone, an answer from each, a published
    answer table and a request campaign with one letter, item and addressee."""
    from consult.answers import operations as answers
    from consult.letters import operations as letters
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    tokyo, osaka, okinawa = make_org("東京"), make_org("大阪"), make_org("沖縄")
    users = {
        "member": make_user("member", tokyo),
        "other_member": make_user("member", osaka),
        "outsider": make_user("member", okinawa),
        "staff": make_user("staff", hq),
        "admin": make_user("admin", hq),
    }
    round_ = make_round(targets=[tokyo, osaka], deadline=clock() + timedelta(days=3))
    with app.app_context():
        loaded = db.session.get(Round, round_.id)
        attachment = rounds.add_attachment(loaded, "案.pdf", b"%PDF-1.4 test", None, clock(), 10**6)
        milestone = rounds.add_milestone(loaded, clock().date(), "中央執行委員会", "確認", user=None, now=clock())
        from consult.auth.models import User

        for key, org in (("member", tokyo), ("other_member", osaka)):
            data = answers.AnswerInput(general_comment=f"{org.name}の意見")
            answers.save_answer(loaded, org.id, db.session.get(User, users[key].id), data, 0, clock())
        # Tokyo submits one opinion, so that routes naming an opinion (…/opinions/<id>/similar) reach a real one.
        typed = answers.AnswerInput(
            opinions={loaded.items[0].id: answers.OpinionInput(stance="amend", proposed_text="財源を確保する")},
            general_comment="東京の意見",
        )
        answers.save_answer(
            loaded, tokyo.id, db.session.get(User, users["member"].id), typed, None, clock(), submit=True
        )
        from consult.answers.models import Answer, Opinion

        tokyo_opinion = db.session.scalar(
            select(Opinion.id).join(Answer).where(Answer.round_id == round_.id, Answer.organization_id == tokyo.id)
        )
        opinion_id = tokyo_opinion  # issue 10: the trace pages name a real opinion too
        from consult.review import answering as hq_answering

        answer_template = hq_answering.create_template(loaded, "定型", None, "検討します。", user=None, now=clock())
        loaded.answers_published_at = clock()
        campaign = letters.create_campaign(
            letters.CampaignInput(
                title="省庁要請",
                date_year=2025,
                date_month=3,
                date_day=None,
                date_style="western",
                sender_org="全日本自治団体労働組合",
                sender_title="中央執行委員長",
                sender_name="石上千博",
                round_id=round_.id,
            ),
            clock(),
            user=None,
        )
        letter = letters.add_letter(
            campaign, letters.LetterInput(title="要請書", greeting="敬意を表します。"), user=None, now=clock()
        )
        request_item = letters.add_request_item(letter, "支援を充実すること。", user=None, now=clock())
        addressee = letters.add_addressee(
            campaign, letter, letters.AddresseeInput(organisation="総務省"), user=None, now=clock()
        )
        from consult.followup import operations as following

        visit = following.add_visit(campaign, following.VisitInput(addressee.id, clock()), user=None, now=clock())
        visit_file = following.add_visit_file(visit, "回答.pdf", b"%PDF-1.4 answer", user=None, now=clock())
        indicator = following.save_indicator(
            campaign, "現年分収納率", "%", True, [(2024, 98.4, 98.1)], user=None, now=clock()
        )
        following.publish(campaign, True, user=None, now=clock())
        from consult.review import groups as grouping

        group = grouping.confirm_group(loaded.items[0], [tokyo_opinion], "財源", user=None, now=clock())  # issue 12
        db.session.commit()
        ids = {
            "round_id": round_.id,
            "item_id": loaded.items[0].id,
            "attachment_id": attachment.id,
            "milestone_id": milestone.id,
            "filename": "style.css",
            "opinion_id": tokyo_opinion,
            "campaign_id": campaign.id,
            "letter_id": letter.id,
            "addressee_id": addressee.id,
            "token_id": 999999,
            "visit_id": visit.id,
            "indicator_id": indicator.id,
            "file_id": visit_file.id,
            "request_item_id": request_item.id,  # issue 10: the trace pages
            "real_opinion_id": opinion_id,
            "template_id": answer_template.id,  # issue 12: 定型文
            "group_id": group.id,
        }
        letter_ids = dict(ids, item_id=request_item.id)
    return {"ids": ids, "letter_ids": letter_ids, "users": users, "tokyo": tokyo, "osaka": osaka}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if is_api_resource(rule.endpoint):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _client_for(app, role, world):
    client = app.test_client()
    if role != "anonymous":
        response = client.post("/login", data={"login": world["users"][role].login, "password": "password123"})
        assert response.status_code == 302
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_route_against_role(app, world, role):
    client = _client_for(app, role, world)
    checked = 0
    for rule, method in _routes(app):
        kind = classify(rule.endpoint)
        if rule.endpoint == "auth.logout":
            continue
        for org_key in ("tokyo", "osaka") if "org_id" in rule.arguments else (None,):
            ids = world["letter_ids"] if rule.endpoint.startswith(("letters.", "followup.")) else world["ids"]
            values = {k: v for k, v in ids.items() if k in rule.arguments}
            if rule.endpoint == "review.trace_opinion":
                values["opinion_id"] = ids["real_opinion_id"]
            if org_key:
                values["org_id"] = world[org_key].id
            url = rule.build(values)[1]
            may = allowed(kind, role)
            if kind == "answer" and org_key == "osaka" and role == "member":
                may = False  # a branch never sees another branch's answer
            if kind == "answer" and org_key == "osaka" and role == "other_member":
                may = True
            if may and method != "GET":
                continue  # allowed changes are exercised, with real data, by the feature tests
            response = client.open(url, method=method, data={})
            code = response.status_code
            label = f"{role} {method} {url}"
            assert code < 500, label
            if not may:
                expected = 302 if role == "anonymous" else 403
                assert code == expected, f"{label}: {code}, expected {expected}"
                if role == "anonymous":
                    assert "/login" in response.headers["Location"], label
            else:
                assert code not in (401, 403, 404), f"{label}: {code}"
            checked += 1
    assert checked >= 20


def test_unknown_ids_are_404_for_hq(app, world, login_as):
    client = login_as(type("U", (), {"login": world["users"]["admin"].login})())
    rid = world["ids"]["round_id"]
    for url in (
        f"/rounds/{rid + 999}",
        f"/rounds/{rid + 999}/board",
        f"/rounds/{rid}/items/999999/edit",
        f"/answers/{rid + 999}",
        f"/answers/{rid}/org/999999",
        "/rounds/attachments/999999",
        f"/answers/{rid + 999}/org/{world['tokyo'].id}/history",
    ):
        assert client.get(url).status_code == 404, url


def test_refused_post_changes_nothing(app, world):
    """A branch member posting to headquarters' routes is refused and the round is unchanged."""
    from consult.rounds.models import Round

    client = _client_for(app, "member", world)
    rid = world["ids"]["round_id"]
    assert client.post(f"/rounds/{rid}/close").status_code == 403
    assert client.post(f"/rounds/{rid}/edit", data={"title": "乗っ取り"}).status_code == 403
    with app.app_context():
        round_ = db.session.get(Round, rid)
        assert round_.status == "open" and round_.title == "テスト討議"


def test_member_cannot_read_another_branch_answer_text(app, world):
    client = _client_for(app, "member", world)
    rid = world["ids"]["round_id"]
    own = client.get(f"/answers/{rid}/org/{world['tokyo'].id}").get_data(as_text=True)
    assert "東京の意見" in own and "大阪の意見" not in own
    assert client.get(f"/answers/{rid}/org/{world['osaka'].id}").status_code == 403


# ---------------------------------------------------------------- issue 10: the two tiers

TIER_ROLES = ("anonymous", "pref_officer", "other_pref_officer", "union_member", "other_union_member", "staff", "admin")
# The screens a prefecture's policy officer uses on its own sub-round (the same as headquarters' on its rounds).
RUNNER_PAGES = {
    "review.matrix",
    "review.matrix_xlsx",
    "rounds.detail",
    "rounds.edit",
    "rounds.open_",
    "rounds.close",
    "rounds.attachments",
    "rounds.delete_attachment",
    "rounds.milestones",
    "rounds.delete_milestone",
    "rounds.targets",
    "answers.board",
    "answers.board_download",
    "answers.extensions",
}
READ_ONLY_FOR_RUNNER = {"answers.show", "answers.history"}  # a prefecture reads its unions' answers, never writes


def tier_allowed(endpoint: str, role: str, on_subround: bool) -> bool:
    """Who may use a page of Tokyo's sub-round (on_subround), or of headquarters' round put to the prefectures."""
    hq = role in ("staff", "admin")
    if endpoint in PREFECTURE:  # the prefecture's own part of a round put to it
        return not on_subround and role in ("pref_officer", "other_pref_officer")
    if not on_subround:
        return (
            hq
            or (endpoint in ROUND_VIEWERS - PUBLISHED and role in ("pref_officer", "other_pref_officer"))
            or (endpoint in ANSWER and role == "pref_officer")
        )
    if endpoint in RUNNER_PAGES:
        return hq or role == "pref_officer"
    if endpoint == "answers.round_page":
        return hq or role in ("pref_officer", "union_member")
    if endpoint in ANSWER:  # Hachioji's answer to Tokyo's sub-round
        return hq or role == "union_member" or (role == "pref_officer" and endpoint in READ_ONLY_FOR_RUNNER)
    return hq  # the rest of the round and review pages stay headquarters'


@pytest.fixture
def tiers(app, make_org, make_user, make_round, hq, clock):
    """HQ's round put to Tokyo and Osaka; each runs a sub-round with its own unions; Hachioji has answered."""
    from consult.answers import operations as answering
    from consult.auth.models import User
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    tokyo, osaka = make_org("東京都本部"), make_org("大阪府本部")
    hachioji = make_org("八王子市職労", kind="local", parent=tokyo)
    sakai = make_org("堺市職労", kind="local", parent=osaka)
    users = {
        "pref_officer": make_user("member", tokyo),
        "other_pref_officer": make_user("member", osaka),
        "union_member": make_user("member", hachioji),
        "other_union_member": make_user("member", sakai),
        "staff": make_user("staff", hq),
        "admin": make_user("admin", hq),
    }
    round_ = make_round(targets=[tokyo, osaka], deadline=clock() + timedelta(days=10))
    with app.app_context():
        parent = db.session.get(Round, round_.id)
        subs = {}
        for key in ("pref_officer", "other_pref_officer"):
            officer = db.session.get(User, users[key].id)
            subs[key] = rounds.open_subround(
                parent, officer, deadline=clock() + timedelta(days=5), background="", organization_ids=None, now=clock()
            )
        sub = subs["pref_officer"]
        attachment = rounds.add_attachment(sub, "県本部資料.pdf", b"%PDF-1.4 test", None, clock(), 10**6)
        milestone = rounds.add_milestone(sub, clock().date(), "県本部執行委員会", "決定", user=None, now=clock())
        union = db.session.get(User, users["union_member"].id)
        data = answering.AnswerInput(general_comment="八王子の意見")
        answering.save_answer(sub, hachioji.id, union, data, 0, clock(), submit=False)
        db.session.commit()
        ids = {
            "sub": {
                "round_id": sub.id,
                "item_id": sub.items[0].id,
                "attachment_id": attachment.id,
                "milestone_id": milestone.id,
                "opinion_id": 999999,
                "org_id": hachioji.id,
            },
            "parent": {"round_id": parent.id, "item_id": parent.items[0].id, "opinion_id": 999999, "org_id": tokyo.id},
        }
    return {"ids": ids, "users": users, "tokyo": tokyo, "osaka": osaka, "hachioji": hachioji, "sakai": sakai}


@pytest.mark.parametrize("role", TIER_ROLES)
def test_two_tier_routes_against_role(app, tiers, role):
    """Every page of a round (its id in the path), on Tokyo's sub-round and on headquarters' round, for the
    prefecture officers and the union members of two prefectures."""
    client = app.test_client()
    if role != "anonymous":
        login = client.post("/login", data={"login": tiers["users"][role].login, "password": "password123"})
        assert login.status_code == 302
    checked = 0
    for rule, method in _routes(app):
        if "round_id" not in rule.arguments or not rule.endpoint.startswith(("rounds.", "answers.", "review.")):
            continue
        for where in ("sub", "parent"):
            ids = tiers["ids"][where]
            if not set(rule.arguments) <= set(ids):
                continue
            url = rule.build({k: ids[k] for k in rule.arguments})[1]
            may = role != "anonymous" and tier_allowed(rule.endpoint, role, where == "sub")
            if may and method != "GET":
                continue  # allowed changes are exercised by tests/test_federation.py
            if may and ids.get("opinion_id") == 999999 and "opinion_id" in rule.arguments:
                continue  # no such opinion: a page naming a real one is checked in test_every_route_against_role
            response = client.open(url, method=method, data={})
            code, label = response.status_code, f"{role} {method} {url} ({rule.endpoint}, {where})"
            assert code < 500, label
            if not may:
                expected = {302} if role == "anonymous" else {403}
                if rule.endpoint in PUBLISHED and role != "anonymous":
                    expected = {403, 404}  # an answer table not published is unknown to a branch
                assert code in expected, f"{label}: {code}, expected {expected}"
            else:
                assert code not in (401, 403, 404), f"{label}: {code}"
            checked += 1
    assert checked >= 40


def test_a_prefecture_never_sees_another_prefectures_unions(app, tiers):
    client = app.test_client()
    client.post("/login", data={"login": tiers["users"]["other_pref_officer"].login, "password": "password123"})
    sub = tiers["ids"]["sub"]["round_id"]
    hachioji = tiers["hachioji"].id
    for url in (f"/rounds/{sub}", f"/rounds/{sub}/board", f"/rounds/{sub}/targets", f"/answers/{sub}/org/{hachioji}"):
        assert client.get(url).status_code == 403, url
    parent = tiers["ids"]["parent"]["round_id"]
    own_sub = client.get(f"/answers/{parent}/subround", follow_redirects=True)  # redirects to its own sub-round
    assert own_sub.status_code == 200
    own_id = int(own_sub.request.path.rsplit("/", 1)[1])
    for url in (f"/rounds/{own_id}/board", f"/rounds/{own_id}/targets", f"/answers/{parent}/roll-up"):
        page = client.get(url).get_data(as_text=True)
        assert "堺市職労" in page or url.endswith("roll-up"), url
        assert "八王子市職労" not in page and "東京都本部" not in page, url
