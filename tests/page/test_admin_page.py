"""The admin page in a real browser (Debian's chromium, driven by Playwright) against a real service
of the module's own: sign in, upload with a progress bar, delete, re-index, roll back."""

import json
import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.test_admin import NEW_LAW, NEW_SCRIPT
from tests.conftest import reindex_and_wait
from tests.page.conftest import watched_page

TOKEN_KEY = "huashu.adminToken"
REINDEX_TIMEOUT_MS = 300_000
# What the page waits for from the admin API: saves, checks, uploads and deletes of scripts and
# statutes build the corpus to check it, seconds each on a busy machine.
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture
def admin_page(browser, admin_server):
    expect.set_options(timeout=ANSWER_TIMEOUT_MS)
    try:
        with watched_page(browser, admin_server, "/admin", console_errors=True) as page:
            yield page
    finally:
        expect.set_options(timeout=None)  # Playwright's default again


@pytest.fixture
def auth(admin_token) -> dict:
    return {"Authorization": f"Bearer {admin_token}"}


def sign_in(page, token: str) -> None:
    page.fill("#token", token)
    page.press("#token", "Enter")
    expect(page.locator("#nav")).to_be_visible()


def open_section(page, name: str) -> None:
    page.click(f'#nav [data-section="{name}"]')
    expect(page.locator(f"#{name}")).to_be_visible()


def course(title: str) -> bytes:
    """A course document of a few passages, new to the index whatever ran before."""
    lines = [f"【{title}】"] + [f"第{i}点：按约定时间回访客户，先确认问题是否解决，再询问是否还有其他需要。编号 {uuid.uuid4().hex}。" * 4 for i in range(6)]
    return "\n".join(lines).encode()


def choose_file(page, name: str, content: bytes, kind: str) -> None:
    page.select_option("#upload-kind", kind)
    page.set_input_files("#upload-file", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}])


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def test_admin_page_is_served_with_the_strict_content_security_policy(admin_server):
    response = httpx.get(f"{admin_server}/admin")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == "default-src 'self'"
    for module in ("main", "api", "documents", "versions", "scripts", "insights"):
        assert httpx.get(f"{admin_server}/static/admin/{module}.js").status_code == 200


