// The studio's entry point: reads the server's limits, asks for an API key when the server
// wants one, and routes between the upload page, a job and the history (hash URLs, so the
// server serves one page).

import { initAi } from "./ai.js";
import * as api from "./api.js";
import { h, clear, toaster } from "./dom.js";
import { renderHistory } from "./history.js";
import { renderJob } from "./job.js";
import { T } from "./texts.js";
import { renderUpload } from "./upload.js";

const main = document.getElementById("main");
const toast = toaster(document.getElementById("toast"));
const keyDialog = document.getElementById("key-dialog");
const keyForm = document.getElementById("key-form");
const keyInput = document.getElementById("key-input");
const keyError = document.getElementById("key-error");
const keyButton = document.getElementById("key-button");
const keyForget = document.getElementById("key-forget");
const keyCancel = document.getElementById("key-cancel");

// Videos uploaded from this tab: a row of the script plays from here even after the server
// has deleted its copy.
const localVideos = new Map();
const leaveHandlers = [];
let silentHash = null;

function navigate(hash, { silent = false } = {}) {
  if (silent) silentHash = hash;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function focusHeading() {
  const heading = main.querySelector("h1");
  if (heading) heading.focus({ preventScroll: false });
}

let routeCount = 0;

const ctx = {
  localVideos,
  /** A check a page calls after each await: false once the person has gone elsewhere. */
  alive() {
    const mine = routeCount;
    return () => mine === routeCount;
  },
  toast,
  navigate,
  focusHeading,
  onLeave(fn) {
    leaveHandlers.push(fn);
  },
  rememberLocalVideo(jobId, file) {
    localVideos.set(jobId, { file, url: URL.createObjectURL(file) });
  },
  forgetLocalVideo(jobId) {
    const entry = localVideos.get(jobId);
    if (entry) URL.revokeObjectURL(entry.url);
    localVideos.delete(jobId);
  },
  retryUpload(local) {
    // the upload page sends the same file again, or asks for it when this tab never had it
    pendingUpload = local
      ? { preset: local.file }
      : { message: T.app.retryPickAgain };
    navigate("#/");
  },
};
let pendingUpload = {};

function markNav(name) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function needKeyView() {
  clear(main).append(
    h(
      "section",
      { class: "panel" },
      h("h1", { tabindex: "-1" }, T.app.needKeyTitle),
      h("p", {}, T.app.needKeyText),
      h("button", { type: "button", class: "button", onclick: openKeyDialog }, T.app.enterKey),
    ),
  );
}

async function route() {
  routeCount += 1;
  while (leaveHandlers.length) leaveHandlers.pop()();
  const hash = location.hash || "#/";
  const first = silentHash === hash;
  silentHash = null;
  const config = api.getConfig();
  if (config.apiKeysRequired && !api.getKey()) {
    markNav("");
    needKeyView();
    openKeyDialog();
    return;
  }
  const job = /^#\/jobs\/([^/?#]+)$/.exec(hash);
  const history = /^#\/history(?:\?page=(\d+))?$/.exec(hash);
  if (job) {
    markNav("");
    await renderJob(main, ctx, decodeURIComponent(job[1]));
  } else if (history) {
    markNav("history");
    if (!first) await renderHistory(main, ctx, Math.max(1, Number(history[1] || 1)));
  } else {
    markNav("upload");
    const options = pendingUpload;
    pendingUpload = {};
    renderUpload(main, ctx, options);
  }
  if (!first) focusHeading();
}

function openKeyDialog(message = "") {
  keyInput.value = api.getKey();
  keyError.textContent = typeof message === "string" ? message : "";
  keyError.hidden = !keyError.textContent;
  keyForget.hidden = !api.getKey();
  if (!keyDialog.open) keyDialog.showModal();
  keyInput.focus();
}

async function saveKey(event) {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) {
    keyError.textContent = T.app.keyEmpty;
    keyError.hidden = false;
    return;
  }
  const previous = api.getKey();
  api.setKey(key);
  try {
    // any call that needs the key tells whether it is right
    await api.getJson("/api/jobs?limit=1");
  } catch (err) {
    api.setKey(previous);
    keyError.textContent = err.status === 401 ? T.app.keyRejected : err.message;
    keyError.hidden = false;
    keyInput.focus();
    return;
  }
  keyDialog.close();
  toast(T.app.keySaved);
  route();
}

/** index.html names its texts (data-t="group.key", data-t-aria-label="…"); fill them in. */
function fillShell() {
  const lookup = (path) => path.split(".").reduce((group, key) => (group ? group[key] : undefined), T);
  for (const el of document.querySelectorAll("[data-t]")) {
    const text = lookup(el.dataset.t);
    if (typeof text === "string") el.textContent = text;
  }
  for (const el of document.querySelectorAll("[data-t-aria-label]")) {
    const text = lookup(el.dataset.tAriaLabel);
    if (typeof text === "string") el.setAttribute("aria-label", text);
  }
}

async function boot() {
  fillShell();
  try {
    await api.loadConfig();
  } catch (err) {
    clear(main).append(
      h(
        "section",
        { class: "panel" },
        h("h1", {}, T.app.serverDown),
        h("p", { class: "error-box", role: "alert" }, err.message),
        h("button", { type: "button", class: "button", onclick: () => location.reload() }, T.app.reload),
      ),
    );
    return;
  }
  const config = api.getConfig();
  keyButton.hidden = !config.apiKeysRequired;
  initAi(document.querySelector(".nav"), { toast, ready: !config.apiKeysRequired || Boolean(api.getKey()) });
  keyButton.addEventListener("click", () => openKeyDialog());
  keyForm.addEventListener("submit", saveKey);
  keyCancel.addEventListener("click", () => keyDialog.close());
  keyForget.addEventListener("click", () => {
    api.setKey("");
    keyDialog.close();
    toast(T.app.keyForgotten);
    route();
  });
  api.onAuthRequired(() => {
    if (!keyDialog.open) openKeyDialog(T.app.keyInvalid);
  });
  window.addEventListener("hashchange", route);
  await route();
  document.documentElement.dataset.ready = "1";
}

boot();
