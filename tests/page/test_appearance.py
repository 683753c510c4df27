"""How the desk page looks beyond its layout: its icon in the browser's tab, and its dark mode."""

import re

import httpx
from playwright.sync_api import expect


def luminance(css_colour: str) -> float:
    """Relative luminance (0 black, 1 white) of an rgb()/rgba() colour."""
    r, g, b = (float(c) / 255 for c in re.findall(r"\d+(?:\.\d+)?", css_colour)[:3])
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def colours(page, selector: str) -> tuple[str, str]:
    return page.locator(selector).first.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")


def test_the_page_has_its_own_icon_from_its_own_server(page, server):
    href = page.locator('link[rel="icon"]').get_attribute("href")
    assert href.startswith("/static/")  # the Content-Security-Policy allows nothing else
    response = httpx.get(f"{server}{href}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.lstrip().startswith("<svg")


def test_dark_mode_follows_the_system_setting(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(server)
        page.fill("#q", "客户说流量被偷了，要双倍赔偿，不然找记者曝光")
        page.press("#q", "Enter")
        expect(page.locator(".card.script").first).to_be_visible()
        page_background, page_text = colours(page, "html")
        assert luminance(page_background) < 0.05 and luminance(page_text) > 0.6
        card_background, card_text = colours(page, ".card.script")
        assert luminance(card_background) < 0.05 and luminance(card_text) > 0.6
        field_background, field_text = colours(page, "#q")
        assert luminance(field_background) < 0.05 and luminance(field_text) > 0.6
        copy_background, copy_text = colours(page, ".card.script .copy")
        assert (luminance(copy_background) + 0.05) / (luminance(copy_text) + 0.05) > 4.5  # readable
    finally:
        context.close()


def test_light_mode_stays_light(page):
    page_background, page_text = colours(page, "html")
    assert luminance(page_background) > 0.8 and luminance(page_text) < 0.05
