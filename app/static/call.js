// Call mode: the agent notes the conversation turn by turn (or pastes a transcript); after each
// change the page asks POST /v1/assist about the whole call and shows the demands raised so far,
// the escalation warning, the facts said and the scripts for the latest customer turn.
import {
  $, el, postJson, visibleChars, errorMessage, renderMatch, scriptItem, citation, highlightTerms, scenarioNames,
} from "./cards.js";

const TOP_K = 5;
const MAX_TURNS = 50; // what /v1/assist takes: a longer call sends its latest 50 turns
const MAX_TEXT = 1000; // characters per turn, as for a search
const STORE = "huashu.call"; // sessionStorage: a reload keeps the call, a new tab starts empty
const ROLE_NAMES = { customer: "客户", agent: "坐席" };
// Who speaks, as transcripts from the phone system and chatbots write it.
const SPEAKERS = { 客户: "customer", 顾客: "customer", 用户: "customer", customer: "customer", 坐席: "agent", 客服: "agent", agent: "agent" };
const SPEAKER_LINE = /^\s*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?\s*)?(客户|顾客|用户|customer|坐席|客服|agent)\s*[:：]\s*(.*)$/i;
const ESCALATION_TITLES = { watch: "注意：客户可能升级投诉", high: "升级预警：按升级流程处理" };
const REASON_NAMES = {
  media: "媒体曝光", regulator: "向主管部门申诉", legal: "法律途径", "repeat-contact": "重复来电",
  "high-amount": "高额诉求", vulnerable: "弱势客户", threat: "人身威胁",
};

const view = $("call-view");
const field = $("turn-text");

const call = {
  turns: loadTurns(), // [{role, text}], oldest first
  role: "customer", // who says the next turn typed
  ticket: 0, // numbers the requests: only the answer to the latest one is shown
  escalationShown: "", // what the escalation strip says now, so an unchanged one is not re-announced
};

export function initCall() {
  $("turn-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = field.value.trim();
    if (!visible(text)) return;
    field.value = "";
    addTurns([{ role: call.role, text }]);
  });
  for (const button of document.querySelectorAll(".role")) {
    button.addEventListener("click", () => setRole(button.dataset.role));
  }
  // A transcript pasted into the one-line field would lose its line breaks: split it instead.
  field.addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text") || "";
    if (!hasSpeakers(text)) return;
    event.preventDefault();
    addTurns(parseTranscript(text));
  });
  $("import").addEventListener("click", () => {
    const turns = parseTranscript($("transcript").value);
    if (!turns.length) return;
    $("transcript").value = "";
    $("transcript").closest("details").open = false;
    addTurns(turns);
    field.focus();
  });
  $("new-call").addEventListener("click", newCall);
  renderTurns();
  assist();
}

export function callScriptCards() {
  return [...$("call-scripts").querySelectorAll(".card.script")];
}

function setRole(role) {
  call.role = role;
  for (const button of document.querySelectorAll(".role")) {
    button.setAttribute("aria-pressed", String(button.dataset.role === role));
  }
  field.placeholder = `${ROLE_NAMES[role]}说了什么？按 Enter 添加`;
  field.focus();
}

// ---- the turns ----------------------------------------------------------------------------

function addTurns(turns) {
  let cut = false;
  for (const { role, text } of turns) {
    // The latest words matter most in a long outburst: keep its end.
    cut ||= text.length > MAX_TEXT;
    call.turns.push({ role, text: text.slice(-MAX_TEXT) });
  }
  saveTurns();
  renderTurns();
  assist(cut ? `有一句超过 ${MAX_TEXT} 字，只保留了最后 ${MAX_TEXT} 字。` : "");
}

function removeTurn(index) {
  call.turns.splice(index, 1);
  saveTurns();
  renderTurns();
  assist();
  field.focus();
}

function newCall() {
  call.turns = [];
  saveTurns();
  renderTurns();
  assist();
  setRole("customer");
}

