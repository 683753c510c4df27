// The admin page: sign in with the admin token, then one section at a time. Plain DOM and fetch
// in ES modules, no build step.
import { $, api, AdminError, keepToken, notThere, say, sections, token, whenUnauthorized } from "./api.js";
import { initDocuments, loadDocuments } from "./documents.js";
import { initIndex, loadVersions } from "./versions.js";
import { initScripts, loadScripts } from "./scripts.js";
import { initScenarios, initFeedback, initGaps, loadScenarios, loadFeedback, loadGaps } from "./insights.js";

const SECTION_KEY = "huashu.adminSection"; // a reload stays in the same section
const LOADERS = {
  documents: loadDocuments,
  index: loadVersions,
  scripts: loadScripts,
  scenarios: loadScenarios,
  feedback: loadFeedback,
  gaps: loadGaps,
};
const navButtons = [...document.querySelectorAll("#nav [data-section]")];

initDocuments();
initIndex();
initScripts();
initScenarios();
initFeedback();
initGaps();
sections.show = show;
for (const button of navButtons) button.addEventListener("click", () => show(button.dataset.section));
$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("token").value.trim());
});
$("sign-out").addEventListener("click", signOut);
whenUnauthorized(() => {
  keepToken(null);
  showSignIn("管理令牌已失效或被更换，请重新登录。");
});
if (token()) signIn(token(), true);
else showSignIn("");

// Checks the token with the service; the page opens only with a token it accepts.
async function signIn(value, resumed = false) {
  if (!value) return;
  keepToken(value);
  say($("signin-say"), "正在验证…");
  let label;
  try {
    label = await whoAmI();
  } catch (error) {
    keepToken(null);
    const words = !(error instanceof AdminError) ? "连接不上服务，请检查网络后重试。"
      : error.status === 401 ? (resumed ? "登录已失效，请重新输入管理令牌。" : "管理令牌不对，请检查后重新输入。")
      : error.status === 403 ? "管理功能没有开启：服务器没有设置管理令牌（ADMIN_TOKEN），请联系运维。"
      : `无法登录：服务器出错（${error.status}），请稍后再试。`;
    showSignIn(words);
    return;
  }
  $("token").value = "";
  say($("signin-say"), "");
  $("signin").hidden = true;
  $("nav").hidden = $("sign-out").hidden = false;
  $("who").hidden = !label;
  $("who").textContent = label ? `已登录：${label}` : "";
  show(storedSection() || "documents");
}

// The signed-in label (GET /v1/admin/whoami); a service without that path is asked for the index
// versions instead, which needs the same token.
async function whoAmI() {
  try {
    return (await api("GET", "/v1/admin/whoami")).label;
  } catch (error) {
    if (!notThere(error)) throw error;
    await api("GET", "/v1/admin/versions");
    return "";
  }
}

function signOut() {
  keepToken(null);
  try {
    sessionStorage.removeItem(SECTION_KEY);
  } catch {
    // nothing kept
  }
  location.replace("/admin"); // a fresh page: nothing of the session stays on screen
}

function showSignIn(message) {
  for (const section of document.querySelectorAll(".section")) section.hidden = true;
  $("nav").hidden = $("sign-out").hidden = $("who").hidden = true;
  $("signin").hidden = false;
  say($("signin-say"), message, message ? "error" : "");
  $("token").focus();
}

function show(name) {
  for (const button of navButtons) {
    if (button.dataset.section === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  for (const section of document.querySelectorAll(".section")) section.hidden = section.id !== name;
  try {
    sessionStorage.setItem(SECTION_KEY, name);
  } catch {
    // not remembered
  }
  return LOADERS[name]();
}

function storedSection() {
  try {
    const name = sessionStorage.getItem(SECTION_KEY);
    return name in LOADERS ? name : null;
  } catch {
    return null;
  }
}
