"""The three journeys in a real browser against a real server: HQ opens a round, a branch answers it on a phone,
HQ weighs the opinions and writes request letters that are downloaded and read back with python-docx."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta

import pytest
from docx import Document

from consult.core.clock import JST

from .browser_support import (
    DESKTOP,
    PHONE,
    STAFF,
    TOKYO,
    flash_text,
    focus_outline,
    keyboard_focus,
    login,
    new_context,
    screenshot,
)

pytestmark = pytest.mark.browser

ROUND_TITLE = "地域公共サービスの人員確保に関する組織討議（ブラウザ試験）"
HEADINGS = [
    "人員の確保",
    "会計年度任用職員の処遇改善",
    "自治体DXと業務改革",
    "窓口業務の体制",
    "保育・子育て支援",
    "介護・高齢者福祉",
    "医療・公立病院",
    "防災・減災",
    "公共交通の維持",
    "上下水道の更新",
    "公共施設の維持管理",
    "地方財政の確立",
    "ジェンダー平等",
    "ハラスメント防止",
    "長時間労働の是正",
    "メンタルヘルス対策",
    "人材育成と研修",
    "公契約条例",
    "環境・脱炭素",
    "地域の担い手づくり",
]
PROPOSED = "「必要な人員を確保する」を「正規職員による必要な人員を確保する」に改める。"
PASTED = "\n".join(
    f"{n}. {heading}\n{heading}について、現場の実態を踏まえた施策を求める。（本文{n}）"
    for n, heading in enumerate(HEADINGS, start=1)
)


def _parse_utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=None)


# ---------------------------------------------------------------- journey 1: HQ opens a round


@pytest.fixture(scope="module")
def hq_round(browser, server):
    """Journey 1, done once for the module: HQ staff create a round, import 20 items, set deadline and targets,
    open it. Returns what the later journeys need (the round's id, its items' ids, the typed deadline)."""
    server.move_clock(0)
    context = new_context(browser, DESKTOP)
    page = context.new_page()
    try:
        login(page, server, STAFF)
        page.get_by_role("link", name="組織討議", exact=True).click()
        page.get_by_role("link", name="新しい討議を作成する").click()

        now = datetime.now(JST).replace(second=0, microsecond=0, tzinfo=None)
        opens_at = now - timedelta(hours=1)
        deadline = (now + timedelta(days=3)).replace(hour=17, minute=0)
        page.get_by_label("題名").fill(ROUND_TITLE)
        page.get_by_label("背景・趣旨").fill("人員不足が深刻化している。\n各県本部の意見を集約し、本部案をまとめる。")
        page.get_by_label("受付開始（日本時間）").fill(opens_at.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("締切（日本時間）").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="保存する").click()
        assert "討議を作成しました" in flash_text(page)
        round_id = int(re.search(r"/rounds/(\d+)$", page.url).group(1))

        page.get_by_role("link", name="一括で取り込む").click()
        page.get_by_label("番号付きの文章を貼り付け").fill(PASTED)
        page.get_by_role("button", name="読み取って確認する").first.click()
        assert "20 件の項目を読み取りました" in page.locator("#preview-h + p").inner_text()
        assert page.locator("section.card tbody tr").count() == 20
        screenshot(page, "hq-import-preview.png")
        page.get_by_role("button", name="この内容で取り込む（20件）").click()
        assert "20件の項目を取り込みました" in flash_text(page)

        page.get_by_role("link", name="対象組織", exact=True).click()
        page.get_by_label("全県本部（すべての県本部を対象にする）").check()
        page.get_by_role("button", name="対象組織を保存する").click()
        assert "対象組織を47組織にしました" in flash_text(page)

        page.get_by_role("button", name="受付を開始する").click()
        assert page.locator("h1 .badge").inner_text() == "受付中"
        screenshot(page, "hq-round-detail.png")
        page.get_by_role("link", name="組織討議", exact=True).click()
        assert page.get_by_role("link", name=ROUND_TITLE).is_visible()
        screenshot(page, "hq-round-list.png")
    finally:
        context.close()
    items = server.query(
        "SELECT id, number, heading FROM round_item WHERE round_id = ? AND removed_at IS NULL ORDER BY position",
        round_id,
    )
    return {"id": round_id, "items": items, "deadline": deadline, "opens_at": opens_at}


def test_hq_creates_imports_targets_and_opens_a_round(hq_round, server):
    title, status, opens, due = server.one(
        "SELECT title, status, opens_at, deadline FROM round WHERE id = ?", hq_round["id"]
    )
    assert (title, status) == (ROUND_TITLE, "open")
    # Typed in Japan time, stored in UTC.
    assert _parse_utc(due) == (hq_round["deadline"] - timedelta(hours=9))
    assert _parse_utc(opens) == (hq_round["opens_at"] - timedelta(hours=9))
    assert [(number, heading) for _id, number, heading in hq_round["items"]] == [
        (str(n), heading) for n, heading in enumerate(HEADINGS, start=1)
    ]
    body = server.one("SELECT body FROM round_item WHERE id = ?", hq_round["items"][4][0])
    assert body == "保育・子育て支援について、現場の実態を踏まえた施策を求める。（本文5）"
    targets = server.one(
        "SELECT count(*) FROM round_target t JOIN organization o ON o.id = t.organization_id "
        "WHERE t.round_id = ? AND o.kind = 'prefecture'",
        hq_round["id"],
    )
    assert targets == 47
    assert server.one("SELECT count(*) FROM round_target WHERE round_id = ?", hq_round["id"]) == 47


# ---------------------------------------------------------------- journey 2: a branch answers on a phone


def test_branch_answers_on_a_phone_then_the_deadline_passes(hq_round, browser, server_clock):
    server = server_clock
    page = new_context(browser, PHONE).new_page()
    round_id = hq_round["id"]
    (first_id, _n1, _h1), (second_id, _n2, _h2) = hq_round["items"][0], hq_round["items"][2]
    org_id = server.one("SELECT organization_id FROM user_account WHERE login = 'tokyo'")
    try:
        # Log in with the keyboard alone: Tab to the field, type, Tab, type, Enter.
        page.goto(server.url("/login"))
        keyboard_focus(page, "el.id === 'login'")
        outline = focus_outline(page)
        assert outline["focusVisible"] and outline["style"] == "solid" and outline["width"] >= 2, outline
        page.keyboard.type(TOKYO[0])
        page.keyboard.press("Tab")
        page.keyboard.type(TOKYO[1])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/answers/$"))

        page.get_by_role("link", name=ROUND_TITLE).click()
        assert page.get_by_text("状態：未着手").is_visible() or "未着手" in page.locator("#my-answer + p").inner_text()
        page.get_by_role("link", name="回答を入力する").click()
        assert page.locator("fieldset.item-card").count() == 20

        # The first item with the mouse and fill: stance, wording and reason.
        page.locator(f"#item-{first_id}-stance").select_option("amend")
        page.locator(f"#item-{first_id}-referred_text").fill("「人員の確保」の第1段落")
        page.locator(f"#item-{first_id}-proposed_text").fill(PROPOSED)
        page.locator(f"#item-{first_id}-reason").fill("非正規化が進んでいるため。")

        # The third item with the keyboard only: Tab to its stance, choose with the arrow keys, type the reason,
        # Tab to 「下書き保存」 and press Enter.
        keyboard_focus(page, f"el.id === 'item-{second_id}-stance'")
        page.keyboard.press("ArrowDown")  # 賛成
        keyboard_focus(page, f"el.id === 'item-{second_id}-reason'")
        page.keyboard.type("現場の実感に合っており、賛成します。")
        keyboard_focus(page, "el.tagName === 'BUTTON' && el.value === 'save'")
        outline = focus_outline(page)
        assert outline["focusVisible"] and outline["style"] == "solid" and outline["width"] >= 2, outline
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "下書きを保存しました" in flash_text(page)
        status, version = server.one(
            "SELECT status, version FROM answer WHERE round_id = ? AND organization_id = ?", round_id, org_id
        )
        assert status == "draft"

        # Away and back: the draft is there as typed.
        page.get_by_role("link", name="回答する討議").click()
        page.get_by_role("link", name=ROUND_TITLE).click()
        assert "下書き" in page.locator("#my-answer").locator("..").inner_text()
        page.get_by_role("link", name="下書きを編集する").click()
        assert page.locator(f"#item-{first_id}-stance").input_value() == "amend"
        assert page.locator(f"#item-{second_id}-stance").input_value() == "agree"
        assert page.locator(f"#item-{second_id}-reason").input_value() == "現場の実感に合っており、賛成します。"
        page.locator("h1").evaluate("el => el.scrollIntoView()")  # the form itself rather than the header
        screenshot(page, "branch-answer-form.png")

        page.get_by_role("button", name="提出する").click()
        assert "回答を提出しました" in flash_text(page)
        status, submitted_version = server.one(
            "SELECT status, version FROM answer WHERE round_id = ? AND organization_id = ?", round_id, org_id
        )
        assert status == "submitted" and submitted_version > version
        opinions = server.query(
            "SELECT o.item_id, o.stance, o.referred_text, o.proposed_text, o.reason FROM opinion o "
            "JOIN answer a ON a.id = o.answer_id WHERE a.round_id = ? AND a.organization_id = ? ORDER BY o.item_id",
            round_id,
            org_id,
        )
        assert opinions == [
            (first_id, "amend", "「人員の確保」の第1段落", PROPOSED, "非正規化が進んでいるため。"),
            (second_id, "agree", "", "", "現場の実感に合っており、賛成します。"),
        ]

        # The server's clock (not the browser's) moves past the deadline.
        server.move_clock(timedelta(days=5).total_seconds())
        page.goto(server.url(f"/answers/{round_id}"))
        assert "締切を過ぎたため、回答は閲覧のみです" in page.locator("#my-answer").locator("..").inner_text()
        assert page.get_by_role("button", name="提出を取り下げて修正する").count() == 0
        assert page.get_by_role("link", name="下書きを編集する").count() == 0
        assert page.get_by_text("締切を過ぎています").first.is_visible()
        screenshot(page, "branch-after-deadline.png")
        page.goto(server.url(f"/answers/{round_id}/org/{org_id}/edit"))
        assert page.url.endswith(f"/answers/{round_id}/org/{org_id}"), "the form is not offered after the deadline"

        # And the server refuses a forged POST: a new answer and a withdrawal.
        token = page.locator("input[name=csrf_token]").first.input_value()
        response = page.request.post(
            server.url(f"/answers/{round_id}/org/{org_id}/edit"),
            max_redirects=0,
            form={
                "csrf_token": token,
                "version": str(submitted_version),
                "action": "submit",
                f"item-{first_id}-stance": "oppose",
                f"item-{first_id}-reason": "締切後の書き換え",
            },
        )
        assert response.status == 200 and "提出できませんでした" in response.text()
        response = page.request.post(
            server.url(f"/answers/{round_id}/org/{org_id}/withdraw"),
            max_redirects=0,
            form={"csrf_token": token, "version": str(submitted_version)},
        )
        assert response.status == 200 and "締切を過ぎているため、提出を取り下げることはできません" in response.text()
        status, final_version, late_at = server.one(
            "SELECT status, version, late_at FROM answer WHERE round_id = ? AND organization_id = ?", round_id, org_id
        )
        assert status == "submitted" and late_at is not None  # kept aside for HQ, the submitted answer untouched
        stances = server.query(
            "SELECT stance FROM opinion o JOIN answer a ON a.id = o.answer_id "
            "WHERE a.round_id = ? AND a.organization_id = ? ORDER BY o.item_id",
            round_id,
            org_id,
        )
        assert stances == [("amend",), ("agree",)]
    finally:
        page.context.close()


# ---------------------------------------------------------------- journey 3: aggregation and request letters

CAMPAIGN = "人員確保にかかる省庁要請（ブラウザ試験）"
LETTER_TITLE = "地域公共サービスの人員確保に関する要請書"
REQUESTS = [
    "地方交付税の総額を確保し、人員確保に必要な財源を措置すること。",
    "マイナンバーカードの交付事務に必要な人員と経費を国の責任で確保すること。",
    "会計年度任用職員の処遇改善に必要な財源を確保すること。",
]


def test_hq_weighs_opinions_and_writes_letters_for_two_addressees(desktop, server):
    page = desktop
    dx_round = server.one("SELECT id FROM round WHERE title = '自治体DXの推進に関する意見集約'")
    login(page, server, STAFF)

    # The aggregation of the demo DX round (29 prefecture headquarters answered).
    page.goto(server.url(f"/rounds/{dx_round}"))
    page.get_by_role("link", name="意見の集約").first.click()
    assert "回答 29 / 47 組織" in page.locator("p.card").first.inner_text()
    screenshot(page, "hq-aggregation.png")
    page.locator("table.overview tbody th a").first.click()
    page.wait_for_url("**/aggregate/items/**")
    page.locator("article.opinion").nth(1).wait_for()  # the item's page has loaded (a busy machine is slow)
    assert page.locator("article.opinion").count() >= 2

    weighed = []
    for index, (label, view) in enumerate(
        [("採用", "本部案の第2章に反映します。"), ("不採用", "国の制度設計に関わるため、今回は見送ります。")]
    ):
        article = page.locator("article.opinion").nth(index)
        opinion_id = int(article.get_attribute("id").removeprefix("op-"))
        article.get_by_label("対応").select_option(label=label)
        article.get_by_label("本部の考え方").fill(view)
        article.get_by_role("button", name="保存").click()
        assert "対応を保存しました" in flash_text(page)
        weighed.append((opinion_id, label, view))
    screenshot(page, "hq-aggregation-item.png")
    keys = {"採用": "adopted", "不採用": "rejected"}
    for opinion_id, label, view in weighed:
        assert server.one("SELECT disposition, hq_view FROM opinion WHERE id = ?", opinion_id) == (keys[label], view)

    # A campaign with one letter of three requests, drawn from the DX round.
    page.get_by_role("link", name="要請行動", exact=True).click()
    page.get_by_role("link", name=re.compile("要請行動を作成")).click()
    page.get_by_label("要請行動の名前").fill(CAMPAIGN)
    page.get_by_label("年（西暦）").fill("2025")
    page.get_by_label("月", exact=True).fill("3")
    page.get_by_label("日（未定なら空欄：●と印字）").fill("")
    page.get_by_label("差出人の肩書").fill("中央執行委員長")
    page.get_by_label("差出人の氏名").fill("石上千博")
    page.get_by_label("元にした組織討議").select_option(label="自治体DXの推進に関する意見集約")
    page.get_by_role("button", name="作成する").click()
    assert "要請行動を作成しました" in flash_text(page)
    campaign_id = int(re.search(r"/campaigns/(\d+)", page.url).group(1))

    page.get_by_label("新しい要請書の題名").fill(LETTER_TITLE)
    page.get_by_role("button", name="要請書を追加する").click()
    page.get_by_label("あいさつ").fill("日頃より地方自治の発展にご尽力いただいている貴職に敬意を表します。")
    page.get_by_label("本文（背景）：1行が1段落").fill(
        "各地で人員不足が深刻です。\n住民サービスの維持が危ぶまれています。"
    )
    page.get_by_label("結びの文").fill("つきましては、以下の通り要請します。")
    page.get_by_role("button", name="要請書を保存").click()
    assert "要請書を保存しました" in flash_text(page)
    for text in REQUESTS:
        page.locator("#add-top + form").get_by_label("文言").fill(text)
        page.locator("#add-top + form").get_by_role("button", name="追加する").click()
        assert "項目を追加しました" in flash_text(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "hq-letter-editor.png")
    letter_id = server.one("SELECT id FROM letter WHERE campaign_id = ?", campaign_id)
    assert [
        t for (t,) in server.query("SELECT text FROM request_item WHERE letter_id = ? ORDER BY position", letter_id)
    ] == REQUESTS

    # Two addressees: the ministry of internal affairs gets every item, health and labour only the second.
    _add_addressee(page, server, campaign_id, "総務省", "総務大臣", "村上誠一郎", subset=None)
    _add_addressee(page, server, campaign_id, "厚生労働省", "厚生労働大臣", "福岡資麿", subset=[REQUESTS[1]])
    rows = page.locator("#addressees + .table-wrap tbody tr")
    rows.nth(1).wait_for()  # the campaign page after the second addressee's redirect
    assert rows.count() == 2
    ministry, health = server.query(
        "SELECT id, organisation, all_items FROM addressee WHERE campaign_id = ? ORDER BY position", campaign_id
    )
    assert (ministry[1], ministry[2], health[1], health[2]) == ("総務省", 1, "厚生労働省", 0)

    # The preview of the health ministry's letter, then its Word file.
    page.goto(server.url(f"/campaigns/{campaign_id}/addressees/{health[0]}/preview"))
    preview = page.locator("article.letter-preview").inner_text()
    assert REQUESTS[1] in preview and REQUESTS[0] not in preview and "厚生労働大臣" in preview
    screenshot(page, "hq-letter-preview.png")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Word でダウンロード")).click()
    download = info.value
    assert download.suggested_filename == f"02_厚生労働省_{LETTER_TITLE}.docx"
    text = _docx_text(open(download.path(), "rb").read())
    assert LETTER_TITLE in text and "厚生労働大臣" in text and "福岡" in text and "石上" in text
    assert REQUESTS[1] in text and REQUESTS[0] not in text and REQUESTS[2] not in text
    assert "2025年3月●日" in text

    # Every letter in one ZIP.
    page.goto(server.url(f"/campaigns/{campaign_id}"))
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("すべての要請書を ZIP でダウンロード")).click()
    archive = zipfile.ZipFile(info.value.path())
    names = sorted(archive.namelist())
    assert names == [f"01_総務省_{LETTER_TITLE}.docx", f"02_厚生労働省_{LETTER_TITLE}.docx"]
    first, second = (_docx_text(archive.read(name)) for name in names)
    assert all(text in first for text in REQUESTS) and "総務大臣" in first and "村上" in first
    assert REQUESTS[1] in second and REQUESTS[0] not in second and "総務大臣" not in second
    assert "日頃より地方自治の発展にご尽力いただいている貴職に敬意を表します。" in first


def _add_addressee(page, server, campaign_id, organisation, title, name, subset):
    page.goto(server.url(f"/campaigns/{campaign_id}"))
    page.get_by_role("link", name="要請先を追加する").click()
    page.get_by_label("要請先の組織（省庁・政党など）").fill(organisation)
    page.get_by_role("radio", name="省庁").check()
    page.get_by_label("宛名の肩書（例：総務大臣）").fill(title)
    page.get_by_label("宛名の氏名（任意）").fill(name)
    page.get_by_role("radio", name="様", exact=True).check()
    page.get_by_label("渡す要請書").select_option(label=LETTER_TITLE)
    if subset is None:
        page.get_by_role("radio", name="すべての項目").check()
    else:
        page.get_by_role("radio", name="一部の項目だけ（下で選ぶ）").check()
        for text in subset:
            page.get_by_label(re.compile(re.escape(text))).check()
    page.get_by_role("button", name="登録する").click()
    assert f"要請先「{organisation}」を登録しました" in flash_text(page)


def _docx_text(data: bytes) -> str:
    """Every paragraph of the document body and its tables, as python-docx reads them."""
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


# ---------------------------------------------------------------- journey 4: the two tiers (issue 10)

OSAKA_UNIONS = {"sakai": "堺市職員労働組合", "toyonaka": "豊中市職員労働組合"}
SAKAI_TEXT = "正規職員による人員確保を明記する。"
TOYONAKA_TEXT = "会計年度任用職員の処遇改善も併記する。"
FED_REQUEST = "自治体の人員確保に必要な財源を地方財政計画に計上すること。"


def _cli_user(server, login_id: str, org_code: str, password: str) -> tuple[str, str]:
    """A member of the organisation, made with `consult create-user` on the server's own database."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{server.db_path}",
            "CONSULT_INSTANCE_PATH": str(server.db_path.parent / "instance"),
            "SECRET_KEY": "browser-tests",
        }
    )
    made = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "consult", "create-user", login_id, "--name", f"{login_id} 担当"]
        + ["--role", "member", "--org", org_code, "--password-file", "-"],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return login_id, password


