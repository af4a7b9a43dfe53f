// The history page: the caller's jobs, newest first, a page at a time; open or delete each.

import * as api from "./api.js";
import { h, clear, failurePanel } from "./dom.js";
import { STATE_LABELS, bytes, clock, count, date } from "./format.js";
import { T } from "./texts.js";

export const PAGE_SIZE = 10;

function item(ctx, job, reload) {
  const name = job.displayName || T.result.unnamed;
  const href = `#/jobs/${encodeURIComponent(job.id)}`;
  const actions = h("div", { class: "actions" });
  const details = [
    date(job.createdAt),
    job.duration ? clock(job.duration) : null,
    bytes(job.sizeBytes),
  ].filter(Boolean);

  const showActions = () => {
    clear(actions).append(
      h("a", { class: "button secondary", href, "aria-label": T.history.openNamed(name) }, T.history.open),
      h(
        "button",
        {
          type: "button",
          class: "button danger-outline",
          "aria-label": T.history.deleteNamed(name),
          onclick: confirmDelete,
        },
        T.history.delete,
      ),
    );
  };

  function confirmDelete() {
    const yes = h(
      "button",
      {
        type: "button",
        class: "button danger",
        onclick: async () => {
          yes.disabled = true;
          try {
            await api.request(`/api/jobs/${encodeURIComponent(job.id)}`, { method: "DELETE" });
            ctx.forgetLocalVideo(job.id);
            ctx.toast(T.history.deleted(name));
            reload(true);
          } catch (err) {
            ctx.toast(err.message, "error");
            showActions();
          }
        },
      },
      T.history.deleteYes,
    );
    const no = h(
      "button",
      {
        type: "button",
        class: "button secondary",
        onclick: () => {
          showActions();
          actions.querySelector("button").focus();
        },
      },
      T.history.cancel,
    );
    clear(actions).append(
      h("span", { class: "confirm-text", role: "alert" }, T.history.confirm),
      yes,
      no,
    );
    yes.focus();
  }

  showActions();
  return h(
    "li",
    { class: "history-item", dataset: { jobId: job.id } },
    h(
      "div",
      { class: "history-info" },
      h("a", { class: "history-name", href }, name),
      h("span", { class: `badge state-${job.state}` }, STATE_LABELS[job.state] || job.state),
      h("span", { class: "muted history-meta" }, details.join(" · ")),
      job.state === "failed" && job.error ? h("span", { class: "history-error" }, job.error) : null,
    ),
    actions,
  );
}

/** The #/history page (`page` is 1-based). */
export async function renderHistory(container, ctx, page = 1) {
  const alive = ctx.alive();
  clear(container).append(h("p", { class: "muted loading" }, T.history.loading));
  let body;
  try {
    body = await api.getJson(`/api/jobs?limit=${PAGE_SIZE}&offset=${(page - 1) * PAGE_SIZE}`);
  } catch (err) {
    if (!alive()) return;
    clear(container).append(failurePanel(T.history.title, err.message));
    return;
  }
  if (!alive()) return;
  const pages = Math.max(1, Math.ceil(body.total / PAGE_SIZE));
  if (page > pages && body.total > 0) {
    ctx.navigate(`#/history?page=${pages}`);
    return;
  }
  const reload = (afterDelete) => {
    // deleting the last item of a page moves back a page rather than show an empty one
    const target = afterDelete && body.items.length === 1 && page > 1 ? page - 1 : page;
    renderHistory(container, ctx, target).then(() => {
      if (target !== page) ctx.navigate(`#/history?page=${target}`, { silent: true });
      const first = container.querySelector(".history-item a, h1");
      if (first) first.focus();
    });
  };
  const list = body.items.length
    ? h("ul", { class: "history" }, body.items.map((job) => item(ctx, job, reload)))
    : h(
        "div",
        { class: "empty" },
        h("p", {}, T.history.empty),
        h("a", { class: "button", href: "#/" }, T.history.first),
      );
  const pager =
    pages > 1
      ? h(
          "nav",
          { class: "pager", "aria-label": T.history.pages },
          h(
            "a",
            {
              class: "button secondary",
              href: `#/history?page=${page - 1}`,
              "aria-disabled": page <= 1 ? "true" : null,
              tabindex: page <= 1 ? "-1" : null,
            },
            T.history.newer,
          ),
          h("span", { class: "pager-status" }, T.history.page(page, pages)),
          h(
            "a",
            {
              class: "button secondary",
              href: `#/history?page=${page + 1}`,
              "aria-disabled": page >= pages ? "true" : null,
              tabindex: page >= pages ? "-1" : null,
            },
            T.history.older,
          ),
        )
      : null;
  clear(container).append(
    h(
      "section",
      { class: "panel", "aria-labelledby": "history-title" },
      h("h1", { id: "history-title", tabindex: "-1" }, T.history.title),
      h("p", { class: "muted" }, body.total ? count(body.total, T.format.reels) : ""),
      list,
      pager,
    ),
  );
}
