"""The seed's campaign as demo data: `consult letters --out DIR` reproduces the seed's two letters paragraph for
paragraph, the 厚生労働省 letter holds the My Number card section alone, and every request item is traceable."""

from __future__ import annotations

import io
import zipfile

import letter_fixture
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from letter_fixture import where_it_went
from sqlalchemy import func, select, update

from consult.answers.models import Opinion
from consult.demo.letters import LETTERS, TITLE, load_demo_campaign
from consult.extensions import db
from consult.letters.compose import campaign_zip, letter_filename
from consult.letters.models import Addressee, Campaign, Letter, RequestItem, RequestItemOpinion
from consult.letters.queries import items_with_opinions
from consult.orgs.models import Organization

FULL = "０１２３４５６７８９"


@pytest.fixture(autouse=True)
def _flatten_tree_before_cleanup(app):
    """As in test_demo.py: SQLite's ON DELETE RESTRICT on organization.parent_id would refuse the cleanup."""
    yield
    with app.app_context():
        db.session.execute(update(Organization).values(parent_id=None))
        db.session.commit()


@pytest.fixture
def cli(app, runner):
    assert "letters" in app.cli.commands
    return runner


@pytest.fixture
def campaign_only(app, clock):
    with app.app_context():
        campaign_id = load_demo_campaign(clock()).id
        db.session.commit()
    return campaign_id


@pytest.fixture
def with_rounds(app, clock):
    """The rounds demo (closed DX round with 29 answers) first, then the campaign linked to it."""
    from consult.demo import load_demo

    with app.app_context():
        load_demo(clock())
        campaign_id = load_demo_campaign(clock()).id
        db.session.commit()
    return campaign_id


def _texts(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs if p.text]


def _expected(key: str, addressee_lines: list[str], sections=None) -> list[str]:
    """The seed letter's paragraphs as printed: with the fixture's own numbering labels."""
    data = letter_fixture.LETTERS[key]
    texts = [
        data["date_text"],
        *addressee_lines,
        data["sender_org"],
        f"{data['sender_title']}　{data['sender_name']}",
        data["title"],
        data["greeting"],
        *data["body"],
        data["closing"],
        "記",
    ]
    items = data["items"]
    if any(item["children"] for item in items):
        chosen = sections or range(1, len(items) + 1)
        for printed, n in enumerate(chosen, start=1):
            texts.append(f"{FULL[printed]}．{items[n - 1]['text']}")
            texts.extend(f"（{FULL[i]}）{child}" for i, child in enumerate(items[n - 1]["children"], start=1))
    else:
        texts.extend(f"{FULL[i]}．{item['text']}" for i, item in enumerate(items, start=1))
    return [*texts, "以上"]


def _write_all(cli, tmp_path, *args) -> dict[str, bytes]:
    result = cli.invoke(args=["letters", "--out", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    paths = [line for line in result.stdout.splitlines() if line.strip()]
    return {path: open(path, "rb").read() for path in paths}


def _by_org(files: dict[str, bytes], organisation: str) -> bytes:
    (data,) = [data for path, data in files.items() if f"_{organisation}_" in path]
    return data


def test_the_campaign_is_the_seeds_two_letters_and_eight_addressees(app, campaign_only):
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_only)
        assert (campaign.title, campaign.date_year, campaign.date_month, campaign.date_day, campaign.date_style) == (
            "自治体DX推進にかかる省庁要請",
            2025,
            3,
            None,
            "western",
        )
        assert (campaign.sender_org, campaign.sender_title, campaign.sender_name) == (
            "全日本自治団体労働組合",
            "中央執行委員長",
            "石上千博",
        )
        assert [letter.title for letter in campaign.letters] == [
            "自治体DXの推進に関する要請書",
            "戸籍振り仮名法制化への対応に関する要請書",
        ]
        b1, b2 = campaign.letters
        assert [len(top.children) for top in b1.top_items()] == [3, 3, 7]
        assert [len(top.children) for top in b2.top_items()] == [0] * 5
        assert [(a.organisation, a.kind, a.letter.title[:4], a.all_items) for a in campaign.addressees] == [
            ("立憲民主党", "party", "自治体D", True),
            ("国民民主党", "party", "自治体D", True),
            ("社民党", "party", "自治体D", True),
            ("公明党", "party", "自治体D", True),
            ("総務省", "ministry", "自治体D", True),
            ("デジタル庁", "ministry", "自治体D", True),
            ("法務省", "ministry", "戸籍振り", True),
            ("厚生労働省", "ministry", "自治体D", False),
        ]
        assert campaign.round_id is None  # no rounds demo loaded: nothing to link to


def test_loading_twice_changes_nothing(app, clock, with_rounds):
    def counts():
        return [
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Campaign, Letter, RequestItem, Addressee, RequestItemOpinion)
        ]

    with app.app_context():
        before = counts()
        version = db.session.get(Campaign, with_rounds).version
        assert load_demo_campaign(clock()).id == with_rounds
        db.session.commit()
        dx = db.session.get(Campaign, with_rounds)  # the demo also carries part of it into 2026 (follow-up)
        assert counts() == before and [len(dx.letters), sum(len(x.items) for x in dx.letters), len(dx.addressees)] == [
            2,
            21,
            8,
        ]
        assert db.session.get(Campaign, with_rounds).version == version


