"""The desk page as a side panel, in a real browser against the real service: compact cards that fit
the fold, number keys that copy, and the call mode that follows a conversation turn by turn
(POST /v1/assist)."""

import re

import httpx
from playwright.sync_api import expect

from app.core.config import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
COMPLAINT = "客户说流量被偷了，要双倍赔偿，不然找记者曝光"
CALL = ["流量被偷", "我要精神赔偿", "不然我就去工信部投诉并找记者曝光"]
XSS = "<img src=x onerror=alert(1)>"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def search_api(server, query: str) -> dict:
    return httpx.post(f"{server}/v1/search", json={"query": query, "top_k": 5}, timeout=30).json()


def assist_api(server, texts: list[str]) -> dict:
    turns = [{"role": "customer", "text": text} for text in texts]
    return httpx.post(f"{server}/v1/assist", json={"turns": turns, "top_k": 5}, timeout=30).json()


def search_in_page(page, query: str = COMPLAINT) -> None:
    page.fill("#q", query)
    page.press("#q", "Enter")
    expect(page.locator("#status")).to_contain_text("条话术")


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def open_call(page) -> None:
    page.click("#mode-call")
    expect(page.locator("#turn-text")).to_be_focused()


def add_turn(page, text: str, answered_turns: int | None = None) -> None:
    """Types a turn and presses Enter; with `answered_turns`, waits for the answer about that many."""
    page.fill("#turn-text", text)
    page.press("#turn-text", "Enter")
    if answered_turns:
        expect(page.locator("#call-status")).to_contain_text(f"{answered_turns} 句 · ")


def card_boxes(page, selector: str) -> list[dict]:
    return [card.bounding_box() for card in page.locator(selector).all()]


# ---- compact mode and number keys ---------------------------------------------------------


def test_compact_mode_shows_four_scripts_above_the_fold_at_1366x768(page):
    page.set_viewport_size({"width": 1366, "height": 768})
    toggle = page.locator("#compact-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")  # a wide window opens with full cards
    search_in_page(page)
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")

    boxes = card_boxes(page, "#list-scripts .card.script")
    assert len(boxes) == 5
    for box in boxes[:4]:
        assert 0 <= box["y"] and box["y"] + box["height"] <= 768, boxes
    first = page.locator("#list-scripts .card.script").first
    lines = first.locator(".text").evaluate("p => p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight)")
    assert lines <= 2.05
    expect(first.locator(".tags")).to_be_hidden()
    expect(first.locator(".foot")).to_be_hidden()
    shot(page, "compact-1366x768")

    first.locator(".text").click()  # a click on the card opens it
    expect(first.locator(".foot")).to_be_visible()
    expect(first.locator(".more")).to_have_attribute("aria-expanded", "true")
    assert first.locator(".text").evaluate("p => p.scrollHeight <= p.clientHeight + 1")  # the whole text
    first.locator(".more").focus()
    page.keyboard.press("Enter")  # and its 详情 button, by keyboard
    expect(first.locator(".foot")).to_be_hidden()
    expect(first.locator(".more")).to_have_attribute("aria-expanded", "false")

    page.reload()
    expect(page.locator("#compact-toggle")).to_have_attribute("aria-pressed", "true")  # remembered
    page.set_viewport_size({"width": 1920, "height": 1080})
    search_in_page(page)
    boxes = card_boxes(page, "#list-scripts .card.script")
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[1]["x"] >= boxes[0]["x"] + boxes[0]["width"]  # two columns
    assert all(box["y"] + box["height"] <= 1080 for box in boxes)
    shot(page, "compact-1920x1080")


def test_compact_is_the_default_in_a_narrow_window_until_the_agent_chooses(page):
    toggle = page.locator("#compact-toggle")
    page.set_viewport_size({"width": 800, "height": 900})
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()  # chosen: the width no longer decides
    page.set_viewport_size({"width": 800, "height": 900})
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(toggle).to_have_attribute("aria-pressed", "true")


def test_number_keys_copy_that_script_and_send_the_copy_signal(page, server):
    expected = search_api(server, COMPLAINT)
    scripts = expected["scripts"]
    search_in_page(page)
    expect(page.locator("#q")).to_be_focused()

    with page.expect_request(lambda r: r.url.endswith("/v1/feedback")) as sent:
        page.keyboard.press("Alt+2")  # inside the search field: with Alt
    assert sent.value.post_data_json == {
        "query": COMPLAINT, "script_id": scripts[1]["id"], "signal": "copied", "index_version": expected["index_version"],
    }
    expect(page.locator("#toast")).to_be_visible()
    expect(page.locator("#toast")).to_contain_text(f"已复制第 2 条「{scripts[1]['title']}」")
    expect(page.locator("#list-scripts .card.script").nth(1).locator(".copy")).to_have_text("已复制 ✓")
    assert clipboard(page) == scripts[1]["text"]
    expect(page.locator("#q")).to_have_value(COMPLAINT)  # Alt+2 typed nothing
    shot(page, "copied-by-number-key")

    page.locator("#tab-scripts").focus()  # outside a text field: the plain key
    with page.expect_request(lambda r: r.url.endswith("/v1/feedback")) as sent:
        page.keyboard.press("3")
    assert sent.value.post_data_json["script_id"] == scripts[2]["id"]
    assert clipboard(page) == scripts[2]["text"]

    page.locator("#q").focus()  # inside the field the plain key is a digit to type
    page.keyboard.press("End")
    page.keyboard.press("4")
    expect(page.locator("#q")).to_have_value(COMPLAINT + "4")
    assert clipboard(page) == scripts[2]["text"]


