"""The API's conventions: tokens, JSON in UTF-8, Japan-time timestamps, problem documents, rate limits, the spec."""

from __future__ import annotations

import re

import pytest
from api_support import ApiClient

from consult.extensions import db

# ---------------------------------------------------------------- tokens


def test_a_token_acts_as_its_user(api_as, make_user, make_org, hq):
    tokyo = make_org("東京都本部", parent=hq)
    member = make_user("member", tokyo, name="東京 花子")
    me = api_as(member).get("/me")
    assert me.status_code == 200
    body = me.get_json()
    assert body["organization_id"] == tokyo.id and body["role"] == "member" and body["name"] == "東京 花子"
    assert body["organization"]["name"] == "東京都本部"


def test_only_the_hash_of_a_token_is_stored(app, make_user, make_token, hq):
    from consult.auth.models import ApiToken
    from consult.auth.operations import token_hash

    token = make_token(make_user("staff", hq))
    assert re.fullmatch(r"cst_[A-Za-z0-9_-]{43}", token)
    with app.app_context():
        row = db.session.scalars(db.select(ApiToken)).one()
        stored = [str(value) for value in (row.name, row.prefix, row.token_hash)]
        assert token not in stored and row.token_hash == token_hash(token) and token.startswith(row.prefix)


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer cst_not-a-real-token", "Bearer nonsense", "Token abc"],
)
def test_missing_or_unknown_tokens_are_refused(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="consult"')
    assert response.get_json()["status"] == 401


def test_a_revoked_token_is_refused_from_the_next_request(api_as, make_user, hq):
    staff = api_as(make_user("staff", hq))
    mine = staff.get("/me/tokens").get_json()
    assert len(mine) == 1 and mine[0]["revoked_at"] is None
    revoked = staff.delete(f"/me/tokens/{mine[0]['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    refused = staff.get("/me")
    assert refused.status_code == 401
    assert refused.get_json()["detail"] == "この API トークンは取り消されています。"


def test_the_token_of_a_disabled_user_is_refused(app, api_as, make_user, hq):
    admin = api_as(make_user("admin", hq))
    member_user = make_user("member", hq)
    member = api_as(member_user)
    assert member.get("/me").status_code == 200
    assert admin.patch(f"/users/{member_user.id}", json={"active": False}).status_code == 200
    refused = member.get("/me")
    assert refused.status_code == 401 and "利用停止" in refused.get_json()["detail"]
    assert admin.patch(f"/users/{member_user.id}", json={"active": True}).get_json()["active"] is True
    assert member.get("/me").status_code == 200


def test_a_logged_in_browser_is_not_authenticated_by_its_cookie(client, make_user, hq, login_as):
    admin = make_user("admin", hq)
    login_as(admin)
    assert client.get("/rounds/").status_code == 200  # the pages see the session
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert client.post("/api/v1/rounds", json={"title": "x"}).status_code == 401


def test_bearer_requests_need_no_csrf_token(app, make_user, make_token, hq, database_url, clock):
    """With CSRF protection on (as in production), a bearer POST is accepted and a cookie POST still is not."""
    from consult import create_app

    csrf_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t", "CLOCK": clock})
    token = make_token(make_user("staff", hq))
    api = ApiClient(csrf_app.test_client(), token)
    created = api.post(
        "/rounds", json={"title": "CSRF なし", "opens_at": "2025-03-11T10:00:00+09:00", "deadline": "2025-03-20T17:00"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert csrf_app.test_client().post("/rounds/new", data={"title": "x"}).status_code in (400, 302)


def test_a_tokens_use_is_noted_at_most_once_a_minute(app, make_user, make_token, api_as, hq, clock):
    from consult.auth.models import ApiToken

    staff = make_user("staff", hq)
    token = make_token(staff)
    api = api_as(staff, token)

    def last_used():
        with app.app_context():
            return db.session.scalars(db.select(ApiToken.last_used_at)).one()

    assert last_used() is None
    api.get("/me")
    first = last_used()
    assert first == clock()
    clock.advance(seconds=30)
    api.get("/me")
    assert last_used() == first
    clock.advance(seconds=31)
    api.get("/rounds")
    assert last_used() == clock()


def test_create_token_prints_the_token_alone_on_stdout(app, runner, make_user, hq):
    make_user("staff", hq, login="scripted")
    result = app.test_cli_runner().invoke(args=["create-token", "scripted", "--name", "Excel マクロ"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and re.fullmatch(r"cst_[A-Za-z0-9_-]{43}", lines[0])
    assert "Excel マクロ" in result.stderr
    me = ApiClient(app.test_client(), lines[0]).get("/me")
    assert me.status_code == 200 and me.get_json()["login"] == "scripted"
    missing = app.test_cli_runner().invoke(args=["create-token", "nobody"])
    assert missing.exit_code == 1 and missing.stdout == "" and "nobody" in missing.stderr


def test_the_account_page_creates_a_token_shown_once_and_revokes_it(client, make_user, hq, login_as, app):
    user = make_user("member", hq)
    login_as(user)
    page = client.get("/account")
    assert page.status_code == 200 and "API トークン" in page.get_data(as_text=True)
    refused = client.post("/account/tokens", data={"name": ""})
    assert "トークンの名前を入力してください" in refused.get_data(as_text=True)
    created = client.post("/account/tokens", data={"name": "名簿システム"})
    html = created.get_data(as_text=True)
    assert created.headers["Cache-Control"] == "no-store"
    token = re.search(r'<code class="token" id="new-token">(cst_[^<]+)</code>', html).group(1)
    assert "二度と表示されません" in html
    assert token not in client.get("/account").get_data(as_text=True)  # shown once
    api = ApiClient(app.test_client(), token)
    assert api.get("/me").get_json()["login"] == user.login
    token_id = api.get("/me/tokens").get_json()[0]["id"]
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert api.get("/me").status_code == 401
    assert "取り消し済み" in client.get("/account").get_data(as_text=True)


def test_a_user_cannot_revoke_another_users_token_on_the_page(client, make_user, make_token, hq, login_as, api_as):
    owner = make_user("staff", hq)
    token = make_token(owner)
    token_id = api_as(owner, token).get("/me/tokens").get_json()[0]["id"]
    login_as(make_user("member", hq))
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert api_as(owner, token).get("/me").status_code == 200


# ---------------------------------------------------------------- JSON, times, problems


def test_japanese_is_sent_as_utf8_not_escaped(api_as, make_user, hq):
    response = api_as(make_user("staff", hq, name="本部 太郎")).get("/me")
    raw = response.get_data()
    assert response.mimetype == "application/json"
    assert "本部 太郎".encode() in raw and b"\\u" not in raw


def test_times_go_out_in_japan_time_and_any_offset_comes_in(api_as, make_user, hq):
    staff = api_as(make_user("staff", hq))
    created = staff.post(
        "/rounds",
        json={
            "title": "時刻のテスト",
            "opens_at": "2025-03-11T01:00:00Z",  # UTC
            "deadline": "2025-03-17T17:00",  # no offset: Japan time, as the forms read it
        },
    ).get_json()
    assert created["opens_at"] == "2025-03-11T10:00:00+09:00"
    assert created["deadline"] == "2025-03-17T17:00:00+09:00"
    moved = staff.patch(f"/rounds/{created['id']}", json={"deadline": "2025-03-17T12:00:00+04:00"}).get_json()
    assert moved["deadline"] == "2025-03-17T17:00:00+09:00"


def test_bad_input_is_a_problem_with_japanese_messages_per_field(api_as, make_user, hq):
    staff = api_as(make_user("staff", hq))
    response = staff.post("/rounds", json={"title": "", "opens_at": "3月11日", "unknown": 1})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "/api/v1/problems/invalid" and body["status"] == 422
    assert body["detail"] == "入力内容に誤りがあります。"
    assert body["errors"] == {
        "title": ["空にはできません。"],
        "opens_at": ["日時は ISO 8601 で入力してください（例: 2025-03-17T17:00:00+09:00）。"],
        "deadline": ["この項目は必須です。"],
        "unknown": ["この項目名は使えません。"],
    }
    late = staff.post("/rounds", json={"title": "逆", "opens_at": "2025-03-20T10:00", "deadline": "2025-03-19T10:00"})
    assert late.get_json()["errors"] == {"deadline": ["締切は受付開始より後の日時にしてください。"]}


def test_control_characters_are_refused_not_dropped(api_as, make_user, hq):
    staff = api_as(make_user("staff", hq))
    response = staff.post(
        "/rounds", json={"title": "題名\x00", "opens_at": "2025-03-11T10:00", "deadline": "2025-03-12T10:00"}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["title"] == [
        "使えない制御文字が含まれています。取り除いてから送ってください。"
    ]


def test_broken_json_and_unknown_paths_are_problems(api_as, make_user, hq):
    staff = api_as(make_user("staff", hq))
    broken = staff.open("POST", "/rounds", data="{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    assert "JSON" in broken.get_json()["detail"]
    missing = staff.get("/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = staff.open("DELETE", "/rounds")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    huge = staff.get("/rounds/99999999999")
    assert huge.status_code == 404


def test_a_refused_operation_is_a_problem_with_its_message(api_as, make_user, hq):
    staff = api_as(make_user("staff", hq))
    created = staff.post(
        "/rounds", json={"title": "空の討議", "opens_at": "2025-03-11T10:00", "deadline": "2025-03-20T10:00"}
    ).get_json()
    refused = staff.post(f"/rounds/{created['id']}/open")
    assert refused.status_code == 409
    assert refused.get_json() == {
        "type": "/api/v1/problems/state",
        "title": "Conflict",
        "status": 409,
        "detail": "項目が一つもありません。項目を追加してから受付を開始してください。",
    }


def test_rate_limit_per_token_in_the_login_throttles_storage(app, make_user, make_token, hq, database_url, clock):
    """Counted per token in RATELIMIT_STORAGE_URI (here Redis, as several servers share it): 429 with Retry-After."""
    import uuid

    from consult import create_app

    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "t",
            "CLOCK": clock,
            "API_RATE_LIMIT": "3 per minute",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "RATELIMIT_KEY_PREFIX": f"consult-test-api-{uuid.uuid4().hex}",
            "WTF_CSRF_ENABLED": False,
        }
    )
    first, second = make_token(make_user("staff", hq)), make_token(make_user("staff", hq))
    one = ApiClient(limited.test_client(), first)
    assert [one.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    throttled = one.get("/me")
    assert throttled.status_code == 429 and throttled.mimetype == "application/problem+json"
    assert int(throttled.headers["Retry-After"]) > 0
    assert "リクエストが多すぎます" in throttled.get_json()["detail"]
    assert ApiClient(limited.test_client(), second).get("/me").status_code == 200  # another token, its own count


# ---------------------------------------------------------------- the OpenAPI document and the reference


def test_the_spec_is_valid_openapi_31_and_covers_every_api_route(app, client):
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    documented = {
        (path, method.upper()) for path, ops in spec["paths"].items() for method in ops if method != "parameters"
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method) in documented, (path, method)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    put = spec["paths"]["/api/v1/rounds/{round_id}/answers/{organization_id}"]["put"]
    body = put["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AnswerPut"}
    fields = spec["components"]["schemas"]["AnswerPut"]["properties"]
    # the contract's fields, plus a prefecture's decision (issue 10), optional
    assert set(fields) == {"version", "opinions", "proposals", "comment", "decided_by", "decided_on"}
    assert set(spec["components"]["schemas"]["AnswerPut"].get("required", [])) <= {"version", "opinions"}
    opinion = spec["components"]["schemas"]["OpinionIn"]["properties"]
    assert opinion["stance"]["enum"] == ["agree", "amend", "add", "delete", "oppose", "other"]
    assert set(opinion) == {
        "item_id",
        "stance",
        "referred_text",
        "proposed_text",
        "reason",
        "sources",
    }  # sources: issue 10
    problem = spec["components"]["responses"]["CONFLICT"]["content"]
    assert list(problem) == ["application/problem+json"]


def test_the_reference_is_served_by_the_app_under_its_csp(client):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>" not in html and "style=" not in html  # no inline script or style (the CSP forbids them)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == ["/api/v1/docs/swagger-ui-bundle.js", "/static/api-docs.js"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for url in (*scripts, "/api/v1/docs/swagger-ui.css"):
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.data) > 100, url
    assert 'data-spec-url="/api/v1/openapi.json"' in html


def test_times_of_the_past_and_far_future_are_bounded(api_as, make_user, hq):
    staff = api_as(make_user("staff", hq))
    response = staff.post(
        "/rounds", json={"title": "x", "opens_at": "0001-01-01T00:00:00+14:00", "deadline": "9999-12-31"}
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"opens_at", "deadline"}
