// The link field beside the file picker: paste a Reels, TikTok or Shorts link (from the
// clipboard on a phone) and POST /api/import; the job page then follows its download and
// analysis like an upload's.

import * as api from "./api.js";
import { h } from "./dom.js";
import { T } from "./texts.js";

const LINK = /^https?:\/\/\S+$/i;

/** The first http(s) link in pasted text (apps share "Look at this! https://…"). */
export function linkIn(text) {
  const match = /https?:\/\/\S+/i.exec(text || "");
  return match ? match[0].replace(/[)\].,;!?»"']+$/, "") : "";
}

async function importLink(url) {
  const response = await api.request("/api/import", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ url }),
  });
  return response.json();
}

/** The form; `ctx.navigate` opens the new job. */
export function linkImport(ctx) {
  const error = h("p", { class: "error-text", role: "alert", id: "link-error", hidden: true });
  const input = h("input", {
    type: "url",
    id: "link-input",
    name: "url",
    inputmode: "url",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    placeholder: T.link.placeholder,
    "aria-describedby": "link-hint link-error",
  });
  const submit = h("button", { type: "submit", class: "button" }, T.link.submit);
  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };
  const canPaste = Boolean(navigator.clipboard && navigator.clipboard.readText);
  const paste = canPaste
    ? h(
        "button",
        {
          type: "button",
          class: "button secondary",
          "aria-label": T.link.pasteLabel,
          onclick: async () => {
            try {
              const text = await navigator.clipboard.readText();
              input.value = linkIn(text) || text.trim();
              showError("");
              input.focus();
            } catch {
              showError(T.link.pasteDenied);
              input.focus();
            }
          },
        },
        T.link.paste,
      )
    : null;
  // a shared "text + link" pasted into the field keeps only the link
  input.addEventListener("paste", (event) => {
    const text = event.clipboardData && event.clipboardData.getData("text");
    const link = linkIn(text);
    if (link && link !== text.trim()) {
      event.preventDefault();
      input.value = link;
    }
  });
  let busy = false;
  const form = h(
    "form",
    {
      class: "link-import",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        if (busy) return;
        const url = linkIn(input.value) || input.value.trim();
        const problem = !url ? T.link.empty : LINK.test(url) ? "" : T.link.notLink;
        showError(problem);
        if (problem) {
          input.focus();
          return;
        }
        busy = true;
        submit.disabled = true;
        submit.textContent = T.link.sending;
        try {
          const answer = await importLink(url);
          ctx.navigate(`#/jobs/${encodeURIComponent(answer.jobId)}`);
        } catch (err) {
          showError(err.message);
          input.focus();
        } finally {
          busy = false;
          submit.disabled = false;
          submit.textContent = T.link.submit;
        }
      },
    },
    h("p", { class: "link-or", "aria-hidden": "true" }, T.link.or),
    h("label", { for: "link-input", class: "link-label" }, T.link.label),
    h("div", { class: "link-row" }, input, paste),
    h("p", { class: "muted link-hint", id: "link-hint" }, T.link.hint),
    error,
    h("div", { class: "actions" }, submit),
  );
  return form;
}
