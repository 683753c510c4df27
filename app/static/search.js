// Search mode: the agent describes the complaint, scripts come while typing.
import {
  $, el, ApiError, errorMessage, renderMatch, scriptItem, lawTitle, highlightTerms, highlighted, scenarioNames,
} from "./cards.js";

const DEBOUNCE_MS = 300;
const TOP_K = 5;

const box = $("q");
const results = $("results");
const tabs = [...results.querySelectorAll('[role="tab"]')];

const state = {
  query: "", // the query of the results on screen
  scenario: null, // the scenario id of the selected chip, or null
  indexVersion: "",
  controller: null, // aborts the request in flight when a newer one starts
  timer: 0,
};

export function initSearch() {
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
    // Cancelled while the body was arriving: the empty body is not an answer.
    if (controller.signal.aborted) return;
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

function render(query, scenario, body, names) {
  Object.assign(state, { query, scenario, indexVersion: body.index_version });
  $("error").hidden = true;
  $("empty").hidden = true;
  results.hidden = false;
  results.classList.remove("stale");
  const terms = highlightTerms(query);
  const context = { query, indexVersion: body.index_version, status: $("status") };
  renderChips(body.detected_scenarios, scenario);
  renderMatch($("match"), body.match);
  fill("scripts", body.scripts.map((s, i) => scriptItem(s, i, terms, names, context)), "没有找到合适的话术：换个说法，尽量用客户的原话。");
  fill("statutes", body.statutes.map((a) => statuteItem(a, terms)), "没有相关法条。");
  fill("passages", body.passages.map((p) => passageItem(p, terms)), "没有相关课程内容。");
  const only = scenario ? ` · 只看「${names[scenario] || scenario}」` : "";
  setStatus(`${body.scripts.length} 条话术${only} · ${Math.round(body.took_ms)} ms`);
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
