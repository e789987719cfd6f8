"""Items of the draft: added, imported, reordered, revised and withdrawn without losing what branches answered."""

import html
import io
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from consult.answers.models import Opinion
from consult.core import clock
from consult.extensions import db
from consult.rounds.models import Round, RoundItem

NOTICE = (
    "この項目には既に 1 件の意見があります。本文を変更すると新しい版になり、"
    "既存の意見は元の文言に対するものとして残ります。"
)


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def staff_client(staff, login_as):
    return login_as(staff)


def _items(app, round_id):
    with app.app_context():
        items = db.session.get(Round, round_id).items
        rows = [(i.id, i.number, i.heading, i.body, i.revision) for i in items]
        return rows


def _answer(app, round_id, org_id, user_id, item_id, stance="amend", proposed="修正案の文言"):
    """A branch's saved answer with one opinion, through the real operation."""
    from consult.answers.operations import AnswerInput, OpinionInput, save_answer
    from consult.auth.models import User

    with app.app_context():
        round_ = db.session.get(Round, round_id)
        user = db.session.get(User, user_id)
        data = AnswerInput(opinions={item_id: OpinionInput(stance=stance, proposed_text=proposed)})
        answer = save_answer(round_, org_id, user, data, None, clock.app_now(), submit=True)
        db.session.commit()
        return answer.id


def test_add_item_and_validation_messages(app, staff_client, make_round):
    round_ = make_round(status="draft", items=0)
    response = staff_client.post(
        f"/rounds/{round_.id}/items", data={"number": "1", "heading": "<b>見出し</b> 😀", "body": "本文"}
    )
    assert response.status_code == 302
    assert [(n, h, b) for _, n, h, b, _ in _items(app, round_.id)] == [("1", "<b>見出し</b> 😀", "本文")]
    page = staff_client.get(f"/rounds/{round_.id}/items").get_data(as_text=True)
    assert "&lt;b&gt;見出し&lt;/b&gt; 😀" in page and "<b>見出し" not in page
    long_body = "本" * 20_001
    page = staff_client.post(
        f"/rounds/{round_.id}/items", data={"number": "2", "heading": "", "body": long_body}
    ).get_data(as_text=True)
    assert "見出しを入力してください。" in page
    assert "本文は20,000文字以内にしてください（入力は20,001文字です）。" in page
    assert long_body in page
    assert len(_items(app, round_.id)) == 1


def test_reorder_items_with_up_and_down(app, staff_client, make_round):
    round_ = make_round(status="draft", items=3)
    ids = [row[0] for row in _items(app, round_.id)]
    assert staff_client.post(f"/rounds/{round_.id}/items/{ids[2]}/move", data={"direction": "up"}).status_code == 302
    assert [row[0] for row in _items(app, round_.id)] == [ids[0], ids[2], ids[1]]
    staff_client.post(f"/rounds/{round_.id}/items/{ids[0]}/move", data={"direction": "down"})
    assert [row[0] for row in _items(app, round_.id)] == [ids[2], ids[0], ids[1]]
    staff_client.post(f"/rounds/{round_.id}/items/{ids[1]}/move", data={"direction": "down"})  # already last
    assert [row[0] for row in _items(app, round_.id)] == [ids[2], ids[0], ids[1]]
    assert staff_client.post(f"/rounds/{round_.id}/items/{ids[1]}/move", data={"direction": "x"}).status_code == 400


def test_changing_an_answered_item_makes_a_revision_and_keeps_the_answered_text(
    app, staff_client, make_round, make_org, make_user
):
    pref = make_org("大阪府本部")
    member = make_user("member", org=pref)
    round_ = make_round(targets=[pref], items=2)
    item_id = _items(app, round_.id)[0][0]
    _answer(app, round_.id, pref.id, member.id, item_id)

    page = staff_client.get(f"/rounds/{round_.id}/items/{item_id}/edit").get_data(as_text=True)
    assert NOTICE in page
    response = staff_client.post(
        f"/rounds/{round_.id}/items/{item_id}/edit",
        data={"number": "1", "heading": "項目1", "body": "書き直した本文"},
        follow_redirects=True,
    )
    assert "新しい版（第2版）になりました。既存の意見 1 件は元の文言に対するものとして残ります。" in response.get_data(
        as_text=True
    )
    with app.app_context():
        item = db.session.get(RoundItem, item_id)
        assert (item.revision, item.body) == (2, "書き直した本文")
        assert item.text_at(1).body == "項目1の本文"
        opinion = db.session.scalars(select(Opinion).where(Opinion.item_id == item_id)).one()
        assert opinion.item_revision == 1
        assert opinion.answered_text().body == "項目1の本文"
    # The unanswered item changes without the notice.
    other = _items(app, round_.id)[1][0]
    assert NOTICE not in staff_client.get(f"/rounds/{round_.id}/items/{other}/edit").get_data(as_text=True)


