"""Operations on campaigns, letters, items and addressees: validation with messages, stale edits, ordering,
subsets, links to opinions, dispositions and template uploads."""

from __future__ import annotations

import io

import pytest
from docx import Document
from letter_fixture import where_it_went
from sqlalchemy import func, select

from consult.answers import operations as answers
from consult.answers.models import Opinion
from consult.core.errors import ConflictError, DomainError
from consult.extensions import db
from consult.letters import numbering
from consult.letters import operations as ops
from consult.letters.compose import current_template, render_addressee
from consult.letters.models import Addressee, AddresseeItem, Campaign, Letter, LetterTemplate, RequestItem
from consult.letters.queries import items_with_opinions
from consult.letters.render import default_template_path

SENDER = ("全日本自治団体労働組合", "中央執行委員長", "石上千博")


def _input(**changes) -> ops.CampaignInput:
    data = ops.CampaignInput("要請行動", 2025, 3, None, "western", *SENDER)
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def _setup(now):
    campaign = ops.create_campaign(_input(), now, user=None)
    letter = ops.add_letter(campaign, ops.LetterInput(title="要請書"), user=None, now=now)
    sections = []
    for heading, children in (("Aについて", ["a1", "a2", "a3"]), ("Bについて", ["b1"])):
        section = ops.add_request_item(letter, heading, user=None, now=now)
        for child in children:
            ops.add_request_item(letter, child, parent=section, user=None, now=now)
        sections.append(section)
    return campaign, letter, sections


def _errors(excinfo) -> dict[str, str]:
    return excinfo.value.errors


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"date_month": 13}, "date_month", "1〜12"),
        ({"date_month": 2, "date_day": 30}, "date_day", "2025年2月30日という日付はありません"),
        ({"date_year": 2025, "date_month": 2, "date_day": 29}, "date_day", "ありません"),
        ({"date_day": 0}, "date_day", "未定"),
        ({"date_year": 1800}, "date_year", "1900〜2100"),
        ({"date_style": "showa"}, "date_style", "西暦か和暦"),
        ({"title": "  "}, "title", "入力してください"),
        ({"title": "一行目\n二行目"}, "title", "一行で"),
        ({"title": "x" * 301}, "title", "300文字以内"),
        ({"sender_org": ""}, "sender_org", "差出人の団体名を入力"),
        ({"sender_name": "石上\x07千博"}, "sender_name", "U+0007"),
    ],
)
def test_campaign_input_is_refused_field_by_field_with_japanese_messages(app, clock, changes, field, words):
    with app.app_context():
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.create_campaign(_input(**changes), clock(), user=None)
        assert words in _errors(excinfo)[field]
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_leap_day_and_era_campaign_are_accepted(app, clock):
    with app.app_context():
        campaign = ops.create_campaign(
            _input(date_year=2024, date_month=2, date_day=29, date_style="era"), clock(), user=None
        )
        assert (campaign.date_year, campaign.date_month, campaign.date_day, campaign.date_style) == (2024, 2, 29, "era")


def test_stale_campaign_edit_is_a_conflict_and_changes_nothing(app, clock):
    with app.app_context():
        campaign = ops.create_campaign(_input(), clock(), user=None)
        db.session.commit()
        seen = campaign.version
        ops.update_campaign(campaign, seen, _input(title="先に保存した人の題名"), user=None, now=clock())
        db.session.commit()
        with pytest.raises(ConflictError) as excinfo:
            ops.update_campaign(campaign, seen, _input(title="古い画面からの題名", date_day=17), user=None, now=clock())
        assert "先に更新" in str(excinfo.value)
        db.session.rollback()
        stored = db.session.get(Campaign, campaign.id)
        assert (stored.title, stored.date_day) == ("先に保存した人の題名", None)


def test_stale_letter_edit_is_a_conflict_and_unknown_numbering_is_refused(app, clock):
    with app.app_context():
        _campaign, letter, _sections = _setup(clock())
        db.session.commit()
        seen = letter.version
        ops.update_letter(
            letter, seen, ops.LetterInput(title="新しい題名", numbering=numbering.DOT_CIRCLE), user=None, now=clock()
        )
        with pytest.raises(ConflictError):
            ops.update_letter(letter, seen, ops.LetterInput(title="古い題名"), user=None, now=clock())
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.update_letter(
                letter, letter.version, ops.LetterInput(title="題名", numbering="roman"), user=None, now=clock()
            )
        assert "番号の書式" in _errors(excinfo)["numbering"]
        assert (letter.title, letter.numbering) == ("新しい題名", numbering.DOT_CIRCLE)


