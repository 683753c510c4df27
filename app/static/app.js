// The agent desktop page: search while the customer talks, copy a script in one keystroke.
// Plain DOM and fetch, no build step. Text from the API is only ever inserted as text nodes.
"use strict";

const DEBOUNCE_MS = 300;
const TOP_K = 5;
const COPIED_MS = 2000;
const CHANNEL_NAMES = { phone: "电话", counter: "柜台", online: "在线" };
// Words almost every complaint and script contains: highlighting them is noise.
const STOP_TERMS = new Set(["客户", "用户", "我们", "你们", "他们", "什么", "怎么", "就是", "就要", "一个", "不是", "可以", "这个"]);

const $ = (id) => document.getElementById(id);
const box = $("q");
const results = $("results");
const tabs = [...document.querySelectorAll('[role="tab"]')];

const state = {
  query: "", // the query of the results on screen
  scenario: null, // the scenario id of the selected chip, or null
  indexVersion: "",
  controller: null, // aborts the request in flight when a newer one starts
  timer: 0,
};

// Scenario id -> name, for the tags on each script; ids are shown if this fails.
const scenarioNames = fetch("/v1/scenarios")
  .then((response) => (response.ok ? response.json() : { scenarios: [] }))
  .then((body) => Object.fromEntries(body.scenarios.map((s) => [s.id, s.name])))
  .catch(() => ({}));

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child != null && child !== false));
  return node;
}

// ---- search -------------------------------------------------------------------------------

box.addEventListener("input", () => {
  clearTimeout(state.timer);
  state.scenario = null; // a new complaint: the chip picked for the old one no longer applies
  state.timer = setTimeout(run, DEBOUNCE_MS);
});

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(state.timer);
  run();
});

for (const example of document.querySelectorAll(".example")) {
  example.addEventListener("click", () => {
    box.value = example.textContent;
    box.focus();
    state.scenario = null;
    run();
  });
}

function run() {
  const query = box.value.trim();
  if (query) search(query, state.scenario);
  else showEmpty();
}

async function search(query, scenario) {
  state.controller?.abort();
  const controller = (state.controller = new AbortController());
  results.classList.add("loading");
  setStatus("正在检索…");
  try {
    const response = await fetch("/v1/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, top_k: TOP_K, ...(scenario && { scenarios: [scenario] }) }),
      signal: controller.signal,
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, body.detail);
    render(query, scenario, body, await scenarioNames);
  } catch (error) {
    if (error.name !== "AbortError") showError(error);
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      results.classList.remove("loading");
    }
  }
}

class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.status = status;
  }
}

function showError(error) {
  if (!(error instanceof ApiError)) console.error(error);
  const message =
    !(error instanceof ApiError) ? "连接不上话术服务：请检查网络后重试，仍不行请联系值班管理员。"
    : error.status === 422 ? `检索请求被拒绝：${error.message}`
    : error.status === 503 ? `话术服务暂时不可用：${error.message}`
    : `话术服务出错（${error.status}）：${error.message}`;
  // Results of an earlier query stay readable, dimmed and labelled as old.
  $("error").textContent = results.hidden ? message : `${message}（下方仍是上一次的结果）`;
  $("error").hidden = false;
  results.classList.add("stale");
  setStatus("");
}

function showEmpty() {
  state.controller?.abort();
  state.query = "";
  $("error").hidden = true;
  $("match").hidden = true;
  $("empty").hidden = false;
  results.hidden = true;
  $("chips").replaceChildren();
  setStatus("");
}

function setStatus(text) {
  $("status").textContent = text;
}

// ---- rendering ----------------------------------------------------------------------------

