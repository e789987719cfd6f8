"""The follow-up in a real browser: from the DX campaign's letter page to its dashboard, a visit, graded answers,
the carry-over into next year, and next year's history page of a demand with its character diff."""

from __future__ import annotations

import pytest

from .browser_support import DESKTOP, STAFF, flash_text, login, new_context, screenshot

pytestmark = pytest.mark.browser


def test_letter_visit_grades_carry_over_and_history(browser, server):
    context = new_context(browser, DESKTOP)
    page = context.new_page()
    login(page, server, STAFF)
    campaign_id = server.one("SELECT id FROM campaign WHERE title = ?", "自治体DX推進にかかる省庁要請")
    page.goto(server.url(f"/campaigns/{campaign_id}"))
    page.locator("#followup-link").click()
    page.wait_for_load_state()
    assert f"/followup/campaigns/{campaign_id}" in page.url

    # a visit to 国民民主党, done, with who received us
    page.get_by_role("link", name="要請行動を登録する").click()
    page.get_by_label("要請先").select_option(label="国民民主党")
    page.get_by_label("日時").fill("2025-03-27T15:00")
    page.get_by_label("場所").fill("参議院議員会館")
    page.get_by_label("状況").select_option("done")
    page.get_by_label("先方の応対者（1行に1人、役職も）").fill("政務調査会長")
    page.get_by_role("button", name="保存する").click()
    assert "要請行動を登録しました" in flash_text(page)
    assert server.one("SELECT status FROM followup_visit WHERE place = ?", "参議院議員会館") == "done"

    # graded answers: 国民民主党's answers to the first two requests
    for n, grade in ((0, "後退"), (1, "現状維持")):
        page.goto(server.url(f"/followup/campaigns/{campaign_id}"))
        page.get_by_role("link", name="国民民主党の回答").nth(n).click()
        page.get_by_label("回答の内容").fill(f"党として検討します（{n + 1}）。")
        page.get_by_label("評価", exact=True).select_option(grade)
        page.get_by_role("button", name="保存する").click()
        assert "回答と評価を保存しました" in flash_text(page)
    assert page.locator('td[data-grade="後退"]').inner_text() == "2"  # the demo's デジタル庁 and ours
    page.locator("#counts").scroll_into_view_if_needed()
    screenshot(page, "hq-followup-dashboard.png", full_page=False)

    # carry the requests graded 後退 into a new campaign
    for box in page.locator("form[action$='/carry-over'] input[name=grades]").all():
        if box.get_attribute("value") == "後退":
            box.check()
        else:
            box.uncheck()
    page.get_by_label("新しい名称").fill("2026年 DX要請（ブラウザ試験）")
    page.get_by_role("button", name="引き継ぐ").click()
    assert "未解決の要請項目を引き継ぎました" in flash_text(page)
    new_id = server.one("SELECT id FROM campaign WHERE title = ?", "2026年 DX要請（ブラウザ試験）")
    assert f"/followup/campaigns/{new_id}" in page.url

    # next year's wording changes; the history page shows both years and the diff
    item_id, text = server.query(
        "SELECT r.id, r.text FROM request_item r JOIN letter l ON l.id = r.letter_id "
        "WHERE l.campaign_id = ? AND r.parent_id IS NOT NULL ORDER BY r.id",
        new_id,
    )[0]
    letter_id = server.one("SELECT letter_id FROM request_item WHERE id = ?", item_id)
    page.goto(server.url(f"/campaigns/{new_id}/letters/{letter_id}"))
    page.wait_for_load_state()
    page.goto(server.url(f"/followup/campaigns/{new_id}"))
    page.locator(f"#item-{item_id}").get_by_role("link", name="経緯").click()
    page.wait_for_load_state()
    assert page.locator("section.card").count() == 2
    assert "後退" in page.locator("section.card").first.inner_text()
    assert text in page.locator("section.card").nth(1).inner_text()
    screenshot(page, "hq-followup-history.png")
    context.close()
