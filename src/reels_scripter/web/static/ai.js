// «Connect AI»: a dialog that sends a provider, key, server address and model to
// PUT /api/settings/ai and shows the server's check (a Russian reason when it refuses), a
// topbar button that opens it, and the result page's offer to connect when a script was
// written offline (keyed on the analysis notice's stable code, not on its wording).

import * as api from "./api.js";
import { h } from "./dom.js";
import { T } from "./texts.js";

// Notice codes of a result written without an AI that an AI would have done better.
const OFFLINE_NOTICES = new Set(["translation_unavailable", "local_writes_russian_only"]);
const CHOICES = ["gemini", "openai", "local"];

let dialog = null;
let navButton = null;
let current = null; // the last GET /api/settings/ai
let toast = () => {};

function statusLine(settings) {
  if (!settings) return "";
  if (settings.status === "environment") return T.ai.byServer;
  if (settings.status !== "connected") return T.ai.notConnected;
  const name = settings.provider === "gemini" ? T.ai.gemini : T.ai.server;
  return T.ai.connected(name, settings.keyLast4);
}

function updateNav() {
  if (!navButton) return;
  const connected = current && current.status !== "not_connected";
  navButton.textContent = connected ? T.ai.navConnected : T.ai.navConnect;
  navButton.dataset.state = connected ? "connected" : "offline";
}

async function refresh() {
  try {
    current = await api.getJson("/api/settings/ai");
  } catch {
    current = null; // no key yet, or the server is older: the panel says so when opened
  }
  updateNav();
  return current;
}

function field(id, label, input, hint) {
  return h(
    "div",
    { class: "ai-field", id: `${id}-field` },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "muted ai-hint" }, hint) : null,
  );
}

function buildDialog() {
  const form = h("form", { id: "ai-form", method: "dialog", novalidate: true });
  const status = h("p", { id: "ai-status", class: "ai-status" });
  const choices = h(
    "fieldset",
    { class: "ai-choices" },
    h("legend", {}, T.ai.choose),
    CHOICES.map((value) =>
      h(
        "label",
        { class: "ai-choice" },
        h("input", { type: "radio", name: "provider", value, onchange: () => showFields(form) }),
        h("span", {}, T.ai.choices[value]),
      ),
    ),
  );
  const key = h("input", {
    id: "ai-key",
    name: "apiKey",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
  });
  const baseUrl = h("input", {
    id: "ai-base-url",
    name: "baseUrl",
    type: "url",
    inputmode: "url",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "http://127.0.0.1:11434/v1",
  });
  const model = h("input", {
    id: "ai-model",
    name: "model",
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: T.ai.modelPlaceholder,
  });
  const message = h("p", { id: "ai-message", role: "status", "aria-live": "polite", hidden: true });
  const submit = h("button", { type: "submit", class: "button", id: "ai-submit" }, T.ai.check);
  form.append(
    h("h2", { id: "ai-title" }, T.ai.title),
    h("p", {}, T.ai.intro),
    status,
    choices,
    field("ai-base-url", T.ai.baseUrl, baseUrl, T.ai.baseUrlHint),
    field("ai-model", T.ai.model, model),
    field("ai-key", T.ai.key, key, T.ai.keyHint),
    message,
    h(
      "div",
      { class: "actions" },
      submit,
      h("button", { type: "button", class: "button secondary", onclick: () => dialog.close() }, T.ai.close),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(form);
  });
  const box = h("dialog", { id: "ai-dialog", "aria-labelledby": "ai-title" }, form);
  document.body.append(box);
  return box;
}

function chosen(form) {
  const checked = form.querySelector("input[name=provider]:checked");
  return checked ? checked.value : "local";
}