function render(query, scenario, body, names) {
  Object.assign(state, { query, scenario, indexVersion: body.index_version });
  $("error").hidden = true;
  $("empty").hidden = true;
  results.hidden = false;
  results.classList.remove("stale");
  const terms = highlightTerms(query);
  renderChips(body.detected_scenarios, scenario);
  renderMatch(body.match);
  fill("scripts", body.scripts.map((s) => scriptItem(s, terms, names)), "没有找到合适的话术：换个说法，尽量用客户的原话。");
  fill("statutes", body.statutes.map((a) => statuteItem(a, terms)), "没有相关法条。");
  fill("passages", body.passages.map((p) => passageItem(p, terms)), "没有相关课程内容。");
  const only = scenario ? ` · 只看「${names[scenario] || scenario}」` : "";
  setStatus(`${body.scripts.length} 条话术${only} · ${Math.round(body.took_ms)} ms`);
}

// Said plainly when the scripts only partly fit or nothing fits; a good fit needs no words.
function renderMatch(match) {
  const banner = $("match");
  banner.hidden = match.level === "strong";
  banner.className = `match ${match.level}`;
  banner.textContent = match.level === "none" ? `没有相符的话术：${match.reason}` : match.reason;
}

function fill(kind, items, emptyText) {
  $(`count-${kind}`).textContent = items.length;
  $(`list-${kind}`).replaceChildren(...(items.length ? items : [el("li", { class: "none" }, emptyText)]));
}

function renderChips(detected, selected) {
  const chips = detected.map((d) =>
    el("button", {
      type: "button",
      class: "chip",
      "aria-pressed": String(d.id === selected),
      title: d.id === selected ? "再点一次显示全部场景" : "只看这个场景的话术",
      onclick: () => search(state.query, d.id === state.scenario ? null : d.id),
    }, d.name));
  $("chips").replaceChildren(...(chips.length ? [el("span", { class: "chips-label" }, "识别场景"), ...chips] : []));
}

function scriptItem(script, terms, names) {
  const copy = el("button", { type: "button", class: "copy", "aria-label": `复制话术：${script.title}` }, "复制");
  copy.addEventListener("click", () => copyScript(script, copy));
  return el("li", { class: "card script", tabindex: "0", "data-id": script.id },
    el("div", { class: "head" }, el("h2", { class: "title" }, script.title), copy),
    el("p", { class: "tags" },
      ...script.scenarios.map((id) => el("span", { class: "tag" }, names[id] || id)),
      !script.channels.includes("phone") &&
        el("span", { class: "channel" }, `${script.channels.map((c) => CHANNEL_NAMES[c]).join("、")}话术`),
      el("span", { class: "technique" }, `技巧：${script.technique}`)),
    el("p", { class: "text" }, ...withSlots(script.text, terms)),
    script.notes && el("p", { class: "notes" }, el("strong", null, "注意："), script.notes),
    el("div", { class: "foot" },
      el("div", { class: "citations" }, ...script.citations.map(citation)),
      voteButtons(script)));
}

function citation(c) {
  const was = c.cited_as && el("span", { class: "was" }, `（原引${lawTitle(c.cited_as.law)}${c.cited_as.article}）`);
  return el("details", { class: "citation" },
    el("summary", null, `${lawTitle(c.law)}${c.article}`, was),
    el("p", { class: "article-text" }, c.text || "（条文暂缺）"));
}

function statuteItem(article, terms) {
  return el("li", { class: "card statute", tabindex: "0" },
    el("h2", { class: "title" }, `${lawTitle(article.law)}${article.article}`),
    el("p", { class: "article-text" }, ...highlighted(article.text || "（条文暂缺）", terms)));
}

function passageItem(passage, terms) {
  return el("li", { class: "card passage", tabindex: "0" },
    el("h2", { class: "title" }, passage.section),
    el("p", { class: "text" }, ...highlighted(passage.text, terms)));
}

// 《民法典》 reads faster than 《中华人民共和国民法典》; the article label stays exact.
function lawTitle(law) {
  return `《${law.replace(/^中华人民共和国/, "")}》`;
}

// ---- highlighting -------------------------------------------------------------------------

// Terms from the query: each run of CJK characters or of letters/digits (so punctuation and
// spaces split), plus every CJK bigram, since the query rarely repeats the script's phrasing.
function highlightTerms(query) {
  const terms = new Set();
  for (const run of query.toLowerCase().match(/[\u3400-\u9fff]+|[a-z0-9]+/g) || []) {
    if (run.length >= 2) terms.add(run);
    if (/[\u3400-\u9fff]/.test(run)) for (let i = 0; i + 2 <= run.length; i++) terms.add(run.slice(i, i + 2));
  }
  return [...terms].filter((term) => !STOP_TERMS.has(term));
}