def test_items_are_added_at_the_end_and_at_most_two_levels_deep(app, clock):
    with app.app_context():
        campaign, letter, (a, b) = _setup(clock())
        assert [c.text for c in a.children] == ["a1", "a2", "a3"]
        with pytest.raises(DomainError, match="大項目"):
            ops.add_request_item(letter, "孫", parent=a.children[0], user=None, now=clock())
        other = ops.add_letter(campaign, ops.LetterInput(title="別の要請書"), user=None, now=clock())
        with pytest.raises(DomainError, match="大項目"):
            ops.add_request_item(other, "よその節の下", parent=a, user=None, now=clock())
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.add_request_item(letter, "   ", user=None, now=clock())
        assert "要請項目を入力" in _errors(excinfo)["text"]
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.update_request_item(a.children[0], "制御\x1b文字", user=None, now=clock())
        assert "U+001B" in _errors(excinfo)["text"]
        assert a.children[0].text == "a1"


def test_items_move_up_and_down_among_their_siblings_only(app, clock):
    with app.app_context():
        _campaign, letter, (a, b) = _setup(clock())
        a1, a2, a3 = a.children
        ops.move_request_item(a3, -1, user=None, now=clock())
        assert [c.text for c in a.children] == ["a1", "a3", "a2"]
        ops.move_request_item(a1, -1, user=None, now=clock())  # already first: nothing moves
        assert [c.text for c in a.children] == ["a1", "a3", "a2"]
        ops.move_request_item(a2, +1, user=None, now=clock())  # already last
        ops.move_request_item(b, -1, user=None, now=clock())
        assert [t.text for t in letter.top_items()] == ["Bについて", "Aについて"]
        assert [c.text for c in b.children] == ["b1"]
        db.session.commit()
        db.session.expire_all()
        assert [(t.text, [c.text for c in t.children]) for t in db.session.get(Letter, letter.id).top_items()] == [
            ("Bについて", ["b1"]),
            ("Aについて", ["a1", "a3", "a2"]),
        ]


def test_removing_a_section_removes_its_items_and_unchooses_them(app, clock):
    with app.app_context():
        campaign, letter, (a, b) = _setup(clock())
        addressee = ops.add_addressee(campaign, letter, ops.AddresseeInput("厚生労働省"), user=None, now=clock())
        ops.set_addressee_items(addressee, [a.children[0].id, b.id], user=None, now=clock())
        ops.remove_request_item(a, user=None, now=clock())
        db.session.commit()
        assert [i.text for i in db.session.scalars(select(RequestItem).order_by(RequestItem.id))] == ["Bについて", "b1"]
        assert [i.text for i in db.session.get(Addressee, addressee.id).selected] == ["Bについて"]
        assert db.session.scalar(select(func.count()).select_from(AddresseeItem)) == 1
        assert [t.position for t in db.session.get(Letter, letter.id).top_items()] == [1]


def test_removing_the_only_chosen_item_of_an_addressee_is_refused(app, clock):
    with app.app_context():
        campaign, letter, (a, b) = _setup(clock())
        addressee = ops.add_addressee(campaign, letter, ops.AddresseeInput("厚生労働省"), user=None, now=clock())
        ops.set_addressee_items(addressee, [b.children[0].id], user=None, now=clock())
        with pytest.raises(DomainError, match="厚生労働省宛"):
            ops.remove_request_item(b, user=None, now=clock())
        ops.remove_request_item(a.children[1], user=None, now=clock())  # not chosen by anyone: fine
        assert [c.text for c in a.children] == ["a1", "a3"]


