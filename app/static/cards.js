// What both modes of the desk page share: building DOM, the script cards, highlighting, copy and
// feedback. Text from the API is only ever inserted as text nodes (never parsed as HTML).

const COPIED_MS = 2000;
const CHANNEL_NAMES = { phone: "电话", counter: "柜台", online: "在线" };
// Words almost every complaint and script contains: highlighting them is noise.
const STOP_TERMS = new Set(["客户", "用户", "我们", "你们", "他们", "什么", "怎么", "就是", "就要", "一个", "不是", "可以", "这个"]);
// How many scripts the number keys reach.
export const KEYED = 5;

export const $ = (id) => document.getElementById(id);

export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child != null && child !== false));
  return node;
}

// Scenario id -> name, for the tags on each script; ids are shown if this fails.
export const scenarioNames = fetch("/v1/scenarios")
  .then((response) => (response.ok ? response.json() : { scenarios: [] }))
  .then((body) => Object.fromEntries(body.scenarios.map((s) => [s.id, s.name])))
  .catch(() => ({}));

// ---- errors -------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.status = status;
  }
}

// The service answered, but its body could not be read (cut off, or not JSON).
export class BrokenAnswer extends Error {}

// POST `payload` to `path`: the JSON of the answer, or the ApiError or BrokenAnswer saying why
// there is none. A request cancelled while its body arrives also ends here: the caller checks
// that before showing anything.
export async function postJson(path, payload, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
    signal,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body?.detail);
  if (!body) throw new BrokenAnswer("unreadable response body");
  return body;
}

// What the service counts as visible: not white space, control or format characters (zero-width,
// direction marks).
export function visibleChars(text) {
  return (text.match(/[^\s\p{Cc}\p{Cf}]/gu) || []).length;
}

// What the agent reads is Chinese; the service's own detail (English, for developers) goes to
// the console.
export function errorMessage(error, refused = "检索请求被拒绝") {
  if (error instanceof BrokenAnswer) return "没有收到话术服务的完整回答：请重试。";
  if (!(error instanceof ApiError)) {
    console.error(error);
    return "连接不上话术服务：请检查网络后重试，仍不行请联系值班管理员。";
  }
  console.warn(`话术服务 HTTP ${error.status}: ${error.message}`);
  return error.status === 422 ? `${refused}：这段文字无法检索，请换个说法后重试。`
    : error.status === 413 ? `${refused}：内容太长，请删减后重试。`
    : error.status === 503 ? "话术服务暂时不可用（话术库正在更新或尚未就绪）：请稍后重试。"
    : `话术服务出错（${error.status}）：请稍后重试，仍不行请联系值班管理员。`;
}

// ---- match --------------------------------------------------------------------------------

// Said plainly when the scripts only partly fit or nothing fits; a good fit needs no words.
export function renderMatch(banner, match) {
  banner.hidden = match.level === "strong";
  banner.className = `match ${match.level}`;
  banner.textContent = match.level === "none" ? `没有相符的话术：${match.reason}` : match.reason;
}

// ---- script cards -------------------------------------------------------------------------

// One script as a card. `context` is what its feedback is about: {query, indexVersion, status}
// (status: the element that announces a copy). The first KEYED cards show the number key that
// copies them. In compact mode only the title, two lines and the copy button show; the rest opens
// with the 详情 button or a click on the card.
export function scriptItem(script, index, terms, names, context) {
  const copy = el("button", { type: "button", class: "copy", "aria-label": `复制话术：${script.title}` }, "复制");
  copy.addEventListener("click", () => copyScript(script, copy, index, context));
  const more = el("button", { type: "button", class: "more", "aria-expanded": "false", "aria-label": `展开全文：${script.title}` }, "详情");
  const card = el("li", { class: "card script", tabindex: "0", "data-id": script.id },
    el("div", { class: "head" },
      index < KEYED && el("kbd", { class: "key", "aria-hidden": "true", title: `按 ${index + 1} 复制` }, String(index + 1)),
      el("h2", { class: "title" }, script.title), more, copy),
    el("p", { class: "tags" },
      ...script.scenarios.map((id) => el("span", { class: "tag" }, names[id] || id)),
      !script.channels.includes("phone") &&
        el("span", { class: "channel" }, `${script.channels.map((c) => CHANNEL_NAMES[c]).join("、")}话术`),
      el("span", { class: "technique" }, `技巧：${script.technique}`)),
    el("p", { class: "text" }, ...withSlots(script.text, terms)),
    script.notes && el("p", { class: "notes" }, el("strong", null, "注意："), script.notes),
    el("div", { class: "foot" },
      el("div", { class: "citations" }, ...script.citations.map(citation)),
      voteButtons(script, context)));
  more.addEventListener("click", () => toggleOpen(card));
  card.addEventListener("click", (event) => {
    // Only in compact mode, and not when the click was on a control or ended a text selection.
    const onControl = event.target.closest("button, summary, a, details");
    if (document.body.classList.contains("compact") && !onControl && !String(getSelection())) toggleOpen(card);
  });
  return card;
}

function toggleOpen(card) {
  const open = card.classList.toggle("open");
  const more = card.querySelector(".more");
  more.setAttribute("aria-expanded", String(open));
  more.textContent = open ? "收起" : "详情";
}