// A script's text with its named slots ({金额}) marked as the facts the agent fills in.
function withSlots(text, terms) {
  return text.split(/(\{[\u4e00-\u9fff]{1,8}\})/).flatMap((part, i) =>
    i % 2 ? [el("span", { class: "slot", title: `请填写：${part.slice(1, -1)}` }, part)] : highlighted(part, terms));
}

// The text as nodes, every occurrence of a term wrapped in <mark>; overlapping terms merge.
function highlighted(text, terms) {
  const lower = text.replace(/[A-Z]+/g, (s) => s.toLowerCase()); // same length as text
  const hit = new Uint8Array(text.length);
  for (const term of terms) {
    for (let i = lower.indexOf(term); i !== -1; i = lower.indexOf(term, i + 1)) hit.fill(1, i, i + term.length);
  }
  const nodes = [];
  for (let start = 0, i = 1; i <= text.length; i++) {
    if (i === text.length || hit[i] !== hit[start]) {
      const part = text.slice(start, i);
      nodes.push(hit[start] ? el("mark", null, part) : part);
      start = i;
    }
  }
  return nodes;
}

// ---- copy and feedback --------------------------------------------------------------------

async function copyScript(script, button) {
  if (!(await writeClipboard(script.text))) {
    setStatus("复制失败：请选中话术文字后按 Ctrl+C。");
    return;
  }
  sendFeedback(script.id, "copied");
  button.textContent = "已复制 ✓";
  button.classList.add("done");
  setStatus(script.slots.length
    ? `已复制「${script.title}」，请填写：${script.slots.join("、")}`
    : `已复制「${script.title}」`);
  setTimeout(() => {
    button.textContent = "复制";
    button.classList.remove("done");
  }, COPIED_MS);
}

async function writeClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API outside a secure context (plain http on a LAN address): the old way.
    const back = document.activeElement;
    const area = el("textarea", { class: "offscreen", readonly: "", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    try {
      return document.execCommand("copy");
    } finally {
      area.remove();
      back?.focus();
    }
  }
}

function voteButtons(script) {
  const buttons = [
    ["up", "👍 有用"],
    ["down", "👎 不合适"],
  ].map(([signal, label]) =>
    el("button", {
      type: "button",
      class: "vote",
      "data-signal": signal,
      "aria-pressed": "false",
      onclick: () => {
        sendFeedback(script.id, signal);
        for (const button of buttons) {
          button.setAttribute("aria-pressed", String(button.dataset.signal === signal));
          button.disabled = true; // one vote per result
        }
      },
    }, label));
  return el("div", { class: "feedback", role: "group", "aria-label": "这条话术合适吗" }, ...buttons);
}

// Fire and forget: feedback never holds up the agent, and survives the page being closed.
function sendFeedback(scriptId, signal) {
  fetch("/v1/feedback", {
    method: "POST",
    keepalive: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: state.query, script_id: scriptId, signal, index_version: state.indexVersion }),
  }).catch(() => {});
}

// ---- tabs and keyboard --------------------------------------------------------------------

function selectTab(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    selectTab(next);
    next.focus();
  });
}

function moveFocus(step) {
  const cards = [...document.querySelectorAll('[role="tabpanel"]:not([hidden]) .card')];
  const next = cards.indexOf(document.activeElement.closest(".card")) + step;
  if (next < 0) box.focus();
  else cards[Math.min(next, cards.length - 1)]?.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const target = event.target;
  if (event.key === "/" && target !== box) {
    event.preventDefault();
    box.focus();
    box.select();
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    moveFocus(event.key === "ArrowDown" ? 1 : -1);
  } else if ((event.key === "Enter" || event.key.toLowerCase() === "c") && target.matches(".card.script")) {
    event.preventDefault();
    target.querySelector(".copy").click();
  }
});
