"""CSRF on every state-changing route, and no state change on any GET."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from api_support import is_api_resource
from sqlalchemy import select

from consult import create_app
from consult.extensions import db

PASSWORD = "password123"


@pytest.fixture
def csrf_app(app, database_url, clock):
    """The same database as `app` (which empties it afterwards), with CSRF protection on as in production."""
    protected = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": True,
            "CLOCK": clock,
        }
    )
    yield protected
    with protected.app_context():
        db.engine.dispose()


@pytest.fixture
def world(app, make_org, make_user, make_round, hq, clock):
    """A round open to Tokyo with an attachment, a milestone, Tokyo's answer, a published table, a campaign."""
    from consult.answers import operations as answers
    from consult.auth.models import User
    from consult.letters import operations as letters
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    tokyo = make_org("東京")
    member, admin = make_user("member", tokyo), make_user("admin", hq)
    round_ = make_round(targets=[tokyo], deadline=clock() + timedelta(days=3))
    with app.app_context():
        loaded = db.session.get(Round, round_.id)
        attachment = rounds.add_attachment(loaded, "案.pdf", b"%PDF-1.4 test", None, clock(), 10**6)
        milestone = rounds.add_milestone(loaded, clock().date(), "中央執行委員会", "確認", user=None, now=clock())
        answer = answers.save_answer(
            loaded,
            tokyo.id,
            db.session.get(User, member.id),
            answers.AnswerInput(general_comment="東京の意見"),
            0,
            clock(),
            submit=True,
        )
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
        from consult.auth.operations import create_token
        from consult.review import answering as hq_answering

        answer_template = hq_answering.create_template(loaded, "定型", None, "検討します。", user=None, now=clock())
        token, _secret = create_token(db.session.get(User, admin.id), "スクリプト", now=clock())
        from consult.review.models import OpinionGroup

        group = OpinionGroup(round_id=round_.id, item_id=loaded.items[0].id, created_at=clock(), updated_at=clock())
        db.session.add(group)  # issue 12: a kept group (論点), for its routes
        db.session.commit()
        ids = {
            "token_id": token.id,
            "round_id": round_.id,
            "item_id": loaded.items[0].id,
            "attachment_id": attachment.id,
            "milestone_id": milestone.id,
            "filename": "style.css",
            "opinion_id": answer.opinions[0].id if answer.opinions else 1,
            "campaign_id": campaign.id,
            "letter_id": letter.id,
            "addressee_id": addressee.id,
            "org_id": tokyo.id,
            "visit_id": visit.id,
            "indicator_id": indicator.id,
            "file_id": visit_file.id,
            "request_item_id": request_item.id,
            "template_id": answer_template.id,
            "group_id": group.id,
        }
        letter_ids = dict(ids, item_id=request_item.id)
    return {"ids": ids, "letter_ids": letter_ids, "member": member, "admin": admin, "tokyo": tokyo}


def snapshot(app) -> dict[str, list]:
    """Every row of every table, so any write at all shows up."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
        db.session.remove()
        return tables


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf_token on the page"
    return match.group(1)


def login(client, login_id: str, password: str = PASSWORD):
    token = token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"login": login_id, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def url_for_rule(rule, world) -> str:
    ids = world["letter_ids"] if rule.endpoint.startswith(("letters.", "followup.")) else world["ids"]
    return rule.build({k: v for k, v in ids.items() if k in rule.arguments})[1]


# Plausible form data for every kind of form, so a refusal is due to the missing token and nothing else.
FORM = {
    "title": "乗っ取り",
    "text": "書き換え",
    "login": "intruder",
    "name": "侵入者",
    "password": "password999",
    "current": PASSWORD,
    "new": "password999",
    "confirm": "password999",
    "role": "admin",
    "organization_id": "1",
    "general_comment": "書き換え",
    "action": "submit",
    "version": "1",
    "user_id": "1",
    "active": "0",
    "disposition": "adopted",
    "hq_view": "書き換え",
    "organisation": "侵入",
    "reason": "理由",
    "until": "2030-01-01T10:00",
    "deadline": "2030-01-01T10:00",
    "step": "1",
    "heading": "書き換え",
    "number": "9",
    "body": "書き換え",
    "meeting": "会議",
    "date": "2025-03-20",
}


def test_every_post_route_refuses_a_request_without_the_token(csrf_app, world):
    client = login(csrf_app.test_client(), world["admin"].login)
    before = snapshot(csrf_app)
    posts = [
        rule
        for rule in csrf_app.url_map.iter_rules()
        if "POST" in rule.methods and not is_api_resource(rule.endpoint)  # the API takes no cookie: 401 instead
    ]
    assert len(posts) >= 30
    for rule in posts:
        url = url_for_rule(rule, world)
        response = client.post(url, data=dict(FORM))
        text = response.get_data(as_text=True)
        if rule.endpoint == "answers.edit":  # validates its own token so the typed text comes back
            assert response.status_code == 200, url
            assert "画面の有効期限が切れました。入力内容はそのまま残っています" in text
            assert "書き換え" in text  # what was typed is on the page again
        else:
            assert response.status_code == 400, f"{rule.endpoint} {url}: {response.status_code}"
            assert "画面の有効期限が切れました" in text, url
        assert snapshot(csrf_app) == before, f"{rule.endpoint} changed the database without a token"
    assert client.get("/rounds/").status_code == 200  # the refused logout did not log anyone out


def test_the_same_post_with_the_token_is_accepted(csrf_app, world):
    """The refusal above is about the token: with it, closing the round works."""
    from consult.rounds.models import Round

    client = login(csrf_app.test_client(), world["admin"].login)
    rid = world["ids"]["round_id"]
    token = token_of(client.get(f"/rounds/{rid}").get_data(as_text=True))
    assert client.post(f"/rounds/{rid}/close", data={}).status_code == 400
    assert client.post(f"/rounds/{rid}/close", data={"csrf_token": token}).status_code == 302
    with csrf_app.app_context():
        assert db.session.get(Round, rid).status == "closed"


def test_login_without_token_is_refused(csrf_app, world):
    client = csrf_app.test_client()
    response = client.post("/login", data={"login": world["admin"].login, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/rounds/").status_code == 302  # not logged in


@pytest.mark.parametrize("role", ["admin", "member"])
def test_no_get_route_changes_anything(csrf_app, world, role):
    client = login(csrf_app.test_client(), world[role].login)
    before = snapshot(csrf_app)
    checked = 0
    for rule in csrf_app.url_map.iter_rules():
        if "GET" not in rule.methods or is_api_resource(rule.endpoint):  # the API: tests/test_api_permissions.py
            continue
        response = client.get(url_for_rule(rule, world))
        assert response.status_code < 500, rule.endpoint
        checked += 1
    assert checked >= 30
    assert snapshot(csrf_app) == before
