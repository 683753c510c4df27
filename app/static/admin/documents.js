// 文档: the uploaded material — upload with a progress bar, the list, delete.
import { $, el, api, AdminError, bytes, confirmAction, explain, localTime, say, sections, upload } from "./api.js";

const KIND_NAMES = { course: "课程讲义", script: "话术", statute: "法条" };

export function initDocuments() {
  $("upload-kind").addEventListener("change", () => {
    $("upload-replace-label").hidden = $("upload-kind").value !== "statute";
  });
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("documents-refresh").addEventListener("click", loadDocuments);
}

export async function loadDocuments() {
  try {
    const documents = await api("GET", "/v1/admin/documents");
    say($("documents-say"), documents.length ? "" : "还没有上传过文件。");
    $("documents-count").textContent = documents.length;
    $("documents-list").replaceChildren(...documents.map(row));
  } catch (error) {
    say($("documents-say"), explain(error, "读取文件列表"), "error");
  }
}

function row(document) {
  const remove = el("button", { type: "button", class: "danger small", "aria-label": `删除 ${document.filename}` }, "删除");
  remove.addEventListener("click", () => removeDocument(document));
  const kind = KIND_NAMES[document.kind] + (document.replace ? "（替换已有法条）" : "");
  return el("tr", { "data-id": document.id },
    el("td", null, document.filename), el("td", null, kind), el("td", null, bytes(document.size)),
    el("td", null, localTime(document.uploaded_at)), el("td", { class: "end" }, remove));
}

async function send() {
  const file = $("upload-file").files[0];
  if (!file) {
    say($("upload-say"), "请先选择要上传的文件。", "error");
    return;
  }
  const kind = $("upload-kind").value;
  const form = new FormData();
  form.append("kind", kind);
  if (kind === "statute") form.append("replace", String($("upload-replace").checked));
  form.append("file", file);
  const bar = $("upload-progress");
  const showSent = (sent, total) => {
    bar.max = total;
    bar.value = sent;
    $("upload-percent").textContent = `${Math.floor((100 * sent) / total)} %`;
  };
  $("upload-progress-row").hidden = false;
  showSent(0, 1);
  $("upload-button").disabled = true;
  say($("upload-say"), `正在上传 ${file.name}…`);
  try {
    const { status, body } = await upload("/v1/admin/documents", form, showSent);
    const replaces = body.replaces?.length ? ` 它替换了：${body.replaces.join("、")}。` : "";
    const done = status === 201 ? `已上传 ${body.document.filename}。` : `${body.document.filename} 的内容之前已经上传过，没有重复保存。`;
    say($("upload-say"), `${done}${replaces} 重建索引后生效。`, "ok");
    $("upload-say").append(" ", goToIndex());
    $("upload-form").reset();
    $("upload-replace-label").hidden = true;
    await loadDocuments();
  } catch (error) {
    say($("upload-say"), uploadError(error), "error");
  } finally {
    $("upload-button").disabled = false;
  }
}

function uploadError(error) {
  if (error instanceof AdminError && error.status === 409 && $("upload-kind").value === "statute") {
    return `${explain(error, "上传")} 如果确实要用这个文件替换库中的法条，请勾选「允许替换库中已有的同号法条」后重新上传。`;
  }
  return explain(error, "上传");
}

function goToIndex() {
  const button = el("button", { type: "button", class: "link" }, "去重建索引");
  button.addEventListener("click", () => sections.show("index"));
  return button;
}

async function removeDocument(document) {
  const sure = await confirmAction(
    "删除文件", `确定删除「${document.filename}」吗？下一次重建索引后，它的内容就不能再被检索到。`, "删除");
  if (!sure) return;
  say($("documents-say"), `正在删除 ${document.filename}（先检查有没有别的材料要用到它）…`);
  try {
    await api("DELETE", `/v1/admin/documents/${encodeURIComponent(document.id)}`);
  } catch (error) {
    const words = error instanceof AdminError && error.status === 409
      ? `不能删除「${document.filename}」：还有别的材料要用到它（话术引用了其中的法条，或其他法条指向它）。请先删除或改正那些材料。服务器说明：${error.body.detail}`
      : explain(error, "删除");
    say($("documents-say"), words, "error");
    return;
  }
  await loadDocuments();
  say($("documents-say"), `已删除 ${document.filename}，重建索引后生效。`, "ok");
}