def test_a_wrong_token_is_refused_and_the_right_one_is_kept_for_the_tab_only(admin_page, admin_token):
    page = admin_page
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    page.fill("#token", "not-the-token")
    page.press("#token", "Enter")
    expect(page.locator("#signin-say")).to_have_text("管理令牌不对，请检查后重新输入。")
    expect(page.locator("#nav")).to_be_hidden()
    expect(page.locator("#documents")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None

    sign_in(page, admin_token)
    expect(page.locator("#documents")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == admin_token
    assert admin_token not in page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert admin_token not in page.evaluate("document.cookie")
    assert not any(admin_token in cookie["name"] + cookie["value"] for cookie in page.context.cookies())
    assert admin_token not in page.url and not any(admin_token in url for url in urls)
    assert page.locator("#token").input_value() == ""

    page.reload()  # the same tab: still signed in
    expect(page.locator("#nav")).to_be_visible()
    page.click("#sign-out")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#nav")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert page.url.endswith("/admin")


def test_an_upload_shows_its_progress_to_100_percent_and_the_document_in_the_list(admin_page, admin_token):
    page = admin_page
    sign_in(page, admin_token)
    choose_file(page, "回访讲义.txt", course("回访要点"), "course")
    page.click("#upload-button")
    expect(page.locator("#upload-say")).to_contain_text("已上传 回访讲义.txt")
    expect(page.locator("#upload-percent")).to_have_text("100 %")
    bar = page.locator("#upload-progress")
    assert float(bar.get_attribute("value")) == float(bar.get_attribute("max")) > 0
    expect(page.locator("#documents-list tr", has_text="回访讲义.txt")).to_contain_text("课程讲义")

    # A file the service does not take: said in Chinese, with the service's own reason.
    choose_file(page, "讲义.exe", b"MZ\x90\x00", "course")
    page.click("#upload-button")
    expect(page.locator("#upload-say")).to_contain_text("上传失败：不支持这种文件类型")
    expect(page.locator("#upload-say")).to_contain_text("服务器说明：")
    expect(page.locator("#documents-list tr", has_text="讲义.exe")).to_have_count(0)


def test_a_statute_replaces_an_article_only_with_the_replace_box_ticked(admin_page, admin_token):
    page = admin_page
    sign_in(page, admin_token)
    amended = {"law": "消费者权益保护法", "short": "消法", "article": "第五十五条", "article_no": 55, "text": "经营者有欺诈行为的，修订后的条文。"}
    expect(page.locator("#upload-replace-label")).to_be_hidden()  # only for statutes
    choose_file(page, "消法55.jsonl", jsonl(amended), "statute")
    expect(page.locator("#upload-replace-label")).to_be_visible()
    page.click("#upload-button")
    said = page.locator("#upload-say")
    expect(said).to_contain_text("上传失败：与现有内容冲突")
    expect(said).to_contain_text("中华人民共和国消费者权益保护法 第五十五条")  # the service's detail
    expect(said).to_contain_text("请勾选「允许替换库中已有的同号法条」")

    page.check("#upload-replace")
    page.click("#upload-button")
    expect(said).to_contain_text("已上传 消法55.jsonl。 它替换了：中华人民共和国消费者权益保护法 第五十五条。")
    row = page.locator("#documents-list tr", has_text="消法55.jsonl")
    expect(row).to_contain_text("法条（替换已有法条）")
    page.get_by_role("button", name="删除 消法55.jsonl").click()  # the official article comes back
    page.click("#confirm-ok")
    expect(row).to_have_count(0)


def test_a_delete_asks_first_and_says_plainly_what_still_needs_the_document(admin_page, admin_token):
    page = admin_page
    sign_in(page, admin_token)
    for name, content, kind in [
        ("办法.jsonl", jsonl(NEW_LAW), "statute"),
        ("cites.jsonl", jsonl({**NEW_SCRIPT, "citations": [{"law": NEW_LAW["short"], "article_no": 1}]}), "script"),
    ]:
        choose_file(page, name, content, kind)
        page.click("#upload-button")
        expect(page.locator("#upload-say")).to_contain_text(f"已上传 {name}")
    rows = page.locator("#documents-list tr")

    def delete(name: str, confirm: bool) -> None:
        page.get_by_role("button", name=f"删除 {name}").click()
        expect(page.locator("#confirm")).to_be_visible()
        expect(page.locator("#confirm-message")).to_contain_text(name)
        page.click("#confirm-ok" if confirm else "#confirm-cancel")
        expect(page.locator("#confirm")).to_be_hidden()

    delete("办法.jsonl", confirm=False)
    expect(rows.filter(has_text="办法.jsonl")).to_have_count(1)

    delete("办法.jsonl", confirm=True)
    said = page.locator("#documents-say")
    expect(said).to_contain_text("不能删除「办法.jsonl」：还有别的材料要用到它")
    expect(said).to_contain_text("cites.jsonl")
    expect(rows.filter(has_text="办法.jsonl")).to_have_count(1)

    delete("cites.jsonl", confirm=True)
    expect(rows.filter(has_text="cites.jsonl")).to_have_count(0)
    delete("办法.jsonl", confirm=True)
    expect(said).to_contain_text("已删除 办法.jsonl")
    expect(rows.filter(has_text="办法.jsonl")).to_have_count(0)


def test_a_reindex_shows_the_job_to_its_end_and_the_new_version(admin_page, admin_server, admin_token, auth):
    page = admin_page
    added = httpx.post(f"{admin_server}/v1/admin/documents", headers=auth, data={"kind": "course"},
                       files={"file": ("重建讲义.txt", course("重建要点"))}, timeout=60)
    assert added.status_code == 201, added.text  # something new to build
    before = httpx.get(f"{admin_server}/v1/admin/versions", headers=auth).json()
    sign_in(page, admin_token)
    open_section(page, "index")
    expect(page.locator("#current-version")).to_have_text(before["current"])
    # Everything the status line says while the job runs.
    page.evaluate("""() => {
        window.said = [];
        new MutationObserver(() => window.said.push(document.getElementById("index-say").textContent))
            .observe(document.getElementById("index-say"), {childList: true, characterData: true, subtree: true});
    }""")
    page.click("#reindex")
    said = page.locator("#index-say")
    expect(said).to_contain_text(re.compile("完成|失败|已是最新"), timeout=REINDEX_TIMEOUT_MS)
    expect(said).to_contain_text("完成：新版本")
    bar = page.locator("#reindex-progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "1"
    assert any(re.match(r"排队中|正在准备|正在处理：\d+ / \d+ 段文字", line) for line in page.evaluate("window.said"))

    after = httpx.get(f"{admin_server}/v1/admin/versions", headers=auth).json()
    assert after["current"] != before["current"]
    assert f"新版本 {after['current']} 已启用" in said.inner_text()
    expect(page.locator("#current-version")).to_have_text(after["current"])
    expect(page.locator("#versions li")).to_have_count(len(after["versions"]))

    page.click("#reindex")  # nothing changed since: said so, and the bar is at its end too
    expect(said).to_contain_text(f"索引已是最新（版本 {after['current']}）", timeout=REINDEX_TIMEOUT_MS)
    assert bar.get_attribute("value") == bar.get_attribute("max") == "1"


def test_a_rollback_asks_first_then_switches_the_search_back(admin_page, admin_server, admin_token, auth):
    page = admin_page
    versions = httpx.get(f"{admin_server}/v1/admin/versions", headers=auth).json()
    if len(versions["versions"]) < 2:  # run alone: make a version to roll back from
        httpx.post(f"{admin_server}/v1/admin/documents", headers=auth, data={"kind": "course"},
                   files={"file": ("回滚讲义.txt", course("回滚要点"))}, timeout=60)
        with httpx.Client(base_url=admin_server, timeout=30) as client:
            assert reindex_and_wait(client, auth)["state"] == "succeeded"
        versions = httpx.get(f"{admin_server}/v1/admin/versions", headers=auth).json()
    current = versions["current"]
    previous = versions["versions"][versions["versions"].index(current) - 1]
    sign_in(page, admin_token)
    open_section(page, "index")

    page.click("#rollback")
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-message")).to_contain_text(previous)
    page.click("#confirm-cancel")
    expect(page.locator("#confirm")).to_be_hidden()
    assert httpx.get(f"{admin_server}/v1/admin/versions", headers=auth).json()["current"] == current

    page.click("#rollback")
    page.click("#confirm-ok")
    expect(page.locator("#index-say")).to_have_text(f"已回滚：当前版本是 {previous}。")
    expect(page.locator("#current-version")).to_have_text(previous)
    assert httpx.get(f"{admin_server}/v1/admin/versions", headers=auth).json()["current"] == previous
    expect(page.locator("#versions li.current")).to_contain_text(previous)


def test_sections_whose_api_the_service_lacks_say_so_calmly(admin_page, admin_token):
    # A service from before these paths: FastAPI's own 404 for each, as such a service answers.
    page = admin_page
    lacking = ["whoami$", r"scripts\?", r"feedback/scripts\?", r"gaps\?", "scenarios$"]
    for pattern in (re.compile(f"/v1/admin/{path}") for path in lacking):
        page.route(pattern, lambda route: route.fulfill(status=404, json={"detail": "Not Found"}))
    sign_in(page, admin_token)  # the token is checked with the versions instead
    expect(page.locator("#who")).to_be_hidden()
    for section, said in [("scripts", "#scripts-say"), ("feedback", "#feedback-say"), ("gaps", "#gaps-say")]:
        open_section(page, section)
        expect(page.locator(said)).to_have_text(re.compile("当前服务还没有这个接口"))
    open_section(page, "scenarios")
    expect(page.locator("#scenario-list tr").first).to_be_visible()  # the list is the public one
    page.fill("#s-id", "late-refund")
    page.fill("#s-name", "退款迟迟不到账")
    page.click("#scenario-form button[type=submit]")
    expect(page.locator("#scenario-say")).to_have_text(re.compile("当前服务还没有这个接口"))


# ---------------------------------------------------------------- scripts and scenarios

EDITED = "high-compensation/broken-record"
# A sentence no script of the corpus has: once published, a search for it finds this script.
ADDED_SENTENCE = "核实清楚以后，我会在{天数}个工作日内给您回电话说明补偿结果，请您保持电话畅通。"
SEARCH_FOR_IT = "客户要高额赔偿，坐席答应几个工作日内回电话说明补偿结果，请客户保持电话畅通"


def open_script(page, script_id: str) -> None:
    open_section(page, "scripts")
    page.fill("#scripts-q", script_id)
    page.locator(f'.script-item[data-id="{script_id}"]').click()
    expect(page.locator("#editor-title")).to_have_text(script_id)


def script_state(base: str, auth: dict, script_id: str) -> dict:
    return httpx.get(f"{base}/v1/admin/scripts/{script_id}", headers=auth, timeout=30).json()


def test_scripts_are_browsed_by_scenario_and_searched(admin_page, admin_server, admin_token, auth):
    page = admin_page
    listed = httpx.get(f"{admin_server}/v1/admin/scripts", headers=auth, params={"scenario": "high-compensation"}).json()
    sign_in(page, admin_token)
    open_section(page, "scripts")
    page.select_option("#scripts-scenario", "high-compensation")
    expect(page.locator("#scripts-total")).to_have_text(f"共 {listed['total']} 条")
    expect(page.locator(".script-item")).to_have_count(min(listed["total"], 50))
    assert all("高额赔偿" in meta for meta in page.locator(".script-item .item-meta").all_inner_texts())

    page.fill("#scripts-q", "破唱片机")  # within the scenario
    expect(page.locator(".script-item")).to_have_count(
        httpx.get(f"{admin_server}/v1/admin/scripts", headers=auth,
                  params={"scenario": "high-compensation", "q": "破唱片机"}).json()["total"])
    expect(page.locator(f'.script-item[data-id="{EDITED}"]')).to_be_visible()
    page.fill("#scripts-q", "没有这样的话术内容")
    expect(page.locator("#script-list")).to_have_text("没有符合条件的话术。")


def test_a_script_edited_and_published_from_the_page_is_found_by_a_search(admin_page, admin_server, admin_token, auth):
    page = admin_page
    sign_in(page, admin_token)
    expect(page.locator("#who")).to_have_text("已登录：admin")  # ADMIN_TOKEN's label
    open_script(page, EDITED)
    expect(page.locator("#f-cited")).to_contain_text("《民法典》第584条")
    expect(page.locator("#f-cited")).to_contain_text("当事人一方不履行合同义务")  # the article's text

    # Problems show beside their field while the admin types, before anything is saved.
    article = page.locator("#f-citations li").first.locator(".article")
    article.fill("99999")
    page.fill("#f-text", page.input_value("#f-text") + "请稍等××")
    expect(page.locator("#f-citations li").first.locator(".problem")).to_contain_text("99999")
    expect(page.locator('.problem[data-field="text"]')).to_contain_text("××")
    assert script_state(admin_server, auth, EDITED)["draft"] is None

    article.fill("584")
    page.fill("#f-text", page.input_value("#f-text").replace("请稍等××", ADDED_SENTENCE))
    expect(page.locator('.problem[data-field="text"]')).to_be_hidden()
    expect(page.locator("#f-slots")).to_have_text("坐席要填的空：天数")
    page.click("#save-draft")
    expect(page.locator("#editor-say")).to_contain_text("草稿已保存")
    expect(page.locator("#editor-state")).to_contain_text("有未发布的草稿")
    assert script_state(admin_server, auth, EDITED)["draft"]["text"].endswith(ADDED_SENTENCE)

    clicked = time.monotonic()
    page.click("#publish")
    expect(page.locator("#publish-say")).to_have_text("已发布，可检索。", timeout=REINDEX_TIMEOUT_MS)
    assert page.locator("#publish-progress").get_attribute("value") == "1"
    found = httpx.post(f"{admin_server}/v1/search", json={"query": SEARCH_FOR_IT, "top_k": 5}, timeout=30).json()
    print(f"\n发布 clicked to the search finding the edit: {time.monotonic() - clicked:.1f} s")  # measured, not asserted
    assert ADDED_SENTENCE in {s["id"]: s["text"] for s in found["scripts"]}.get(EDITED, "")
    expect(page.locator("#editor-state")).not_to_contain_text("草稿")

    # The change is in the history, by whom; 撤销 publishes what was there before.
    page.click("#history summary")
    change = page.locator("#changes li").first
    expect(change).to_contain_text("admin · 发布（修改）")
    change.get_by_role("button", name="撤销").click()
    expect(page.locator("#confirm-message")).to_contain_text("撤销")
    page.click("#confirm-ok")
    expect(page.locator("#publish-say")).to_have_text("已撤销并发布，可检索。", timeout=REINDEX_TIMEOUT_MS)
    expect(page.locator("#f-text")).not_to_have_value(re.compile("工作日内给您回电话"))
    found = httpx.post(f"{admin_server}/v1/search", json={"query": SEARCH_FOR_IT, "top_k": 5}, timeout=30).json()
    assert all(ADDED_SENTENCE not in s["text"] for s in found["scripts"])


def test_a_save_after_someone_elses_is_refused_and_offers_to_reload(admin_page, admin_server, admin_token, auth):
    page = admin_page
    script_id = "high-compensation/repeat"
    sign_in(page, admin_token)
    open_script(page, script_id)
    state = script_state(admin_server, auth, script_id)
    theirs = {**(state["draft"] or state["published"]), "notes": "另一位管理员加的注意事项"}
    saved = httpx.put(f"{admin_server}/v1/admin/scripts/{script_id}", headers=auth,
                      json={"script": theirs, "revision": state["revision"]}, timeout=30)
    assert saved.status_code == 200, saved.text

    page.fill("#f-notes", "我的注意事项")
    page.click("#save-draft")
    said = page.locator("#editor-say")
    expect(said).to_contain_text("别人在你打开之后改过这条话术，你的改动没有保存")
    assert script_state(admin_server, auth, script_id)["draft"]["notes"] == "另一位管理员加的注意事项"
    said.get_by_role("button", name="重新载入").click()
    expect(page.locator("#f-notes")).to_have_value("另一位管理员加的注意事项")

    page.click("#discard-draft")  # leaves the script as it was for the other tests
    page.click("#confirm-ok")
    expect(page.locator("#editor-say")).to_contain_text("草稿已放弃")
    assert script_state(admin_server, auth, script_id)["draft"] is None


def test_a_new_scenario_added_on_the_page_is_offered_to_scripts_at_once(admin_page, admin_token):
    page = admin_page
    sign_in(page, admin_token)
    open_section(page, "scenarios")
    page.fill("#s-id", "recharge-still-suspended")
    page.fill("#s-name", "充值后仍停机")
    page.select_option("#s-group", index=0)
    page.fill("#s-looks", "交了话费还是停机\n充值了为什么还停机")
    page.click("#scenario-form button[type=submit]")
    expect(page.locator("#scenario-say")).to_contain_text("已添加场景「充值后仍停机」")
    expect(page.locator("#scenario-list tr", has_text="recharge-still-suspended")).to_contain_text("充值后仍停机")

    page.click("#scenario-form button[type=submit]")  # the same id again
    expect(page.locator("#scenario-say")).to_contain_text("请填写编号和名称")  # the form was emptied
    page.fill("#s-id", "recharge-still-suspended")
    page.fill("#s-name", "重复")
    page.fill("#s-looks", "重复")
    page.click("#scenario-form button[type=submit]")
    expect(page.locator("#scenario-say")).to_contain_text("编号 recharge-still-suspended 已经有了")

    open_section(page, "scripts")
    page.click("#script-new")
    page.fill("#f-id", "recharge-still-suspended/explain")
    with page.expect_response(lambda r: r.url.endswith("/v1/admin/scripts/validate")) as checked:
        page.locator("#f-scenarios select").first.select_option("recharge-still-suspended")
    problems = checked.value.json()["problems"]
    assert problems and not any(p["field"].startswith("scenarios") for p in problems)  # others: the empty fields
    expect(page.locator("#f-scenarios .problem")).to_be_hidden()


# ---------------------------------------------------------------- feedback and gaps

OFF_TOPIC = ["我家的猫三天不吃猫粮了怎么办", "猫咪不肯吃猫粮，是不是生病了", "我的号码13812345678家里的猫不吃东西"]


def test_feedback_per_script_over_a_period_and_its_csv(admin_page, admin_server, admin_token):
    page = admin_page
    found = httpx.post(f"{admin_server}/v1/search", json={"query": "客户说流量被偷了，要双倍赔偿", "top_k": 5}, timeout=30).json()
    disliked = found["scripts"][0]
    for signal in ("down", "down", "copied"):
        sent = httpx.post(f"{admin_server}/v1/feedback", timeout=30, json={
            "query": "客户说流量被偷了，要双倍赔偿", "script_id": disliked["id"], "signal": signal,
            "index_version": found["index_version"]})
        assert sent.status_code == 202, sent.text
    sign_in(page, admin_token)
    open_section(page, "feedback")
    page.get_by_role("button", name="最近 7 天").click()
    first = page.locator("#feedback-list tr").first  # the most disliked first
    expect(first).to_contain_text(disliked["title"])
    cells = first.locator("td")
    assert int(cells.nth(4).inner_text()) >= 2  # 👎
    expect(page.locator("#feedback-say")).to_contain_text("条话术有记录")

    with page.expect_download() as downloaded:
        page.click("#feedback-csv")
    content = open(downloaded.value.path(), "rb").read()
    assert content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    assert disliked["id"] in content.decode("utf-8-sig") and downloaded.value.suggested_filename.endswith(".csv")


def test_the_gaps_view_starts_a_script_or_a_scenario_from_a_group(admin_page, admin_server, admin_token):
    page = admin_page
    for query in OFF_TOPIC:
        answer = httpx.post(f"{admin_server}/v1/search", json={"query": query, "top_k": 5}, timeout=30).json()
        assert answer["match"]["level"] in ("weak", "none"), answer["match"]
    sign_in(page, admin_token)
    open_section(page, "gaps")
    group = page.locator(".gap", has_text="猫").first
    expect(group).to_be_visible()
    expect(page.locator("#gap-list")).not_to_contain_text("13812345678")  # phone numbers masked
    examples = group.locator(".examples-list li").all_inner_texts()
    assert any("猫" in example for example in examples)

    group.get_by_role("button", name="写新话术").click()
    expect(page.locator("#editor")).to_be_visible()
    expect(page.locator("#editor-title")).to_have_text("新话术")
    assert examples[0] in page.input_value("#f-situation")
    nearest = page.locator("#f-scenarios select").first.input_value()
    assert nearest and page.input_value("#f-id") == f"{nearest}/"

    open_section(page, "gaps")
    page.locator(".gap", has_text="猫").first.get_by_role("button", name="新场景").click()
    expect(page.locator("#s-looks")).to_have_value("\n".join(examples))
    expect(page.locator("#scenario-say")).to_contain_text("已按缺口预填")
