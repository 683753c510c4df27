// 场景 (the taxonomy, adding a scenario), 反馈 (what agents do with each script, over a period)
// and 缺口 (what agents searched for and found nothing good).
import {
  $, el, api, AdminError, NOT_THERE, download, explain, localTime, notThere, percent, say, scenarioAdded, scenarios,
  sections,
} from "./api.js";
import { startScript } from "./scripts.js";

const EXAMPLES_IN_SITUATION = 3;

// ---- 场景 -----------------------------------------------------------------------------------

export function initScenarios() {
  $("scenario-form").addEventListener("submit", (event) => {
    event.preventDefault();
    addScenario();
  });
}

export async function loadScenarios() {
  const { groups, scenarios: all } = await scenarios(true);
  const group = $("s-group");
  const chosen = group.value;
  group.replaceChildren(...Object.entries(groups).map(([id, name]) => el("option", { value: id }, name)));
  if (chosen) group.value = chosen;
  $("scenarios-count").textContent = all.length;
  $("scenario-list").replaceChildren(...all.map((s) =>
    el("tr", null,
      el("td", null, s.name, s.pending && el("span", { class: "badge draft" }, "新加，下次发布后进入检索")),
      el("td", null, el("code", null, s.id)), el("td", null, groups[s.group] || s.group),
      el("td", { class: "number" }, String(s.script_count ?? "")))));
}

// The form prefilled from a gap: what customers said, and the nearest scenario's group.
export async function startScenario(prefill) {
  await sections.show("scenarios");
  $("s-id").value = "";
  $("s-name").value = "";
  $("s-looks").value = prefill.looks_like.join("\n");
  if (prefill.group) $("s-group").value = prefill.group;
  say($("scenario-say"), "已按缺口预填「客户会怎么说」，请填写编号和名称。");
  $("s-id").focus();
}

async function addScenario() {
  const body = {
    id: $("s-id").value.trim(),
    name: $("s-name").value.trim(),
    group: $("s-group").value,
    looks_like: $("s-looks").value.split("\n").map((line) => line.trim()).filter(Boolean),
  };
  if (!body.id || !body.name) {
    say($("scenario-say"), "请填写编号和名称。", "error");
    return;
  }
  try {
    const added = await api("POST", "/v1/admin/scenarios", body);
    scenarioAdded(added);
    $("scenario-form").reset();
    await loadScenarios();
    say($("scenario-say"), `已添加场景「${added.name}」（${added.id}），写话术时可以选用了。`, "ok");
  } catch (error) {
    const words = notThere(error) ? NOT_THERE
      : error instanceof AdminError && error.status === 409 ? `没有添加：编号 ${body.id} 已经有了，请换一个。`
      : explain(error, "添加场景");
    say($("scenario-say"), words, notThere(error) ? "note" : "error");
  }
}

// ---- 反馈 -----------------------------------------------------------------------------------

export function initFeedback() {
  $("feedback-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadFeedback();
  });
  for (const button of $("feedback-form").querySelectorAll("[data-days]")) {
    button.addEventListener("click", () => {
      setPeriod(Number(button.dataset.days));
      loadFeedback();
    });
  }
  $("feedback-csv").addEventListener("click", downloadCsv);
  setPeriod(30);
}

// The last `days` days up to today (UTC days, as the service counts them); 0: everything.
function setPeriod(days) {
  const today = new Date();
  $("feedback-until").value = days ? today.toISOString().slice(0, 10) : "";
  $("feedback-since").value = days ? new Date(today.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10) : "";
}

function period() {
  const query = new URLSearchParams();
  if ($("feedback-since").value) query.set("since", $("feedback-since").value);
  if ($("feedback-until").value) query.set("until", $("feedback-until").value);
  return query;
}