function renderTurns() {
  $("count-turns").textContent = call.turns.length;
  $("turns").replaceChildren(...call.turns.map((turn, i) =>
    el("li", { class: `turn ${turn.role}` },
      el("span", { class: "who" }, `${i + 1} ${ROLE_NAMES[turn.role]}`),
      el("p", { class: "turn-text" }, turn.text),
      el("button", { type: "button", class: "remove", "aria-label": `删除第 ${i + 1} 句`, title: "删除这句", onclick: () => removeTurn(i) }, "✕"))));
  // The latest turn in view inside the list, without scrolling the page away from the scripts.
  $("turns").scrollTop = $("turns").scrollHeight;
}

// Lines that start with a speaker (客户：…, 坐席：…, customer: …) begin a turn; other lines continue
// the turn before, or are the customer's when nothing came before.
function parseTranscript(text) {
  const turns = [];
  for (const line of text.split(/\r?\n/)) {
    const speaker = SPEAKER_LINE.exec(line);
    const words = (speaker ? speaker[2] : line).trim();
    if (speaker) turns.push({ role: SPEAKERS[speaker[1].toLowerCase()], text: words });
    else if (words && turns.length) turns.at(-1).text += `\n${words}`;
    else if (words) turns.push({ role: "customer", text: words });
  }
  return turns.map((turn) => ({ ...turn, text: turn.text.trim() })).filter((turn) => visible(turn.text));
}

// The service refuses a turn with nothing visible: such a turn is not added, rather than making
// every later request fail.
const visible = (text) => visibleChars(text) > 0;

function hasSpeakers(text) {
  return text.split(/\r?\n/).some((line) => SPEAKER_LINE.test(line)) && /\n/.test(text.trim());
}

function loadTurns() {
  try {
    const turns = JSON.parse(sessionStorage.getItem(STORE) || "[]");
    return Array.isArray(turns) ? turns.filter((t) => t && ROLE_NAMES[t.role] && typeof t.text === "string") : [];
  } catch {
    return []; // storage disabled or garbled: start an empty call
  }
}

function saveTurns() {
  try {
    if (call.turns.length) sessionStorage.setItem(STORE, JSON.stringify(call.turns));
    else sessionStorage.removeItem(STORE);
  } catch {
    // Storage disabled: the call still works, it just does not survive a reload.
  }
}

// ---- asking the service -------------------------------------------------------------------

async function assist(note = "") {
  const ticket = ++call.ticket;
  const offset = Math.max(0, call.turns.length - MAX_TURNS);
  const turns = call.turns.slice(offset);
  if (!turns.some((turn) => turn.role === "customer")) {
    showWaiting();
    return;
  }
  view.classList.add("loading");
  setStatus("正在分析…");
  try {
    // Not aborted when a newer turn comes: the server finishes it anyway, and the ticket below
    // drops its answer, whichever arrives first.
    const body = await postJson("/v1/assist", { turns, top_k: TOP_K });
    const names = await scenarioNames;
    if (ticket !== call.ticket) return;
    render(body, offset, names);
    const older = offset ? ` · 只分析了最近 ${MAX_TURNS} 句` : "";
    setStatus(`${call.turns.length} 句 · ${body.scripts.length} 条话术 · ${Math.round(body.took_ms)} ms${older}${note ? ` · ${note}` : ""}`);
  } catch (error) {
    if (ticket === call.ticket) showError(error);
  } finally {
    if (ticket === call.ticket) view.classList.remove("loading");
  }
}

// No customer turn yet (an empty call, or only the agent spoke): nothing to ask about.
function showWaiting() {
  view.classList.remove("loading", "stale");
  $("call-error").hidden = true;
  $("call-match").hidden = true;
  $("call-empty").hidden = false;
  $("call-scripts").replaceChildren();
  $("demands").replaceChildren();
  renderEscalation({ level: "none", reasons: [], advice: "" }, 0);
  renderFacts([], 0);
  setStatus(call.turns.length ? "等客户开口：只有坐席的话，还没有可分析的诉求。" : "");
}