def test_addressee_subset_must_be_items_of_its_letter_and_not_empty(app, clock):
    with app.app_context():
        campaign, letter, (a, b) = _setup(clock())
        other = ops.add_letter(campaign, ops.LetterInput(title="別紙２"), user=None, now=clock())
        foreign = ops.add_request_item(other, "よその項目", user=None, now=clock())
        addressee = ops.add_addressee(campaign, letter, ops.AddresseeInput("総務省"), user=None, now=clock())
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.set_addressee_items(addressee, [], user=None, now=clock())
        assert "一つ以上" in _errors(excinfo)["items"]
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.set_addressee_items(addressee, [a.id, foreign.id], user=None, now=clock())
        assert "この要請書にない" in _errors(excinfo)["items"]
        assert addressee.all_items is True
        ops.set_addressee_items(addressee, [a.id], user=None, now=clock())
        # another letter: its whole text
        ops.update_addressee(addressee, other, ops.AddresseeInput("総務省"), user=None, now=clock())
        assert (addressee.letter_id, addressee.all_items, addressee.selected) == (other.id, True, [])


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"honorific": "御中"}, "honorific", "「様」か「殿」"),
        ({"kind": "company"}, "kind", "省庁・政党・その他"),
        ({"organisation": ""}, "organisation", "要請先の団体名を入力"),
        ({"name": "x" * 101}, "name", "100文字以内"),
        ({"title": "総務\n大臣"}, "title", "一行で"),
        ({"extra_paragraph": "見えない\ufffe文字"}, "extra_paragraph", "U+FFFE"),
    ],
)
def test_addressee_input_is_refused_with_messages(app, clock, fields, field, words):
    with app.app_context():
        campaign, letter, _sections = _setup(clock())
        data = ops.AddresseeInput(organisation=fields.pop("organisation", "総務省"), **fields)
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.add_addressee(campaign, letter, data, user=None, now=clock())
        assert words in _errors(excinfo)[field]


def test_addressee_must_receive_a_letter_of_its_own_campaign_and_letters_in_use_stay(app, clock):
    with app.app_context():
        campaign, letter, _sections = _setup(clock())
        elsewhere = ops.create_campaign(_input(title="別の要請行動"), clock(), user=None)
        foreign = ops.add_letter(elsewhere, ops.LetterInput(title="よその要請書"), user=None, now=clock())
        with pytest.raises(ops.InputErrors) as excinfo:
            ops.add_addressee(campaign, foreign, ops.AddresseeInput("総務省"), user=None, now=clock())
        assert "letter_id" in _errors(excinfo)
        ops.add_addressee(campaign, letter, ops.AddresseeInput("総務省"), user=None, now=clock())
        gone = ops.add_addressee(campaign, letter, ops.AddresseeInput("削除する要請先"), user=None, now=clock())
        ops.remove_addressee(gone, user=None, now=clock())
        assert [a.organisation for a in campaign.addressees] == ["総務省"]
        ops.set_addressee_items(campaign.addressees[0], [letter.top_items()[1].id], user=None, now=clock())
        with pytest.raises(DomainError, match="総務省"):
            ops.remove_letter(letter, user=None, now=clock())
        ops.remove_letter(foreign, user=None, now=clock())
        spare = ops.add_letter(campaign, ops.LetterInput(title="使わない要請書"), user=None, now=clock())
        section = ops.add_request_item(spare, "節について", user=None, now=clock())
        ops.add_request_item(spare, "項目こと。", parent=section, user=None, now=clock())
        ops.remove_letter(spare, user=None, now=clock())
        assert db.session.scalar(select(func.count()).select_from(RequestItem)) == 6
        db.session.delete(campaign)  # there is no page to remove a campaign: its rows go with it
        db.session.flush()
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(RequestItem)) == 0
        assert db.session.scalar(select(func.count()).select_from(AddresseeItem)) == 0
        assert [c.title for c in db.session.scalars(select(Campaign))] == ["別の要請行動"]


def test_addressees_reorder(app, clock):
    with app.app_context():
        campaign, letter, _sections = _setup(clock())
        for name in ("立憲民主党", "総務省", "法務省"):
            ops.add_addressee(campaign, letter, ops.AddresseeInput(name), user=None, now=clock())
        ops.move_addressee(campaign.addressees[2], -1, user=None, now=clock())
        assert [a.organisation for a in campaign.addressees] == ["立憲民主党", "法務省", "総務省"]


@pytest.fixture
def opinions(app, clock, make_org, make_user, make_round):
    """Two prefectures' opinions on a round: one submitted, one still a draft."""
    tokyo, osaka = make_org("東京都本部"), make_org("大阪府本部")
    round_ = make_round(items=2, targets=[tokyo, osaka])
    users = make_user("member", tokyo), make_user("member", osaka)
    with app.app_context():
        from consult.rounds.models import Round

        round_ = db.session.get(Round, round_.id)
        item1, item2 = round_.items
        data = answers.AnswerInput(
            opinions={
                item1.id: answers.OpinionInput("amend", "", "国費で支援すること。", "理由"),
                item2.id: answers.OpinionInput("add", "", "人員を確保すること。", ""),
            }
        )
        answers.save_answer(round_, tokyo.id, users[0], data, None, clock(), submit=True)
        answers.save_answer(round_, osaka.id, users[1], data, None, clock(), submit=False)
        db.session.commit()
        by_org = {}
        for op in db.session.scalars(select(Opinion).order_by(Opinion.id)):
            by_org.setdefault(op.answer.organization.name, []).append(op.id)
    return by_org


