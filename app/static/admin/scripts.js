// 话术: browse by scenario and search, open one, edit it as a draft with the problems shown as
// the admin types, publish, delete, and the change history with revert.
import { lawTitle } from "../cards.js";
import {
  $, el, api, AdminError, NOT_THERE, confirmAction, debounce, explain, followJob, localTime, notThere, say,
  scenarios, showJob,
} from "./api.js";

const PAGE = 50;
const VALIDATE_PAUSE_MS = 400;
const SLOT = /\{([\u4e00-\u9fff]{1,8})\}/g; // a named slot, as the corpus defines it
const CHANNELS = ["phone", "counter", "online"];
const CHANGE_KINDS = { publish: "发布", revert: "撤销", scenario: "场景" };

const list = { scenario: "", q: "", offset: 0, asked: 0 };
// The script open in the editor: `state` is the service's ScriptState (null for a new script not
// saved yet), `base` the record the fields were filled from (its other fields, such as `source`,
// are kept), `dirty` whether the fields changed since.
const editor = { state: null, base: null, dirty: false, checking: false, recheck: false };

export function initScripts() {
  $("scripts-scenario").addEventListener("change", () => {
    list.scenario = $("scripts-scenario").value;
    fetchList();
  });
  $("scripts-q").addEventListener("input", debounce(() => {
    list.q = $("scripts-q").value.trim();
    fetchList();
  }, 300));
  $("scripts-more").addEventListener("click", () => fetchList(true));
  $("script-new").addEventListener("click", () => startScript({}));
  $("add-scenario").addEventListener("click", async () => {
    $("f-scenarios").append(scenarioRow("", await scenarios()));
    changed();
  });
  $("add-citation").addEventListener("click", () => {
    $("f-citations").append(citationRow({ law: "", article_no: "" }));
    changed();
  });
  const form = $("editor");
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  $("publish").addEventListener("click", publish);
  $("delete-script").addEventListener("click", removeScript);
  $("discard-draft").addEventListener("click", discardDraft);
  $("close-editor").addEventListener("click", closeEditor);
  // Leaving the page (退出, reload, closing the tab) with unsaved edits: the browser asks first.
  addEventListener("beforeunload", (event) => {
    if (editor.dirty && !$("editor").hidden) event.preventDefault();
  });
}

export async function loadScripts() {
  const { groups, scenarios: all } = await scenarios(true);
  const select = $("scripts-scenario");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "全部场景"), ...scenarioOptions(groups, all));
  select.value = chosen;
  await fetchList();
}

function scenarioOptions(groups, all) {
  return Object.entries(groups).map(([group, name]) =>
    el("optgroup", { label: name }, ...all.filter((s) => s.group === group).map((s) => el("option", { value: s.id }, s.name))));
}

// ---- the list -------------------------------------------------------------------------------

async function fetchList(more = false) {
  const asked = ++list.asked; // only the latest question's answer is shown
  list.offset = more ? list.offset + PAGE : 0;
  const query = new URLSearchParams({ limit: PAGE, offset: list.offset });
  if (list.scenario) query.set("scenario", list.scenario);
  if (list.q) query.set("q", list.q);
  let answer;
  try {
    answer = await api("GET", `/v1/admin/scripts?${query}`);
  } catch (error) {
    if (asked !== list.asked) return;
    $("scripts-work").hidden = notThere(error);
    say($("scripts-say"), notThere(error) ? NOT_THERE : explain(error, "读取话术"), notThere(error) ? "note" : "error");
    return;
  }
  const names = Object.fromEntries((await scenarios()).scenarios.map((s) => [s.id, s.name]));
  if (asked !== list.asked) return;
  $("scripts-work").hidden = false;
  say($("scripts-say"), "");
  const items = answer.scripts.map((script) => listItem(script, names));
  if (more) $("script-list").append(...items);
  else $("script-list").replaceChildren(...items);
  if (!answer.total) $("script-list").replaceChildren(el("li", { class: "none" }, "没有符合条件的话术。"));
  $("scripts-total").textContent = `共 ${answer.total} 条`;
  $("scripts-more").hidden = list.offset + answer.scripts.length >= answer.total;
}

