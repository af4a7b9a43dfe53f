// The upload page: pick or drop a video, check it here first (type, size, length), then send
// it to the seed's POST /api/upload with a progress bar.

import * as api from "./api.js";
import { h, clear } from "./dom.js";
import { bytes, duration } from "./format.js";
import { linkImport } from "./link-import.js";
import { T } from "./texts.js";

const METADATA_TIMEOUT_MS = 4000;

function extensionOf(name) {
  const match = /\.[^.]+$/.exec(name || "");
  return match ? match[0].toLowerCase() : "";
}

/** How long the browser thinks the video is, or null when it cannot tell (then the server decides). */
function probeDuration(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const video = document.createElement("video");
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      video.removeAttribute("src");
      video.load();
      URL.revokeObjectURL(url);
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), METADATA_TIMEOUT_MS);
    video.preload = "metadata";
    video.muted = true;
    video.addEventListener("loadedmetadata", () =>
      finish(Number.isFinite(video.duration) ? video.duration : null),
    );
    video.addEventListener("error", () => finish(null));
    video.src = url;
  });
}

/** A Russian reason the file cannot be sent, or null. */
export async function checkFile(file, config) {
  const types = config.acceptedTypes || [];
  const extensions = config.acceptedExtensions || [];
  if (!file.size) return T.upload.empty;
  const typeOk = file.type ? types.includes(file.type) : false;
  const extOk = extensions.includes(extensionOf(file.name));
  if (!typeOk && !extOk) {
    return T.upload.notVideo;
  }
  if (file.size > config.maxFileSizeBytes) {
    return T.upload.tooBig(bytes(file.size), bytes(config.maxFileSizeMb * 1024 * 1024));
  }
  const length = await probeDuration(file);
  if (length !== null && length > config.maxVideoDurationSec + 0.5) {
    return T.upload.tooLong(duration(length), duration(config.maxVideoDurationSec));
  }
  return null;
}

function canDrag() {
  return !window.matchMedia("(pointer: coarse)").matches || window.matchMedia("(any-pointer: fine)").matches;
}

/** The #/ page. `preset` is a file to send at once (a retry of a failed job). */
export function renderUpload(container, ctx, { preset = null, message = "" } = {}) {
  const config = api.getConfig();
  const limits = T.upload.limits(
    bytes(config.maxFileSizeMb * 1024 * 1024),
    duration(config.maxVideoDurationSec),
  );
  const accept = [...config.acceptedTypes, ...config.acceptedExtensions].join(",");

  const error = h("div", { class: "error-box", role: "alert", hidden: true });
  const input = h("input", {
    type: "file",
    id: "video-file",
    class: "visually-hidden",
    accept,
    "aria-describedby": "upload-limits",
  });
  const zone = h(
    "div",
    { class: "dropzone" },
    input,
    h(
      "label",
      { for: "video-file", class: "dropzone-label" },
      h("span", { class: "dropzone-icon", "aria-hidden": "true" }, "⬆"),
      h("span", { class: "dropzone-title" }, T.upload.choose),
      // nothing can be dragged on a touch screen: the hint is for a mouse
      canDrag() ? h("span", { class: "dropzone-sub" }, T.upload.orDrop) : null,
      h("span", { class: "dropzone-limits", id: "upload-limits" }, limits),
    ),
  );
  const progressText = h("p", { class: "upload-status", id: "upload-status" });
  const progress = h("progress", { max: 100, value: 0, "aria-labelledby": "upload-status" });
  const cancel = h("button", { type: "button", class: "button secondary" }, T.upload.cancel);
  const progressBox = h(
    "div",
    { class: "upload-progress", hidden: true, "aria-live": "polite" },
    progressText,
    progress,
    cancel,
  );

  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };

  let busy = false;
  const send = async (file) => {
    if (busy || !file) return;
    showError("");
    const problem = await checkFile(file, config);
    if (problem) {
      showError(problem);
      return;
    }
    busy = true;
    let refused = false;
    zone.classList.add("disabled");
    input.disabled = true;
    progressBox.hidden = false;
    progress.value = 0;
    progressText.textContent = T.upload.sending(file.name);
    const controller = new AbortController();
    cancel.onclick = () => controller.abort();
    cancel.focus();
    try {
      const answer = await api.upload(file, {
        signal: controller.signal,
        onProgress: (share) => {
          const percent = Math.floor(share * 100);
          progress.value = percent;
          progressText.textContent =
            percent >= 100 ? T.upload.sent(file.name) : T.upload.sendingPercent(file.name, percent);
        },
      });
      ctx.rememberLocalVideo(answer.jobId, file);
      ctx.navigate(`#/jobs/${encodeURIComponent(answer.jobId)}`);
    } catch (err) {
      progressBox.hidden = true;
      if (err && err.name === "AbortError") showError(T.upload.cancelled);
      else showError(err.message || T.upload.failed);
      input.value = "";
      refused = true;
    } finally {
      busy = false;
      zone.classList.remove("disabled");
      input.disabled = false;
    }
    // focus only once the input is enabled again: a disabled one drops it to <body>
    if (refused) input.focus();
  };

  input.addEventListener("change", () => send(input.files && input.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      if (!busy) zone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) send(file);
  });

  clear(container).append(
    h(
      "section",
      { class: "panel upload", "aria-labelledby": "upload-title" },
      h("h1", { id: "upload-title", tabindex: "-1" }, T.upload.title),
      h(
        "p",
        { class: "lead" },
        T.upload.lead,
      ),
      zone,
      error,
      progressBox,
      linkImport(ctx),
    ),
    h(
      "section",
      { class: "panel how", "aria-labelledby": "how-title" },
      h("h2", { id: "how-title" }, T.upload.howTitle),
      h(
        "ol",
        { class: "steps" },
        T.upload.steps.map(([lead, text]) => h("li", {}, h("strong", {}, lead), text)),
      ),
    ),
  );
  if (message) showError(message);
  if (preset) send(preset);
}
