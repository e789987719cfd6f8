"""Accessibility of the main pages: axe-core finds no serious or critical violation, every control is labelled."""

from __future__ import annotations

import pytest

from .browser_support import (
    DESKTOP,
    PHONE,
    STAFF,
    TOKYO,
    axe_violations,
    login,
    new_context,
    screenshot,
)

pytestmark = pytest.mark.browser

# (id, path with {placeholders}, screenshot file or None)
HQ_PAGES = [
    ("round-list", "/rounds/", None),
    ("round-detail", "/rounds/{concepts}", None),
    ("round-edit", "/rounds/{concepts}/edit", None),
    ("round-items", "/rounds/{concepts}/items", None),
    ("round-import", "/rounds/{concepts}/items/import", None),
    ("round-targets", "/rounds/{concepts}/targets", None),
    ("round-milestones", "/rounds/{concepts}/milestones", None),
    ("board", "/rounds/{dx}/board", "hq-board.png"),
    ("aggregation-overview", "/rounds/{dx}/aggregate", None),
    ("aggregation-item", "/rounds/{dx}/aggregate/items/{dx_item}", None),
    ("aggregation-proposals", "/rounds/{dx}/aggregate/proposals", None),
    ("answer-table", "/rounds/{dx}/published", None),
    ("answer-as-hq", "/answers/{dx}/org/{tokyo_org}", None),
    ("campaigns", "/campaigns/", None),
    ("campaign-detail", "/campaigns/{campaign}", "hq-campaign.png"),
    ("letter-editor", "/campaigns/{campaign}/letters/{letter}", None),
    ("addressee", "/campaigns/{campaign}/addressees/{addressee}", None),
    ("letter-preview", "/campaigns/{campaign}/addressees/{addressee}/preview", None),
    ("not-found", "/rounds/999999", None),
]
BRANCH_PAGES = [
    ("branch-rounds", "/answers/", "branch-rounds.png"),
    ("branch-round", "/answers/{concepts}", "branch-round.png"),
    ("answer-form", "/answers/{concepts}/org/{tokyo_org}/edit", None),
    ("answer-read-only", "/answers/{dx}/org/{tokyo_org}", None),
    ("history", "/answers/{dx}/org/{tokyo_org}/history", None),
]

UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden')
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby') && !el.getAttribute('title'))
    .map(el => el.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def ids(server):
    """The demo's rounds, campaign and Tokyo's organisation, read from the server's database."""
    dx = server.one("SELECT id FROM round WHERE title = '自治体DXの推進に関する意見集約'")
    concepts = server.one(
        "SELECT id FROM round WHERE status = 'open' AND parent_id IS NULL AND title LIKE '連合の社会保障構想%'"
    )
    campaign = server.query("SELECT id FROM campaign WHERE round_id = ? ORDER BY id", dx)[0][0]
    letter = server.query("SELECT id FROM letter WHERE campaign_id = ? ORDER BY position, id", campaign)[0][0]
    return {
        "dx": dx,
        "concepts": concepts,
        "campaign": campaign,
        "letter": letter,
        "dx_item": server.query("SELECT id FROM round_item WHERE round_id = ? ORDER BY position", dx)[0][0],
        "addressee": server.query("SELECT id FROM addressee WHERE letter_id = ? ORDER BY position", letter)[0][0],
        "tokyo_org": server.one("SELECT organization_id FROM user_account WHERE login = 'tokyo'"),
    }


@pytest.fixture(scope="module")
def hq_page(browser, server):
    context = new_context(browser, DESKTOP)
    page = context.new_page()
    login(page, server, STAFF)
    yield page
    context.close()


@pytest.fixture(scope="module")
def branch_page(browser, server):
    context = new_context(browser, PHONE)
    page = context.new_page()
    login(page, server, TOKYO)
    yield page
    context.close()


def _check(page, url: str, shot: str | None) -> None:
    response = page.goto(url)
    assert response is not None and response.status in (200, 404), (url, response and response.status)
    if shot:
        screenshot(page, shot)
    unlabelled = page.evaluate(UNLABELLED_JS)
    assert not unlabelled, f"controls without a label on {url}: {unlabelled}"
    violations = axe_violations(page)
    for v in violations:
        print(f"axe {v['impact']}: {v['id']} ({v['help']}) on {url}: {v['targets']}")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe on {url}: {serious}"


def test_login_page(browser, server):
    context = new_context(browser, DESKTOP)
    try:
        _check(context.new_page(), server.url("/login"), None)
    finally:
        context.close()


@pytest.mark.parametrize("path, shot", [(p, s) for _i, p, s in HQ_PAGES], ids=[i for i, _p, _s in HQ_PAGES])
def test_headquarters_page(hq_page, server, ids, path, shot, server_clock):
    _check(hq_page, server.url(path.format(**ids)), shot)


@pytest.mark.parametrize("path, shot", [(p, s) for _i, p, s in BRANCH_PAGES], ids=[i for i, _p, _s in BRANCH_PAGES])
def test_branch_page_on_a_phone(branch_page, server, ids, path, shot, server_clock):
    _check(branch_page, server.url(path.format(**ids)), shot)


def test_the_import_preview_and_a_refused_form(hq_page, server, ids):
    """Pages in a state a GET does not reach: the import preview, and a form shown again with its errors."""
    hq_page.goto(server.url(f"/rounds/{ids['concepts']}/items/import"))
    hq_page.get_by_label("番号付きの文章を貼り付け").fill("1. 見出し一\n本文一\n2. 見出し二\n本文二")
    hq_page.get_by_role("button", name="読み取って確認する").first.click()
    assert hq_page.get_by_role("button", name="この内容で取り込む（2件）").is_visible()
    _check_current(hq_page)
    hq_page.goto(server.url("/rounds/new"))
    hq_page.get_by_role("button", name="保存する").click()
    assert hq_page.locator(".field.has-error").count() >= 2
    _check_current(hq_page)


def _check_current(page) -> None:
    unlabelled = page.evaluate(UNLABELLED_JS)
    assert not unlabelled, unlabelled
    serious = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert not serious, serious