export function citation(c) {
  const was = c.cited_as && el("span", { class: "was" }, `（原引${lawTitle(c.cited_as.law)}${c.cited_as.article}）`);
  return el("details", { class: "citation" },
    el("summary", null, `${lawTitle(c.law)}${c.article}`, was),
    el("p", { class: "article-text" }, c.text || "（条文暂缺）"));
}

// 《民法典》 reads faster than 《中华人民共和国民法典》; the article label stays exact.
export function lawTitle(law) {
  return `《${law.replace(/^中华人民共和国/, "")}》`;
}

// ---- highlighting -------------------------------------------------------------------------

// Terms from the query: each run of CJK characters or of letters/digits (so punctuation and
// spaces split), plus every CJK bigram, since the query rarely repeats the script's phrasing.
// Pass the query as typed and as the service searched it (`normalized_query`: traditional
// characters in simplified, dialect words in Mandarin), so a traditional query highlights too.
export function highlightTerms(...queries) {
  const terms = new Set();
  for (const query of queries.filter(Boolean)) {
    for (const run of query.toLowerCase().match(/[\u3400-\u9fff]+|[a-z0-9]+/g) || []) {
      if (run.length >= 2) terms.add(run);
      if (/[\u3400-\u9fff]/.test(run)) for (let i = 0; i + 2 <= run.length; i++) terms.add(run.slice(i, i + 2));
    }
  }
  return [...terms].filter((term) => !STOP_TERMS.has(term));
}

// A script's text with its named slots ({金额}) marked as the facts the agent fills in before
// saying it; the rest with the query's words highlighted.
function withSlots(text, terms) {
  return text.split(/(\{[\u4e00-\u9fff]{1,8}\})/).flatMap((part, i) =>
    i % 2 ? [el("mark", { class: "slot", title: `请填写：${part.slice(1, -1)}` }, part)] : highlighted(part, terms));
}

// The text as nodes, every occurrence of a term wrapped in <mark>; overlapping terms merge.
export function highlighted(text, terms) {
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

async function copyScript(script, button, index, context) {
  if (!(await writeClipboard(script.text))) {
    context.status.textContent = "复制失败：请选中话术文字后按 Ctrl+C。";
    return;
  }
  sendFeedback(context, script.id, "copied");
  button.textContent = "已复制 ✓";
  button.classList.add("done");
  const fillIn = script.slots.length ? `，请填写：${script.slots.join("、")}` : "";
  context.status.textContent = `已复制「${script.title}」${fillIn}`;
  // The card copied by a number key may be below the fold: the toast is seen wherever it is.
  toast(`已复制第 ${index + 1} 条「${script.title}」${fillIn}`);
  setTimeout(() => {
    button.textContent = "复制";
    button.classList.remove("done");
  }, COPIED_MS);
}

let toastTimer = 0;
// A visual confirmation only: the status line beside the results announces it to screen readers.
export function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), COPIED_MS);
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

// The API cannot withdraw feedback, so a vote waits VOTE_GRACE_MS for its undo and is sent then,
// or when the page is left, whichever comes first.
const VOTE_GRACE_MS = 5000;
const unsentVotes = new Set(); // each a function that sends its vote now
addEventListener("pagehide", () => unsentVotes.forEach((send) => send()));

function voteButtons(script, context) {
  let pending = null; // {send, timer} of the vote still in its grace period
  const buttons = [
    ["up", "👍 有用"],
    ["down", "👎 不合适"],
  ].map(([signal, label]) =>
    el("button", { type: "button", class: "vote", "data-signal": signal, "aria-pressed": "false", onclick: () => vote(signal) }, label));
  const recorded = el("span", { class: "voted", role: "status" });
  const undo = el("button", { type: "button", class: "undo", hidden: "", onclick: withdraw }, "撤销");

  function show(signal) {
    for (const button of buttons) {
      button.setAttribute("aria-pressed", String(button.dataset.signal === signal));
      button.disabled = Boolean(signal); // one vote per result
    }
    recorded.textContent = signal ? "已记录" : "";
    undo.hidden = !signal;
  }

  function vote(signal) {
    show(signal);
    const send = () => {
      clearTimeout(timer);
      unsentVotes.delete(send);
      if (document.activeElement === undo) undo.closest(".card")?.focus(); // keep the agent's place
      undo.hidden = true;
      sendFeedback(context, script.id, signal);
    };
    const timer = setTimeout(send, VOTE_GRACE_MS);
    unsentVotes.add(send);
    pending = { send, timer };
    undo.focus(); // the voted button is now disabled and cannot hold the focus
  }

  function withdraw() {
    clearTimeout(pending.timer);
    unsentVotes.delete(pending.send);
    const voted = buttons.find((button) => button.getAttribute("aria-pressed") === "true");
    pending = null;
    show(null);
    voted.focus();
  }

  return el("div", { class: "feedback", role: "group", "aria-label": "这条话术合适吗" }, ...buttons, recorded, undo);
}

// Fire and forget: feedback never holds up the agent, and survives the page being closed.
function sendFeedback(context, scriptId, signal) {
  fetch("/v1/feedback", {
    method: "POST",
    keepalive: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: context.query, script_id: scriptId, signal, index_version: context.indexVersion }),
  }).catch(() => {});
}