def test_removing_an_answered_item_withdraws_it_and_keeps_its_opinion(
    app, staff_client, make_round, make_org, make_user
):
    pref = make_org()
    member = make_user("member", org=pref)
    round_ = make_round(targets=[pref], items=2)
    answered, plain = [row[0] for row in _items(app, round_.id)]
    _answer(app, round_.id, pref.id, member.id, answered)

    response = staff_client.post(f"/rounds/{round_.id}/items/{answered}/remove", follow_redirects=True)
    assert "この項目への意見があるため、項目と意見は記録として残ります。" in response.get_data(as_text=True)
    staff_client.post(f"/rounds/{round_.id}/items/{plain}/remove")
    with app.app_context():
        kept = db.session.get(RoundItem, answered)
        assert kept is not None and kept.removed_at is not None
        assert db.session.get(RoundItem, plain) is None
        opinion = db.session.scalars(select(Opinion).where(Opinion.item_id == answered)).one()
        assert opinion.proposed_text == "修正案の文言"
        assert db.session.get(Round, round_.id).items == []
    # A withdrawn item can no longer be edited.
    assert staff_client.get(f"/rounds/{round_.id}/items/{answered}/edit").status_code == 404


def test_paste_preview_then_confirm_appends_items(app, staff_client, make_round):
    round_ = make_round(status="draft", items=1)
    text_ = "１．標準化について\n本文A\n（１）下位の点\n２．カードについて\n本文B"
    page = staff_client.post(
        f"/rounds/{round_.id}/items/import", data={"action": "preview_text", "text": text_}
    ).get_data(as_text=True)
    assert "2 件の項目を読み取りました" in page and "今ある 1 件の項目の後に追加します" in page
    assert len(_items(app, round_.id)) == 1  # nothing saved by the preview
    rows = json.dumps(
        [["1", "標準化について", "本文A\n（１）下位の点"], ["2", "カードについて", "本文B"]], ensure_ascii=False
    )
    response = staff_client.post(f"/rounds/{round_.id}/items/import", data={"action": "confirm", "rows": rows})
    assert response.status_code == 302
    assert [(n, h, b) for _, n, h, b, _ in _items(app, round_.id)][1:] == [
        ("1", "標準化について", "本文A\n（１）下位の点"),
        ("2", "カードについて", "本文B"),
    ]


def test_csv_upload_preview_and_confirm_creates_items_in_order(app, staff_client, make_round):
    round_ = make_round(status="draft", items=0)
    csv_bytes = "\ufeff番号,見出し,本文\n1,一つ目,甲\n2,二つ目,乙\n3,三つ目,丙\n".encode()
    page = staff_client.post(
        f"/rounds/{round_.id}/items/import",
        data={"action": "preview_file", "file": (io.BytesIO(csv_bytes), "項目.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "3 件の項目を読み取りました" in page
    start = page.index('name="rows"')
    value = page[page.index('value="', start) + 7 : page.index('"', page.index('value="', start) + 7)]

    rows = html.unescape(value)
    assert (
        staff_client.post(f"/rounds/{round_.id}/items/import", data={"action": "confirm", "rows": rows}).status_code
        == 302
    )
    assert [(n, h, b) for _, n, h, b, _ in _items(app, round_.id)] == [
        ("1", "一つ目", "甲"),
        ("2", "二つ目", "乙"),
        ("3", "三つ目", "丙"),
    ]


def test_broken_csv_upload_imports_nothing_and_names_lines(app, staff_client, make_round):
    round_ = make_round(status="draft", items=0)
    csv_bytes = "番号,見出し,本文\n1,よい,甲\n2,,乙\n3,よい,丙\n4,,丁\n".encode("cp932")
    page = staff_client.post(
        f"/rounds/{round_.id}/items/import",
        data={"action": "preview_file", "file": (io.BytesIO(csv_bytes), "items.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "3行目: 見出しがありません。" in page and "5行目: 見出しがありません。" in page
    assert "何も保存していません" in page and "この内容で取り込む" not in page
    assert _items(app, round_.id) == []


def test_xlsx_upload_preview_shows_rows(app, staff_client, make_round):
    round_ = make_round(status="draft", items=0)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["番号", "見出し", "本文"])
    sheet.append([1, "マイナンバーカードについて", "取得の強制をしないこと。"])
    out = io.BytesIO()
    workbook.save(out)
    page = staff_client.post(
        f"/rounds/{round_.id}/items/import",
        data={"action": "preview_file", "file": (io.BytesIO(out.getvalue()), "items.xlsx")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "1 件の項目を読み取りました" in page
    assert "<td>マイナンバーカードについて</td>" in page and "取得の強制をしないこと。" in page


def test_confirm_with_tampered_rows_saves_nothing(app, staff_client, make_round):
    round_ = make_round(status="draft", items=0)
    page = staff_client.post(
        f"/rounds/{round_.id}/items/import", data={"action": "confirm", "rows": '[["1", "x", "' + "y" * 20_001 + '"]]'}
    ).get_data(as_text=True)
    assert "1件目: 本文が長すぎます" in page
    assert _items(app, round_.id) == []
