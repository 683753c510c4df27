"""Screenshots of the desk page's two modes at 1366×768, the agents' usual screen, and of the admin
page, against the real service. They go to test-output/screenshots/; with HUASHU_DOCS_SCREENSHOTS=1
(`make screenshots`) also to docs/, where the README shows them."""

import os
import shutil

import httpx
from playwright.sync_api import expect

from app.core.config import REPO_ROOT
from tests.page.conftest import watched_page

SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
DOCS = REPO_ROOT / "docs"
COMPLAINT = "客户说流量被偷了，要双倍赔偿，不然找记者曝光"
GAP_QUERIES = [
    "我家的猫三天不吃猫粮了怎么办", "猫咪不肯吃猫粮，是不是生病了", "客户问能不能帮他查快递到哪了",
    "客户问快递怎么还没送到", "我的号码13812345678家里的猫不吃东西",
]
CALL = [
    ("customer", "我家宽带断了三天了，报修也没人来"),
    ("agent", "非常抱歉给您添麻烦了，我马上帮您催修"),
    ("customer", "五个月前你们就多扣过我二百块，这次再不修好我就去工信部投诉"),
]


def save(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    if os.environ.get("HUASHU_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(path, DOCS / f"{name}.png")


def test_screenshots_of_search_and_call_mode(page):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.fill("#q", COMPLAINT)
    page.press("#q", "Enter")
    expect(page.locator("#status")).to_contain_text("条话术")
    page.locator("#q").blur()  # no caret blinking in the picture
    save(page, "page-search")

    page.click("#mode-call")
    for i, (role, text) in enumerate(CALL, 1):
        page.click(f'.role[data-role="{role}"]')
        page.fill("#turn-text", text)
        page.press("#turn-text", "Enter")
        if role == "customer":
            expect(page.locator("#call-status")).to_contain_text(f"{i} 句 · ")
    expect(page.locator("#escalation .strip")).to_be_visible()
    page.click('.role[data-role="customer"]')
    page.locator("#turn-text").blur()
    save(page, "page-call")


def test_screenshots_of_the_admin_page(browser, admin_server, admin_token):
    with watched_page(browser, admin_server, "/admin", console_errors=True) as page:
        page.set_viewport_size({"width": 1366, "height": 768})
        page.fill("#token", admin_token)
        page.press("#token", "Enter")
        handout = "【投诉回访】\n" + "按约定时间回访客户，先确认问题是否已经解决，再询问是否还有其他需要。" * 12
        page.set_input_files("#upload-file", files=[{"name": "投诉回访讲义.txt", "mimeType": "text/plain", "buffer": handout.encode()}])
        page.click("#upload-button")
        expect(page.locator("#upload-percent")).to_have_text("100 %")
        expect(page.locator("#documents-list tr")).to_have_count(1)
        save(page, "admin-documents")

        page.click('#nav [data-section="index"]')
        page.click("#reindex")
        expect(page.locator("#index-say")).to_contain_text("完成：新版本", timeout=300_000)
        save(page, "admin-index")

        page.click('#nav [data-section="scripts"]')
        page.select_option("#scripts-scenario", "high-compensation")
        page.locator('.script-item[data-id="high-compensation/broken-record"]').click()
        expect(page.locator("#f-cited")).to_contain_text("当事人一方不履行合同义务")
        page.fill("#f-text", page.input_value("#f-text") + "我会在{天数}个工作日内给您回电话××")
        expect(page.locator('.problem[data-field="text"]')).to_be_visible()
        page.locator("#f-text").blur()
        page.locator('.script-item[aria-current="true"]').scroll_into_view_if_needed()
        page.mouse.move(1360, 100)  # no hover in the picture
        save(page, "admin-script")

        # What agents searched for and found nothing good: the gaps view groups it.
        for query in GAP_QUERIES:
            httpx.post(f"{admin_server}/v1/search", json={"query": query, "top_k": 5}, timeout=30)
        page.click("#close-editor")
        page.click("#confirm-ok")  # the unsaved edit above is dropped
        page.click('#nav [data-section="gaps"]')
        expect(page.locator(".gap").first).to_be_visible()
        page.mouse.move(1360, 100)
        save(page, "admin-gaps")
