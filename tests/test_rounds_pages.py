"""Creating, editing, listing and moving rounds through their states, as headquarters does it in the browser."""

from datetime import UTC, datetime, timedelta

import pytest

from consult.extensions import db
from consult.rounds.models import Round

VALID = {
    "title": "自治体DXの推進について",
    "background": "第一段落。\n\n第二段落。",
    "opens_at": "2025-02-27T10:00",
    "deadline": "2025-03-17T17:00",
}


@pytest.fixture
def staff_client(make_user, login_as):
    return login_as(make_user("staff"))


def _only_round(app) -> Round:
    with app.app_context():
        rounds = db.session.query(Round).all()
        assert len(rounds) == 1
        db.session.expunge_all()
        return rounds[0]


def test_create_round_stores_jst_times_as_utc_and_shows_paragraphs(app, staff_client):
    response = staff_client.post("/rounds/new", data=VALID)
    assert response.status_code == 302
    round_ = _only_round(app)
    assert response.headers["Location"].endswith(f"/rounds/{round_.id}")
    assert round_.status == "draft"
    assert round_.deadline == datetime(2025, 3, 17, 8, 0, tzinfo=UTC)  # 17:00 JST
    assert round_.opens_at == datetime(2025, 2, 27, 1, 0, tzinfo=UTC)
    page = staff_client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert "<p>第一段落。</p>" in page and "<p>第二段落。</p>" in page
    assert "2025年3月17日(月) 17:00" in page
    listing = staff_client.get("/rounds/").get_data(as_text=True)
    assert "自治体DXの推進について" in listing and "0/0 提出済" in listing and "準備中" in listing


def test_deadline_before_opening_is_refused_next_to_deadline_and_title_kept(app, staff_client):
    data = {**VALID, "title": "入力した題名", "deadline": "2025-02-27T10:00"}
    response = staff_client.post("/rounds/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="deadline-err">締切は受付開始より後の日時にしてください。' in page
    assert 'value="入力した題名"' in page
    with app.app_context():
        assert db.session.query(Round).count() == 0


def test_missing_title_and_bad_datetime_get_japanese_messages(staff_client):
    page = staff_client.post("/rounds/new", data={**VALID, "title": "  ", "opens_at": "きのう"}).get_data(as_text=True)
    assert "題名を入力してください。" in page
    assert "日時を「2025-03-17 17:00」のように入力してください。" in page
    assert 'value="きのう"' in page


def test_100000_character_background_is_refused_with_limit_and_text_kept(app, staff_client):
    huge = "あ" * 100_000
    response = staff_client.post("/rounds/new", data={**VALID, "background": huge})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "背景・趣旨は20,000文字以内にしてください（入力は100,000文字です）。" in page
    assert huge in page
    with app.app_context():
        assert db.session.query(Round).count() == 0


def test_control_characters_are_removed_put_back_and_need_a_second_save(app, staff_client):
    data = {**VALID, "title": "題名\x00に\x1b制御文字", "background": "一行目\r\n二行目\x07"}
    page = staff_client.post("/rounds/new", data=data).get_data(as_text=True)
    assert "表示できない制御文字を取り除きました。内容を確認して、もう一度保存してください。" in page
    assert 'value="題名に制御文字"' in page
    with app.app_context():
        assert db.session.query(Round).count() == 0
    response = staff_client.post(
        "/rounds/new", data={**VALID, "title": "題名に制御文字", "background": "一行目\n二行目"}
    )
    assert response.status_code == 302
    assert _only_round(app).background == "一行目\n二行目"


def test_html_and_emoji_in_title_are_stored_and_shown_as_text(app, staff_client):
    title = "<script>alert(1)</script> 要請 😀"
    assert staff_client.post("/rounds/new", data={**VALID, "title": title}).status_code == 302
    round_ = _only_round(app)
    assert round_.title == title
    page = staff_client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 要請 😀" in page
    assert "<script>alert" not in page


def test_edit_round_and_stale_edit_is_refused_keeping_typed_values(app, staff_client, make_round):
    round_ = make_round(status="draft", items=1)
    page = staff_client.get(f"/rounds/{round_.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{round_.version}"' in page
    stale = {**VALID, "title": "古い画面からの題名", "version": str(round_.version)}
    fresh = {**VALID, "title": "先に保存した題名", "version": str(round_.version)}
    assert staff_client.post(f"/rounds/{round_.id}/edit", data=fresh).status_code == 302
    response = staff_client.post(f"/rounds/{round_.id}/edit", data=stale)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "他の人がこの討議を先に更新しました。" in page
    assert 'value="古い画面からの題名"' in page  # typed text kept
    assert "先に保存した題名" in page  # what is stored, shown for comparison
    assert _only_round(app).title == "先に保存した題名"


def test_open_without_items_or_targets_is_refused_then_opens_and_closes(app, staff_client, make_round, make_org):
    pref = make_org("北海道本部")
    empty = make_round(status="draft", items=0, targets=[pref])
    response = staff_client.post(f"/rounds/{empty.id}/open", follow_redirects=True)
    assert "項目が一つもありません。項目を追加してから受付を開始してください。" in response.get_data(as_text=True)
    no_targets = make_round(status="draft", items=2, targets=[])
    response = staff_client.post(f"/rounds/{no_targets.id}/open", follow_redirects=True)
    assert "対象組織が選ばれていません。" in response.get_data(as_text=True)

    ready = make_round(status="draft", items=2, targets=[pref])
    response = staff_client.post(f"/rounds/{ready.id}/open", follow_redirects=True)
    assert "受付を開始しました。" in response.get_data(as_text=True)
    response = staff_client.post(f"/rounds/{ready.id}/close", follow_redirects=True)
    assert "受付を締め切りました。" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, ready.id).status == "closed"
        assert db.session.get(Round, empty.id).status == "draft"


def test_close_from_draft_and_open_after_deadline_are_refused(app, staff_client, make_round, make_org, clock):
    pref = make_org()
    draft = make_round(status="draft", targets=[pref])
    response = staff_client.post(f"/rounds/{draft.id}/close", follow_redirects=True)
    assert "「準備中」の討議は締め切れません。" in response.get_data(as_text=True)
    past = make_round(
        status="draft", targets=[pref], deadline=clock() - timedelta(hours=1), opens_at=clock() - timedelta(days=3)
    )
    response = staff_client.post(f"/rounds/{past.id}/open", follow_redirects=True)
    assert "締切が過ぎています。" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, draft.id).status == "draft"
        assert db.session.get(Round, past.id).status == "draft"


