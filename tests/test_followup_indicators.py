"""Indicators (到達指標) of a campaign or of an organisation: pages and /api/v1, editing and removing them with
their years, the automatic grade, and the lost-update guard under parallel writers."""

from __future__ import annotations

import threading

from api_support import ApiClient
from sqlalchemy import select

from consult.extensions import db


def _client(app, world, role):
    return ApiClient(app.test_client(), world["tokens"][role])


def test_api_indicators_of_an_organisation_and_a_campaign(app, api_world):
    staff = _client(app, api_world, "staff")
    tokyo = api_world["orgs"]["tokyo"].id
    created = staff.post(
        "/indicators",
        json={
            "organization_id": tokyo,
            "name": "現年分収納率",
            "unit": "%",
            "values": [
                {"fiscal_year": 2022, "target": 98.2, "actual": 98.9},
                {"fiscal_year": 2023, "target": 98.3, "actual": 98.3},
                {"fiscal_year": 2024, "target": 98.4, "actual": 97.5},
                {"fiscal_year": 2026, "target": 98.6},
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["organization_id"] == tokyo and body["campaign_id"] is None
    assert [v["grade"] for v in body["values"]] == ["S", "A", "C", ""]
    iid = body["id"]
    listed = staff.get(f"/indicators?organization_id={tokyo}").get_json()
    assert [i["id"] for i in listed] == [iid]
    cid = api_world["ids"]["campaign_id"]
    assert iid not in [i["id"] for i in staff.get(f"/indicators?campaign_id={cid}").get_json()]

    changed = staff.patch(
        f"/indicators/{iid}",
        json={"version": body["version"], "values": [{"fiscal_year": 2024, "target": 98.4, "actual": 98.45}]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert [(v["fiscal_year"], v["grade"]) for v in changed.get_json()["values"]] == [(2024, "A")]
    assert changed.get_json()["name"] == "現年分収納率"  # untouched fields kept
    stale = staff.patch(f"/indicators/{iid}", json={"version": body["version"], "name": "古い版から"})
    assert stale.status_code == 409
    fewer = staff.patch(f"/indicators/{iid}", json={"name": "収納率", "unit": "％", "higher_is_better": False})
    assert fewer.get_json()["values"][0]["grade"] == "B"  # lower is better now: 98.45 is above 98.4

    bad = [
        {"organization_id": tokyo, "campaign_id": cid, "name": "両方"},
        {"name": "持ち主なし"},
        {"organization_id": 999999, "name": "ない組織"},
        {"organization_id": tokyo, "name": ""},
        {"organization_id": tokyo, "name": "x", "values": [{"fiscal_year": 2024}, {"fiscal_year": 2024}]},
        {"organization_id": tokyo, "name": "x", "values": [{"fiscal_year": 1500, "target": 1}]},
        {"organization_id": tokyo, "name": "x", "values": [{"fiscal_year": 2024, "target": "NaN"}]},
    ]
    for payload in bad:
        response = staff.post("/indicators", json=payload)
        assert response.status_code == 422, (payload, response.get_json())

    branch = _client(app, api_world, "prefecture")
    assert branch.get(f"/indicators/{iid}").status_code == 404
    assert branch.get("/indicators").status_code == 403
    assert staff.delete(f"/indicators/{iid}?version=1").status_code == 409
    version = staff.get(f"/indicators/{iid}").get_json()["version"]
    assert staff.delete(f"/indicators/{iid}?version={version}").status_code == 204
    assert staff.get(f"/indicators/{iid}").status_code == 404
    from consult.followup.models import IndicatorValue

    with app.app_context():
        assert db.session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == iid)).all() == []


def test_parallel_edits_of_one_indicator_lose_nothing(app, api_world):
    """Eight writers read version 1 and save at once: exactly one wins, the others get 409, and what is stored is
    the winner's years, whole."""
    staff = _client(app, api_world, "staff")
    iid = api_world["ids"]["indicator_id"]
    version = staff.get(f"/indicators/{iid}").get_json()["version"]
    writers = 8
    barrier = threading.Barrier(writers)
    codes: dict[int, int] = {}

    def write(n: int) -> None:
        client = _client(app, api_world, "staff")
        values = [{"fiscal_year": 2020 + k, "target": float(n), "actual": float(n)} for k in range(3)]
        barrier.wait()
        codes[n] = client.patch(f"/indicators/{iid}", json={"version": version, "values": values}).status_code

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes.values()) == [200] + [409] * (writers - 1), codes
    [winner] = [n for n, code in codes.items() if code == 200]
    stored = staff.get(f"/indicators/{iid}").get_json()
    assert stored["version"] == version + 1
    assert [(v["fiscal_year"], v["target"]) for v in stored["values"]] == [(2020 + k, winner) for k in range(3)]


def test_organisation_indicator_pages_add_edit_and_remove(app, client, login_as, make_user, make_org, hq):
    tokyo = make_org("東京都本部")
    login_as(make_user("staff", hq))
    page = client.get(f"/followup/indicators?organization_id={tokyo.id}")
    assert page.status_code == 200 and "到達指標はまだありません" in page.get_data(as_text=True)
    refused = client.post(
        "/followup/indicators",
        data={"organization_id": str(tokyo.id), "name": "組織率", "unit": "%", "values": "2024 九十 abc"},
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "1行目" in text and "2024 九十 abc" in text  # the message next to the field, the typed text kept
    added = client.post(
        "/followup/indicators",
        data={
            "organization_id": str(tokyo.id),
            "name": "組織率",
            "unit": "%",
            "higher_is_better": "y",
            "values": "2024 80 81\n2025 82",
        },
    )
    assert added.status_code == 302
    from consult.followup.models import Indicator

    with app.app_context():
        indicator = db.session.scalars(select(Indicator)).one()
        assert indicator.organization_id == tokyo.id and indicator.campaign_id is None
        iid = indicator.id
    shown = client.get(f"/followup/indicators?organization_id={tokyo.id}").get_data(as_text=True)
    assert "<svg" in shown and "組織率" in shown and "東京都本部" in shown
    edit = client.get(f"/followup/indicators/{iid}").get_data(as_text=True)
    assert "2024 80 81" in edit and "2025 82 -" in edit
    saved = client.post(
        f"/followup/indicators/{iid}", data={"name": "組織率", "unit": "%", "values": "2025 82 79", "version": "1"}
    )
    assert saved.status_code == 302
    stale = client.post(f"/followup/indicators/{iid}", data={"name": "古い", "values": "", "version": "1"})
    assert stale.status_code == 422 and "他の人がこの内容を先に更新しました" in stale.get_data(as_text=True)
    assert "古い" in stale.get_data(as_text=True)  # the typed text kept
    with app.app_context():
        indicator = db.session.get(Indicator, iid)
        assert [(v.fiscal_year, v.target, v.actual) for v in indicator.values] == [(2025, 82.0, 79.0)]
        assert indicator.name == "組織率"
    assert client.post(f"/followup/indicators/{iid}/delete", data={"version": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Indicator, iid) is not None  # a stale version removes nothing
    assert client.post(f"/followup/indicators/{iid}/delete", data={"version": "2"}).status_code == 302
    with app.app_context():
        assert db.session.get(Indicator, iid) is None
