// The agent desktop page: search while the customer talks, or follow the call turn by turn; copy a
// script in one keystroke. Plain DOM and fetch in ES modules, no build step. Text from the API is
// only ever inserted as text nodes.
import { $, KEYED, toast } from "./cards.js";
import { initSearch, searchScriptCards } from "./search.js";
import { initCall, callScriptCards } from "./call.js";

const MODE_KEY = "huashu.mode"; // sessionStorage: a reload during a call stays in call mode
const COMPACT_KEY = "huashu.compact"; // localStorage: the agent's choice, kept across calls
// A side panel beside the CRM: compact unless the agent chose otherwise.
const NARROW = matchMedia("(max-width: 900px)");

const modes = [...document.querySelectorAll(".mode")];
const compactToggle = $("compact-toggle");

initSearch();
initCall();
initModes();
initCompact();
document.addEventListener("keydown", onKey);

// ---- search or call -----------------------------------------------------------------------

function initModes() {
  for (const tab of modes) {
    tab.addEventListener("click", () => setMode(tab.id === "mode-call" ? "call" : "search"));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const next = modes[(modes.indexOf(tab) + 1) % modes.length]; // two modes: either arrow flips
      setMode(next.id === "mode-call" ? "call" : "search", false);
      next.focus();
    });
  }
  if (storage(sessionStorage, MODE_KEY) === "call") setMode("call");
}

function setMode(mode, focusInput = true) {
  const call = mode === "call";
  for (const tab of modes) {
    const on = (tab.id === "mode-call") === call;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  document.body.classList.toggle("in-call", call);
  $("search-view").hidden = $("search-form").hidden = $("keys-search").hidden = call;
  $("call-view").hidden = $("turn-form").hidden = $("keys-call").hidden = !call;
  storage(sessionStorage, MODE_KEY, mode);
  if (focusInput) modeInput().focus();
}

function inCall() {
  return !$("call-view").hidden;
}

function modeInput() {
  return inCall() ? $("turn-text") : $("q");
}

// ---- compact cards ------------------------------------------------------------------------

function initCompact() {
  compactToggle.addEventListener("click", () => {
    storage(localStorage, COMPACT_KEY, document.body.classList.contains("compact") ? "0" : "1");
    applyCompact();
  });
  NARROW.addEventListener("change", applyCompact);
  applyCompact();
}

function applyCompact() {
  const chosen = storage(localStorage, COMPACT_KEY);
  const on = chosen === null ? NARROW.matches : chosen === "1";
  document.body.classList.toggle("compact", on);
  compactToggle.setAttribute("aria-pressed", String(on));
}

// Reads a key, or writes it when a value is given; storage can be disabled by policy, and then
// the page works without remembering.
function storage(area, key, value) {
  try {
    if (value === undefined) return area.getItem(key);
    area.setItem(key, value);
  } catch {
    return null;
  }
}

// ---- keyboard -----------------------------------------------------------------------------

function onKey(event) {
  if (event.isComposing) return; // the IME's keys, not ours
  const n = copyKey(event);
  if (n) {
    event.preventDefault();
    copyNth(n);
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (event.key === "/" && !isTextField(target)) {
    event.preventDefault();
    modeInput().focus();
    modeInput().select();
  } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !target.matches("textarea")) {
    event.preventDefault();
    moveFocus(event.key === "ArrowDown" ? 1 : -1);
  } else if ((event.key === "Enter" || event.key.toLowerCase() === "c") && target.matches(".card.script")) {
    event.preventDefault();
    target.querySelector(".copy").click();
  }
}

// 1–5 copy that script: the plain key outside a text field (where it would type a digit), Alt+key
// anywhere. Alt is read from the physical key: with Alt held, some layouts report another character.
function copyKey(event) {
  if (event.ctrlKey || event.metaKey || event.shiftKey) return 0;
  const digit = event.altKey ? /^(?:Digit|Numpad)(\d)$/.exec(event.code)?.[1] : !isTextField(event.target) && event.key;
  const n = Number(digit);
  return Number.isInteger(n) && n >= 1 && n <= KEYED ? n : 0;
}

function copyNth(n) {
  const card = (inCall() ? callScriptCards() : searchScriptCards())[n - 1];
  if (card) card.querySelector(".copy").click(); // as a click does: clipboard, confirmation, feedback
  else toast(`没有第 ${n} 条话术`);
}

function isTextField(node) {
  return node.matches?.('textarea, select, [contenteditable=""], [contenteditable="true"], input:not([type="button"], [type="checkbox"], [type="radio"], [type="submit"], [type="reset"])');
}

// Arrows walk the cards on screen; above the first is the mode's input.
function moveFocus(step) {
  const cards = [...document.querySelectorAll(".card")].filter((card) => card.getClientRects().length);
  const next = cards.indexOf(document.activeElement.closest(".card")) + step;
  if (next < 0) modeInput().focus();
  else cards[Math.min(next, cards.length - 1)]?.focus();
}
