"""Issue 13 through /api/v1: an addressee's overrides (read, stored, stale writes refused), copies of a campaign,
a letter and an addressee with a new date, and import of a Word letter (a new one, or --variant-of)."""

from __future__ import annotations

import io

import pytest

from consult.extensions import db
from consult.letters import compose
from consult.letters import operations as ops
from consult.letters.models import Addressee, Campaign
from tests import word_letters


@pytest.fixture
def staff(make_user):
    return make_user("staff")


def _world(app, clock) -> dict:
    with app.app_context():
        campaign = ops.create_campaign(
            ops.CampaignInput("要請", 2025, 3, None, "western", "自治労"), clock(), user=None
        )
        letter = ops.add_letter(
            campaign,
            ops.LetterInput(
                "要請書", greeting="敬意を表します。", background="職員の負担。\n国の支援。", closing="結び。"
            ),
            user=None,
            now=clock(),
        )
        section = ops.add_request_item(letter, "Aについて", user=None, now=clock())
        first = ops.add_request_item(letter, "a1こと。", parent=section, user=None, now=clock())
        ops.add_request_item(letter, "a2こと。", parent=section, user=None, now=clock())
        db.session.expire(letter, ["items"])
        addressee = ops.add_addressee(
            campaign, letter, ops.AddresseeInput("総務省", title="総務大臣", name="村上誠一郎"), user=None, now=clock()
        )
        db.session.commit()
        return {
            "campaign": campaign.id,
            "letter": letter.id,
            "addressee": addressee.id,
            "section": section.id,
            "first": first.id,
        }


def test_overrides_are_read_and_stored_and_a_stale_write_is_refused(app, clock, api_as, staff):
    ids = _world(app, clock)
    api = api_as(staff)
    url = f"/campaigns/{ids['campaign']}/addressees/{ids['addressee']}/overrides"
    shown = api.get(url)
    assert shown.status_code == 200
    body = shown.get_json()
    assert body["date_mode"] == "shared" and body["outline"] is None and body["date_text"] == "2025年3月●日"
    assert shown.headers["ETag"] == f'"{body["version"]}"'
    saved = api.put(
        url,
        json={
            "version": body["version"],
            "date_mode": "fixed",
            "date_year": 2025,
            "date_month": 3,
            "date_day": 24,
            "numbering": "dot-circle",
            "background": "組合員の負担。\n国の支援。",
            "outline": [
                {"request_item_id": ids["section"], "heading": True},
                {"request_item_id": ids["first"], "text": "a1を言い換えたこと。"},
            ],
        },
    )
    assert saved.status_code == 200, saved.get_json()
    stored = saved.get_json()
    assert stored["date_text"] == "2025年3月24日" and stored["numbering"] == "dot-circle"
    assert stored["outline"][1] == {"request_item_id": ids["first"], "heading": False, "text": "a1を言い換えたこと。"}
    with app.app_context():
        printed = compose.build_letter(db.session.get(Addressee, ids["addressee"]))
        assert printed.paragraphs == ["組合員の負担。", "国の支援。"]
        assert [s.items for s in printed.sections] == [["a1を言い換えたこと。"]]
    stale = api.put(url, json={"version": body["version"], "closing": "古い版からの結び。"})
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert "他の人が" in stale.get_json()["detail"]
    by_header = api.put(url, json={"closing": "新しい結び。"}, headers={"If-Match": f'"{stored["version"]}"'})
    assert by_header.status_code == 200 and by_header.get_json()["closing"] == "新しい結び。"
    assert by_header.get_json()["date_text"] == "2025年3月24日"  # omitted fields stay as stored
    back = api.put(url, json={"outline": None, "version": by_header.get_json()["version"]})
    assert back.status_code == 200 and back.get_json()["outline"] is None


def test_bad_overrides_are_refused_per_field_in_japanese(app, clock, api_as, staff):
    ids = _world(app, clock)
    url = f"/campaigns/{ids['campaign']}/addressees/{ids['addressee']}/overrides"
    refused = api_as(staff).put(url, json={"date_mode": "fixed", "date_year": 2025, "date_month": 2, "date_day": 30})
    assert refused.status_code == 422
    assert "2025年2月30日という日付はありません" in str(refused.get_json())
    unknown = api_as(staff).put(url, json={"outline": [{"request_item_id": 999_999}]})
    assert unknown.status_code == 422 and "この要請書にない項目" in str(unknown.get_json())