def test_milestones_and_targets(app, staff_client, make_round, make_org, hq):
    prefs = [make_org(f"県本部{i}", parent=hq) for i in range(3)]
    local = make_org("市職労", kind="local", parent=prefs[0])
    round_ = make_round(status="draft", targets=[])
    response = staff_client.post(f"/rounds/{round_.id}/targets", data={"all_prefectures": "y", "org": [str(local.id)]})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Round, round_.id).target_ids() == {p.id for p in prefs} | {local.id}
    page = staff_client.get(f"/rounds/{round_.id}/targets").get_data(as_text=True)
    assert '<input checked id="all_prefectures" name="all_prefectures" type="checkbox" value="y">' in page
    assert f'value="{local.id}" checked' in page
    staff_client.post(f"/rounds/{round_.id}/targets", data={"org": [str(prefs[1].id)]})
    with app.app_context():
        assert db.session.get(Round, round_.id).target_ids() == {prefs[1].id}

    response = staff_client.post(
        f"/rounds/{round_.id}/milestones",
        data={"date": "2025-03-24", "meeting": "中央執行委員会", "what": "自治労案の決定"},
    )
    assert response.status_code == 302
    page = staff_client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert "2025年3月24日" in page and "中央執行委員会" in page and "県本部 1組織" in page
    page = staff_client.post(f"/rounds/{round_.id}/milestones", data={"date": "", "meeting": ""}).get_data(as_text=True)
    assert "日付を入力してください。" in page and "会議名などを入力してください。" in page


def test_member_gets_403_on_every_rounds_route(app, make_user, login_as, make_round, make_org):
    pref = make_org()
    round_ = make_round(targets=[pref])
    with app.app_context():
        item_id = db.session.get(Round, round_.id).items[0].id
    client = login_as(make_user("member", org=pref))
    rid = round_.id
    gets = [
        "/rounds/",
        "/rounds/new",
        f"/rounds/{rid}",
        f"/rounds/{rid}/edit",
        f"/rounds/{rid}/items",
        f"/rounds/{rid}/items/{item_id}/edit",
        f"/rounds/{rid}/items/import",
        f"/rounds/{rid}/attachments",
        f"/rounds/{rid}/milestones",
        f"/rounds/{rid}/targets",
        f"/rounds/{rid}/board",
        f"/rounds/{rid}/board.csv",
    ]
    posts = [
        "/rounds/new",
        f"/rounds/{rid}/edit",
        f"/rounds/{rid}/items",
        f"/rounds/{rid}/items/{item_id}/edit",
        f"/rounds/{rid}/items/{item_id}/move",
        f"/rounds/{rid}/items/{item_id}/remove",
        f"/rounds/{rid}/items/import",
        f"/rounds/{rid}/attachments",
        f"/rounds/{rid}/milestones",
        f"/rounds/{rid}/targets",
        f"/rounds/{rid}/open",
        f"/rounds/{rid}/close",
        f"/rounds/{rid}/extensions",
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, data={"direction": "up"}).status_code == 403, url
    with app.app_context():
        assert db.session.get(Round, rid).status == "open"


def test_anonymous_is_sent_to_login(client, make_round):
    round_ = make_round()
    response = client.get(f"/rounds/{round_.id}/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_ids_are_404_including_another_rounds_item(app, staff_client, make_round):
    first, second = make_round(), make_round()
    with app.app_context():
        other_item = db.session.get(Round, second.id).items[0].id
    for url in [
        "/rounds/99999",
        "/rounds/99999/edit",
        "/rounds/99999/board",
        "/rounds/99999/board.csv",
        f"/rounds/{first.id}/items/99999/edit",
        f"/rounds/{first.id}/items/{other_item}/edit",
        "/rounds/attachments/99999",
    ]:
        assert staff_client.get(url).status_code == 404, url
    for url in [
        f"/rounds/{first.id}/items/{other_item}/remove",
        f"/rounds/{first.id}/items/{other_item}/move",
        f"/rounds/{first.id}/milestones/99999/delete",
        f"/rounds/{first.id}/attachments/99999/delete",
        "/rounds/99999/open",
    ]:
        assert staff_client.post(url, data={"direction": "up"}).status_code == 404, url
    with app.app_context():
        assert len(db.session.get(Round, second.id).items) == 3