function listItem(script, names) {
  const open = el("button", { type: "button", class: "script-item", "data-id": script.id },
    el("span", { class: "item-title" }, script.title),
    el("span", { class: "item-meta" }, script.id, " · ", script.scenarios.map((id) => names[id] || id).join("、")),
    script.has_draft && el("span", { class: "badge draft" }, script.draft_deletes ? "待删除" : "草稿"));
  if (script.id === editor.state?.id) open.setAttribute("aria-current", "true");
  open.addEventListener("click", () => openScript(script.id));
  return el("li", null, open);
}

// The open script stands out in the list.
function markOpen() {
  for (const item of $("script-list").querySelectorAll(".script-item")) {
    if (item.dataset.id === editor.state?.id) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
}

// ---- opening and filling the editor -----------------------------------------------------------

function scriptPath(id, suffix = "") {
  return `/v1/admin/scripts/${id.split("/").map(encodeURIComponent).join("/")}${suffix}`;
}

export async function openScript(id) {
  if (!(await leaveEdits())) return;
  let state;
  try {
    state = await api("GET", scriptPath(id));
  } catch (error) {
    say($("scripts-say"), notThere(error) ? NOT_THERE : explain(error, "打开话术"), notThere(error) ? "note" : "error");
    return;
  }
  await showState(state);
  say($("editor-say"), "");
  say($("publish-say"), "");
  $("publish-progress-row").hidden = true;
}

// A new script, its fields prefilled (from a gap: the situation and the nearest scenario).
export async function startScript(prefill) {
  if (!(await leaveEdits())) return;
  const primary = prefill.scenarios?.[0];
  editor.state = null;
  await fill({
    id: primary ? `${primary}/` : "", title: "", scenarios: [], technique: "", situation: "", text: "", notes: "",
    citations: [], channels: [...CHANNELS], source: { document: null, section: null, origin: "authored" }, ...prefill,
  });
  describeState();
  say($("editor-say"), prefill.situation ? "已按缺口预填适用情形和场景，请补全其余内容后保存草稿。" : "");
  say($("publish-say"), "");
  $("publish-progress-row").hidden = true;
  $("changes").replaceChildren();
  $("f-id").focus();
}

async function showState(state) {
  editor.state = state;
  await fill(state.draft || state.published);
  describeState();
  showProblems(state.problems || []);
  showCited(state.cited || []);
  loadHistory();
}

async function fill(script) {
  editor.base = script;
  editor.dirty = false;
  $("editor").hidden = false;
  $("f-id").value = script.id;
  $("f-id").readOnly = editor.state !== null; // an id is chosen once
  for (const name of ["title", "situation", "text", "technique"]) $(`f-${name}`).value = script[name] || "";
  $("f-notes").value = script.notes || "";
  for (const box of document.querySelectorAll('#editor [name="channel"]')) box.checked = (script.channels || []).includes(box.value);
  const known = await scenarios();
  $("f-scenarios").replaceChildren(...(script.scenarios.length ? script.scenarios : [""]).map((id) => scenarioRow(id, known)));
  $("f-citations").replaceChildren(...(script.citations || []).map(citationRow));
  showSlots();
  showProblems([]);
  showCited([]);
}

function describeState() {
  const state = editor.state;
  $("editor-title").textContent = state ? state.id : "新话术";
  const words = !state ? ["还没保存"]
    : [state.published ? "已发布" : "未发布", state.draft_deletes ? "草稿：删除这条话术（发布后生效）" : state.draft && "有未发布的草稿",
       `修改 ${state.revision} 次`];
  $("editor-state").textContent = words.filter(Boolean).join(" · ");
  $("history").hidden = !state;
  markOpen();
  enableActions();
}

// 发布 takes unsaved changes too: it saves them as the draft first.
function enableActions() {
  const state = editor.state;
  const draft = Boolean(state && (state.draft || state.draft_deletes));
  $("publish").disabled = !draft && !editor.dirty;
  $("discard-draft").disabled = !draft;
  $("delete-script").disabled = !state?.published || state.draft_deletes;
}

function scenarioRow(id, { groups, scenarios: all }) {
  const select = el("select", { class: "scenario", "aria-label": "场景" },
    el("option", { value: "" }, "（选择场景）"), ...scenarioOptions(groups, all));
  if (id && !all.some((s) => s.id === id)) select.append(el("option", { value: id }, id)); // not in the service's list yet
  select.value = id;
  return el("li", { class: "row" }, select, removeButton("移除这个场景"), el("p", { class: "problem", hidden: "" }));
}

function citationRow(citation) {
  return el("li", { class: "row" },
    el("input", { class: "law", value: citation.law, placeholder: "法律名称，例如 民法典、消法", "aria-label": "法律名称" }),
    el("span", null, "第"),
    el("input", { class: "article", type: "number", min: "1", value: citation.article_no, "aria-label": "条号" }),
    el("span", null, "条"),
    removeButton("移除这条法条"),
    el("p", { class: "problem", hidden: "" }));
}

function removeButton(label) {
  const button = el("button", { type: "button", class: "plain small", "aria-label": label }, "移除");
  button.addEventListener("click", () => {
    button.closest("li").remove();
    changed();
  });
  return button;
}

// ---- reading the fields and checking them as the admin types -----------------------------------

function readEditor() {
  const value = (name) => $(`f-${name}`).value.trim();
  const script = {
    ...editor.base,
    id: value("id"),
    title: value("title"),
    situation: value("situation"),
    text: value("text"),
    technique: value("technique"),
    scenarios: [...$("f-scenarios").querySelectorAll("select")].map((s) => s.value).filter(Boolean),
    channels: [...document.querySelectorAll('#editor [name="channel"]:checked')].map((box) => box.value),
    citations: [...$("f-citations").children].map((row) => ({
      law: row.querySelector(".law").value.trim(),
      article_no: Number(row.querySelector(".article").value),
    })),
  };
  delete script.slots; // derived by the service
  if (value("notes")) script.notes = value("notes");
  else delete script.notes;
  return script;
}

function changed() {
  editor.dirty = true;
  enableActions();
  showSlots();
  validateSoon();
}

function showSlots() {
  const slots = [...new Set([...$("f-text").value.matchAll(SLOT)].map((m) => m[1]))];
  $("f-slots").textContent = slots.length ? `坐席要填的空：${slots.join("、")}` : "没有要坐席填的空。";
}

const validateSoon = debounce(validate, VALIDATE_PAUSE_MS);

// One check at a time: typing during a check asks for one more when it ends, so a slow service
// is never sent a pile of checks.
async function validate() {
  if ($("editor").hidden) return;
  if (editor.checking) {
    editor.recheck = true;
    return;
  }
  editor.checking = true;
  try {
    const answer = await api("POST", "/v1/admin/scripts/validate", { script: readEditor(), new: !editor.state });
    if (!editor.recheck) {
      showProblems(answer.problems);
      showCited(answer.cited);
    }
  } catch (error) {
    if (!notThere(error)) say($("editor-say"), explain(error, "检查"), "error");
  } finally {
    editor.checking = false;
    if (editor.recheck) {
      editor.recheck = false;
      validate();
    }
  }
}

// Each problem next to its field ("citations[0]" at the first citation row); the rest in a list on top.
function showProblems(problems) {
  for (const node of $("editor").querySelectorAll(".problem")) {
    node.hidden = true;
    node.textContent = "";
  }
  const general = [];
  for (const problem of problems) {
    const spot = problemSpot(problem.field || "");
    if (spot) {
      spot.textContent = spot.textContent ? `${spot.textContent}；${problem.message}` : problem.message;
      spot.hidden = false;
    } else general.push(el("li", null, problem.field ? `${problem.field}：${problem.message}` : problem.message));
  }
  $("editor-problems").replaceChildren(...general);
  $("editor").classList.toggle("has-problems", problems.length > 0);
}

function problemSpot(field) {
  const row = /^(scenarios|citations)\[(\d+)\]/.exec(field);
  if (row) {
    const li = $(`f-${row[1]}`).children[Number(row[2])];
    if (li) return li.querySelector(".problem");
  }
  return $("editor").querySelector(`.problem[data-field="${field.split(/[.[]/)[0]}"]`);
}

function showCited(cited) {
  $("f-cited").replaceChildren(...cited.map((c) =>
    el("details", { class: "citation", open: "" },
      el("summary", null, `${lawTitle(c.law)}第${c.article_no}条`, !c.found && el("span", { class: "bad" }, "（库中找不到这一条）")),
      c.found && el("p", { class: "article-text" }, c.text || "（条文暂缺）"))));
}

// ---- saving, publishing, deleting --------------------------------------------------------------

async function save() {
  const script = readEditor();
  if (!script.id) {
    say($("editor-say"), "请先填写编号。", "error");
    return false;
  }
  say($("editor-say"), "正在保存…");
  try {
    const state = editor.state
      ? await api("PUT", scriptPath(editor.state.id), { script, revision: editor.state.revision })
      : await api("POST", scriptPath(script.id), { script });
    await showState(state);
    say($("editor-say"), "草稿已保存。检索页仍用已发布的版本，点「发布」后生效。", "ok");
    fetchList();
    return true;
  } catch (error) {
    saveFailed(error);
    return false;
  }
}

function saveFailed(error) {
  if (error instanceof AdminError && error.status === 422 && error.body.problems) {
    showProblems(error.body.problems);
    showCited(error.body.cited || []);
    say($("editor-say"), `没有保存：有 ${error.body.problems.length} 处需要改正（见标红处）。`, "error");
  } else if (error instanceof AdminError && error.status === 409 && editor.state) {
    staleNotice("别人在你打开之后改过这条话术，你的改动没有保存。可以重新载入看别人的改动（你这次的改动会丢失），或先把你的改动复制出来。");
  } else if (error instanceof AdminError && error.status === 409) {
    say($("editor-say"), `没有保存：编号 ${$("f-id").value.trim()} 已被另一条话术（或草稿）占用，请换一个编号。`, "error");
  } else {
    say($("editor-say"), notThere(error) ? NOT_THERE : explain(error, "保存"), "error");
  }
}

function staleNotice(words) {
  say($("editor-say"), words, "error");
  const reload = el("button", { type: "button", class: "link" }, "重新载入");
  reload.addEventListener("click", () => {
    editor.dirty = false;
    openScript(editor.state.id);
  });
  $("editor-say").append(" ", reload);
}

async function publish() {
  if (editor.dirty && !(await save())) return; // what is on screen is what gets published
  const state = editor.state;
  const bar = $("publish-progress");
  $("publish-progress-row").hidden = false;
  $("publish").disabled = true;
  try {
    const job = await api("POST", scriptPath(state.id, "/publish"), { revision: state.revision });
    const words = { succeeded: state.draft_deletes ? "已删除，检索不到了。" : "已发布，可检索。", failed: indexFailed };
    const finished = await followJob(job, (j) => j.state !== "succeeded" && showJob(bar, $("publish-say"), j, words));
    if (finished.state === "succeeded") {
      say($("editor-say"), "");
      await afterChange(state.id, state.draft_deletes);
      showJob(bar, $("publish-say"), finished, words);
    }
  } catch (error) {
    $("publish-progress-row").hidden = true;
    if (error instanceof AdminError && error.status === 409 && /revision/i.test(error.body.detail || "")) {
      staleNotice("别人在你打开之后改过这条话术，没有发布。请重新载入后再发布。");
    } else {
      say($("publish-say"), busy(error) ? BUSY : explain(error, "发布"), "error");
    }
  } finally {
    describeState();
  }
}

// One re-index at a time: a publish while another runs is refused (409).
const BUSY = "没有发布：正在进行另一次重建或发布，请等它完成（约几十秒）后再点一次。";
const busy = (error) => error instanceof AdminError && error.status === 409 && /running/i.test(error.body.detail || "");

// A publish whose re-index failed: the change is recorded, searches still have the old text.
const indexFailed = "改动已记录为已发布，但重建索引失败，检索到的还是原来的内容。请到「索引」点「重建索引」，仍失败请联系运维。";

// After a publish or a revert: the script as it is now (gone if it was deleted), the list.
async function afterChange(id, deleted) {
  fetchList();
  try {
    await showState(await api("GET", scriptPath(id)));
  } catch (error) {
    if (!(deleted && error instanceof AdminError && error.status === 404)) throw error;
    editor.state = null;
    editor.dirty = false;
    $("editor").hidden = true;
    markOpen();
  }
}

async function removeScript() {
  const state = editor.state;
  const sure = await confirmAction("删除话术",
    `确定删除「${state.published.title}」吗？这会先存成一份「删除」草稿，点「发布」后检索页才不再出现它；发布前可以放弃草稿。`, "删除");
  if (!sure) return;
  try {
    await showState(await api("DELETE", `${scriptPath(state.id)}?revision=${state.revision}`));
    say($("editor-say"), "已存为删除草稿：点「发布」后生效。", "ok");
    fetchList();
  } catch (error) {
    saveFailed(error);
  }
}

async function discardDraft() {
  const state = editor.state;
  const sure = await confirmAction("放弃草稿",
    state.published ? "确定放弃未发布的改动，恢复成已发布的内容吗？" : "这条话术还没发布过，放弃草稿就是把它整条删掉。确定吗？", "放弃草稿");
  if (!sure) return;
  try {
    const after = await api("DELETE", `${scriptPath(state.id, "/draft")}?revision=${state.revision}`);
    fetchList();
    if (after.published || after.draft) {
      await showState(after);
      say($("editor-say"), "草稿已放弃。", "ok");
    } else {
      editor.dirty = false;
      closeEditor();
    }
  } catch (error) {
    saveFailed(error);
  }
}

async function leaveEdits() {
  if (!editor.dirty || $("editor").hidden) return true;
  return confirmAction("有没保存的改动", "编辑器里的改动还没保存，离开会丢掉它们。确定离开吗？", "丢掉改动");
}

async function closeEditor() {
  if (!(await leaveEdits())) return;
  editor.state = null;
  editor.dirty = false;
  $("editor").hidden = true;
  markOpen();
}

// ---- the change history ---------------------------------------------------------------------

async function loadHistory() {
  const id = editor.state.id;
  let answer;
  try {
    answer = await api("GET", `/v1/admin/changes?${new URLSearchParams({ target: id, limit: 20 })}`);
  } catch (error) {
    $("changes").replaceChildren(el("li", { class: "muted" }, notThere(error) ? NOT_THERE : explain(error, "读取修改记录")));
    return;
  }
  if (editor.state?.id !== id) return;
  $("changes").replaceChildren(...(answer.changes.length ? answer.changes.map(changeItem) : [el("li", { class: "muted" }, "还没有发布过修改。")]));
}

function changeItem(change) {
  const what = !change.before ? "新建" : !change.after ? "删除" : "修改";
  const revert = el("button", { type: "button", class: "plain small" }, "撤销");
  revert.addEventListener("click", () => revertChange(change, what));
  return el("li", null,
    el("span", null, `${localTime(change.at)} · ${change.who} · ${CHANGE_KINDS[change.kind] || change.kind}（${what}）`),
    change.after?.title && el("span", { class: "muted" }, ` 「${change.after.title}」`),
    " ", revert);
}

async function revertChange(change, what) {
  const back = change.before ? `恢复成这次${what}之前的内容` : "删除这条话术（它是这次新建的）";
  if (!(await confirmAction("撤销修改", `确定撤销 ${localTime(change.at)} 由 ${change.who} 做的这次${what}吗？将${back}，并马上发布。`, "撤销"))) return;
  const bar = $("publish-progress");
  $("publish-progress-row").hidden = false;
  try {
    const job = await api("POST", `/v1/admin/changes/${encodeURIComponent(change.id)}/revert`);
    const words = { succeeded: "已撤销并发布，可检索。", failed: indexFailed };
    const finished = await followJob(job, (j) => j.state !== "succeeded" && showJob(bar, $("publish-say"), j, words));
    if (finished.state === "succeeded") {
      await afterChange(change.target, !change.before);
      showJob(bar, $("publish-say"), finished, words);
    }
  } catch (error) {
    $("publish-progress-row").hidden = true;
    say($("publish-say"), busy(error) ? BUSY : explain(error, "撤销"), "error");
  }
}
