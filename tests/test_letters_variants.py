"""Issue 13: per-addressee overrides applied by compose (DOCX and preview alike), the organisation line as an explicit
choice, import of Word letters (CLI import-letter, --variant-of storing only differences), the round trip of every
demo letter, and copies with a new date."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consult.extensions import db
from consult.letters import compose, numbering
from consult.letters import operations as ops
from consult.letters.models import Addressee, AddresseeParagraph, AddresseeRequest, Campaign, Letter
from consult.letters.render import render_letter
from tests import word_letters

SENDER = ("全日本自治団体労働組合", "中央執行委員長", "石上千博")


def _texts(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs if p.text]


def _setup(now, structure=(("Aについて", ["a1こと。", "a2こと。"]), ("Bについて", ["b1こと。"]))):
    campaign = ops.create_campaign(ops.CampaignInput("要請", 2025, 3, None, "western", *SENDER), now, user=None)
    letter = ops.add_letter(
        campaign,
        ops.LetterInput(
            title="自治体DXの推進に関する要請書",
            greeting="日頃より貴職に敬意を表します。",
            background="さて、職員の負担が増しています。\n国の支援が必要です。",
            closing="つきましては、以下の通り要請します。",
        ),
        user=None,
        now=now,
    )
    for heading, items in structure:
        section = ops.add_request_item(letter, heading, user=None, now=now)
        for text in items:
            ops.add_request_item(letter, text, parent=section, user=None, now=now)
    db.session.expire(letter, ["items"])
    shared = ops.add_addressee(
        campaign, letter, ops.AddresseeInput("総務省", title="総務大臣", name="村上誠一郎"), user=None, now=now
    )
    other = ops.add_addressee(
        campaign,
        letter,
        ops.AddresseeInput("全国市町村職員共済組合連合会", title="理事長", name="山田太郎", honorific="殿"),
        user=None,
        now=now,
    )
    return campaign, letter, shared, other


def _items(letter: Letter) -> dict[str, int]:
    return {item.text: item.id for item in letter.items}


def test_every_part_can_be_overridden_for_one_addressee_only(app, clock):
    with app.app_context():
        campaign, letter, shared, other = _setup(clock())
        ids = _items(letter)
        ops.set_addressee_overrides(
            other,
            ops.OverridesInput(
                date_mode="fixed",
                date_year=2025,
                date_month=3,
                date_day=24,
                date_style="era",
                one_line=True,
                spread=True,
                closing="つきましては、組合員の立場から要請します。",
                numbering=numbering.DOT_CIRCLE,
                background="さて、組合員の負担が増しています。\n共済の事情を加えます。\n国の支援が必要です。",
                outline=[
                    (ids["Bについて"], True, None),
                    (ids["b1こと。"], False, "b1を組合員向けにすること。"),
                    (ids["Aについて"], True, None),
                    (ids["a2こと。"], False, None),
                    (None, False, "共済独自のこと。"),
                ],
            ),
            user=None,
            now=clock(),
        )
        other.greeting = "日頃より組合員の福祉にご尽力いただき敬意を表します。"
        db.session.commit()
        texts = _texts(compose.render_addressee(other)[0])
        assert texts[0] == "令和7年3月24日"
        assert texts[1] == "全国市町村職員共済組合連合会"
        assert texts[2] == "理 事 長　山 田 太 郎　殿"  # one line, 均等割り
        body = texts[texts.index("自治体DXの推進に関する要請書") + 1 : texts.index("記")]
        assert body == [
            "日頃より組合員の福祉にご尽力いただき敬意を表します。",
            "さて、組合員の負担が増しています。",
            "共済の事情を加えます。",
            "国の支援が必要です。",
            "つきましては、組合員の立場から要請します。",
        ]
        record = texts[texts.index("記") + 1 : texts.index("以上")]
        assert record == [
            "１．Bについて",
            "①b1を組合員向けにすること。",
            "２．Aについて",
            "①a2こと。",
            "②共済独自のこと。",
        ]
        # The other addressee still gets the shared letter, and the stored rows are only the differences.
        plain = _texts(compose.render_addressee(shared)[0])
        assert plain[0] == "2025年3月●日"
        assert "さて、職員の負担が増しています。" in plain
        assert plain[plain.index("記") + 1 :][:3] == ["１．Aについて", "（１）a1こと。", "（２）a2こと。"]
        edits = db.session.scalars(select(AddresseeParagraph).where(AddresseeParagraph.addressee_id == other.id))
        assert [(e.op, e.at) for e in edits] == [("replace", 0), ("insert", 1)]
        # The preview reads the same letter as the DOCX.
        assert compose.build_letter(other).sections[0].items == ["b1を組合員向けにすること。"]


def test_remove_a_paragraph_and_an_undecided_own_date(app, clock):
    with app.app_context():
        _campaign, _letter, _shared, other = _setup(clock())
        ops.set_addressee_overrides(
            other,
            ops.OverridesInput(date_mode="undecided", date_year=2025, date_month=4, background="国の支援が必要です。"),
            user=None,
            now=clock(),
        )
        db.session.commit()
        printed = compose.build_letter(other)
        assert printed.date_text == "2025年4月●日"
        assert printed.paragraphs == ["国の支援が必要です。"]
        assert [(e.op, e.at) for e in other.paragraph_edits] == [("remove", 0)]


def test_a_bad_own_date_is_refused_next_to_its_field(app, clock):
    with app.app_context():
        _campaign, _letter, _shared, other = _setup(clock())
        with pytest.raises(ops.InputErrors) as refused:
            ops.set_addressee_overrides(
                other,
                ops.OverridesInput(date_mode="fixed", date_year=2025, date_month=2, date_day=30),
                user=None,
                now=clock(),
            )
        assert "date_day" in refused.value.errors
        with pytest.raises(ops.InputErrors) as refused:
            ops.set_addressee_overrides(other, ops.OverridesInput(numbering="roman"), user=None, now=clock())
        assert "numbering" in refused.value.errors


def test_the_database_refuses_an_own_date_without_a_month(app, clock):
    with app.app_context():
        _campaign, _letter, _shared, other = _setup(clock())
        db.session.commit()
        other.date_mode = "fixed"
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        db.session.add(AddresseeRequest(addressee_id=other.id, position=1, request_item_id=None, text=None))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_the_organisation_line_is_an_explicit_visible_choice(app, clock):
    with app.app_context():
        _campaign, _letter, shared, other = _setup(clock())
        assert compose.build_letter(shared).addressee.lines() == ["総務大臣", "　村上誠一郎　様"]
        assert "肩書「総務大臣」に含まれるため印字しません" in compose.organisation_note(shared)
        ops.set_addressee_overrides(shared, ops.OverridesInput(print_organisation="always"), user=None, now=clock())
        assert compose.build_letter(shared).addressee.lines()[0] == "総務省"
        assert "印字します" in compose.organisation_note(shared)
        ops.set_addressee_overrides(other, ops.OverridesInput(print_organisation="never"), user=None, now=clock())
        assert compose.build_letter(other).addressee.lines() == ["理事長", "　山田太郎　殿"]
        assert "この要請先の設定" in compose.organisation_note(other)


def test_import_letter_cli_prints_the_ids_as_one_line_of_json(app, runner, tmp_path):
    path = tmp_path / "kyosai.docx"
    path.write_bytes(word_letters.typed_letter())
    result = runner.invoke(args=["import-letter", str(path)])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert "\n" not in line
    ids = json.loads(line)
    assert set(ids) == {"campaign_id", "letter_id", "addressee_id"}
    with app.app_context():
        addressee = db.session.get(Addressee, ids["addressee_id"])
        assert addressee.campaign_id == ids["campaign_id"] and addressee.letter_id == ids["letter_id"]
        printed = compose.build_letter(addressee)
        assert printed.greeting == word_letters.GREETING_KYOSAI
        assert printed.closing == word_letters.CLOSING_KYOSAI
        assert sum(len(s.items) for s in printed.sections) > 0


def test_import_letter_cli_refuses_what_it_cannot_read(runner, tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"not a zip")
    result = runner.invoke(args=["import-letter", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    missing = runner.invoke(args=["import-letter", str(path), "--variant-of", "999999"])
    assert missing.exit_code == 1 and "999999" in missing.stderr


def test_variant_of_stores_only_the_differences(app, clock, runner, tmp_path):
    with app.app_context():
        campaign, letter, shared, _other = _setup(clock())
        db.session.commit()
        base = compose.build_letter(shared)
        variant = compose.shared_letter(shared)
        variant.addressee = type(base.addressee)(title="デジタル大臣", name="平将明", honorific="殿")
        variant.date_text = "2025年3月24日"
        variant.paragraphs = ["さて、組合員の負担が増しています。", "国の支援が必要です。"]
        variant.sections = [variant.sections[1], variant.sections[0]]
        variant.numbering = numbering.DOT_CIRCLE
        data = render_letter(variant)
        letter_id, shared_id = letter.id, shared.id
    path = tmp_path / "digital.docx"
    path.write_bytes(data)
    result = runner.invoke(args=["import-letter", str(path), "--variant-of", str(letter_id)])
    assert result.exit_code == 0, result.output
    ids = json.loads(result.stdout)
    assert ids["letter_id"] == letter_id
    with app.app_context():
        added = db.session.get(Addressee, ids["addressee_id"])
        assert added.honorific == "殿" and added.title == "デジタル大臣"
        assert added.date_mode == "fixed" and added.date_day == 24
        assert added.numbering == numbering.DOT_CIRCLE
        assert [(e.op, e.at) for e in added.paragraph_edits] == [("replace", 0)]
        assert added.own_outline and all(r.text is None for r in added.outline_rows)
        assert added.closing is None and added.greeting == ""
        assert _texts(compose.render_addressee(added)[0]) == _texts(data)
        # The shared letter and its first addressee are untouched.
        assert _texts(compose.render_addressee(db.session.get(Addressee, shared_id))[0])[0] == "2025年3月●日"
        assert db.session.scalar(select(db.func.count()).select_from(Letter)) == 1


@pytest.mark.parametrize("make", [word_letters.typed_letter, word_letters.automatic_letter])
def test_word_letters_import_and_unplaced_text_is_reported(app, clock, make):
    with app.app_context():
        result = ops.import_letter(make(), user=None, now=clock())
        db.session.commit()
        printed = compose.build_letter(result.addressee)
        imported = result.imported.to_letter()
        assert printed.sections == imported.sections
        assert printed.paragraphs == imported.paragraphs
        assert len(result.notes) >= len(result.imported.unplaced)


def test_round_trip_of_every_demo_letter(app, clock):
    from consult.demo.letters import load_demo_campaign

    with app.app_context():
        campaign = load_demo_campaign(clock())
        db.session.commit()
        originals = [(a.id, compose.render_addressee(a)[0]) for a in compose.preload(campaign)]
        assert len(originals) == 8
        for addressee_id, data in originals:
            result = ops.import_letter(data, user=None, now=clock())
            again = compose.render_addressee(result.addressee)[0]
            assert _texts(again) == _texts(data), addressee_id
        db.session.rollback()


def test_copy_a_campaign_with_a_new_date_keeps_every_override(app, clock):
    with app.app_context():
        campaign, letter, _shared, other = _setup(clock())
        ids = _items(letter)
        ops.set_addressee_overrides(
            other,
            ops.OverridesInput(
                closing="結び。", outline=[(ids["Bについて"], True, None), (ids["b1こと。"], False, "別の文言こと。")]
            ),
            user=None,
            now=clock(),
        )
        db.session.commit()
        before = [_texts(compose.render_addressee(a)[0])[1:] for a in campaign.addressees]
        copy = ops.copy_campaign(campaign, (2026, 3, 12), user=None, now=clock())
        db.session.commit()
        copy = db.session.get(Campaign, copy.id)
        after = [_texts(compose.render_addressee(a)[0]) for a in compose.preload(copy)]
        assert [t[0] for t in after] == ["2026年3月12日", "2026年3月12日"]
        assert [t[1:] for t in after] == before
        assert {i.letter_id for i in copy.letters[0].items} == {copy.letters[0].id}
        one = ops.copy_addressee(other, date=(2025, 4, None), user=None, now=clock())
        assert compose.build_letter(one).date_text == "2025年4月●日"
        assert compose.build_letter(one).closing == "結び。"


# ---------------------------------------------------------------- pages


@pytest.fixture
def hq_client(login_as, make_user):
    return login_as(make_user("staff"))


def test_overrides_page_saves_and_the_preview_and_editor_show_them(app, clock, hq_client):
    with app.app_context():
        campaign, letter, _shared, other = _setup(clock())
        db.session.commit()
        ids = _items(letter)
        campaign_id, letter_id, other_id = campaign.id, letter.id, other.id
    url = f"/campaigns/{campaign_id}/addressees/{other_id}/overrides"
    page = hq_client.get(url)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "１．…について" in body and "①…こと。" in body  # a live example of each numbering style
    assert "右上に印字されます" in body  # where the date applies
    assert "組織名「全国市町村職員共済組合連合会」を宛名の1行目に印字します。" in body
    form = {
        "date_mode": "fixed",
        "date_year": "２０２５",
        "date_month": "3",
        "date_day": "24",
        "date_style": "western",
        "print_organisation": "auto",
        "one_line": "y",
        "numbering": "dot-circle",
        "background": "さて、組合員の負担が増しています。\n国の支援が必要です。",
        "closing": "",
    }
    for text, item_id in ids.items():
        form[f"keep-{item_id}"] = "y"
        form[f"text-{item_id}"] = text
        form[f"order-{item_id}"] = "1"
    form[f"order-{ids['Aについて']}"] = "2"
    form.pop(f"keep-{ids['a1こと。']}")
    form[f"text-{ids['b1こと。']}"] = "b1を書き換えること。"
    saved = hq_client.post(url, data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    preview = hq_client.get(f"/campaigns/{campaign_id}/addressees/{other_id}/preview").get_data(as_text=True)
    assert "2025年3月24日" in preview
    assert "理事長　山田太郎　殿" in preview
    assert preview.index("Bについて") < preview.index("Aについて")
    assert "b1を書き換えること。" in preview and "a1こと。" not in preview
    assert '<span class="label">①</span><span class="text prewrap">a2こと。' in preview
    editor = hq_client.get(f"/campaigns/{campaign_id}/letters/{letter_id}").get_data(as_text=True)
    assert "要請先ごとの違い" in editor
    assert "<del>職</del><ins>組合</ins>" in editor
    assert "さて、職員の負担が増しています。" in editor  # the shared text, once


def test_overrides_page_keeps_what_was_typed_on_a_bad_date(app, clock, hq_client):
    with app.app_context():
        campaign, _letter, _shared, other = _setup(clock())
        db.session.commit()
        campaign_id, other_id = campaign.id, other.id
    url = f"/campaigns/{campaign_id}/addressees/{other_id}/overrides"
    refused = hq_client.post(
        url,
        data={"date_mode": "fixed", "date_year": "2025", "date_month": "2", "date_day": "30", "date_style": "western",
              "print_organisation": "auto", "background": "独自の段落。"},
    )  # fmt: skip
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "2025年2月30日という日付はありません" in body
    assert "独自の段落。" in body
