"""Search as you type, in a real browser against the real service: when the page asks and what.
The page's clock is Playwright's fake one, paused, so that the tests say how long the agent takes
between keystrokes and never depend on how fast the machine is."""

import re
from datetime import datetime

from playwright.sync_api import expect

LONG_AGO = datetime(2026, 1, 5, 9, 0, 0)
NOW = datetime(2026, 1, 5, 9, 1, 0)


def paused_clock(page) -> None:
    """The page reloaded on a fake clock that only moves when a test moves it (clock.run_for)."""
    page.clock.install(time=LONG_AGO)
    page.reload()
    page.clock.pause_at(NOW)


def searched_queries(page) -> list[str]:
    """The query of every /v1/search request the page sends from now on, in order."""
    queries: list[str] = []

    def record(route):
        queries.append(route.request.post_data_json["query"])
        route.continue_()

    page.route("**/v1/search", record)
    return queries


def wait_for_results(page) -> None:
    expect(page.locator("#status")).to_contain_text("条话术")


def test_one_character_is_not_searched_and_two_are(page):
    queries = searched_queries(page)
    paused_clock(page)
    page.locator("#q").focus()
    page.keyboard.type("流")
    page.clock.run_for(3000)
    page.keyboard.type("量")
    page.clock.run_for(3000)
    wait_for_results(page)
    assert queries == ["流量"]


def test_slow_typing_waits_for_the_pause_instead_of_searching_every_character(page):
    query = "宽带断了三天要求赔偿"
    queries = searched_queries(page)
    paused_clock(page)
    page.locator("#q").focus()
    for char in query:
        page.keyboard.type(char)
        page.clock.run_for(500)  # a slow typist: half a second between characters
    page.clock.run_for(3000)
    wait_for_results(page)
    assert queries[-1] == query
    assert len(queries) < len(query) / 2, queries


def test_pinyin_being_composed_is_not_searched(page):
    queries = searched_queries(page)
    paused_clock(page)
    page.locator("#q").focus()
    page.keyboard.insert_text("老人被忽悠办了")
    ime = page.context.new_cdp_session(page)
    for pinyin in ["t", "ta", "tao", "tao'", "tao'c", "tao'ca", "tao'can"]:
        ime.send("Input.imeSetComposition", {"text": pinyin, "selectionStart": len(pinyin), "selectionEnd": len(pinyin)})
        page.clock.run_for(500)
    expect(page.locator("#q")).to_have_value("老人被忽悠办了tao'can")  # the field shows the pinyin meanwhile
    page.clock.run_for(3000)  # the agent looks for the word in the IME's list
    ime.send("Input.insertText", {"text": "套餐"})  # picked: the composition ends
    expect(page.locator("#q")).to_have_value("老人被忽悠办了套餐")
    page.clock.run_for(3000)
    wait_for_results(page)
    assert queries and queries[-1] == "老人被忽悠办了套餐"
    assert not [q for q in queries if re.search("[a-z']", q)], queries


def test_a_pasted_text_over_1000_characters_keeps_its_latest_1000(page):
    complaint = "客户说流量被偷了，要双倍赔偿，不然找记者曝光"
    text = "客户从头到尾一直在重复之前的经过。" * 70 + complaint
    assert len(text) > 1100
    kept = text[-1000:]
    page.evaluate("(text) => navigator.clipboard.writeText(text)", text)
    page.locator("#q").focus()
    with page.expect_request(lambda r: r.url.endswith("/v1/search")) as sent:
        page.keyboard.press("Control+V")
    assert sent.value.post_data_json["query"] == kept
    expect(page.locator("#q")).to_have_value(kept)
    expect(page.locator("#status")).to_contain_text("超过 1000 字，只保留了最后 1000 字")
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator(".card.script").first).to_be_visible()