function showFields(form) {
  const provider = chosen(form);
  form.querySelector("#ai-key-field").hidden = provider === "local";
  form.querySelector("#ai-base-url-field").hidden = provider !== "openai";
  form.querySelector("#ai-model-field").hidden = provider !== "openai";
  const keyHint = form.querySelector("#ai-key-field .ai-hint");
  keyHint.textContent = provider === "openai" ? T.ai.keyHintServer : T.ai.keyHint;
  const stored = current && current.provider === provider && current.keyLast4;
  form.querySelector("#ai-key").placeholder = stored ? T.ai.keyKept(current.keyLast4) : "";
  form.querySelector("#ai-submit").textContent = provider === "local" ? T.ai.disconnect : T.ai.check;
}

function say(form, text, kind) {
  const message = form.querySelector("#ai-message");
  message.textContent = text;
  message.className = kind === "error" ? "error-box" : kind === "ok" ? "ok-box" : "info";
  message.hidden = false;
  // on a phone the answer can sit below the dialog's fold
  message.scrollIntoView({ block: "nearest" });
}

async function save(form) {
  const provider = chosen(form);
  const value = (name) => form.querySelector(`[name=${name}]`).value.trim() || null;
  const body = { provider };
  if (provider !== "local") body.apiKey = value("apiKey");
  if (provider === "openai") {
    body.baseUrl = value("baseUrl");
    body.model = value("model");
  }
  const submit = form.querySelector("#ai-submit");
  submit.disabled = true;
  say(form, T.ai.checking, "info");
  try {
    const response = await api.request("/api/settings/ai", {
      method: "PUT",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    current = await response.json();
    updateNav();
    form.querySelector("#ai-key").value = "";
    form.querySelector("#ai-status").textContent = statusLine(current);
    showFields(form);
    say(form, provider === "local" ? T.ai.disconnected : T.ai.done, "ok");
    toast(provider === "local" ? T.ai.disconnected : T.ai.doneShort);
  } catch (err) {
    say(form, err.message, "error");
  } finally {
    submit.disabled = false;
  }
}

/** Open the panel, showing what is connected now. */
export async function openAiPanel() {
  if (!dialog) dialog = buildDialog();
  const form = dialog.querySelector("form");
  form.querySelector("#ai-message").hidden = true;
  if (!dialog.open) dialog.showModal();
  const settings = await refresh();
  form.querySelector("#ai-status").textContent = settings ? statusLine(settings) : T.ai.unknown;
  const editable = !settings || settings.editable;
  for (const input of form.querySelectorAll("input")) input.disabled = !editable;
  form.querySelector("#ai-submit").hidden = !editable;
  const provider = settings && CHOICES.includes(settings.provider) ? settings.provider : "gemini";
  const radio = form.querySelector(`input[name=provider][value=${provider === "local" ? "gemini" : provider}]`);
  radio.checked = true;
  form.querySelector("#ai-base-url").value = (settings && settings.baseUrl) || "";
  form.querySelector("#ai-model").value = (settings && settings.provider === "openai" && settings.model) || "";
  showFields(form);
  (editable ? radio : form.querySelector("button.secondary")).focus();
}

/** The topbar button; call once at start-up. */
export function initAi(nav, { toast: showToast, ready = true } = {}) {
  if (showToast) toast = showToast;
  navButton = h("button", { type: "button", id: "ai-button", class: "nav-button ai-nav", onclick: openAiPanel }, T.ai.navConnect);
  nav.append(navButton);
  // without the API key the server wants, asking would only pop the key dialog twice
  if (ready) refresh();
}

/** For a result written offline: a line in a creator's words with a button to the panel. */
export function aiOffer(result) {
  const notices = (result.meta && result.meta.notices) || [];
  if (!notices.some((n) => n && OFFLINE_NOTICES.has(n.code))) return null;
  return h(
    "aside",
    { class: "ai-offer", "aria-labelledby": "ai-offer-title" },
    h("h2", { id: "ai-offer-title" }, T.ai.offerTitle),
    h("p", {}, T.ai.offerText),
    h("button", { type: "button", class: "button", onclick: openAiPanel }, T.ai.offerButton),
  );
}
