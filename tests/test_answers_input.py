"""Bad input on the answer form: the typed text is never lost and nothing wrong is stored."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from test_answers_support import PASSWORD, answer_post, edit_url, hidden_version, stored

from consult import create_app
from consult.extensions import db


@pytest.fixture
def world(make_org, make_user, make_round, hq):
    pref = make_org("北海道本部")
    round_ = make_round(targets=[pref], items=2)
    return SimpleNamespace(
        pref=pref, round=round_, member=make_user("member", pref), items=[item.id for item in round_.items]
    )


def post(client, w, opinions, **kwargs):
    return client.post(edit_url(w.round, w.pref), data=answer_post(0, opinions, item_ids=w.items, **kwargs))


def test_a_100000_character_paste_is_refused_next_to_the_field_with_text_kept(app, world, login_as):
    w = world
    pasted = "あ" * 99_990 + "ここまで貼り付けた"
    response = post(
        login_as(w.member), w, {w.items[0]: {"stance": "amend", "reason": pasted, "proposed_text": "短い修正案"}}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "10,000文字以内で入力してください（現在 99,999 文字）。" in html
    assert re.search(rf'id="item-{w.items[0]}-reason"[^>]*>\r?\n?' + "あ" * 100, html)
    assert "ここまで貼り付けた" in html and "短い修正案" in html
    assert stored(app, w.round.id, w.pref.id) is None


def test_exactly_10000_characters_are_accepted(app, world, login_as):
    w = world
    assert post(login_as(w.member), w, {w.items[0]: {"stance": "amend", "reason": "字" * 10_000}}).status_code == 302
    assert len(stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]][3]) == 10_000


def test_proposal_heading_over_300_characters_is_refused(app, world, login_as):
    w = world
    response = post(login_as(w.member), w, {}, proposals=[{"heading": "見" * 301, "proposed_text": "内容"}])
    assert response.status_code == 200 and "300文字以内で入力してください（現在 301 文字）。" in response.get_data(
        as_text=True
    )
    assert stored(app, w.round.id, w.pref.id) is None


def test_control_characters_are_removed_and_shown_before_saving(app, world, login_as):
    w = world
    client = login_as(w.member)
    response = post(
        client,
        w,
        {w.items[0]: {"stance": "amend", "proposed_text": "見出し\x00本文\x1bです\x7f"}},
        general_comment="全体\x0cの意見",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("表示できない制御文字を取り除きました。内容を確認して、もう一度保存してください。") == 2
    assert "見出し本文です" in html and "全体の意見" in html and "\x00" not in html and "\x1b" not in html
    assert stored(app, w.round.id, w.pref.id) is None
    # Saving the cleaned text as shown goes through; line breaks from the browser are kept as plain \n.
    response = post(
        client,
        w,
        {w.items[0]: {"stance": "amend", "proposed_text": "見出し本文です\r\n2行目"}},
        general_comment="全体の意見",
    )
    assert response.status_code == 302
    answer = stored(app, w.round.id, w.pref.id)
    assert answer["opinions"][w.items[0]][2] == "見出し本文です\n2行目"
    assert answer["general_comment"] == "全体の意見"


def test_emoji_round_trip(app, world, login_as):
    w = world
    client = login_as(w.member)
    text = "賛成です👍🏽 家族👨‍👩‍👧 𠮷野家"
    assert post(client, w, {w.items[1]: {"stance": "agree", "reason": text}}).status_code == 302
    assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[1]][3] == text
    assert text in client.get(f"/answers/{w.round.id}/org/{w.pref.id}").get_data(as_text=True)
    assert text in client.get(edit_url(w.round, w.pref)).get_data(as_text=True)


def test_html_and_script_are_shown_as_text(app, world, login_as):
    w = world
    client = login_as(w.member)
    evil = '<script>alert("x")</script><b>太字</b>'
    post(
        client,
        w,
        {w.items[0]: {"stance": "amend", "proposed_text": evil}},
        proposals=[{"heading": "<img src=x onerror=alert(1)>", "proposed_text": "p"}],
    )
    assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]][2] == evil
    for url in (
        f"/answers/{w.round.id}/org/{w.pref.id}",
        edit_url(w.round, w.pref),
        f"/answers/{w.round.id}/org/{w.pref.id}/history",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>太字</b>" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


def test_stance_not_in_the_list_gets_a_message_not_a_500(app, world, login_as):
    w = world
    response = post(login_as(w.member), w, {w.items[0]: {"stance": "approve'; DROP TABLE", "reason": "理由は残る"}})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "意見の区分は一覧から選んでください。" in html and "理由は残る" in html
    assert stored(app, w.round.id, w.pref.id) is None


def test_text_without_stance_is_kept_as_other(app, world, login_as):
    w = world
    assert post(login_as(w.member), w, {w.items[0]: {"stance": "", "proposed_text": "区分なしの案"}}).status_code == 302
    assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]] == ("other", "", "区分なしの案", "")


def test_garbage_version_is_treated_as_stale_not_as_a_crash(app, world, login_as):
    w = world
    client = login_as(w.member)
    post(client, w, {w.items[0]: {"stance": "agree"}})
    body = answer_post(0, {w.items[0]: {"stance": "oppose"}}, item_ids=w.items)
    body["version"] = "abc"
    response = client.post(edit_url(w.round, w.pref), data=body)
    assert response.status_code == 200 and "先に保存しました" in response.get_data(as_text=True)
    assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]][0] == "agree"


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1) or match.group(2)


def test_csrf_failure_keeps_the_typed_text_and_a_fresh_token_saves(app, database_url, clock, world):
    w = world
    csrf_app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": True,
            "CLOCK": clock,
        }
    )
    try:
        client = csrf_app.test_client()
        token = _token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"login": w.member.login, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        page = client.get(edit_url(w.round, w.pref)).get_data(as_text=True)
        typed = {w.items[0]: {"stance": "amend", "proposed_text": "長時間かけた修正案"}}
        body = answer_post(hidden_version(page), typed, item_ids=w.items)
        body["csrf_token"] = "expired-or-from-an-old-session"
        response = client.post(edit_url(w.round, w.pref), data=body)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "長時間かけた修正案" in html and "入力内容はそのまま残っています" in html
        assert stored(app, w.round.id, w.pref.id) is None
        body["csrf_token"] = _token(html)
        response = client.post(edit_url(w.round, w.pref), data=body)
        assert response.status_code == 302
        assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]][2] == "長時間かけた修正案"
        # The small forms without typed text stay under the global protection.
        response = client.post(f"/answers/{w.round.id}/org/{w.pref.id}/no-opinion", data={"version": 0})
        assert response.status_code == 400
        assert stored(app, w.round.id, w.pref.id)["status"] == "draft"
    finally:
        with csrf_app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_page_opened_afresh_shows_the_same_fields_as_the_form(app, lang):
    """The GET page reads its values from an AnswerPage, not from the 200-field form; both give the same HTML."""
    from flask import render_template_string, session

    from consult.answers import forms
    from consult.answers.fields import AnswerFields
    from consult.answers.operations import AnswerInput, OpinionInput, ProposalInput

    page = (
        "{{ form.csrf_token }}{{ form.version }}{% set f = fields(form, {'referred_text': 'hint <&>'}) %}"
        "{% for i in form.item_ids %}{{ f.item(i) }}{% endfor %}"
        "{% for i in range(form.proposal_count) %}{{ f.proposal(i) }}{% endfor %}{{ f.general() }}"
    )
    item_ids = [11, 12, 13]
    data = AnswerInput(
        opinions={11: OpinionInput("agree", "a<b>&\"'", "x", ""), 12: OpinionInput("", "", "", "理由")},
        proposals=[ProposalInput('見出し"<', "提案", "理由")],
        general_comment="全体 & 意見",
    )
    app.config["WTF_CSRF_ENABLED"] = True  # as served: the form carries its token
    with app.test_request_context("/", method="POST", data=forms._initial(data, 7)):
        session["lang"] = lang
        as_form = render_template_string(page, form=forms.answer_form(item_ids, 3), fields=AnswerFields)
        afresh = render_template_string(page, form=forms.AnswerPage(item_ids, 3, data, 7), fields=AnswerFields)
    token = re.compile(r'(name="csrf_token" type="hidden" value=)"[^"]*"')
    assert token.sub(r"\1", afresh) == token.sub(r"\1", as_form)
    assert "見出し&#34;&lt;" in afresh and 'value="7"' in afresh
    assert ("Stance" in afresh) == (lang == "en")
