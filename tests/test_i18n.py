"""UI strings go through Flask-Babel: Japanese by default, English where translated, Japanese where not."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import is_api_resource
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from consult.extensions import db

TRANSLATIONS = Path(__file__).resolve().parent.parent / "consult" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


# --- language selection -------------------------------------------------------------------------------------------


def test_default_page_is_japanese(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "<h1>ログイン</h1>" in html
    assert '<label for="login">ログインID</label>' in html
    assert "意見集約システム" in html
    assert "Log in" not in html


def test_login_page_in_english_when_the_session_says_so(client):
    html = _english(client).get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<title>Log in - Consultation System</title>" in html
    assert "<h1>Log in</h1>" in html
    assert '<label for="login">Login ID</label>' in html
    assert '<label for="password">Password</label>' in html
    assert '<span class="req">Required</span>' in html
    assert '<button type="submit" class="primary">Log in</button>' in html
    assert "ログインID" not in html


def test_validation_messages_follow_the_language(client):
    html = _english(client).post("/login", data={"login": "", "password": ""}).get_data(as_text=True)
    assert "Please enter your login ID." in html
    assert "Please enter your password." in html
    assert "Some entries are not valid." in html


def test_unsupported_session_language_falls_back_to_japanese(client):
    with client.session_transaction() as session:
        session["lang"] = "fr"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in html and "<h1>ログイン</h1>" in html


def test_untranslated_strings_fall_back_to_japanese(app, client, make_user, hq, login_as):
    """Every string of the app is translated (see the catalogue tests below); one that is not yet, say a string
    added since, shows in Japanese rather than as nothing."""
    from flask import render_template_string

    staff = make_user("staff", hq)
    login_as(staff)
    html = _english(client).get("/rounds/").get_data(as_text=True)
    assert ">Consultation rounds</a>" in html  # the navigation is translated
    assert "Create a new round" in html and "No rounds yet." in html  # so is the page
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        assert render_template_string("{{ _('まだ翻訳されていない文です。') }}") == "まだ翻訳されていない文です。"


def test_error_page_in_english(client, make_user, hq, login_as):
    login_as(make_user("staff", hq))
    response = _english(client).get("/rounds/999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found." in html and "Back to the top page" in html and "Error 404" in html


def test_flash_message_follows_the_language(client, make_user, hq, login_as):
    login_as(make_user("staff", hq))
    response = _english(client).post("/logout", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "You have been logged out." in html
    assert "Please log in." not in html
    assert "Please log in." in client.get("/rounds/", follow_redirects=True).get_data(as_text=True)


def test_answer_form_labels_and_buttons_in_english(client, make_org, make_user, make_round, login_as):
    tokyo = make_org("東京")
    member = make_user("member", tokyo)
    round_ = make_round(targets=[tokyo], items=1)
    login_as(member)
    html = _english(client).get(f"/answers/{round_.id}/org/{tokyo.id}/edit").get_data(as_text=True)
    assert f"Enter answer: {tokyo.name}" in html
    for text in (
        "Stance",
        "Passage and current wording",
        "Proposed wording",
        "Reason",
        "General comment",
        "Save draft",
        "Submit",
        'Submit "No opinion"',
        "Add a proposal",
    ):
        assert f">{text}<" in html, text
    assert '<option selected value="">No opinion</option>' in html or '<option value="">No opinion</option>' in html
    # user data is never translated: the round's title and items stay as typed
    assert "項目1" in html
    index = client.get("/answers/").get_data(as_text=True)
    assert "Rounds to answer" in index and "Your organisation's answer" in index and "テスト討議" in index


def test_switch_language_by_post(client):
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "<h1>Log in</h1>" in client.get("/login").get_data(as_text=True)
    html = client.get("/login").get_data(as_text=True)
    assert 'name="lang" value="ja"' in html  # the switch back is offered
    client.post("/language", data={"lang": "ja", "next": "/login"})
    assert "<h1>ログイン</h1>" in client.get("/login").get_data(as_text=True)


def test_switch_language_refuses_bad_input(client):
    assert client.post("/language", data={"lang": "fr"}).status_code == 400
    assert client.get("/language").status_code == 405  # a GET never changes the language
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = client.post("/language", data={"lang": "en", "next": target})
        assert response.status_code == 302 and response.headers["Location"] == "/", target
    with client.session_transaction() as session:
        assert session["lang"] == "en"


# --- the catalogs ---------------------------------------------------------------------------------------------------


def test_compiled_catalog_exists_and_matches_the_po():
    po_path = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    mo_path = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
    assert (TRANSLATIONS / "messages.pot").is_file()
    assert po_path.is_file() and mo_path.is_file()
    with po_path.open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id and m.string}
    with mo_path.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id and m.string}
    assert len(po) >= 50
    assert mo == po, "run: pybabel compile -d consult/translations"


def _catalogue():
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def test_every_message_has_an_english_translation():
    """The English catalogue covers every string of the template (.pot): nothing missing, nothing fuzzy."""
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    catalogue = _catalogue()
    translated = {m.id for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
    assert len(template) > 800
    assert sorted(template - translated) == [], "translate them in consult/translations/en/LC_MESSAGES/messages.po"


def test_the_template_holds_every_string_of_the_sources():
    """The .pot is extracted from the sources as they are: a string added or changed without running
    pybabel extract (and update, and translating) fails here."""
    from babel.messages.extract import extract_from_dir

    root = TRANSLATIONS.parent.parent
    method_map = [("consult/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {
        message
        for _name, _line, message, _comments, _context in extract_from_dir(
            str(root), method_map, keywords=keywords, options_map={"templates/**.html": {}}
        )
    }
    found = {m if isinstance(m, str) else m[0] for m in found}
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert sorted(found - template) == [], "run pybabel extract (see docs/ARCHITECTURE.md)"
    assert sorted(template - found) == [], "run pybabel extract (see docs/ARCHITECTURE.md)"


def test_translations_keep_the_placeholders():
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(message.id)), message.id


# --- every page renders in both languages (catches a stray % in a template string) ----------------------------------


@pytest.fixture
def world(app, make_org, make_user, make_round, hq, clock):
    """A round with items, a milestone, an attachment, an extension, answers with opinions and proposals,
    a published answer table and a request campaign."""
    from consult.answers import operations as answers
    from consult.auth.models import User
    from consult.letters import operations as letters
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    tokyo, osaka = make_org("東京"), make_org("大阪")
    member, staff = make_user("member", tokyo), make_user("admin", hq)
    round_ = make_round(targets=[tokyo, osaka], deadline=clock() + timedelta(days=3))
    with app.app_context():
        loaded = db.session.get(Round, round_.id)
        item = loaded.items[0]
        attachment = rounds.add_attachment(loaded, "案.pdf", b"%PDF-1.4 test", None, clock(), 10**6)
        milestone = rounds.add_milestone(loaded, clock().date(), "中央執行委員会", "確認 100%", user=None, now=clock())
        rounds.grant_extension(
            loaded, osaka.id, clock() + timedelta(days=5), "大会のため", db.session.get(User, staff.id), clock()
        )
        data = answers.AnswerInput(
            opinions={item.id: answers.OpinionInput("amend", "現行 50%", "修正 60%", "理由 %s")},
            proposals=[answers.ProposalInput("新しい項目 %d", "提案 %", "理由")],
            general_comment="全体 10%",
        )
        answer = answers.save_answer(loaded, tokyo.id, db.session.get(User, member.id), data, 0, clock(), submit=True)
        answers.save_answer(
            loaded,
            osaka.id,
            db.session.get(User, staff.id),
            answers.AnswerInput(general_comment="大阪の下書き"),
            0,
            clock(),
        )
        loaded.answers_published_at = clock()
        campaign = letters.create_campaign(
            letters.CampaignInput(
                title="省庁要請 %",
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
        section = letters.add_request_item(letter, "マイナンバーカードについて", user=None, now=clock())
        request_item = letters.add_request_item(letter, "支援を充実すること。", parent=section, user=None, now=clock())
        addressee = letters.add_addressee(
            campaign, letter, letters.AddresseeInput(organisation="総務省"), user=None, now=clock()
        )
        from consult.followup import operations as following

        visit = following.add_visit(campaign, following.VisitInput(addressee.id, clock()), user=None, now=clock())
        visit_file = following.add_visit_file(visit, "回答.pdf", b"%PDF-1.4 answer", user=None, now=clock())
        indicator = following.save_indicator(
            campaign, "現年分収納率", "%", True, [(2024, 98.4, 98.1)], user=None, now=clock()
        )
        following.save_answer(
            request_item, addressee, following.AnswerInput("回答", grade="前進"), 0, user=None, now=clock()
        )
        following.publish(campaign, True, user=None, now=clock())
        from consult.review.models import OpinionGroup

        group = OpinionGroup(round_id=round_.id, item_id=item.id, name="論点", created_at=clock(), updated_at=clock())
        db.session.add(group)  # issue 12: a kept group (論点), for its pages
        db.session.commit()
        ids = {
            "round_id": round_.id,
            "item_id": item.id,
            "attachment_id": attachment.id,
            "milestone_id": milestone.id,
            "filename": "style.css",
            "opinion_id": answer.opinions[0].id,
            "campaign_id": campaign.id,
            "letter_id": letter.id,
            "addressee_id": addressee.id,
            "org_id": tokyo.id,
            "visit_id": visit.id,
            "indicator_id": indicator.id,
            "file_id": visit_file.id,
            "request_item_id": request_item.id,  # issue 10: the trace page
            "group_id": group.id,
        }
        letter_ids = dict(ids, item_id=request_item.id)
    return {"ids": ids, "letter_ids": letter_ids, "member": member, "staff": staff}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("role", ["staff", "member"])
def test_every_page_renders_in_every_language(app, world, role, lang):
    client = app.test_client()
    assert client.post("/login", data={"login": world[role].login, "password": "password123"}).status_code == 302
    with client.session_transaction() as session:
        session["lang"] = lang
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.logout") or is_api_resource(rule.endpoint):
            continue  # the API answers JSON (its details are Japanese): tests/test_api_conventions.py
        ids = world["letter_ids"] if rule.endpoint.startswith(("letters.", "followup.")) else world["ids"]
        url = rule.build({k: v for k, v in ids.items() if k in rule.arguments})[1]
        response = client.get(url)
        assert response.status_code < 500, f"{role} {lang} {url}: {response.status_code}"
        if response.mimetype == "text/html" and response.status_code == 200:
            html = response.get_data(as_text=True)
            assert f'<html lang="{lang}">' in html, url
            assert "%(" not in html, f"{url}: an unformatted placeholder"
        checked += 1
    assert checked >= 30