def test_copies_of_a_campaign_a_letter_and_an_addressee_with_a_new_date(app, clock, api_as, staff):
    ids = _world(app, clock)
    api = api_as(staff)
    base = f"/campaigns/{ids['campaign']}"
    api.put(f"{base}/addressees/{ids['addressee']}/overrides", json={"numbering": "dot-circle"})
    copied = api.post(f"{base}/copy", json={"date_year": 2026, "date_month": 4, "date_day": 1, "title": "翌年の要請"})
    assert copied.status_code == 201, copied.get_json()
    campaign = copied.get_json()
    assert campaign["title"] == "翌年の要請" and campaign["date_text"] == "2026年4月1日"
    assert len(campaign["letters"]) == 1 and len(campaign["addressees"]) == 1
    assert campaign["letters"][0]["id"] != ids["letter"]
    new_addressee = campaign["addressees"][0]["id"]
    overrides = api.get(f"/campaigns/{campaign['id']}/addressees/{new_addressee}/overrides").get_json()
    assert overrides["numbering"] == "dot-circle"
    visit = api.post(
        f"{base}/addressees/{ids['addressee']}/copy", json={"date_year": 2025, "date_month": 3, "date_day": 28}
    )
    assert visit.status_code == 201
    visit_overrides = api.get(f"{base}/addressees/{visit.get_json()['id']}/overrides").get_json()
    assert visit_overrides["date_text"] == "2025年3月28日" and visit_overrides["numbering"] == "dot-circle"
    letter = api.post(f"{base}/letters/{ids['letter']}/copy", json={"campaign_id": campaign["id"]})
    assert letter.status_code == 201 and letter.get_json()["campaign_id"] == campaign["id"]
    assert [i["text"] for i in letter.get_json()["items"]] == ["Aについて", "a1こと。", "a2こと。"]
    bad = api.post(f"{base}/copy", json={"date_year": 2026, "date_month": 2, "date_day": 30})
    assert bad.status_code == 422 and "2026年2月30日という日付はありません" in str(bad.get_json())
    half = api.post(f"{base}/addressees/{ids['addressee']}/copy", json={"date_year": 2026})
    assert half.status_code == 422 and "年と月を両方" in str(half.get_json())
    with app.app_context():
        assert db.session.query(Campaign).count() == 2


def test_import_of_a_word_letter_and_of_a_variant(app, clock, api_as, staff):
    api = api_as(staff)
    created = api.post(
        "/letters/import", json=None, data={"file": (io.BytesIO(word_letters.typed_letter()), "kyosai.docx")}
    )  # multipart
    assert created.status_code == 201, created.get_json()
    ids = created.get_json()
    assert {"campaign_id", "letter_id", "addressee_id", "unplaced", "notes"} <= set(ids)
    with app.app_context():
        printed = compose.build_letter(db.session.get(Addressee, ids["addressee_id"]))
        assert printed.greeting == word_letters.GREETING_KYOSAI
    variant = api.post(
        f"/letters/import?variant_of={ids['letter_id']}",
        json=None,
        data={"file": (io.BytesIO(word_letters.automatic_letter()), "other.docx")},
    )
    assert variant.status_code == 201, variant.get_data(as_text=True)
    assert variant.get_json()["letter_id"] == ids["letter_id"]
    assert variant.get_json()["addressee_id"] != ids["addressee_id"]
    broken = api.post("/letters/import", json=None, data={"file": (io.BytesIO(b"not a zip"), "x.docx")})
    assert broken.status_code == 422 and broken.mimetype == "application/problem+json"
    missing = api.post("/letters/import?variant_of=999999", json=None, data={"file": (io.BytesIO(b"x"), "x.docx")})
    assert missing.status_code == 422 and "要請書が見つかりません" in str(missing.get_json())
    elsewhere = _world(app, clock)
    mismatch = api.post(
        f"/letters/import?campaign_id={elsewhere['campaign']}&variant_of={ids['letter_id']}",
        json=None,
        data={"file": (io.BytesIO(word_letters.typed_letter()), "k.docx")},
    )
    assert mismatch.status_code == 422 and "指定の要請行動" in str(mismatch.get_json())


def test_a_branch_cannot_import_or_copy(app, clock, api_as, make_user, make_org):
    ids = _world(app, clock)
    branch = api_as(make_user("member", org=make_org("東京都本部", kind="prefecture", code="13")))
    assert branch.post("/letters/import", json=None, data={"file": (io.BytesIO(b"x"), "x.docx")}).status_code == 403
    assert (
        branch.post(f"/campaigns/{ids['campaign']}/copy", json={"date_year": 2026, "date_month": 1}).status_code == 404
    )


def test_a_stale_addressee_patch_is_refused(app, clock, api_as, staff):
    ids = _world(app, clock)
    api = api_as(staff)
    url = f"/campaigns/{ids['campaign']}/addressees/{ids['addressee']}"
    seen = api.get(url).get_json()["version"]
    first = api.patch(url, json={"greeting": "一人目のあいさつ。", "version": seen})
    assert first.status_code == 200 and first.get_json()["version"] > seen
    stale = api.patch(url, json={"greeting": "古い版のあいさつ。", "version": seen})
    assert stale.status_code == 409 and "他の人が" in stale.get_json()["detail"]
    assert api.get(url).get_json()["greeting"] == "一人目のあいさつ。"
