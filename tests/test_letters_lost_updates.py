"""Issue 13: an addressee's overrides and details carry a version; people who loaded the same page and save at
once never overwrite each other silently. Counted with concurrent writers through the real pages."""

from __future__ import annotations

import re
import threading

import pytest

from consult.core.errors import ConflictError
from consult.extensions import db
from consult.letters import operations as ops
from consult.letters.models import Addressee
from tests.conftest import PASSWORD

WRITERS = 4
ROUNDS = 5
OVERRIDES = {"date_mode": "shared", "date_style": "western", "print_organisation": "auto", "numbering": ""}


def _world(app, clock) -> tuple[int, int, int]:
    with app.app_context():
        campaign = ops.create_campaign(
            ops.CampaignInput("要請", 2025, 3, None, "western", "自治労"), clock(), user=None
        )
        letter = ops.add_letter(
            campaign,
            ops.LetterInput("要請書", background="一段落目。\n二段落目。", closing="結び。"),
            user=None,
            now=clock(),
        )
        ops.add_request_item(letter, "一つ目のこと。", user=None, now=clock())
        addressee = ops.add_addressee(
            campaign, letter, ops.AddresseeInput("総務省", title="総務大臣"), user=None, now=clock()
        )
        db.session.commit()
        return campaign.id, letter.id, addressee.id


def _client(app, user):
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
    return client


def _shown_version(page: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page).group(1)


def _race(app, clients, url: str, post) -> tuple[list[tuple[str, str]], list[int]]:
    """Every writer loads the page, all wait until everyone has it, then all save; (version read, marker) of the
    saves acknowledged, and the status of every answer."""
    barrier = threading.Barrier(len(clients))
    acked: list[tuple[str, str]] = []
    statuses: list[int] = []
    errors: list[BaseException] = []

    def writer(n: int, client):
        try:
            version = _shown_version(client.get(url).get_data(as_text=True))
            barrier.wait(timeout=30)
            marker = f"書き手{n}の版{version}"
            response = client.post(url, data=post(marker, version))
            statuses.append(response.status_code)
            if response.status_code == 302:
                acked.append((version, marker))
            else:
                assert "他の人が" in response.get_data(as_text=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n, c)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return acked, statuses


def _lost(acked: list[tuple[str, str]]) -> int:
    """Saves acknowledged on top of a version someone else had already replaced: each is a write lost."""
    return len(acked) - len({version for version, _marker in acked})


def test_concurrent_override_saves_lose_no_write(app, clock, make_user):
    campaign_id, _letter_id, addressee_id = _world(app, clock)
    clients = [_client(app, make_user("staff")) for _ in range(WRITERS)]
    url = f"/campaigns/{campaign_id}/addressees/{addressee_id}/overrides"
    lost = acked_total = 0
    for _round in range(ROUNDS):
        acked, statuses = _race(
            app,
            clients,
            url,
            lambda marker, version: {**OVERRIDES, "closing": marker, "background": f"{marker}\n二段落目。",
                                     "version": version},
        )  # fmt: skip
        lost += _lost(acked)
        acked_total += len(acked)
        assert sorted(statuses) == [302] + [409] * (WRITERS - 1), statuses  # one save, the others told why
        with app.app_context():
            stored = db.session.get(Addressee, addressee_id)
            assert stored.closing == acked[-1][1]  # the acknowledged save is what is stored
            assert [p.text for p in stored.paragraph_edits if p.op == "replace"] == [acked[-1][1]]
    print(f"override saves: {acked_total} acknowledged, {lost} lost, {ROUNDS * WRITERS - acked_total} refused")
    assert lost == 0 and acked_total == ROUNDS


def test_concurrent_addressee_edits_lose_no_write(app, clock, make_user):
    campaign_id, letter_id, addressee_id = _world(app, clock)
    clients = [_client(app, make_user("staff")) for _ in range(WRITERS)]
    url = f"/campaigns/{campaign_id}/addressees/{addressee_id}"
    form = {"organisation": "総務省", "kind": "ministry", "title": "総務大臣", "honorific": "様",
            "letter_id": str(letter_id), "scope": "all"}  # fmt: skip
    lost = acked_total = 0
    for _round in range(ROUNDS):
        acked, statuses = _race(
            app, clients, url, lambda marker, version: {**form, "greeting": marker, "version": version}
        )
        lost += _lost(acked)
        acked_total += len(acked)
        assert 302 in statuses and set(statuses) <= {302, 409}, statuses
        with app.app_context():
            assert db.session.get(Addressee, addressee_id).greeting == acked[-1][1]
    print(f"addressee edits: {acked_total} acknowledged, {lost} lost")
    assert lost == 0 and acked_total == ROUNDS


def test_a_stale_overrides_page_is_refused_in_japanese_and_keeps_the_typed_text(app, clock, login_as, make_user):
    campaign_id, _letter_id, addressee_id = _world(app, clock)
    client = login_as(make_user("staff"))
    url = f"/campaigns/{campaign_id}/addressees/{addressee_id}/overrides"
    first = {**OVERRIDES, "closing": "一人目の結び。", "background": "一段落目。\n二段落目。", "version": "1"}
    assert client.post(url, data=first).status_code == 302
    stale = client.post(url, data={**first, "closing": "古い画面の結び。"})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "他の人が先に更新しました" in page and "古い画面の結び。" in page
    with app.app_context():
        stored = db.session.get(Addressee, addressee_id)
        assert stored.closing == "一人目の結び。"
        assert _shown_version(page) == str(stored.version)  # after a look, saving again is allowed
    again = {**first, "closing": "見比べてからの結び。", "version": _shown_version(page)}
    assert client.post(url, data=again).status_code == 302


def test_moving_the_items_only_still_raises_the_version(app, clock):
    """A save that changes only rows of the outline (no column of the addressee) must still refuse a stale page."""
    _campaign_id, _letter_id, addressee_id = _world(app, clock)
    with app.app_context():
        addressee = db.session.get(Addressee, addressee_id)
        item_id = addressee.letter.items[0].id
        ops.set_addressee_overrides(
            addressee, ops.OverridesInput(outline=[(item_id, False, "言い換えたこと。")]), user=None, now=clock()
        )
        db.session.commit()
        seen = addressee.version
        assert seen > 1
        ops.set_addressee_overrides(
            addressee, ops.OverridesInput(outline=[(item_id, False, "また言い換えたこと。")]), user=None, now=clock()
        )
        db.session.commit()
        assert addressee.version > seen
        with pytest.raises(ConflictError):
            ops.set_addressee_overrides(addressee, ops.OverridesInput(), expected_version=seen, user=None, now=clock())
        db.session.rollback()
        assert db.session.get(Addressee, addressee_id).outline_rows[0].text == "また言い換えたこと。"
