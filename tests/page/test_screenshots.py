"""Screenshots of the desk page's two modes at 1366×768, the agents' usual screen, against the real
service. They go to test-output/screenshots/; with HUASHU_DOCS_SCREENSHOTS=1 (`make screenshots`)
also to docs/, where the README shows them."""

import os
import shutil

from playwright.sync_api import expect

from app.core.config import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
DOCS = REPO_ROOT / "docs"
COMPLAINT = "客户说流量被偷了，要双倍赔偿，不然找记者曝光"
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
