// The owner's read-only share link of a result: make it (optionally with an expiry), copy it,
// revoke it. The link opens /s/<token> without an API key (see share.js).

import * as api from "./api.js";
import { h, clear } from "./dom.js";
import { date } from "./format.js";
import { T } from "./texts.js";

async function copy(text, field) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  field.select();
  if (!document.execCommand("copy")) throw new Error("copy failed");
}

function sharePath(job) {
  return `/api/jobs/${encodeURIComponent(job.id)}/share`;
}

/** The panel for `job` (its owner's view only: the share page never shows it). */
export function shareControls(ctx, job) {
  const S = T.sharing;
  const body = h("div", { class: "share-body" });
  const panel = h(
    "section",
    { class: "panel share-panel", "aria-labelledby": "share-title" },
    h("h2", { id: "share-title" }, S.title),
    h("p", { class: "muted" }, S.intro),
    body,
  );

  const showLink = (link) => {
    const field = h("input", {
      type: "text",
      id: "share-link",
      class: "share-link",
      readonly: true,
      value: link.url,
      onfocus: (event) => event.currentTarget.select(),
    });
    clear(body).append(
      h("label", { for: "share-link" }, S.linkLabel),
      field,
      h("p", { class: "muted share-expiry" }, link.expiresAt ? S.until(date(link.expiresAt)) : S.forever),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "button",
            onclick: async () => {
              try {
                await copy(link.url, field);
                ctx.toast(S.copied);
              } catch {
                field.select();
                ctx.toast(S.copyFailed, "error");
              }
            },
          },
          S.copy,
        ),
        h(
          "button",
          {
            type: "button",
            class: "button danger-outline",
            onclick: async (event) => {
              event.currentTarget.disabled = true;
              try {
                await api.request(sharePath(job), { method: "DELETE" });
                ctx.toast(S.revoked);
              } catch (err) {
                if (err.status !== 404) {
                  ctx.toast(err.message, "error");
                  event.currentTarget.disabled = false;
                  return;
                }
              }
              showCreate();
            },
          },
          S.revoke,
        ),
      ),
    );
  };

  const showCreate = () => {
    const expiry = h(
      "select",
      { id: "share-expiry" },
      S.expiries.map(([value, label]) => h("option", { value }, label)),
    );
    const button = h(
      "button",
      {
        type: "button",
        class: "button",
        onclick: async () => {
          button.disabled = true;
          button.textContent = S.creating;
          try {
            const hours = expiry.value ? Number(expiry.value) : null;
            const response = await api.request(sharePath(job), {
              method: "POST",
              headers: { "Content-Type": "application/json", Accept: "application/json" },
              body: JSON.stringify(hours ? { expiresInHours: hours } : {}),
            });
            showLink(await response.json());
          } catch (err) {
            ctx.toast(err.message, "error");
            button.disabled = false;
            button.textContent = S.create;
          }
        },
      },
      S.create,
    );
    clear(body).append(
      h("div", { class: "share-create" }, h("label", { for: "share-expiry" }, S.expiry), expiry),
      h("div", { class: "actions" }, button),
    );
  };

  showCreate();
  api
    .getJson(sharePath(job))
    .then((link) => {
      if (link) showLink(link);
    })
    .catch(() => {
      // the create button stays, and says what is wrong when used
    });
  return panel;
}