# ---- call mode ----------------------------------------------------------------------------


def test_a_call_of_three_turns_shows_demands_the_escalation_strip_and_scripts(page, server):
    expected = assist_api(server, CALL)
    assert expected["escalation"]["level"] == "high" and expected["demands"]
    open_call(page)
    for i, text in enumerate(CALL, 1):
        add_turn(page, text, answered_turns=i)

    demands = page.locator("#demands .chip").evaluate_all(
        "chips => chips.map((c) => [c.firstChild.textContent, c.querySelector('.turn-no').textContent])")
    assert demands == [[d["name"], f"第 {d['turn'] + 1} 句"] for d in expected["demands"]]

    escalation = expected["escalation"]
    strip = page.locator("#escalation .strip")
    expect(strip).to_be_visible()
    expect(strip).to_have_class(re.compile(r"\bhigh\b"))
    assert strip.evaluate("s => getComputedStyle(s).borderLeftColor") == "rgb(198, 40, 40)"  # red
    expect(page.locator("#escalation")).to_have_attribute("aria-live", "polite")
    expect(strip.locator(".evidence")).to_have_text([r["evidence"] for r in escalation["reasons"]])
    expect(strip.locator(".advice")).to_have_text(escalation["advice"])
    titles = [s["title"] for s in expected["scripts"]]
    expect(page.locator("#call-scripts .card.script .title")).to_have_text(titles)
    shot(page, "call-three-turns")

    with page.expect_request(lambda r: r.url.endswith("/v1/feedback")) as sent:
        page.keyboard.press("Alt+1")  # the number keys work in a call too
    assert sent.value.post_data_json["query"] == CALL[-1]
    assert sent.value.post_data_json["script_id"] == expected["scripts"][0]["id"]
    assert clipboard(page) == expected["scripts"][0]["text"]

    page.reload()  # the call survives a reload of the tab
    expect(page.locator("#mode-call")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#turns .turn-text")).to_have_text(CALL)
    expect(page.locator("#call-scripts .card.script .title")).to_have_text(titles)

    page.click("#new-call")
    expect(page.locator("#turns .turn")).to_have_count(0)
    expect(page.locator("#escalation .strip")).to_have_count(0)
    expect(page.locator("#demands .chip")).to_have_count(0)
    expect(page.locator("#call-empty")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('huashu.call')") is None


def test_a_threat_under_a_condition_is_amber(page, server):
    said = "你们再不处理，我就去工信部投诉"
    expected = assist_api(server, [said])["escalation"]
    assert expected["level"] == "watch"
    open_call(page)
    add_turn(page, said, answered_turns=1)
    strip = page.locator("#escalation .strip")
    expect(strip).to_have_class(re.compile(r"\bwatch\b"))
    expect(strip.locator(".evidence")).to_have_text([r["evidence"] for r in expected["reasons"]])


def test_a_fact_shows_the_provision_it_is_checked_against(page, server):
    said = "宽带断了三天了"
    fact = assist_api(server, [said])["facts"][0]
    assert fact["statute"] and fact["implies"]
    open_call(page)
    add_turn(page, said, answered_turns=1)
    item = page.locator("#facts .fact").first
    expect(item.locator(".words")).to_have_text(fact["words"])
    expect(item.locator(".value")).to_have_text("3 天（72 小时）")
    expect(item.locator(".implies")).to_have_text(fact["implies"])
    expect(item.locator("summary")).to_have_text("《电信条例》第三十二条")
    article = item.locator(".article-text")
    expect(article).to_be_hidden()
    item.locator("summary").click()
    expect(article).to_have_text(fact["statute"]["text"])
    shot(page, "call-fact")


def test_a_late_answer_to_an_earlier_turn_does_not_replace_the_latest(page, server):
    late = assist_api(server, CALL[:1])
    latest = assist_api(server, CALL[:2])
    assert [d["name"] for d in late["demands"]] != [d["name"] for d in latest["demands"]]
    held = []

    def hold_the_one_turn_request(route):
        if len(route.request.post_data_json["turns"]) == 1:
            held.append(route)
        else:
            route.continue_()

    page.route("**/v1/assist", hold_the_one_turn_request)
    open_call(page)
    add_turn(page, CALL[0])
    add_turn(page, CALL[1], answered_turns=2)
    assert len(held) == 1
    demand_names = page.locator("#demands .chip").evaluate_all("chips => chips.map((c) => c.firstChild.textContent)")
    assert demand_names == [d["name"] for d in latest["demands"]]

    with page.expect_response(lambda r: r.url.endswith("/v1/assist")):
        held[0].fulfill(json=late)
    page.wait_for_timeout(300)  # time to render it, if the page were going to
    demand_names = page.locator("#demands .chip").evaluate_all("chips => chips.map((c) => c.firstChild.textContent)")
    assert demand_names == [d["name"] for d in latest["demands"]]
    expect(page.locator("#call-scripts .card.script .title")).to_have_text([s["title"] for s in latest["scripts"]])
    expect(page.locator("#call-status")).to_contain_text("2 句 · ")


def test_a_pasted_transcript_becomes_turns_that_can_be_removed(page):
    transcript = "\n".join([
        "[10:02:11] 客户：我的流量被偷了",
        "坐席：您好，我帮您查一下",
        "顾客: 我要精神赔偿",
        "这事没完",
        "Agent: 好的，我记下了",
        "customer：不然我就去工信部投诉",
    ])
    expected = [
        {"role": "customer", "text": "我的流量被偷了"},
        {"role": "agent", "text": "您好，我帮您查一下"},
        {"role": "customer", "text": "我要精神赔偿\n这事没完"},
        {"role": "agent", "text": "好的，我记下了"},
        {"role": "customer", "text": "不然我就去工信部投诉"},
    ]
    open_call(page)
    page.click(".paste summary")
    page.fill("#transcript", transcript)
    with page.expect_request(lambda r: r.url.endswith("/v1/assist")) as sent:
        page.click("#import")
    assert sent.value.post_data_json["turns"] == expected
    expect(page.locator("#call-status")).to_contain_text("5 句 · ")
    shown = page.locator("#turns .turn").evaluate_all(
        "turns => turns.map((t) => [t.classList.contains('agent') ? 'agent' : 'customer', t.querySelector('.turn-text').textContent])")
    assert shown == [[t["role"], t["text"]] for t in expected]

    with page.expect_request(lambda r: r.url.endswith("/v1/assist")) as sent:
        page.click('#turns .remove[aria-label="删除第 2 句"]')
    assert sent.value.post_data_json["turns"] == expected[:1] + expected[2:]
    expect(page.locator("#turns .turn")).to_have_count(4)

    # Pasted into the one-line field, a transcript is split the same way.
    page.evaluate("navigator.clipboard.writeText('客户：宽带断了\\n客服：我帮您报修')")
    page.locator("#turn-text").focus()
    with page.expect_request(lambda r: r.url.endswith("/v1/assist")) as sent:
        page.keyboard.press("Control+V")
    assert sent.value.post_data_json["turns"][-2:] == [
        {"role": "customer", "text": "宽带断了"}, {"role": "agent", "text": "我帮您报修"},
    ]
    expect(page.locator("#turns .turn")).to_have_count(6)
    expect(page.locator("#turn-text")).to_have_value("")


def test_turns_and_answers_are_shown_as_text_never_as_html(page, server):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    texts = [XSS, f"我明天就去工信部投诉{XSS}"]
    open_call(page)
    add_turn(page, texts[0], answered_turns=1)
    add_turn(page, texts[1], answered_turns=2)
    expect(page.locator("#turns .turn-text")).to_have_text(texts)
    expect(page.locator("#escalation .strip")).to_be_visible()
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_a_call_where_nothing_fits_says_so_above_the_general_scripts(page, server):
    said = "红烧肉怎么做才好吃，要放多少糖"
    assert assist_api(server, [said])["match"]["level"] == "none"
    open_call(page)
    add_turn(page, said, answered_turns=1)
    banner = page.locator("#call-match")
    expect(banner).to_contain_text("没有相符的话术")
    first_card = page.locator("#call-scripts .card.script").first
    assert banner.bounding_box()["y"] + banner.bounding_box()["height"] <= first_card.bounding_box()["y"]
    expect(page.locator("#escalation .strip")).to_have_count(0)


def test_agent_turns_alone_and_invisible_turns_ask_nothing(page):
    requests = []
    page.on("request", lambda r: r.url.endswith("/v1/assist") and requests.append(r))
    open_call(page)
    page.click('.role[data-role="agent"]')
    expect(page.locator('.role[data-role="agent"]')).to_have_attribute("aria-pressed", "true")
    add_turn(page, "您好，请问有什么可以帮您")
    expect(page.locator("#turns .turn.agent")).to_have_count(1)
    expect(page.locator("#call-status")).to_contain_text("等客户开口")
    add_turn(page, "\u200b \u200e")  # nothing visible: the service would refuse it, so it is not added
    expect(page.locator("#turns .turn")).to_have_count(1)
    assert requests == []