function showError(error) {
  const message = errorMessage(error, "分析请求被拒绝");
  const shown = callScriptCards().length;
  $("call-error").textContent = shown ? `${message}（下方仍是上一次的结果）` : message;
  $("call-error").hidden = false;
  view.classList.add("stale");
  setStatus("");
}

function setStatus(text) {
  $("call-status").textContent = text;
}

// ---- rendering ----------------------------------------------------------------------------

// `offset`: how many earlier turns were not sent; the answer numbers turns from the first sent.
function render(body, offset, names) {
  view.classList.remove("stale");
  $("call-error").hidden = true;
  $("call-empty").hidden = true;
  renderEscalation(body.escalation, offset);
  renderDemands(body.demands, offset);
  renderFacts(body.facts, offset);
  renderMatch($("call-match"), body.match);
  const terms = highlightTerms(body.query, body.normalized_query);
  const context = { query: body.query, indexVersion: body.index_version, status: $("call-status") };
  const cards = body.scripts.map((s, i) => scriptItem(s, i, terms, names, context));
  $("call-scripts").replaceChildren(...(cards.length ? cards : [el("li", { class: "none" }, "没有找到合适的话术。")]));
}

const turnLabel = (turn, offset) => `第 ${turn + offset + 1} 句`;

function renderDemands(demands, offset) {
  const chips = demands.map((d) =>
    el("span", { class: "chip demand", "data-scenario": d.scenario },
      d.name, el("span", { class: "turn-no" }, turnLabel(d.turn, offset))));
  $("demands").replaceChildren(...(chips.length ? [el("span", { class: "chips-label" }, "客户诉求"), ...chips] : []));
}

// Hidden when there is no sign; amber to watch, red to escalate now. The strip sits in an
// aria-live region, so it is only rebuilt when what it says changes.
function renderEscalation(escalation, offset) {
  const strip = escalation.level === "none" ? null
    : el("div", { class: `strip ${escalation.level}` },
      el("p", { class: "strip-title" }, ESCALATION_TITLES[escalation.level] || escalation.level),
      el("ul", { class: "reasons" }, ...escalation.reasons.map((r) =>
        el("li", null,
          el("span", { class: "kind" }, REASON_NAMES[r.kind] || r.kind),
          el("span", { class: "turn-no" }, turnLabel(r.turn, offset)),
          el("q", { class: "evidence" }, r.evidence)))),
      escalation.advice && el("p", { class: "advice" }, escalation.advice));
  const says = strip ? strip.textContent : "";
  if (says === call.escalationShown) return;
  call.escalationShown = says;
  $("escalation").replaceChildren(...(strip ? [strip] : []));
}

function renderFacts(facts, offset) {
  $("count-facts").textContent = facts.length;
  $("facts").replaceChildren(...(facts.length ? facts.map((f) => factItem(f, offset))
    : [el("li", { class: "none" }, "客户还没说到金额、时长或日期。")]));
}

function factItem(fact, offset) {
  return el("li", { class: `fact ${fact.kind}` },
    el("p", { class: "fact-head" },
      el("strong", { class: "words" }, fact.words),
      factValue(fact) && el("span", { class: "value" }, factValue(fact)),
      el("span", { class: "turn-no" }, turnLabel(fact.turn, offset))),
    fact.implies && el("p", { class: "implies" }, fact.implies),
    fact.statute && citation(fact.statute));
}

// What the words come to: yuan, hours (in days when whole days) or the day they name.
function factValue(fact) {
  const v = fact.value;
  if (fact.kind === "date") return fact.date ? `${fact.date}${v != null ? `（${v} 天前）` : ""}` : "";
  if (v == null) return "";
  const number = v.toLocaleString("zh-CN", { maximumFractionDigits: 2 });
  if (fact.kind === "amount") return `${number} 元`;
  return v >= 24 && v % 24 === 0 ? `${v / 24} 天（${number} 小时）` : `${number} 小时`;
}