def test_prefecture_runs_its_discussion_merges_two_unions_and_hq_traces_a_request_down(hq_round, browser, server_clock):
    """HQ's round (journey 1) → 大阪府本部 opens its sub-round → 堺 answers, 豊中 after the sub-round's deadline
    on an extension → the prefecture merges both, submits with its decision and publishes it back to its unions →
    HQ traces a request item down to the union opinions and back up."""
    server = server_clock
    round_id = hq_round["id"]
    first_item = hq_round["items"][0][0]
    officer = _cli_user(server, "osaka-seisaku-b", "pref27", "osaka-browser-pw")
    unions = {key: _cli_user(server, f"{key}-b", f"local-{key}", f"{key}-browser-pw") for key in OSAKA_UNIONS}
    page = new_context(browser, DESKTOP).new_page()
    try:
        # The prefecture opens its own discussion, due in a day (before its deadline to HQ), for its two unions.
        login(page, server, officer)
        page.goto(server.url(f"/answers/{round_id}"))
        page.get_by_role("link", name="県内討議と県本部の回答づくり").click()
        page.get_by_role("link", name="県内討議を開始する").click()
        due = (datetime.now(JST) + timedelta(days=1)).replace(second=0, microsecond=0, tzinfo=None)
        page.get_by_label("県内の締切（日本時間）").fill(due.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("県本部からの説明").fill("各単組の職場討議をふまえた意見をお寄せください。")
        assert all(page.get_by_label(name).is_checked() for name in OSAKA_UNIONS.values())
        page.get_by_role("button", name="県内討議を開始する").click()
        assert "県内討議を開始しました" in flash_text(page)
        sub_id = int(re.search(r"/rounds/(\d+)$", page.url).group(1))
        assert server.one("SELECT parent_id FROM round WHERE id = ?", sub_id) == round_id
        sub_item = server.one("SELECT id FROM round_item WHERE round_id = ? AND parent_item_id = ?", sub_id, first_item)
        page.context.clear_cookies()

        def union_answers(key: str, text: str) -> None:
            login(page, server, unions[key])
            org_id = server.one("SELECT organization_id FROM user_account WHERE login = ?", unions[key][0])
            page.goto(server.url(f"/answers/{sub_id}/org/{org_id}/edit"))
            page.locator(f"#item-{sub_item}-stance").select_option("amend")
            page.locator(f"#item-{sub_item}-proposed_text").fill(text)
            page.locator(f"#item-{sub_item}-reason").fill("職場の人員不足が深刻なため。")
            page.get_by_role("button", name="提出する").click()
            assert "回答を提出しました" in flash_text(page)
            page.context.clear_cookies()

        union_answers("sakai", SAKAI_TEXT)

        # The sub-round's deadline passes (HQ's is still ahead); the prefecture extends 豊中's, who answers late.
        server.move_clock(timedelta(days=1, hours=6).total_seconds())
        login(page, server, officer)
        page.goto(server.url(f"/rounds/{sub_id}/board"))
        page.get_by_label("組織", exact=True).select_option(label=OSAKA_UNIONS["toyonaka"])
        until = due + timedelta(days=1)
        page.get_by_label("延長後の締切（日本時間）").fill(until.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("延長の理由").fill("単組大会の日程のため")
        page.get_by_role("button", name="延長する").click()
        assert "延長" in flash_text(page)
        page.context.clear_cookies()
        union_answers("toyonaka", TOYONAKA_TEXT)
        toyonaka_id = server.one("SELECT organization_id FROM user_account WHERE login = 'toyonaka-b'")
        submitted_at = server.one(
            "SELECT submitted_at FROM answer WHERE round_id = ? AND organization_id = ?", sub_id, toyonaka_id
        )
        assert _parse_utc(submitted_at) > due - timedelta(hours=9)  # after the sub-round's own deadline

        # The prefecture merges both unions' opinions on the first item, records its decision and submits.
        login(page, server, officer)
        page.goto(server.url(f"/answers/{round_id}/roll-up"))
        item = page.locator(f"#item-{first_item}")
        assert "単組の意見 2件" in item.inner_text()
        for name in OSAKA_UNIONS.values():
            item.get_by_label(f"{name}の意見を選ぶ").check()
        item.get_by_role("button", name="選んだ意見を採用・統合する").click()
        assert "県本部の意見を下書きに保存しました" in flash_text(page)
        merged = page.locator(f"#item-{first_item} .card").first.inner_text()
        assert f"【{OSAKA_UNIONS['sakai']}】{SAKAI_TEXT}" in merged and TOYONAKA_TEXT in merged
        page.get_by_label("決定機関").fill("県本部執行委員会")
        page.get_by_label("決定日").fill("2025-03-10")
        page.get_by_role("button", name="記録する").click()
        assert "決定機関と決定日を記録しました" in flash_text(page)
        page.get_by_role("link", name="文言を直す・提出する").click()
        page.get_by_role("button", name="提出する").click()
        assert "回答を提出しました" in flash_text(page)
        osaka = server.one("SELECT id FROM organization WHERE code = 'pref27'")
        status, decided_by, decided_on = server.one(
            "SELECT status, decided_by, decided_on FROM answer WHERE round_id = ? AND organization_id = ?",
            round_id,
            osaka,
        )
        assert (status, decided_by, str(decided_on)) == ("submitted", "県本部執行委員会", "2025-03-10")
        opinion_id = server.one(
            "SELECT o.id FROM opinion o JOIN answer a ON a.id = o.answer_id "
            "WHERE a.round_id = ? AND a.organization_id = ? AND o.item_id = ?",
            round_id,
            osaka,
            first_item,
        )
        sources = server.query("SELECT source_id FROM opinion_source WHERE opinion_id = ?", opinion_id)
        assert len(sources) == 2
        # ... and publishes it back to its unions, who read it on their page of the sub-round.
        page.goto(server.url(f"/answers/{round_id}/roll-up"))
        page.get_by_role("button", name="単組に公開する").click()
        assert "県本部の回答を単組に公開しました" in flash_text(page)
        page.context.clear_cookies()
        login(page, server, unions["sakai"])
        page.goto(server.url(f"/answers/{sub_id}"))
        back = page.locator("section[aria-labelledby=published-back]").inner_text()
        assert "自治労大阪府本部が公開した回答" in back and "県本部執行委員会" in back
        assert TOYONAKA_TEXT in back and "貴組織の意見を出典にしています" in back
        page.context.clear_cookies()

        # HQ: a request letter on this round takes up Osaka's opinion; the trace runs down to both unions.
        login(page, server, STAFF)
        page.goto(server.url("/campaigns/new"))
        page.get_by_label("要請行動の名前").fill("二層の討議からの要請（ブラウザ試験）")
        page.get_by_label("年（西暦）").fill("2025")
        page.get_by_label("月", exact=True).fill("3")
        page.get_by_label("差出人の肩書").fill("中央執行委員長")
        page.get_by_label("差出人の氏名").fill("石上千博")
        page.get_by_label("元にした組織討議").select_option(label=ROUND_TITLE)
        page.get_by_role("button", name="作成する").click()
        assert "要請行動を作成しました" in flash_text(page)
        page.get_by_label("新しい要請書の題名").fill("人員確保の要請書")
        page.get_by_role("button", name="要請書を追加する").click()
        page.locator("#add-top + form").get_by_label("文言").fill(FED_REQUEST)
        page.locator("#add-top + form").get_by_role("button", name="追加する").click()
        assert "項目を追加しました" in flash_text(page)
        request_item = server.one("SELECT id FROM request_item WHERE text = ?", FED_REQUEST)

        page.goto(server.url(f"/rounds/{round_id}/aggregate/items/{first_item}?link={opinion_id}#op-{opinion_id}"))
        article = page.locator(f"#op-{opinion_id}")
        article.get_by_label("要請項目").select_option(index=1)
        article.get_by_role("button", name="保存").click()
        assert server.query("SELECT 1 FROM request_item_opinion WHERE opinion_id = ?", opinion_id)

        page.goto(server.url(f"/rounds/{round_id}/tiers"))
        page.get_by_role("button", name="切り替える").click()  # HQ reads the union opinions beneath
        assert "単組の意見の表示を切り替えました" in flash_text(page)
        page.goto(server.url(f"/rounds/request-items/{request_item}/trace"))
        trace = page.locator("main").inner_text()
        assert "自治労大阪府本部" in trace and all(name in trace for name in OSAKA_UNIONS.values())
        page.get_by_role("link", name=OSAKA_UNIONS["toyonaka"]).click()  # and back up from the union
        up = page.locator("main").inner_text()
        assert TOYONAKA_TEXT in up and "自治労大阪府本部" in up and FED_REQUEST[:20] in up
    finally:
        page.context.close()
