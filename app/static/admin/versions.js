// 索引: the current version and the kept ones, re-index with its progress, rollback.
import { $, el, api, AdminError, confirmAction, explain, followJob, say, showJob } from "./api.js";

let versions = { current: null, versions: [] };

export function initIndex() {
  $("reindex").addEventListener("click", reindex);
  $("rollback").addEventListener("click", () => rollback(previousVersion()));
}

export async function loadVersions() {
  try {
    versions = await api("GET", "/v1/admin/versions");
  } catch (error) {
    say($("index-say"), explain(error, "读取索引版本"), "error");
    return;
  }
  $("current-version").textContent = versions.current || "（没有）";
  $("versions-count").textContent = versions.versions.length;
  $("rollback").disabled = !previousVersion();
  $("versions").replaceChildren(...[...versions.versions].reverse().map(versionItem)); // newest first
}

// Versions are named by when they were built, so the one before the current sorts just before it.
function previousVersion() {
  const at = versions.versions.indexOf(versions.current);
  return at > 0 ? versions.versions[at - 1] : null;
}

function versionItem(name) {
  const current = name === versions.current;
  const use = !current && el("button", { type: "button", class: "plain small" }, "回滚到此版本");
  if (use) use.addEventListener("click", () => rollback(name));
  return el("li", { class: current ? "current" : "" },
    el("code", null, name), el("span", { class: "built" }, builtAt(name)), current && el("span", { class: "tag" }, "当前"), use);
}

// 20261204T035033Z-7a21d3: built at 2026-12-04 03:50:33 UTC, shown in local time.
function builtAt(name) {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(name);
  if (!m) return "";
  const date = new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return `建于 ${date.toLocaleString("zh-CN", { hour12: false })}`;
}

async function reindex() {
  const bar = $("reindex-progress");
  $("reindex").disabled = true;
  $("reindex-progress-row").hidden = false;
  try {
    const job = await api("POST", "/v1/admin/reindex");
    // Success is said once the new version is on screen.
    const finished = await followJob(job, (j) => j.state !== "succeeded" && showJob(bar, $("index-say"), j));
    if (finished.state === "succeeded") await loadVersions();
    showJob(bar, $("index-say"), finished);
  } catch (error) {
    $("reindex-progress-row").hidden = true;
    const words = error instanceof AdminError && error.status === 409
      ? "已经有一次重建（或发布）正在进行，请等它完成后再试。"
      : explain(error, "重建索引");
    say($("index-say"), words, "error");
  } finally {
    $("reindex").disabled = false;
  }
}

async function rollback(target) {
  if (!target) return;
  const sure = await confirmAction(
    "回滚索引",
    `确定把检索切换回版本 ${target} 吗？之后的改动（上传、发布的话术）在这个版本里没有，要再次生效需重新发布或重建索引。`,
    "回滚");
  if (!sure) return;
  $("reindex-progress-row").hidden = true;
  try {
    const answer = await api("POST", "/v1/admin/rollback", { version: target });
    await loadVersions();
    say($("index-say"), `已回滚：当前版本是 ${answer.current}。`, "ok");
  } catch (error) {
    say($("index-say"), explain(error, "回滚"), "error");
  }
}
