"""Headquarters' request-letter pages: campaigns, letter editor, addressees, previews, downloads and templates."""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from docx import Document
from sqlalchemy import func, select
from sqlalchemy import text as sql

from consult.extensions import db
from consult.letters.models import Addressee, Campaign, Letter, LetterTemplate, RequestItem

SECTION_1 = "情報システムの標準化・共通化について"
SECTION_2 = "健康保険証とマイナンバーカードの一体化について"
ITEM_1_1 = "国費による確実な財政支援を行うこと。"
ITEM_1_2 = "標準化にともなう追加経費を全額国費で措置すること。"
ITEM_2_1 = "資格確認書を申請によらず交付すること。"


# ---------------------------------------------------------------- helpers


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def hq_client(login_as, staff):
    return login_as(staff)


def campaign_data(**overrides) -> dict:
    data = {
        "title": "自治体DX推進にかかる省庁要請",
        "date_year": "2025",
        "date_month": "3",
        "date_day": "",
        "date_style": "western",
        "sender_org": "全日本自治団体労働組合",
        "sender_title": "中央執行委員長",
        "sender_name": "石上千博",
        "round_id": "0",
    }
    data.update(overrides)
    return data


def create_campaign(client, **overrides) -> int:
    response = client.post("/campaigns/new", data=campaign_data(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def add_letter(client, campaign_id: int, title: str = "自治体DXの推進に関する要請書") -> int:
    response = client.post(f"/campaigns/{campaign_id}/letters", data={"title": title})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/letters/(\d+)", response.headers["Location"]).group(1))


def add_item(client, campaign_id: int, letter_id: int, text: str, parent: int | None = None) -> int:
    key = str(parent) if parent else "top"
    response = client.post(
        f"/campaigns/{campaign_id}/letters/{letter_id}/items", data={"form": key, f"add-{key}-text": text}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("#item-", 1)[1])


def build_letter(client, campaign_id: int) -> dict:
    """The seed's letter 1 in short: two sections, the first with two requests."""
    letter_id = add_letter(client, campaign_id)
    client.post(
        f"/campaigns/{campaign_id}/letters/{letter_id}",
        data={
            "title": "自治体DXの推進に関する要請書",
            "greeting": "日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。",
            "background": "さて、政府は計画を閣議決定しました。\n自治体には膨大な業務が集中しています。",
            "closing": "つきましては、以下の通り要請します。",
            "numbering": "dot-paren",
            "fullwidth_digits": "y",
            "version": "1",
        },
    )
    s1 = add_item(client, campaign_id, letter_id, SECTION_1)
    i11 = add_item(client, campaign_id, letter_id, ITEM_1_1, parent=s1)
    i12 = add_item(client, campaign_id, letter_id, ITEM_1_2, parent=s1)
    s2 = add_item(client, campaign_id, letter_id, SECTION_2)
    i21 = add_item(client, campaign_id, letter_id, ITEM_2_1, parent=s2)
    return {"letter": letter_id, "s1": s1, "i11": i11, "i12": i12, "s2": s2, "i21": i21}


def addressee_data(letter_id: int, **overrides) -> dict:
    data = {
        "organisation": "総務省",
        "kind": "ministry",
        "title": "総務大臣",
        "name": "村上誠一郎",
        "honorific": "様",
        "letter_id": str(letter_id),
        "scope": "all",
        "greeting": "",
        "extra_paragraph": "",
    }
    data.update(overrides)
    return data


def add_addressee(client, campaign_id: int, letter_id: int, items=(), **overrides) -> int:
    data = addressee_data(letter_id, **overrides)
    data["item"] = [str(i) for i in items]
    response = client.post(f"/campaigns/{campaign_id}/addressees/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.application.app_context():
        return db.session.scalar(select(func.max(Addressee.id)))


def docx_paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def make_docx(*texts: str) -> bytes:
    document = Document()
    for text in texts:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- campaigns


def test_campaign_with_undecided_day_in_era_style_prints_reiwa_with_mark(hq_client, app):
    campaign_id = create_campaign(hq_client, date_day="", date_style="era")
    page = hq_client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "令和7年3月●日" in page
    assert "自治体DX推進にかかる省庁要請" in hq_client.get("/campaigns/").get_data(as_text=True)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert (campaign.date_year, campaign.date_month, campaign.date_day, campaign.date_style) == (
            2025,
            3,
            None,
            "era",
        )


def test_fixed_western_date_typed_in_full_width_digits(hq_client):
    campaign_id = create_campaign(hq_client, date_year="２０２５", date_month="３", date_day="１７")
    assert "2025年3月17日" in hq_client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)


def test_impossible_date_is_refused_with_message_and_typed_text_kept(hq_client, app):
    response = hq_client.post("/campaigns/new", data=campaign_data(date_month="2", date_day="30", title="二月の要請"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2025年2月30日という日付はありません。" in page
    assert 'value="二月の要請"' in page and 'value="30"' in page
    response = hq_client.post("/campaigns/new", data=campaign_data(date_month="13"))
    assert "月は 1〜12 の数字で入力してください" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_campaign_required_fields_limits_and_control_characters(hq_client, app):
    page = hq_client.post("/campaigns/new", data=campaign_data(title="", sender_org="")).get_data(as_text=True)
    assert "名前を入力してください。" in page and "差出人の組織を入力してください。" in page
    page = hq_client.post("/campaigns/new", data=campaign_data(title="あ" * 301)).get_data(as_text=True)
    assert "名前は300文字以内にしてください（入力は301文字です）。" in page
    page = hq_client.post("/campaigns/new", data=campaign_data(title="省庁\x07要請")).get_data(as_text=True)
    assert "制御文字を取り除きました" in page and "（取り除いた文字：U+0007）" in page and 'value="省庁要請"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_stale_campaign_edit_is_refused_and_first_save_kept(hq_client, app):
    campaign_id = create_campaign(hq_client)
    first = hq_client.post(f"/campaigns/{campaign_id}", data=campaign_data(title="一人目の名前", version="1"))
    assert first.status_code == 302
    second = hq_client.post(f"/campaigns/{campaign_id}", data=campaign_data(title="二人目の名前", version="1"))
    page = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "他の人が" in page and 'value="二人目の名前"' in page
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).title == "一人目の名前"


# ---------------------------------------------------------------- letter editor


def test_letter_items_are_shown_with_their_printed_numbers(hq_client):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    page = hq_client.get(f"/campaigns/{campaign_id}/letters/{ids['letter']}").get_data(as_text=True)
    assert page.index(SECTION_1) < page.index(ITEM_1_1) < page.index(ITEM_1_2) < page.index(SECTION_2)
    labels = re.findall(r'<span class="num">([^<]*)</span>', page)
    assert labels == ["１．", "（１）", "（２）", "２．", "（１）"]

    hq_client.post(
        f"/campaigns/{campaign_id}/letters/{ids['letter']}",
        data={"title": "自治体DXの推進に関する要請書", "numbering": "dot-circle", "version": "2"},
    )
    page = hq_client.get(f"/campaigns/{campaign_id}/letters/{ids['letter']}").get_data(as_text=True)
    assert re.findall(r'<span class="num">([^<]*)</span>', page) == ["1.", "①", "②", "2.", "①"]


def test_letter_fields_are_saved_and_a_stale_save_is_refused(hq_client, app):
    campaign_id = create_campaign(hq_client)
    letter_id = add_letter(hq_client, campaign_id, "戸籍振り仮名法制化への対応に関する要請書")
    url = f"/campaigns/{campaign_id}/letters/{letter_id}"
    data = {
        "title": "戸籍振り仮名法制化への対応に関する要請書",
        "greeting": "敬意を表します。",
        "background": "一段落目\n二段落目",
        "closing": "要請します。",
        "numbering": "dot",
        "version": "1",
    }
    assert hq_client.post(url, data=data).status_code == 302
    stale = hq_client.post(url, data={**data, "greeting": "古い画面からの変更", "version": "1"})
    assert stale.status_code == 200
    assert "他の人が" in stale.get_data(as_text=True) and "古い画面からの変更" in stale.get_data(as_text=True)
    bad = hq_client.post(url, data={**data, "title": "", "background": "あ" * 20_001, "version": "2"})
    page = bad.get_data(as_text=True)
    assert "題名を入力してください。" in page and "20,000文字以内" in page
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        assert (letter.greeting, letter.background, letter.numbering, letter.fullwidth_digits) == (
            "敬意を表します。",
            "一段落目\n二段落目",
            "dot",
            False,
        )


def test_items_are_edited_inline_moved_and_removed_after_a_confirm_page(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    base = f"/campaigns/{campaign_id}/letters/{ids['letter']}/items"

    edit = hq_client.post(
        f"{base}/{ids['i11']}",
        data={f"item-{ids['i11']}-text": "書き直した要請。こと。", f"item-{ids['i11']}-shown": ITEM_1_1},
    )
    assert edit.status_code == 302
    empty = hq_client.post(
        f"{base}/{ids['i12']}", data={f"item-{ids['i12']}-text": " ", f"item-{ids['i12']}-shown": ITEM_1_2}
    )
    assert "文言を入力してください。" in empty.get_data(as_text=True)
    long = hq_client.post(
        f"{base}/{ids['i12']}", data={f"item-{ids['i12']}-text": "あ" * 5001, f"item-{ids['i12']}-shown": ITEM_1_2}
    )
    assert "文言は5,000文字以内にしてください" in long.get_data(as_text=True)
    stale = hq_client.post(
        f"{base}/{ids['i11']}", data={f"item-{ids['i11']}-text": "別の人の変更", f"item-{ids['i11']}-shown": ITEM_1_1}
    )
    assert "他の人が" in stale.get_data(as_text=True) and "別の人の変更" in stale.get_data(as_text=True)

    assert hq_client.post(f"{base}/{ids['s2']}/move", data={"direction": "up"}).status_code == 302
    confirm = hq_client.get(f"{base}/{ids['s1']}/remove")
    assert confirm.status_code == 200 and "要請項目 2 件もいっしょに削除されます" in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RequestItem, ids["s1"]) is not None  # the GET removed nothing
    assert hq_client.post(f"{base}/{ids['s1']}/remove").status_code == 302
    page = hq_client.get(f"/campaigns/{campaign_id}/letters/{ids['letter']}").get_data(as_text=True)
    assert SECTION_1 not in page and "書き直した要請" not in page
    assert re.findall(r'<span class="num">([^<]*)</span>', page) == ["１．", "（１）"]
    with app.app_context():
        assert [i.text for i in db.session.get(Letter, ids["letter"]).items] == [SECTION_2, ITEM_2_1]


def test_item_under_a_request_is_refused(hq_client):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    response = hq_client.post(
        f"/campaigns/{campaign_id}/letters/{ids['letter']}/items",
        data={"form": str(ids["i11"]), f"add-{ids['i11']}-text": "三段目"},
    )
    assert response.status_code == 400


# ---------------------------------------------------------------- addressees


def test_addressee_with_a_subset_is_listed_with_the_chosen_section(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    add_addressee(hq_client, campaign_id, ids["letter"])
    add_addressee(
        hq_client,
        campaign_id,
        ids["letter"],
        items=[ids["s2"]],
        organisation="厚生労働省",
        title="厚生労働大臣",
        name="",
        honorific="殿",
        scope="subset",
        extra_paragraph="保険証について特に。",
    )
    page = hq_client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "すべて" in page
    assert re.findall(r"<td[^>]*>(一部[^<]*|すべて)</td>", page) == [
        "すべて",
        "一部（２． 健康保険証とマイナンバーカードの一体化に…）",
    ]
    assert "殿" in page
    with app.app_context():
        mhlw = db.session.scalars(select(Addressee).where(Addressee.organisation == "厚生労働省")).one()
        assert not mhlw.all_items and [i.id for i in mhlw.selected] == [ids["s2"]]


def test_addressee_form_refuses_bad_input_and_keeps_it(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    data = addressee_data(ids["letter"], organisation="", scope="subset", honorific="閣下", name="田中")
    page = hq_client.post(f"/campaigns/{campaign_id}/addressees/new", data=data).get_data(as_text=True)
    assert "要請先の組織を入力してください。" in page
    assert "選択肢が正しくありません。" in page  # the honorific (WTForms' Japanese message)
    assert 'value="田中"' in page
    data = addressee_data(ids["letter"], scope="subset")
    page = hq_client.post(f"/campaigns/{campaign_id}/addressees/new", data=data).get_data(as_text=True)
    assert "一部の項目を渡すときは" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Addressee)) == 0


def test_addressee_is_edited_and_removed_after_confirmation(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    aid = add_addressee(hq_client, campaign_id, ids["letter"])
    url = f"/campaigns/{campaign_id}/addressees/{aid}"
    page = hq_client.get(url).get_data(as_text=True)
    assert 'value="村上誠一郎"' in page
    response = hq_client.post(
        url, data={**addressee_data(ids["letter"], name="", scope="subset"), "item": [str(ids["i12"])]}
    )
    assert response.status_code == 302
    with app.app_context():
        addressee = db.session.get(Addressee, aid)
        assert addressee.name == "" and [i.id for i in addressee.selected] == [ids["i12"]]
    assert "削除しますか" in hq_client.get(f"{url}/remove").get_data(as_text=True)
    assert hq_client.post(f"{url}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(Addressee, aid) is None


# ---------------------------------------------------------------- downloads and preview


def test_docx_download_holds_the_name_and_only_the_chosen_section(hq_client):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    add_addressee(hq_client, campaign_id, ids["letter"])
    aid = add_addressee(
        hq_client,
        campaign_id,
        ids["letter"],
        items=[ids["s2"]],
        organisation="厚生労働省",
        title="厚生労働大臣",
        name="福岡資麿",
        scope="subset",
    )
    response = hq_client.get(f"/campaigns/{campaign_id}/addressees/{aid}.docx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''02_" in disposition
    assert "%E5%8E%9A%E7%94%9F%E5%8A%B4%E5%83%8D%E7%9C%81" in disposition  # 厚生労働省
    texts = "\n".join(docx_paragraphs(response.data))
    assert "福岡資麿" in texts and "令和" not in texts and "2025年3月●日" in texts
    assert SECTION_2 in texts and ITEM_2_1 in texts
    assert SECTION_1 not in texts and ITEM_1_1 not in texts


def test_zip_holds_one_letter_per_addressee(hq_client):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    for org in ("総務省", "デジタル庁", "立憲民主党"):
        add_addressee(
            hq_client,
            campaign_id,
            ids["letter"],
            organisation=org,
            kind="party" if "党" in org else "ministry",
            title="" if "党" in org else "大臣",
            name="",
        )
    response = hq_client.get(f"/campaigns/{campaign_id}/letters.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert len(names) == 3 and names[0].startswith("01_総務省")
    for name in names:
        assert ITEM_1_1 in "\n".join(docx_paragraphs(archive.read(name)))
    response.close()


def test_zip_without_addressees_says_so(hq_client):
    campaign_id = create_campaign(hq_client)
    response = hq_client.get(f"/campaigns/{campaign_id}/letters.zip", follow_redirects=True)
    assert "要請先がまだありません" in response.get_data(as_text=True)


def test_preview_shows_the_same_text_as_the_docx(hq_client):
    campaign_id = create_campaign(hq_client, date_day="17")
    ids = build_letter(hq_client, campaign_id)
    aid = add_addressee(hq_client, campaign_id, ids["letter"], extra_paragraph="総務省への追加の段落。")
    page = hq_client.get(f"/campaigns/{campaign_id}/addressees/{aid}/preview").get_data(as_text=True)
    shown = [
        html.unescape(label + text)
        for label, text in re.findall(
            r'<span class="label">([^<]*)</span><span class="text prewrap">([^<]*)</span>', page
        )
    ]
    printed = [
        p for p in docx_paragraphs(hq_client.get(f"/campaigns/{campaign_id}/addressees/{aid}.docx").data) if p.strip()
    ]
    assert shown == printed[printed.index("記") + 1 : printed.index("以上")]
    assert shown[0] == "１．" + SECTION_1 and len(shown) == 5
    for text in (
        "2025年3月17日",
        "総務大臣",
        "村上誠一郎",
        "自治体DXの推進に関する要請書",
        "総務省への追加の段落。",
        "記",
        "以上",
    ):
        assert text in page and any(text in p for p in printed)


def test_characters_word_cannot_hold_are_named_but_the_download_works(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    aid = add_addressee(hq_client, campaign_id, ids["letter"])
    with app.app_context():  # as an old import might have stored it: the forms and the session refuse it now
        db.session.execute(sql("UPDATE addressee SET name = :n WHERE id = :id"), {"n": "村上\uffff誠一郎", "id": aid})
        db.session.commit()
    assert "U+FFFF" in hq_client.get(f"/campaigns/{campaign_id}/addressees/{aid}/preview").get_data(as_text=True)
    assert "U+FFFF" in hq_client.get(f"/campaigns/{campaign_id}/addressees/{aid}").get_data(as_text=True)
    response = hq_client.get(f"/campaigns/{campaign_id}/addressees/{aid}.docx")
    assert response.status_code == 200 and "村上誠一郎" in "\n".join(docx_paragraphs(response.data))


# ---------------------------------------------------------------- templates


def test_template_with_full_width_braces_is_refused_and_the_old_one_kept(hq_client, app):
    bad = make_docx("要請書レターヘッド", "｛｛ content ｝｝")
    response = hq_client.post(
        "/campaigns/templates", data={"file": (io.BytesIO(bad), "雛形.docx")}, content_type="multipart/form-data"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "全角の括弧で入力された差し込み項目「｛｛ content ｝｝」があります。" in page
    assert "既定の雛形" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LetterTemplate)) == 0
    download = hq_client.get("/campaigns/templates/current.docx")
    assert "要請書レターヘッド" not in "\n".join(docx_paragraphs(download.data))


def test_template_upload_refuses_non_docx_and_missing_file(hq_client):
    page = hq_client.post(
        "/campaigns/templates", data={"file": (io.BytesIO(b"plain text"), "a.docx")}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "Word 文書（.docx）ではありません" in page
    page = hq_client.post("/campaigns/templates", data={}, content_type="multipart/form-data").get_data(as_text=True)
    assert "ファイルを選んでください。" in page
    big = b"PK" + b"0" * (5 * 1024 * 1024)
    page = hq_client.post(
        "/campaigns/templates", data={"file": (io.BytesIO(big), "big.docx")}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "5MB までにしてください" in page


def test_accepted_template_is_used_for_the_letters(hq_client, app):
    good = make_docx("本部レターヘッド見本", "{{ content }}", "担当：総合政治政策局")
    response = hq_client.post(
        "/campaigns/templates",
        data={"file": (io.BytesIO(good), "新雛形.docx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "雛形「新雛形.docx」を登録しました。" in page and "既定の雛形" not in page
    assert hq_client.get("/campaigns/templates/current.docx").data == good
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    aid = add_addressee(hq_client, campaign_id, ids["letter"])
    texts = docx_paragraphs(hq_client.get(f"/campaigns/{campaign_id}/addressees/{aid}.docx").data)
    assert texts[0] == "本部レターヘッド見本" and texts[-1] == "担当：総合政治政策局"
    assert "（１）" + ITEM_1_1 in texts


# ---------------------------------------------------------------- opinions behind an item


@pytest.fixture
def answered_round(app, make_org, make_user, make_round, clock):
    """A round where 愛知県本部 submitted two opinions and 大阪府本部 only saved a draft."""
    from consult.answers import operations as answer_ops
    from consult.rounds.models import Round

    aichi, osaka = make_org("愛知県本部"), make_org("大阪府本部")
    round_ = make_round(items=2, targets=[aichi, osaka])
    for org, submit, text in (
        (aichi, True, "特定移行支援システムの期限を見直すべき"),
        (osaka, False, "下書きのままの意見"),
    ):
        user = make_user("member", org)
        with app.app_context():
            stored = db.session.get(Round, round_.id)
            first, second = stored.items[0].id, stored.items[1].id
            data = answer_ops.AnswerInput(
                opinions={
                    first: answer_ops.OpinionInput("amend", "現行の文言", text, "人員が足りない"),
                    second: answer_ops.OpinionInput("agree", "", "資格確認書の交付に賛成", ""),
                }
            )
            answer_ops.save_answer(stored, org.id, user, data, None, clock(), submit=submit)
            db.session.commit()
    return round_


def test_opinions_are_linked_to_an_item_and_shown_on_it(hq_client, app, answered_round):
    campaign_id = create_campaign(hq_client, round_id=str(answered_round.id))
    ids = build_letter(hq_client, campaign_id)
    url = f"/campaigns/{campaign_id}/letters/{ids['letter']}/items/{ids['i11']}/opinions"
    page = hq_client.get(url).get_data(as_text=True)
    assert "特定移行支援システムの期限を見直すべき" in page and "資格確認書の交付に賛成" in page
    assert "下書きのままの意見" not in page  # only submitted answers are material for requests
    filtered = hq_client.get(url, query_string={"q": "期限"}).get_data(as_text=True)
    assert "特定移行支援システム" in filtered and "資格確認書の交付に賛成" not in filtered
    first_item = answered_round.items[0].id
    by_item = hq_client.get(url, query_string={"item": str(first_item)}).get_data(as_text=True)
    assert "特定移行支援システム" in by_item and "資格確認書の交付に賛成" not in by_item

    opinion_id = int(re.search(r'name="opinion" value="(\d+)"', filtered).group(1))
    response = hq_client.post(url, data={"opinion": [str(opinion_id)]})
    assert response.status_code == 302
    editor = hq_client.get(f"/campaigns/{campaign_id}/letters/{ids['letter']}").get_data(as_text=True)
    assert "この項目のもとになった意見（1件）" in editor
    assert "愛知県本部" in editor and "修正" in editor and "特定移行支援システムの期限を見直すべき" in editor
    with app.app_context():
        assert [op.id for op in db.session.get(RequestItem, ids["i11"]).opinions] == [opinion_id]
    assert "結び付け済み" in hq_client.get(url).get_data(as_text=True)

    draft_id = _draft_opinion_id(app)
    response = hq_client.post(url, data={"opinion": [str(draft_id)]})
    assert "結び付ける意見を選んでください。" in response.get_data(as_text=True)


def _draft_opinion_id(app) -> int:
    from consult.answers.models import Answer, Opinion

    with app.app_context():
        return db.session.scalar(select(Opinion.id).join(Answer).where(Answer.status == "draft").limit(1))


# ---------------------------------------------------------------- access


def _all_urls(campaign_id: int, letter_id: int, item_id: int, addressee_id: int) -> list[tuple[str, str]]:
    c, lt, i, a = campaign_id, letter_id, item_id, addressee_id
    return [
        ("GET", "/campaigns/"),
        ("GET", "/campaigns/new"),
        ("POST", "/campaigns/new"),
        ("GET", f"/campaigns/{c}"),
        ("POST", f"/campaigns/{c}"),
        ("POST", f"/campaigns/{c}/letters"),
        ("GET", f"/campaigns/{c}/letters/{lt}"),
        ("POST", f"/campaigns/{c}/letters/{lt}"),
        ("POST", f"/campaigns/{c}/letters/{lt}/items"),
        ("POST", f"/campaigns/{c}/letters/{lt}/items/{i}"),
        ("POST", f"/campaigns/{c}/letters/{lt}/items/{i}/move"),
        ("GET", f"/campaigns/{c}/letters/{lt}/items/{i}/remove"),
        ("POST", f"/campaigns/{c}/letters/{lt}/items/{i}/remove"),
        ("GET", f"/campaigns/{c}/letters/{lt}/items/{i}/opinions"),
        ("POST", f"/campaigns/{c}/letters/{lt}/items/{i}/opinions"),
        ("GET", f"/campaigns/{c}/addressees/new"),
        ("POST", f"/campaigns/{c}/addressees/new"),
        ("GET", f"/campaigns/{c}/addressees/{a}"),
        ("POST", f"/campaigns/{c}/addressees/{a}"),
        ("GET", f"/campaigns/{c}/addressees/{a}/remove"),
        ("POST", f"/campaigns/{c}/addressees/{a}/remove"),
        ("GET", f"/campaigns/{c}/addressees/{a}/preview"),
        ("GET", f"/campaigns/{c}/addressees/{a}.docx"),
        ("GET", f"/campaigns/{c}/letters.zip"),
        ("GET", "/campaigns/templates"),
        ("POST", "/campaigns/templates"),
        ("GET", "/campaigns/templates/current.docx"),
    ]


def test_members_get_403_on_every_page(hq_client, login_as, make_org, make_user, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    aid = add_addressee(hq_client, campaign_id, ids["letter"])
    member = make_user("member", make_org("愛知県本部"))
    client = login_as(member)
    for method, url in _all_urls(campaign_id, ids["letter"], ids["i11"], aid):
        response = client.open(url, method=method, data={"direction": "up"})
        assert response.status_code == 403, (method, url)
    client.post("/logout")
    assert client.get(f"/campaigns/{campaign_id}").status_code == 302  # anonymous: to the login page
    with app.app_context():
        assert db.session.get(RequestItem, ids["i11"]) is not None


def test_unknown_ids_and_parts_of_another_campaign_are_404(hq_client):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    aid = add_addressee(hq_client, campaign_id, ids["letter"])
    other = create_campaign(hq_client, title="別の要請行動")
    other_letter = add_letter(hq_client, other)
    for method, url in _all_urls(999_999, ids["letter"], ids["i11"], aid)[3:-3]:
        assert hq_client.open(url, method=method).status_code == 404, (method, url)
    # The letter, item and addressee exist, but belong to another campaign (or letter).
    foreign = [
        (m, u)
        for m, u in _all_urls(other, ids["letter"], ids["i11"], aid)
        if f"/letters/{ids['letter']}" in u or f"/addressees/{aid}" in u
    ]
    assert len(foreign) == 15
    for method, url in foreign:
        assert hq_client.open(url, method=method).status_code == 404, (method, url)
    wrong_item = f"/campaigns/{other}/letters/{other_letter}/items/{ids['i11']}/remove"
    assert hq_client.get(wrong_item).status_code == 404


def test_operations_refusal_is_shown_next_to_the_field(hq_client, app):
    """The operations refuse characters Word cannot hold even when the form lets them through."""
    campaign_id = create_campaign(hq_client)
    letter_id = add_letter(hq_client, campaign_id)
    response = hq_client.post(
        f"/campaigns/{campaign_id}/letters/{letter_id}/items", data={"form": "top", "add-top-text": "要請\uffffこと。"}
    )
    assert response.status_code == 200
    assert "U+FFFF" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RequestItem)) == 0


def test_removing_the_only_item_an_addressee_receives_is_refused(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    add_addressee(hq_client, campaign_id, ids["letter"], items=[ids["s2"]], organisation="厚生労働省", scope="subset")
    response = hq_client.post(
        f"/campaigns/{campaign_id}/letters/{ids['letter']}/items/{ids['s2']}/remove", follow_redirects=True
    )
    assert "厚生労働省宛の要請書はこの項目だけを選んでいます。" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RequestItem, ids["s2"]) is not None


def test_item_forms_carry_a_working_csrf_token(hq_client, app):
    """Each inline item form has its own prefix; the token must still reach the CSRF check."""
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/campaigns/{campaign_id}/letters/{ids['letter']}"
    page = hq_client.get(url).get_data(as_text=True)
    token = re.search(rf'name="item-{ids["i11"]}-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {f"item-{ids['i11']}-text": "新しい文言を入れること。", f"item-{ids['i11']}-shown": ITEM_1_1}
    assert hq_client.post(f"{url}/items/{ids['i11']}", data=data).status_code == 400  # without the token
    data[f"item-{ids['i11']}-csrf_token"] = token
    assert hq_client.post(f"{url}/items/{ids['i11']}", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(RequestItem, ids["i11"]).text == "新しい文言を入れること。"


# ---------------------------------------------------------------- removing letters, ordering addressees, unlinking


def test_letter_nobody_receives_is_removed_after_a_confirm_page(hq_client, app):
    campaign_id = create_campaign(hq_client)
    kept = build_letter(hq_client, campaign_id)
    gone = add_letter(hq_client, campaign_id, "戸籍振り仮名法制化への対応に関する要請書")
    section = add_item(hq_client, campaign_id, gone, "振り仮名の通知について")
    add_item(hq_client, campaign_id, gone, "十分な周知期間を設けること。", parent=section)
    editor = hq_client.get(f"/campaigns/{campaign_id}/letters/{gone}").get_data(as_text=True)
    assert f'href="/campaigns/{campaign_id}/letters/{gone}/remove"' in editor and "この要請書を削除…" in editor

    confirm = hq_client.get(f"/campaigns/{campaign_id}/letters/{gone}/remove")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "要請書を削除しますか" in page and "要請項目 2 件もいっしょに削除されます" in page
    assert "削除できません" not in page
    with app.app_context():
        assert db.session.get(Letter, gone) is not None  # the GET removed nothing

    response = hq_client.post(f"/campaigns/{campaign_id}/letters/{gone}/remove")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/campaigns/{campaign_id}#letters")
    page = hq_client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "要請書「戸籍振り仮名法制化への対応に関する要請書」を削除しました。" in page
    assert "自治体DXの推進に関する要請書" in page
    with app.app_context():
        assert db.session.get(Letter, gone) is None
        assert (
            db.session.scalar(select(func.count()).select_from(RequestItem).where(RequestItem.letter_id == gone)) == 0
        )
        assert [letter.id for letter in db.session.get(Campaign, campaign_id).letters] == [kept["letter"]]
    assert hq_client.get(f"/campaigns/{campaign_id}/letters/{gone}").status_code == 404


def test_removing_a_letter_an_addressee_receives_is_refused_and_the_letter_kept(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    add_addressee(hq_client, campaign_id, ids["letter"])
    add_addressee(hq_client, campaign_id, ids["letter"], organisation="デジタル庁", title="デジタル大臣")
    url = f"/campaigns/{campaign_id}/letters/{ids['letter']}/remove"
    page = hq_client.get(url).get_data(as_text=True)
    assert "この要請書を受け取る要請先（総務省、デジタル庁）があるため、このままでは削除できません。" in page

    response = hq_client.post(url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/campaigns/{campaign_id}/letters/{ids['letter']}")
    page = hq_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "この要請書を受け取る要請先（総務省、デジタル庁）があります。" in page
    assert SECTION_1 in page and ITEM_1_1 in page
    with app.app_context():
        letter = db.session.get(Letter, ids["letter"])
        assert letter is not None and len(letter.items) == 5
        assert db.session.scalar(select(func.count()).select_from(Addressee)) == 2


def _zip_names(client, campaign_id: int) -> list[str]:
    response = client.get(f"/campaigns/{campaign_id}/letters.zip")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    response.close()
    return [name.split("_")[0] + "_" + name.split("_")[1] for name in names]


def _overview_order(client, campaign_id: int) -> list[str]:
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    return re.findall(r'<tr id="addressee-\d+">\s*<td[^>]*><a href="[^"]+">([^<]+)</a>', page)


def test_addressees_move_up_and_down_and_the_zip_numbers_follow(hq_client, app):
    campaign_id = create_campaign(hq_client)
    ids = build_letter(hq_client, campaign_id)
    aids = {
        org: add_addressee(hq_client, campaign_id, ids["letter"], organisation=org)
        for org in ("総務省", "デジタル庁", "厚生労働省")
    }
    assert _overview_order(hq_client, campaign_id) == ["総務省", "デジタル庁", "厚生労働省"]
    page = hq_client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    move = f"/campaigns/{campaign_id}/addressees/{aids['総務省']}/move"
    assert page.count(f'action="{move}"') == 1  # the first row can only go down
    assert "↓ 下へ" in page and "↑ 上へ" in page and '<span class="sr-only">（総務省）</span>' in page

    response = hq_client.post(move, data={"direction": "down"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/campaigns/{campaign_id}#addressee-{aids['総務省']}")
    assert _overview_order(hq_client, campaign_id) == ["デジタル庁", "総務省", "厚生労働省"]
    assert _zip_names(hq_client, campaign_id) == ["01_デジタル庁", "02_総務省", "03_厚生労働省"]

    assert (
        hq_client.post(
            f"/campaigns/{campaign_id}/addressees/{aids['厚生労働省']}/move", data={"direction": "up"}
        ).status_code
        == 302
    )
    assert _zip_names(hq_client, campaign_id) == ["01_デジタル庁", "02_厚生労働省", "03_総務省"]
    download = hq_client.get(f"/campaigns/{campaign_id}/addressees/{aids['厚生労働省']}.docx")
    assert "filename*=UTF-8''02_" in download.headers["Content-Disposition"]

    # The first cannot go further up; a direction that is neither up nor down is a bad request.
    assert (
        hq_client.post(
            f"/campaigns/{campaign_id}/addressees/{aids['デジタル庁']}/move", data={"direction": "up"}
        ).status_code
        == 302
    )
    assert hq_client.post(move, data={"direction": "sideways"}).status_code == 400
    assert hq_client.post(move).status_code == 400
    assert _overview_order(hq_client, campaign_id) == ["デジタル庁", "厚生労働省", "総務省"]
    with app.app_context():
        stored = db.session.get(Campaign, campaign_id).addressees
        assert [a.organisation for a in stored] == ["デジタル庁", "厚生労働省", "総務省"]
        assert [a.position for a in stored] == [1, 2, 3]


def test_an_opinion_is_unlinked_from_an_item_and_no_longer_shown(hq_client, app, answered_round):
    campaign_id = create_campaign(hq_client, round_id=str(answered_round.id))
    ids = build_letter(hq_client, campaign_id)
    url = f"/campaigns/{campaign_id}/letters/{ids['letter']}/items/{ids['i11']}/opinions"
    page = hq_client.get(url).get_data(as_text=True)
    assert "結び付けた意見（0件）" in page and "結び付けを外す" not in page
    chosen = [int(v) for v in re.findall(r'name="opinion" value="(\d+)"', page)]
    assert len(chosen) == 2
    assert hq_client.post(url, data={"opinion": [str(v) for v in chosen]}).status_code == 302
    kept, removed = chosen
    page = hq_client.get(url).get_data(as_text=True)
    assert "結び付けた意見（2件）" in page
    unlink = f"{url}/{removed}/unlink"
    assert f'action="{unlink}"' in page and page.count(">結び付けを外す<") == 2
    assert "（愛知県本部の意見）" in page

    response = hq_client.post(unlink)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{url}#linked")
    page = hq_client.get(url).get_data(as_text=True)
    assert "愛知県本部の意見とこの項目との結び付けを外しました" in page
    assert "結び付けた意見（1件）" in page and f'action="{unlink}"' not in page
    assert f'name="opinion" value="{removed}"' in page  # it can be chosen again
    editor = hq_client.get(f"/campaigns/{campaign_id}/letters/{ids['letter']}").get_data(as_text=True)
    assert "この項目のもとになった意見（1件）" in editor
    with app.app_context():
        from consult.answers.models import Opinion

        assert [op.id for op in db.session.get(RequestItem, ids["i11"]).opinions] == [kept]
        assert db.session.get(Opinion, removed) is not None  # the opinion itself stays

    again = hq_client.post(unlink, follow_redirects=True)
    assert "この意見はすでにこの項目と結び付いていません。" in again.get_data(as_text=True)
    assert hq_client.post(f"{url}/{kept}/unlink").status_code == 302
    editor = hq_client.get(f"/campaigns/{campaign_id}/letters/{ids['letter']}").get_data(as_text=True)
    assert "この項目のもとになった意見" not in editor and "特定移行支援システムの期限を見直すべき" not in editor
    with app.app_context():
        assert db.session.get(RequestItem, ids["i11"]).opinions == []


def _new_urls(campaign_id: int, letter_id: int, item_id: int, addressee_id: int, opinion_id: int):
    c, lt, i, a, o = campaign_id, letter_id, item_id, addressee_id, opinion_id
    return [
        ("GET", f"/campaigns/{c}/letters/{lt}/remove"),
        ("POST", f"/campaigns/{c}/letters/{lt}/remove"),
        ("POST", f"/campaigns/{c}/addressees/{a}/move"),
        ("POST", f"/campaigns/{c}/letters/{lt}/items/{i}/opinions/{o}/unlink"),
    ]


def _link_one(client, app, campaign_id: int, letter_id: int, item_id: int) -> int:
    url = f"/campaigns/{campaign_id}/letters/{letter_id}/items/{item_id}/opinions"
    opinion_id = int(re.search(r'name="opinion" value="(\d+)"', client.get(url).get_data(as_text=True)).group(1))
    assert client.post(url, data={"opinion": [str(opinion_id)]}).status_code == 302
    return opinion_id


def test_members_get_403_on_removing_moving_and_unlinking(
    hq_client, login_as, make_org, make_user, app, answered_round
):
    campaign_id = create_campaign(hq_client, round_id=str(answered_round.id))
    ids = build_letter(hq_client, campaign_id)
    spare = add_letter(hq_client, campaign_id, "使われていない要請書")
    first = add_addressee(hq_client, campaign_id, ids["letter"])
    add_addressee(hq_client, campaign_id, ids["letter"], organisation="デジタル庁")
    opinion_id = _link_one(hq_client, app, campaign_id, ids["letter"], ids["i11"])
    client = login_as(make_user("member", make_org("愛知県本部")))
    for letter_id in (ids["letter"], spare):
        for method, url in _new_urls(campaign_id, letter_id, ids["i11"], first, opinion_id):
            response = client.open(url, method=method, data={"direction": "down"})
            assert response.status_code == 403, (method, url)
    with app.app_context():
        assert db.session.get(Letter, spare) is not None
        assert [a.id for a in db.session.get(Campaign, campaign_id).addressees][0] == first
        assert [op.id for op in db.session.get(RequestItem, ids["i11"]).opinions] == [opinion_id]


def test_new_routes_answer_404_for_unknown_ids_and_parts_of_another_campaign(hq_client, app, answered_round):
    campaign_id = create_campaign(hq_client, round_id=str(answered_round.id))
    ids = build_letter(hq_client, campaign_id)
    aid = add_addressee(hq_client, campaign_id, ids["letter"])
    opinion_id = _link_one(hq_client, app, campaign_id, ids["letter"], ids["i11"])
    other = create_campaign(hq_client, title="別の要請行動", round_id=str(answered_round.id))
    other_letter = add_letter(hq_client, other)
    other_item = add_item(hq_client, other, other_letter, "別の項目")
    other_addressee = add_addressee(hq_client, other, other_letter, organisation="内閣府")
    cases = [
        *_new_urls(999_999, ids["letter"], ids["i11"], aid, opinion_id),  # unknown campaign
        *_new_urls(other, ids["letter"], ids["i11"], aid, opinion_id),  # this campaign's parts under another
        *_new_urls(campaign_id, 999_999, ids["i11"], 999_999, opinion_id),  # unknown letter and addressee
        ("POST", f"/campaigns/{campaign_id}/addressees/{other_addressee}/move"),
        ("POST", f"/campaigns/{campaign_id}/letters/{ids['letter']}/items/{other_item}/opinions/{opinion_id}/unlink"),
        ("POST", f"/campaigns/{campaign_id}/letters/{ids['letter']}/items/999999/opinions/{opinion_id}/unlink"),
        ("POST", f"/campaigns/{campaign_id}/letters/{ids['letter']}/items/{ids['i11']}/opinions/999999/unlink"),
    ]
    for method, url in cases:
        assert hq_client.open(url, method=method, data={"direction": "up"}).status_code == 404, (method, url)
    with app.app_context():
        assert db.session.get(Letter, ids["letter"]) is not None and db.session.get(Letter, other_letter) is not None
        assert [op.id for op in db.session.get(RequestItem, ids["i11"]).opinions] == [opinion_id]
        assert db.session.get(Campaign, other).addressees[0].id == other_addressee


def test_move_and_unlink_buttons_carry_a_working_csrf_token(hq_client, app, answered_round):
    campaign_id = create_campaign(hq_client, round_id=str(answered_round.id))
    ids = build_letter(hq_client, campaign_id)
    first = add_addressee(hq_client, campaign_id, ids["letter"])
    add_addressee(hq_client, campaign_id, ids["letter"], organisation="デジタル庁")
    opinion_id = _link_one(hq_client, app, campaign_id, ids["letter"], ids["i11"])
    app.config["WTF_CSRF_ENABLED"] = True
    page = hq_client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    move = f"/campaigns/{campaign_id}/addressees/{first}/move"
    assert hq_client.post(move, data={"direction": "down"}).status_code == 400  # without the token
    assert hq_client.post(move, data={"direction": "down", "csrf_token": token}).status_code == 302
    unlink = f"/campaigns/{campaign_id}/letters/{ids['letter']}/items/{ids['i11']}/opinions/{opinion_id}/unlink"
    assert hq_client.post(unlink).status_code == 400
    assert hq_client.post(unlink, data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert [a.organisation for a in db.session.get(Campaign, campaign_id).addressees] == ["デジタル庁", "総務省"]
        assert db.session.get(RequestItem, ids["i11"]).opinions == []
