"""Issue 13 on the pages: a Word letter uploaded is shown as recognised (nothing unplaced dropped) before it is
saved; copies of a campaign, an addressee and a letter with a new date."""

from __future__ import annotations

import io
import re

import pytest

from consult.extensions import db
from consult.letters import compose, docx_import
from consult.letters import operations as ops
from consult.letters.models import Addressee, Campaign, Letter
from tests import word_letters


@pytest.fixture
def hq_client(login_as, make_user):
    return login_as(make_user("staff"))


def _upload(client, data: bytes, **fields):
    return client.post(
        "/campaigns/import",
        data={"file": (io.BytesIO(data), "昨年の要請書.docx"), **fields},
        content_type="multipart/form-data",
    )


def test_upload_shows_everything_recognised_and_saves_only_on_confirm(app, hq_client):
    preview = _upload(hq_client, word_letters.typed_letter())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "まだ保存していません" in page
    with app.app_context():
        imported = docx_import.import_docx(word_letters.typed_letter())
        assert db.session.query(Campaign).count() == 0  # nothing saved yet
    assert imported.greeting in page and imported.title in page
    for item in imported.items:
        assert item.text in page and f"level-{item.level}" in page
    for unplaced in imported.unplaced:
        assert unplaced.text in page  # shown, never dropped
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page).group(1)
    saved = hq_client.post("/campaigns/import/confirm", data={"token": token, "campaign_id": "", "variant_of": ""})
    assert saved.status_code == 302
    with app.app_context():
        addressee = db.session.scalars(db.select(Addressee)).one()
        assert compose.build_letter(addressee).greeting == word_letters.GREETING_KYOSAI
    again = hq_client.post("/campaigns/import/confirm", data={"token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/campaigns/import")
    with app.app_context():
        assert db.session.query(Campaign).count() == 1  # the same upload is not saved twice


def test_a_variant_upload_joins_the_chosen_letter(app, hq_client):
    _upload_and_confirm(hq_client, word_letters.typed_letter())
    with app.app_context():
        letter_id = db.session.scalars(db.select(Letter.id)).one()
    page = _upload(hq_client, word_letters.automatic_letter(), variant_of=str(letter_id)).get_data(as_text=True)
    assert "別の要請先として、違いだけを保存します" in page
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page).group(1)
    hq_client.post("/campaigns/import/confirm", data={"token": token, "variant_of": str(letter_id)})
    with app.app_context():
        assert db.session.query(Letter).count() == 1 and db.session.query(Addressee).count() == 2


def _upload_and_confirm(client, data: bytes):
    page = _upload(client, data).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/campaigns/import/confirm", data={"token": token}).status_code == 302


def test_a_broken_upload_is_refused_next_to_the_field(app, hq_client):
    refused = _upload(hq_client, b"not a zip")
    assert refused.status_code == 422
    assert 'class="error"' in refused.get_data(as_text=True)
    forged = hq_client.post("/campaigns/import/confirm", data={"token": "../../etc/passwd"})
    assert forged.status_code == 302
    assert hq_client.get("/campaigns/import").status_code == 200


def test_copy_pages_for_a_campaign_an_addressee_and_a_letter(app, clock, hq_client):
    with app.app_context():
        campaign = ops.create_campaign(
            ops.CampaignInput("要請", 2025, 3, None, "western", "自治労"), clock(), user=None
        )
        letter = ops.add_letter(campaign, ops.LetterInput("要請書"), user=None, now=clock())
        ops.add_request_item(letter, "一つ目のこと。", user=None, now=clock())
        addressee = ops.add_addressee(campaign, letter, ops.AddresseeInput("総務省"), user=None, now=clock())
        db.session.commit()
        campaign_id, letter_id, addressee_id = campaign.id, letter.id, addressee.id
    base = f"/campaigns/{campaign_id}"
    detail = hq_client.get(base).get_data(as_text=True)
    assert f"{base}/copy" in detail and f"{base}/addressees/{addressee_id}/copy" in detail
    assert 'value="2026"' in hq_client.get(f"{base}/copy").get_data(as_text=True)  # next year offered
    bad = hq_client.post(f"{base}/copy", data={"date_year": "2026", "date_month": "2", "date_day": "30"})
    assert bad.status_code == 422 and "2026年2月30日という日付はありません" in bad.get_data(as_text=True)
    copied = hq_client.post(f"{base}/copy", data={"title": "翌年", "date_year": "２０２６", "date_month": "4"})
    assert copied.status_code == 302
    visit = hq_client.post(f"{base}/addressees/{addressee_id}/copy", data={"date_year": "2025", "date_month": "3",
                                                                           "date_day": "28"})  # fmt: skip
    assert visit.status_code == 302
    half = hq_client.post(f"{base}/addressees/{addressee_id}/copy", data={"date_year": "2025"})
    assert half.status_code == 422 and "月を入力してください" in half.get_data(as_text=True)
    assert hq_client.post(f"{base}/letters/{letter_id}/copy", data={"campaign_id": str(campaign_id)}).status_code == 302
    with app.app_context():
        new = db.session.scalars(db.select(Campaign).where(Campaign.title == "翌年")).one()
        assert compose.date_text(new) == "2026年4月●日" and len(new.addressees) == 1
        copies = db.session.scalars(db.select(Addressee).where(Addressee.campaign_id == campaign_id)).all()
        assert [compose.build_letter(a).date_text for a in copies] == ["2025年3月●日", "2025年3月28日"]
        assert db.session.query(Letter).filter(Letter.campaign_id == campaign_id).count() == 2