def test_letters_command_writes_eight_docx_named_by_addressee(cli, campaign_only, tmp_path):
    files = _write_all(cli, tmp_path, "--campaign", str(campaign_only))
    names = sorted(path.rsplit("/", 1)[1] for path in files)
    assert len(names) == 8
    assert names[4] == "05_総務省_自治体DXの推進に関する要請書.docx"
    assert names[6] == "07_法務省_戸籍振り仮名法制化への対応に関する要請書.docx"
    assert all(_texts(data)[-1] == "以上" for data in files.values())


def test_without_campaign_every_campaign_gets_its_own_folder(cli, campaign_only, tmp_path):
    files = _write_all(cli, tmp_path)
    assert len(files) == 8
    assert {path.rsplit("/", 2)[1] for path in files} == {f"{campaign_only:03d}_{TITLE}"}


def test_unknown_campaign_is_a_clear_message_and_exit_1(cli, campaign_only, tmp_path):
    result = cli.invoke(args=["letters", "--out", str(tmp_path / "x"), "--campaign", str(campaign_only + 99)])
    assert result.exit_code == 1
    assert f"要請行動 {campaign_only + 99} はありません" in result.output
    assert not (tmp_path / "x").exists()


def test_somusho_letter_is_the_seeds_letter_1_paragraph_for_paragraph(cli, campaign_only, tmp_path):
    data = _by_org(_write_all(cli, tmp_path), "総務省")
    assert _texts(data) == _expected("b1", ["総務大臣", "　村上誠一郎　様"])


def test_homusho_letter_is_the_seeds_flat_letter_2_paragraph_for_paragraph(cli, campaign_only, tmp_path):
    data = _by_org(_write_all(cli, tmp_path), "法務省")
    assert _texts(data) == _expected("b2", ["法務大臣", "　鈴木馨祐　様"])


def test_kosei_rodosho_letter_holds_the_my_number_card_section_alone_numbered_1(cli, campaign_only, tmp_path):
    data = _by_org(_write_all(cli, tmp_path), "厚生労働省")
    texts = _texts(data)
    assert texts == _expected("b1", ["厚生労働省　様"], sections=[2])
    assert "１．健康保険証とマイナンバーカードの一体化について" in texts
    others = [item for n, item in enumerate(letter_fixture.LETTERS["b1"]["items"]) if n != 1]
    joined = "\n".join(texts)
    assert not any(other["text"] in joined or any(c in joined for c in other["children"]) for other in others)


def test_party_letters_are_letter_1_addressed_to_the_party(cli, campaign_only, tmp_path):
    files = _write_all(cli, tmp_path)
    for party in ("立憲民主党", "国民民主党", "社民党", "公明党"):
        assert _texts(_by_org(files, party)) == _expected("b1", [f"{party}　様"])


