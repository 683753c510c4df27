"""Fixtures for the page tests: Debian's chromium driven by Playwright, one fresh browser context
(its own storage, clipboard permissions) per test against the real service."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import copy_index, running_server

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


@contextmanager
def watched_page(browser, base: str, path: str = "", console_errors: bool = False):
    """A page at base + path in a fresh context; when it closes, no script error may have happened
    and the Content-Security-Policy must have blocked nothing. With `console_errors`, nothing may
    have been logged as an error either, except the browser's own line for each answer that is not
    2xx (a wrong token's 401 is such an answer, and the page handles it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    problems = []

    def on_console(msg) -> None:
        if "Content Security Policy" in msg.text:
            problems.append(msg.text)
        elif console_errors and msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(msg.text)

    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", on_console)
    page.goto(base + path)
    yield page
    context.close()
    assert not problems


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server) as page:
        yield page


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory, settings, index_version, admin_token):
    """A service of the module's own, for pages that change what is stored: the real corpus, a copy
    of the session's index version, its own data directory, and the admin token."""
    workdir = tmp_path_factory.mktemp("admin-server")
    index_dir = copy_index(settings.index_dir, index_version, workdir / "index")
    with running_server(index_dir, workdir, ADMIN_TOKEN=admin_token) as base:
        yield base
