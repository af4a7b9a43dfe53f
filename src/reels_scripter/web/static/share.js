// The page a share link opens (/s/<token>): the finished result, read-only. No key is asked
// for and none is sent: the page reads /api/shared/<token>, which gives the job and a
// short-lived token that signs every read of that one job (keyframes, video, downloads).
// Nothing here deletes, edits or lists other jobs.

import * as api from "./api.js";
import { h, clear, failurePanel, toaster } from "./dom.js";
import { renderResult } from "./result.js";
import { T } from "./texts.js";

const main = document.getElementById("main");
const toast = toaster(document.getElementById("toast"));
const token = decodeURIComponent(location.pathname.split("/")[2] || "");

function read() {
  return api.getJson(`/api/shared/${encodeURIComponent(token)}`);
}

const ctx = {
  readOnly: true, // modules that offer changes leave them out
  localVideos: new Map(),
  alive: () => () => true,
  toast,
  navigate() {},
  focusHeading() {
    const heading = main.querySelector("h1");
    if (heading) heading.focus({ preventScroll: true });
  },
  onLeave() {},
  retryUpload() {},
};

function failed(title, message) {
  clear(main).append(failurePanel(title, message));
}

async function boot() {
  document.getElementById("share-badge").textContent = T.share.badge;
  clear(main).append(h("p", { class: "muted loading" }, T.share.loading));
  let view;
  try {
    view = await read();
  } catch (err) {
    failed(err.status === 404 ? T.share.goneTitle : T.share.failedTitle, err.message);
    return;
  }
  api.useSharedAccess(view.job.id, view.access, async () => (await read()).access);
  await renderResult(main, ctx, view.job);
  document.documentElement.dataset.ready = "1";
}

boot();
