// What every section of the admin page shares: the token, requests with it, errors in plain
// Chinese, following a background job, the confirmation dialog. Text from the API is only ever
// inserted as text nodes.
import { $, el, ApiError } from "../cards.js";

export { $, el };

const TOKEN_KEY = "huashu.adminToken"; // sessionStorage only: gone with the tab, never in a URL or cookie
const JOB_POLL_MS = 500;

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function keepToken(value) {
  try {
    if (value === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  } catch {
    // Storage disabled by policy: the token lives as long as the page.
  }
  memoryToken = value;
}

let memoryToken = null;
const currentToken = () => token() ?? memoryToken;

// An answer other than 2xx: `body` is the service's JSON (detail, problems, cited...) when it sent one.
export class AdminError extends ApiError {
  constructor(status, body) {
    super(status, body?.detail);
    this.body = body || {};
  }
}

// Called when the service says the token is wrong (set by main.js: back to the sign-in form).
let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

// A request with the admin token: the JSON of the answer (null for 204), or an AdminError.
export async function api(method, path, json) {
  const headers = { Authorization: `Bearer ${currentToken()}` };
  if (json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) onUnauthorized();
    throw new AdminError(response.status, body);
  }
  return body;
}

// The raw answer with the token, for a file to save (the CSV export).
export async function download(path, filename) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${currentToken()}` } });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    if (response.status === 401) onUnauthorized();
    throw new AdminError(response.status, body);
  }
  // A plain link cannot send the token: the file is fetched, then saved from a blob link.
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// A multipart upload whose progress is reported as it is sent (fetch reports none):
// onProgress(sentBytes, totalBytes). Resolves with {status, body}, rejects with an AdminError.
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Authorization", `Bearer ${currentToken()}`);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, body: xhr.response });
      else {
        if (xhr.status === 401) onUnauthorized();
        reject(new AdminError(xhr.status, xhr.response));
      }
    });
    xhr.addEventListener("error", () => reject(new TypeError("network error")));
    xhr.send(form);
  });
}

// ---- errors in plain words ------------------------------------------------------------------

const STATUS_WORDS = {
  400: "请求的格式不对",
  401: "管理令牌不对或已失效，请重新登录",
  403: "管理功能没有开启（服务器没有设置管理令牌 ADMIN_TOKEN），请联系运维",
  404: "找不到要操作的内容（可能已被别人删除），请刷新后再试",
  409: "与现有内容冲突",
  413: "文件或内容太大",
  415: "不支持这种文件类型（可用 .txt .md .jsonl .docx .pdf）",
  422: "内容没有通过检查",
  503: "服务暂时不可用（索引正在加载或存储出错），请稍后再试",
};

// "<what>失败：<why in Chinese>。服务器说明：<the service's own detail>"
export function explain(error, what) {
  if (!(error instanceof AdminError)) {
    console.error(error);
    return `${what}失败：连接不上服务，请检查网络后重试。`;
  }
  const why = STATUS_WORDS[error.status] || `服务器出错（${error.status}），请稍后再试，仍不行请联系运维`;
  const detail = typeof error.body.detail === "string" ? `服务器说明：${error.body.detail}` : "";
  return `${what}失败：${why}。${detail}`;
}

// A path the service does not have yet (an older service): FastAPI's own 404 for an unknown route.
export function notThere(error) {
  return error instanceof AdminError && error.status === 404 && error.body.detail === "Not Found";
}

export const NOT_THERE = "这项功能需要更新后的服务：当前服务还没有这个接口（404）。其他功能不受影响。";

// Shows `text` in a status line; kind: "" (plain), "ok", "error" or "note".
export function say(node, text, kind = "") {
  node.textContent = text;
  node.className = `say ${kind}`.trim();
  node.hidden = !text;
}

// ---- background jobs ------------------------------------------------------------------------

// Follows GET /v1/admin/jobs/{id} until the job ends; onUpdate(job) after every look. Resolves
// with the finished job.
export async function followJob(job, onUpdate) {
  onUpdate(job);
  while (job.state === "queued" || job.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
    job = await api("GET", `/v1/admin/jobs/${encodeURIComponent(job.id)}`);
    onUpdate(job);
  }
  return job;
}

// A job's progress as a <progress> and a line of words; `words` replaces what success or failure says.
export function showJob(bar, line, job, words = {}) {
  bar.hidden = false;
  if (job.state === "succeeded") {
    bar.max = 1;
    bar.value = 1; // the end, also when there was nothing to embed
  } else if (job.total > 0) {
    bar.max = job.total;
    bar.value = job.done;
  } else {
    bar.removeAttribute("value"); // indeterminate while the texts are counted
  }
  const said = {
    queued: "排队中…",
    running: job.total ? `正在处理：${job.done} / ${job.total} 段文字` : "正在准备…",
    succeeded: words.succeeded || (job.up_to_date ? `索引已是最新（版本 ${job.version}），不需要重建。` : `完成：新版本 ${job.version} 已启用。`),
    failed: words.failed || `失败：${job.error || "原因不明"}。当前索引继续使用，没有变化。`,
  }[job.state];
  say(line, said, { succeeded: "ok", failed: "error" }[job.state] || "");
}

// ---- confirmation ---------------------------------------------------------------------------

// Asks in the page's own dialog; resolves true when the admin confirms.
export function confirmAction(title, message, confirmLabel = "确定") {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-message").textContent = message;
  $("confirm-ok").textContent = confirmLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// ---- formatting ---------------------------------------------------------------------------

export function localTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString("zh-CN", { hour12: false });
}

export function bytes(n) {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)}%`;
}

// Wait until `ms` after the last call before running `fn` (typing in a search or an editor field).
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Scenarios of the service: {groups, scenarios}, loaded once (`refresh` loads them again). A
// scenario added here is usable by scripts at once but reaches GET /v1/scenarios only with the
// next publish or re-index: until then it is listed from what the service answered when it was added.
let scenariosPromise = null;
const added = [];
export function scenarios(refresh = false) {
  if (refresh || !scenariosPromise) {
    scenariosPromise = fetch("/v1/scenarios")
      .then((response) => (response.ok ? response.json() : { groups: {}, scenarios: [] }))
      .catch(() => ({ groups: {}, scenarios: [] }));
  }
  return scenariosPromise.then(({ groups, scenarios: listed }) => {
    const known = new Set(listed.map((s) => s.id));
    return { groups, scenarios: [...listed, ...added.filter((s) => !known.has(s.id))] };
  });
}

export function scenarioAdded(scenario) {
  added.push({ ...scenario, script_count: null, pending: true });
}

// Section switching, set by main.js; used by the gaps view to open the editor or the scenario form.
export const sections = { show: () => {} };