export async function loadFeedback() {
  let answer;
  try {
    answer = await api("GET", `/v1/admin/feedback/scripts?${period()}`);
  } catch (error) {
    say($("feedback-say"), notThere(error) ? NOT_THERE : explain(error, "读取反馈"), notThere(error) ? "note" : "error");
    $("feedback-list").replaceChildren();
    return;
  }
  const span = answer.since || answer.until ? `${answer.since || "最早"} 至 ${answer.until || "今天"}` : "全部时间";
  say($("feedback-say"), answer.scripts.length ? `${span}：${answer.scripts.length} 条话术有记录。` : `${span}：没有反馈记录。`);
  $("feedback-list").replaceChildren(...answer.scripts.map((s) =>
    el("tr", null,
      el("td", null, s.title || s.script_id, el("span", { class: "muted id" }, s.script_id)),
      ...[s.shown, s.copied, s.up, s.down].map((n) => el("td", { class: "number" }, String(n))),
      el("td", { class: "number" }, percent(s.copy_rate)),
      el("td", { class: s.down ? "number bad" : "number" }, percent(s.down_rate)))));
}

async function downloadCsv() {
  const query = period();
  const name = `话术反馈-${query.get("since") || "全部"}-${query.get("until") || "今天"}.csv`;
  try {
    await download(`/v1/admin/feedback/scripts.csv?${query}`, name);
  } catch (error) {
    say($("feedback-say"), notThere(error) ? NOT_THERE : explain(error, "下载 CSV"), notThere(error) ? "note" : "error");
  }
}

// ---- 缺口 -----------------------------------------------------------------------------------

export function initGaps() {
  $("gaps-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadGaps();
  });
}

export async function loadGaps() {
  let answer;
  try {
    answer = await api("GET", `/v1/admin/gaps?${new URLSearchParams({ days: $("gaps-days").value, min_size: 1 })}`);
  } catch (error) {
    say($("gaps-say"), notThere(error) ? NOT_THERE : explain(error, "读取缺口"), notThere(error) ? "note" : "error");
    $("gap-list").replaceChildren();
    $("gaps-total").textContent = "";
    return;
  }
  $("gaps-total").textContent = `这段时间记下 ${answer.total} 次没找到合适话术的检索，归成 ${answer.groups.length} 组。`;
  say($("gaps-say"), answer.groups.length ? "" : "这段时间坐席都找到了合适的话术。");
  const { scenarios: all } = await scenarios();
  $("gap-list").replaceChildren(...answer.groups.map((group) => gapItem(group, all)));
}

function gapItem(group, all) {
  const nearest = group.nearest_scenario;
  const writeScript = el("button", { type: "button", class: "primary small" }, "写新话术");
  writeScript.addEventListener("click", async () => {
    await sections.show("scripts");
    startScript({
      situation: group.examples.slice(0, EXAMPLES_IN_SITUATION).join("；"),
      scenarios: nearest ? [nearest.id] : [],
    });
  });
  const newScenario = el("button", { type: "button", class: "small" }, "新场景");
  newScenario.addEventListener("click", () => startScenario({
    looks_like: group.examples,
    group: nearest && all.find((s) => s.id === nearest.id)?.group,
  }));
  const levels = [group.levels?.none && `没有相符 ${group.levels.none}`, group.levels?.weak && `只部分相符 ${group.levels.weak}`];
  return el("li", { class: "panel-box gap" },
    el("div", { class: "box-head" },
      el("h2", null, el("span", { class: "size" }, `${group.size} 次`), " ", group.examples[0] || ""),
      el("span", { class: "muted" }, `最近一次：${localTime(group.last_seen)}`)),
    el("p", { class: "muted" }, [levels.filter(Boolean).join(" · "),
      nearest ? `最接近的场景：${nearest.name}（相似度 ${nearest.score.toFixed(2)}）` : "没有接近的场景"].filter(Boolean).join(" · ")),
    el("ul", { class: "examples-list" }, ...group.examples.map((text) => el("li", null, text))),
    el("div", { class: "row" }, writeScript, newScenario));
}
