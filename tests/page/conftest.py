"""Fixtures for the page tests: Debian's chromium driven by Playwright, one fresh browser context
(its own storage, clipboard permissions) per test against the real service."""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# One browser per test module, not per session: Playwright's sync API keeps an event loop in the
# thread while it runs, and later tests start their own (asyncio.run).
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: the page tests need Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    problems = []  # script errors and anything the Content-Security-Policy blocked
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: "Content Security Policy" in msg.text and problems.append(msg.text))
    page.goto(server)
    yield page
    context.close()
    assert not problems
