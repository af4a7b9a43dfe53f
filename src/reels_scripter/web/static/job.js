// One job: live progress over the server's event stream, the failed state with a retry,
// and the result once it is there.

import * as api from "./api.js";
import { h, clear, failurePanel } from "./dom.js";
import { stageLabel } from "./format.js";
import { renderResult } from "./result.js";
import { T } from "./texts.js";

const RECONNECT_LIMIT = 5;

function progressView(name) {
  const stage = h("p", { class: "stage", id: "stage" }, T.job.connecting);
  const fill = h("div", { class: "bar-fill" });
  const bar = h(
    "div",
    {
      class: "bar",
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": "0",
      "aria-labelledby": "stage",
    },
    fill,
  );
  const percent = h("p", { class: "percent", "aria-hidden": "true" }, T.job.percent(0));
  const note = h("p", { class: "muted connection", role: "status" });
  // polite and atomic: a screen reader hears the stage and the percent, not every repaint
  const live = h("p", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true" });
  const element = h(
    "section",
    { class: "panel progress-panel", "aria-labelledby": "job-title" },
    h("p", { class: "eyebrow" }, T.job.eyebrow),
    h("h1", { id: "job-title", tabindex: "-1" }, name),
    stage,
    bar,
    percent,
    note,
    h("p", { class: "muted" }, T.job.canLeave),
    live,
  );
  let shown = 0;
  let spoken = "";
  return {
    element,
    update(status) {
      // the bar never goes back, whatever arrives (a retry restarting the work, say)
      shown = Math.max(shown, Math.min(100, Math.max(0, Number(status.progress) || 0)));
      const label = stageLabel(status);
      stage.textContent = label;
      fill.style.width = `${shown}%`;
      bar.setAttribute("aria-valuenow", String(shown));
      bar.setAttribute("aria-valuetext", T.job.spoken(label, shown));
      percent.textContent = T.job.percent(shown);
      note.textContent = "";
      // announce on a stage change or every 10 points, not on each percent
      const said = T.job.spoken(label, Math.floor(shown / 10) * 10);
      if (said !== spoken) {
        spoken = said;
        live.textContent = T.job.spoken(label, shown);
      }
    },
    connection(text) {
      note.textContent = text;
    },
    get progress() {
      return shown;
    },
  };
}

function failedView(ctx, job, status, onRetry) {
  const local = ctx.localVideos.get(job.id);
  return h(
    "section",
    { class: "panel failed", "aria-labelledby": "job-title" },
    h("p", { class: "eyebrow" }, T.job.failedEyebrow),
    h("h1", { id: "job-title", tabindex: "-1" }, job.displayName || T.job.reel),
    h(
      "div",
      { class: "error-box", role: "alert" },
      h("p", {}, status.error || T.job.failedDefault),
      status.code ? h("p", { class: "muted" }, T.job.errorCode(status.code)) : null,
    ),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { type: "button", class: "button", onclick: () => onRetry(local) },
        local ? T.job.retry : T.job.uploadAgain,
      ),
      h("a", { class: "button secondary", href: "#/history" }, T.job.toHistory),
    ),
  );
}

async function showResult(container, ctx, jobId) {
  const job = await api.getJson(`/api/jobs/${encodeURIComponent(jobId)}`);
  await renderResult(container, ctx, job);
}

/** Follow a job until it finishes; resolves when the view is done with the stream. */
function follow(container, ctx, job, view) {
  let source = null;
  let failures = 0;
  let closed = false;

  const stop = () => {
    closed = true;
    if (source) source.close();
  };
  ctx.onLeave(stop);

  const finish = async (status) => {
    stop();
    if (status.state === "completed") {
      view.update({ ...status, progress: 100 });
      try {
        await showResult(container, ctx, job.id);
        ctx.focusHeading();
      } catch (err) {
        view.connection(err.message);
      }
    } else {
      const retry = (local) => ctx.retryUpload(local);
      clear(container).append(failedView(ctx, job, status, retry));
      ctx.focusHeading();
    }
  };

  const open = async () => {
    if (closed) return;
    let url;
    try {
      url = await api.signedUrl(job.id, `/api/jobs/${encodeURIComponent(job.id)}/events`);
    } catch (err) {
      view.connection(err.message);
      return;
    }
    source = new EventSource(url);
    const onStatus = (event) => {
      failures = 0;
      const status = JSON.parse(event.data);
      if (status.state === "completed" || status.state === "failed") finish(status);
      else view.update(status);
    };
    source.addEventListener("progress", onStatus);
    source.addEventListener("completed", onStatus);
    source.addEventListener("failed", (event) => {
      const body = JSON.parse(event.data);
      // a deleted job ends its stream with {error, code}, not a status body
      finish({ state: "failed", progress: view.progress, ...body });
    });
    source.addEventListener("error", () => {
      if (closed) return;
      if (source.readyState === EventSource.CONNECTING) {
        view.connection(T.job.reconnecting);
        return;
      }
      // closed by the browser (an error status, e.g. an expired link): try again ourselves
      source.close();
      failures += 1;
      api.forgetToken(job.id);
      if (failures > RECONNECT_LIMIT) {
        view.connection("");
        const again = h(
          "button",
          {
            type: "button",
            class: "button",
            onclick: () => {
              again.remove();
              failures = 0;
              open();
            },
          },
          T.job.retry,
        );
        view.element.append(
          h("p", { class: "error-box", role: "alert" }, T.job.noProgress),
          again,
        );
        return;
      }
      view.connection(T.job.reconnecting);
      setTimeout(open, 1000 * failures);
    });
  };
  open();
}

/** The #/jobs/{id} page. */
export async function renderJob(container, ctx, jobId) {
  const alive = ctx.alive();
  clear(container).append(h("p", { class: "muted loading" }, T.job.loading));
  let job;
  try {
    job = await api.getJson(`/api/jobs/${encodeURIComponent(jobId)}`);
  } catch (err) {
    if (!alive()) return;
    const back = h("a", { class: "button", href: "#/history" }, T.job.toHistory);
    clear(container).append(failurePanel(T.job.openFailed, err.message, back));
    return;
  }
  if (!alive()) return;
  if (job.state === "completed") {
    await renderResult(container, ctx, job);
    return;
  }
  if (job.state === "failed") {
    const status = { error: job.error, code: job.errorCode };
    clear(container).append(failedView(ctx, job, status, (local) => ctx.retryUpload(local)));
    return;
  }
  const view = progressView(job.displayName || T.job.reel);
  view.update(job);
  clear(container).append(view.element);
  follow(container, ctx, job, view);
}
