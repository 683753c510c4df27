// Search mode: the agent describes the complaint, scripts come while typing.
import {
  $, el, postJson, visibleChars, errorMessage, renderMatch, scriptItem, lawTitle, highlightTerms, highlighted, scenarioNames,
} from "./cards.js";

const TOP_K = 5;
const MAX_QUERY_CHARS = 1000; // what /v1/search takes
// Search as you type once the box holds this many visible characters: one says too little.
const MIN_TYPED_CHARS = 2;
// The pause after the last keystroke before searching: 1.5 times the agent's usual gap between
// keystrokes, within these bounds, so a slow typist is not sent a search per character.
const PAUSE_MIN_MS = 250;
const PAUSE_MAX_MS = 600;

const box = $("q");
const results = $("results");
const tabs = [...results.querySelectorAll('[role="tab"]')];

const state = {
  query: "", // the query of the results on screen
  scenario: null, // the scenario id of the selected chip, or null
  indexVersion: "",
  controller: null, // aborts the request in flight when a newer one starts
  timer: 0,
  lastKeyAt: 0, // when the box last changed (performance.now())
  typingGap: 200, // the agent's gap between keystrokes, smoothed (ms)
};

export function initSearch() {
  box.addEventListener("input", (event) => {
    state.scenario = null; // a new complaint: the chip picked for the old one no longer applies
    // Pinyin being composed by an IME (tao'can) is not the complaint yet: wait for its end.
    if (event.isComposing) clearTimeout(state.timer);
    else searchAfterPause();
  });
  box.addEventListener("compositionstart", () => clearTimeout(state.timer));
  box.addEventListener("compositionend", searchAfterPause);
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
}

// The script cards the number keys copy: none while the empty state shows.
export function searchScriptCards() {
  return results.hidden ? [] : [...$("list-scripts").querySelectorAll(".card.script")];
}

function searchAfterPause() {
  clearTimeout(state.timer);
  const now = performance.now();
  const gap = Math.min(now - state.lastKeyAt, PAUSE_MAX_MS); // a long break is not a typing speed
  state.typingGap = (state.typingGap + gap) / 2;
  state.lastKeyAt = now;
  const pause = Math.min(PAUSE_MAX_MS, Math.max(PAUSE_MIN_MS, 1.5 * state.typingGap));
  state.timer = setTimeout(() => {
    const typed = visibleChars(box.value);
    if (!typed || typed >= MIN_TYPED_CHARS) run(); // one character: the results shown stay
  }, pause);
}

// Enter, an example or the pause after typing. A longer text (a pasted transcript) keeps its
// latest MAX_QUERY_CHARS characters, as the call mode does: the end of an outburst matters most.
function run() {
  let query = box.value.trim();
  if (!visibleChars(query)) {
    showEmpty();
    return;
  }
  const chars = [...query]; // characters, not UTF-16 units: never half of an emoji
  let note = "";
  if (chars.length > MAX_QUERY_CHARS) {
    query = box.value = chars.slice(-MAX_QUERY_CHARS).join("").trim();
    note = `超过 ${MAX_QUERY_CHARS} 字，只保留了最后 ${MAX_QUERY_CHARS} 字`;
  }
  search(query, state.scenario, note);
}

async function search(query, scenario, note = "") {
  state.controller?.abort();
  const controller = (state.controller = new AbortController());
  results.classList.add("loading");
  setStatus("正在检索…");
  try {
    const payload = { query, top_k: TOP_K, ...(scenario && { scenarios: [scenario] }) };
    const body = await postJson("/v1/search", payload, controller.signal);
    const names = await scenarioNames;
    if (controller.signal.aborted) return;
    render(query, scenario, body, names, note);
  } catch (error) {
    // Cancelled by a newer search or an emptied box, even while the body was arriving: whatever
    // failed is no longer asked about, and the newer search owns the page.
    if (!controller.signal.aborted) showError(error);
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      results.classList.remove("loading");
    }
  }
}

function showError(error) {
  const message = errorMessage(error);
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

function render(query, scenario, body, names, note) {
  Object.assign(state, { query, scenario, indexVersion: body.index_version });
  $("error").hidden = true;
  $("empty").hidden = true;
  results.hidden = false;
  results.classList.remove("stale");
  const terms = highlightTerms(query, body.normalized_query);
  const context = { query, indexVersion: body.index_version, status: $("status") };
  renderChips(body.detected_scenarios, scenario);
  renderMatch($("match"), body.match);
  fill("scripts", body.scripts.map((s, i) => scriptItem(s, i, terms, names, context)), "没有找到合适的话术：换个说法，尽量用客户的原话。");
  fill("statutes", body.statutes.map((a) => statuteItem(a, terms)), "没有相关法条。");
  fill("passages", body.passages.map((p) => passageItem(p, terms)), "没有相关课程内容。");
  const only = scenario ? ` · 只看「${names[scenario] || scenario}」` : "";
  setStatus(`${body.scripts.length} 条话术${only} · ${Math.round(body.took_ms)} ms${note ? ` · ${note}` : ""}`);
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

function selectTab(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
}
