"""The agent desktop page in a real browser (Debian's chromium, driven by Playwright) against the
real service. Screenshots of the main states go to test-output/screenshots/ for review."""

import re
import time
from datetime import datetime, timedelta

import httpx
from playwright.sync_api import expect

from app.core.config import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
COMPLAINT = "客户说流量被偷了，要双倍赔偿，不然找记者曝光"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def search_api(server, query: str, **body) -> dict:
    return httpx.post(f"{server}/v1/search", json={"query": query, "top_k": 5, **body}, timeout=30).json()


def search_in_page(page, query: str = COMPLAINT) -> None:
    page.fill("#q", query)
    page.press("#q", "Enter")
    expect(page.locator("#status")).to_contain_text("条话术")


def feedback_summary(server, admin_token, until, timeout_s: float = 10) -> dict:
    """Feedback is sent fire-and-forget: poll until it has arrived."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = httpx.get(f"{server}/v1/admin/feedback/summary", headers={"Authorization": f"Bearer {admin_token}"})
        assert response.status_code == 200
        if until(body := response.json()) or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_page_is_served_with_a_strict_content_security_policy(server):
    response = httpx.get(server)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == "default-src 'self'"
    assert httpx.get(f"{server}/static/app.js").status_code == 200


def test_empty_state_offers_example_complaints(page):
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#q")).to_be_focused()
    examples = page.locator(".example")
    expect(examples).to_have_count(3)
    shot(page, "empty")

    examples.first.click()
    expect(page.locator(".card.script").first).to_be_visible()
    expect(page.locator("#q")).to_have_value(examples.first.inner_text())
    page.fill("#q", "")
    page.press("#q", "Enter")
    expect(page.locator("#empty")).to_be_visible()


def test_typing_shows_scripts_with_the_query_words_highlighted(page, server):
    searches = []
    page.on("request", lambda request: request.url.endswith("/v1/search") and searches.append(request))
    page.locator("#q").press_sequentially(COMPLAINT, delay=30)
    expected = search_api(server, COMPLAINT)
    titles = page.locator(".card.script .title")
    expect(titles).to_have_text([s["title"] for s in expected["scripts"]])
    assert len(searches) < len(COMPLAINT) / 2  # debounced, not one request per keystroke

    marks = page.locator("#panel-scripts mark:not(.slot)").all_inner_texts()
    assert marks and all(any(mark[i : i + 2] in COMPLAINT for i in range(len(mark) - 1)) for mark in marks)
    expect(page.locator(".chip")).to_have_text([d["name"] for d in expected["detected_scenarios"]])
    shot(page, "results")

    citation = page.locator(".card.script details").first
    citation.locator("summary").click()
    expect(citation.locator(".article-text")).to_be_visible()

    page.click("#tab-statutes")
    expect(page.locator("#panel-statutes .card")).to_have_count(len(expected["statutes"]))
    expect(page.locator("#panel-scripts")).to_be_hidden()
    page.click("#tab-passages")
    expect(page.locator("#panel-passages .card")).to_have_count(len(expected["passages"]))


def test_a_scenario_chip_filters_the_scripts_and_a_second_click_clears_it(page, server):
    search_in_page(page)
    chip = page.locator(".chip").last
    name = chip.inner_text()
    chip.click()
    expect(page.locator("#status")).to_contain_text(f"只看「{name}」")
    expect(chip).to_have_attribute("aria-pressed", "true")
    cards = page.locator(".card.script")
    assert cards.count() > 0
    for card in cards.all():
        assert name in card.locator(".tag").all_inner_texts()
    shot(page, "chip-filtered")

    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#status")).not_to_contain_text("只看")


def test_copy_by_click_and_by_keyboard(page, server, admin_token):
    scripts = search_api(server, COMPLAINT)["scripts"]
    search_in_page(page)

    def clipboard() -> str:
        return page.evaluate("navigator.clipboard.readText()")

    first = page.locator(".card.script").first
    first.locator(".copy").click()
    expect(first.locator(".copy")).to_have_text("已复制 ✓")
    assert clipboard() == scripts[0]["text"]
    shot(page, "copied")

    page.keyboard.press("/")  # from the copy button back to the box
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = page.locator(".card.script").nth(1)
    expect(second).to_be_focused()
    page.keyboard.press("c")
    expect(second.locator(".copy")).to_have_text("已复制 ✓")
    assert clipboard() == scripts[1]["text"]
    page.keyboard.press("ArrowUp")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text(copied_status(scripts[0]))  # announced once copied
    assert clipboard() == scripts[0]["text"]

    def all_copies_counted(body: dict) -> bool:
        counts = {s["script_id"]: s["copied"] for s in body["scripts"]}
        return counts.get(scripts[0]["id"], 0) >= 2 and counts.get(scripts[1]["id"], 0) >= 1

    assert all_copies_counted(feedback_summary(server, admin_token, all_copies_counted))


def copied_status(script: dict) -> str:
    fill_in = f"，请填写：{'、'.join(script['slots'])}" if script["slots"] else ""
    return f"已复制「{script['title']}」{fill_in}"


def test_named_slots_are_marked_and_named_when_copied(page, server):
    query = "自动充值同一天扣了我两次钱，话费只到了一笔"
    scripts = search_api(server, query)["scripts"]
    assert any(s["slots"] for s in scripts)
    search_in_page(page, query)
    cards = page.locator(".card.script")
    for i, script in enumerate(scripts):
        slots = cards.nth(i).locator(".slot")
        expect(slots).to_have_text([f"{{{name}}}" for name in re.findall(r"\{(.+?)\}", script["text"])])
        assert all(tag == "MARK" for tag in slots.evaluate_all("marks => marks.map((m) => m.tagName)"))
    first_with_slots = next(i for i, s in enumerate(scripts) if s["slots"])
    cards.nth(first_with_slots).locator(".copy").click()
    expect(page.locator("#status")).to_have_text(copied_status(scripts[first_with_slots]))
    shot(page, "slots")


def test_the_page_says_plainly_when_nothing_fits(page, server):
    query = "红烧肉怎么做才好吃，要放多少糖"
    assert search_api(server, query)["match"]["level"] == "none"
    search_in_page(page, query)
    banner = page.locator("#match")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("没有相符的话术")
    expect(page.locator(".chip")).to_have_count(0)
    shot(page, "nothing-fits")

    search_in_page(page)
    expect(banner).to_be_hidden()


def test_thumbs_down_says_recorded_and_reaches_the_admin_summary_when_the_page_is_left(page, server, admin_token):
    query = "用户宽带断了三天，张口就要一万块损失费"
    search_in_page(page, query)
    card = page.locator(".card.script").first
    script_id = card.get_attribute("data-id")
    down = card.locator('.vote[data-signal="down"]')
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(down).to_be_disabled()
    expect(card.locator(".voted")).to_have_text("已记录")
    page.goto("about:blank")  # leaving the page sends a vote still waiting for its undo

    # The summary's two lists are read one after the other: wait until the vote is in both.
    def disliked(body: dict) -> bool:
        counted = any(s["script_id"] == script_id and s["down"] >= 1 for s in body["scripts"])
        return counted and (query, script_id) in [(n["query"], n["script_id"]) for n in body["recent_negative"]]

    assert disliked(feedback_summary(server, admin_token, disliked))


def test_a_vote_undone_in_time_is_never_sent(page):
    sent_votes = []
    page.on("request", lambda r: r.url.endswith("/v1/feedback") and sent_votes.append(r.post_data_json))
    page.clock.install()
    page.reload()
    search_in_page(page)
    page.clock.pause_at(datetime.now() + timedelta(minutes=1))  # from here the page's time moves only when the test moves it
    first, second = page.locator(".card.script").nth(0), page.locator(".card.script").nth(1)

    up = first.locator('.vote[data-signal="up"]')
    up.click()
    expect(first.locator(".voted")).to_have_text("已记录")
    first.locator(".undo").click()
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(up).to_be_enabled()
    expect(first.locator(".voted")).to_have_text("")
    expect(first.locator(".undo")).to_be_hidden()
    page.clock.run_for(60_000)

    # A vote left alone is sent once its few seconds for an undo are over.
    second.locator('.vote[data-signal="down"]').click()
    with page.expect_request(lambda r: r.url.endswith("/v1/feedback")) as sent:
        page.clock.run_for(60_000)
    assert sent.value.post_data_json["script_id"] == second.get_attribute("data-id")
    assert sent.value.post_data_json["signal"] == "down"
    expect(second.locator(".undo")).to_be_hidden()
    expect(second.locator(".voted")).to_have_text("已记录")
    assert [vote["signal"] for vote in sent_votes] == ["down"]  # the undone 👍 never left the page


def test_errors_are_said_in_chinese_and_keep_old_results_dimmed(page):
    search_in_page(page)
    page.route("**/v1/search", lambda route: route.fulfill(status=503, json={"detail": "no index loaded: rebuilding"}))
    page.fill("#q", "客户要求精神损失费")
    page.press("#q", "Enter")
    expect(page.locator("#error")).to_have_text(
        "话术服务暂时不可用（话术库正在更新或尚未就绪）：请稍后重试。（下方仍是上一次的结果）"
    )
    expect(page.locator("#results")).to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator(".card.script").first).to_be_visible()
    shot(page, "error")

    page.unroute("**/v1/search")
    page.route("**/v1/search", lambda route: route.abort())
    page.press("#q", "Enter")
    expect(page.locator("#error")).to_contain_text("连接不上话术服务")

    page.unroute("**/v1/search")
    refused = {"detail": "query: the query has 1500 characters once normalised (NFKC); at most 1000 are allowed"}
    page.route("**/v1/search", lambda route: route.fulfill(status=422, json=refused))
    page.press("#q", "Enter")
    expect(page.locator("#error")).to_contain_text("检索请求被拒绝")

    page.unroute("**/v1/search")
    page.route("**/v1/search", lambda route: route.fulfill(status=200, body='{"query": "客户要求'))  # cut off
    page.press("#q", "Enter")
    expect(page.locator("#error")).to_contain_text("没有收到话术服务的完整回答")

    page.unroute("**/v1/search")
    search_in_page(page)
    expect(page.locator("#error")).to_be_hidden()


def answer_with(status: int, detail: str | None):
    return lambda route: route.fulfill(status=status, json={"detail": detail})


def test_every_error_message_is_chinese(page):
    for status, detail in [(422, "unknown scenario id(s): x; see GET /v1/scenarios"), (413, "request body too large"),
                           (500, "Internal Server Error"), (429, None)]:
        page.unroute("**/v1/search")
        page.route("**/v1/search", answer_with(status, detail))
        page.fill("#q", f"客户要求精神损失费{status}")
        page.press("#q", "Enter")
        error = page.locator("#error")
        expect(error).to_be_visible()
        assert not re.search("[A-Za-z]", error.inner_text()), error.inner_text()
        page.fill("#q", "")
        page.press("#q", "Enter")
        expect(error).to_be_hidden()


def test_a_search_cancelled_while_its_answer_arrives_leaves_no_trace(page, server):
    older, newer = "用户宽带断了三天，张口就要一万块损失费", COMPLAINT
    expected = search_api(server, newer)
    # Records anything shown as an error while it happens, however briefly.
    page.evaluate("""() => {
        window.errorsShown = [];
        new MutationObserver(() => {
            const error = document.getElementById("error");
            if (!error.hidden) window.errorsShown.push(error.textContent);
        }).observe(document.getElementById("error"), {attributes: true, childList: true, characterData: true, subtree: true});
    }""")
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    slow = {"offline": False, "latency": 0, "uploadThroughput": -1}
    network.send("Network.emulateNetworkConditions", {**slow, "downloadThroughput": 2000})  # bytes/s: a 16 KB answer takes seconds

    def is_search_for(query):
        return lambda r: r.url.endswith("/v1/search") and r.request.post_data_json["query"] == query

    with page.expect_response(is_search_for(older)):  # its status and headers are in; its body is arriving
        page.fill("#q", older)
        page.press("#q", "Enter")
    with page.expect_event("requestfailed", lambda r: r.url.endswith("/v1/search")) as cancelled:
        page.fill("#q", newer)
        page.press("#q", "Enter")
    assert cancelled.value.post_data_json["query"] == older
    network.send("Network.emulateNetworkConditions", {**slow, "downloadThroughput": -1})

    expect(page.locator(".card.script .title")).to_have_text([s["title"] for s in expected["scripts"]], timeout=30_000)
    expect(page.locator("#error")).to_be_hidden()
    assert page.evaluate("window.errorsShown") == []
    expect(page.locator("#status")).to_contain_text(f"{len(expected['scripts'])} 条话术")


def test_a_traditional_query_highlights_the_simplified_words_it_was_searched_as(page, server):
    query = "我的寬頻斷了三天"
    answer = search_api(server, query)
    assert answer["query"] == query and answer["normalized_query"] == "我的宽带断了三天"
    with_broadband = [s["id"] for s in answer["scripts"] if "宽带" in s["text"]]
    assert with_broadband
    search_in_page(page, query)
    for script_id in with_broadband:
        marks = page.locator(f'.card.script[data-id="{script_id}"] .text mark:not(.slot)').all_inner_texts()
        assert any("宽带" in mark for mark in marks), (script_id, marks)


def test_narrow_side_panel_fits_400px(page):
    page.set_viewport_size({"width": 400, "height": 800})
    search_in_page(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    copy = page.locator(".card.script .copy").first
    expect(copy).to_be_in_viewport()
    box = copy.bounding_box()
    assert box["x"] + box["width"] <= 400
    shot(page, "narrow-400px")