def test_alignment_and_mincho_in_the_written_letters(cli, campaign_only, tmp_path):
    document = Document(io.BytesIO(_by_org(_write_all(cli, tmp_path), "総務省")))
    by_text = {p.text: p for p in document.paragraphs if p.text}
    assert by_text["2025年3月●日"].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert by_text["自治体DXの推進に関する要請書"].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert by_text["記"].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert by_text["以上"].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert by_text["全日本自治団体労働組合"].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    runs = [r for p in document.paragraphs for r in p.runs]
    assert runs and all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == "ＭＳ 明朝" for r in runs)


class _Stream:
    """A response stream: write only, no seek or tell, as when the ZIP goes straight to the browser."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def test_campaign_zip_streams_eight_letters_python_docx_reopens(app, campaign_only):
    stream = _Stream()
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_only)
        report = campaign_zip(campaign, stream)
        names = [letter_filename(a) for a in campaign.addressees]
    assert len(stream.chunks) > 8  # written as it went, not in one piece at the end
    archive = zipfile.ZipFile(io.BytesIO(b"".join(stream.chunks)))
    assert archive.namelist() == names == [name for name, _removed in report]
    assert len(set(names)) == 8 and all(removed == [] for _name, removed in report)
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
    for name in names:
        assert _texts(archive.read(name))[0] == "2025年3月●日"


def test_request_items_link_to_the_dx_rounds_opinions_on_the_matching_item(app, with_rounds):
    with app.app_context():
        campaign = db.session.get(Campaign, with_rounds)
        assert campaign.round_id is not None
        b1, b2 = campaign.letters
        traces = items_with_opinions(b1.id)[1]
        assert [t.label for t in traces][:5] == ["１．", "（１）", "（２）", "（３）", "２．"]
        requests = [t for t in traces if t.level == 2]
        assert sum(bool(t.opinions) for t in requests) >= 12  # nearly every request rests on opinions
        keywords = [keyword for _heading, children in LETTERS["b1"]["items"] for keyword, _text in children]
        assert all(
            keyword in op.proposed_text for t, keyword in zip(requests, keywords, strict=True) for op in t.opinions
        )
        assert all(not t.opinions for t in traces if t.level == 1)
        for trace in requests:
            section = trace.item.parent.position
            assert {op.item.number for op in trace.opinions} <= {str(section)}
            assert all(op.stance in ("amend", "add", "delete", "other") for op in trace.opinions)
            assert all(op.answer.status == "submitted" for op in trace.opinions)
        first = requests[0]
        assert all("安全第一" in op.proposed_text for op in first.opinions)
        flat = items_with_opinions(b2.id)[1]
        assert [t.label for t in flat] == ["１．", "２．", "３．", "４．", "５．"]
        assert all({op.item.number for op in t.opinions} == {"4"} for t in flat)


def test_an_opinion_leads_to_every_addressee_who_carries_it(app, with_rounds):
    with app.app_context():
        campaign = db.session.get(Campaign, with_rounds)
        b1 = campaign.letters[0]
        section2_item = b1.top_items()[1].children[0]
        section1_item = b1.top_items()[0].children[0]
        opinion = section2_item.opinions[0]
        (trace,) = where_it_went(opinion)
        assert trace.item.id == section2_item.id and trace.campaign.id == campaign.id
        assert [a.organisation for a in trace.addressees] == [
            "立憲民主党",
            "国民民主党",
            "社民党",
            "公明党",
            "総務省",
            "デジタル庁",
            "厚生労働省",
        ]
        (trace,) = where_it_went(section1_item.opinions[0])
        assert "厚生労働省" not in [a.organisation for a in trace.addressees]
        assert "法務省" not in [a.organisation for a in trace.addressees]
        koseki = db.session.get(Letter, campaign.letters[1].id).top_items()[2].opinions[0]
        assert [a.organisation for t in where_it_went(koseki) for a in t.addressees] == ["法務省"]
        unlinked = db.session.scalars(select(Opinion).where(Opinion.stance == "agree")).first()
        assert where_it_went(unlinked) == []