def test_opinions_link_to_request_items_both_ways(app, clock, opinions):
    submitted, draft = opinions["東京都本部"], opinions["大阪府本部"]
    with app.app_context():
        campaign, letter, (a, b) = _setup(clock())
        campaign.round_id = db.session.get(Opinion, submitted[0]).answer.round_id  # the round they answered
        ops.add_addressee(campaign, letter, ops.AddresseeInput("総務省"), user=None, now=clock())
        kosei = ops.add_addressee(campaign, letter, ops.AddresseeInput("厚生労働省"), user=None, now=clock())
        ops.set_addressee_items(kosei, [b.id], user=None, now=clock())
        assert ops.link_opinions(a.children[0], submitted, user=None, now=clock()) == 2
        assert ops.link_opinions(a.children[0], submitted, user=None, now=clock()) == 0  # linking again adds nothing
        assert ops.link_opinions(b.children[0], submitted[1:], user=None, now=clock()) == 1
        with pytest.raises(DomainError, match="下書き"):
            ops.link_opinions(b.children[0], draft, user=None, now=clock())
        with pytest.raises(DomainError, match="見つかりません"):
            ops.link_opinions(b.children[0], [max(submitted + draft) + 100], user=None, now=clock())
        db.session.commit()

        traces = items_with_opinions(letter.id)[1]
        assert [(t.label, t.item.text, [op.id for op in t.opinions]) for t in traces] == [
            ("１．", "Aについて", []),
            ("（１）", "a1", submitted),
            ("（２）", "a2", []),
            ("（３）", "a3", []),
            ("２．", "Bについて", []),
            ("（１）", "b1", submitted[1:]),
        ]
        assert traces[1].opinions[0].answer.organization.name == "東京都本部"

        first = db.session.get(Opinion, submitted[0])
        (trace,) = where_it_went(first)
        assert (trace.item.text, [x.organisation for x in trace.addressees]) == ("a1", ["総務省"])
        second = db.session.get(Opinion, submitted[1])
        assert [(t.item.text, [x.organisation for x in t.addressees]) for t in where_it_went(second)] == [
            ("a1", ["総務省"]),
            ("b1", ["総務省", "厚生労働省"]),
        ]

        assert ops.unlink_opinion(a.children[0], first, user=None, now=clock()) is True
        assert ops.unlink_opinion(a.children[0], first, user=None, now=clock()) is False
        db.session.expire(first)
        assert where_it_went(first) == []


def _docx_with(*paragraphs: str) -> bytes:
    document = Document(str(default_template_path()))
    for p in list(document.paragraphs):
        p._p.getparent().remove(p._p)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (_docx_with("｛｛ content ｝｝"), "全角の括弧"),
        (_docx_with("{{ contnet }}"), "「{{ content }}」の誤り"),
        (b"%PDF-1.7 not a word file", "Word 文書（.docx）ではありません"),
        (b"", "ファイルが空です"),
    ],
)
def test_bad_template_is_refused_with_messages_and_the_previous_one_stays(app, clock, data, words):
    good = _docx_with("本部レターヘッド", "{{ content }}")
    with app.app_context():
        ops.upload_template("first.docx", good, None, clock())
        db.session.commit()
        with pytest.raises(ops.TemplateRejected) as excinfo:
            ops.upload_template("bad.docx", data, None, clock())
        assert any(words in message for message in excinfo.value.messages)
        assert words in str(excinfo.value)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(LetterTemplate)) == 1
        assert current_template() == good
        campaign, letter, _sections = _setup(clock())
        addressee = ops.add_addressee(campaign, letter, ops.AddresseeInput("総務省"), user=None, now=clock())
        texts = [p.text for p in Document(io.BytesIO(render_addressee(addressee)[0])).paragraphs if p.text]
        assert texts[0] == "本部レターヘッド" and "{{ content }}" not in texts


def test_uploaded_template_keeps_only_the_file_name(app, clock):
    with app.app_context():
        template = ops.upload_template(
            "C:\\Users\\staff\\Desktop\\要請書ひな形.docx", _docx_with("{{ content }}"), None, clock()
        )
        assert template.filename == "要請書ひな形.docx"
