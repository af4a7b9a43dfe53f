// Editing the script in place: each row of the script table gets its fit bar, an "edited"
// mark once the creator has changed it, and an "edit" button that opens the row's texts
// for editing right under it (tap → edit → save). Saving sends only what changed
// (PATCH /api/jobs/{id}/script); the server keeps every version, and a row, or the whole
// script, can be given the AI's texts back (POST .../script/restore).
//
// The result object the page holds is updated in place, row objects included, so the player,
// the copy button, the JSON download and the teleprompter all see the current version.

import * as api from "./api.js";
import { h, clear } from "./dom.js";
import { fitBar } from "./fit-bar.js";
import { T } from "./texts.js";

const FIELDS = [
  { name: "text", label: () => T.scriptEdit.fieldText, rows: 3 },
  { name: "visual", label: () => T.scriptEdit.fieldVisual, rows: 2 },
  { name: "note", label: () => T.scriptEdit.fieldNote, rows: 2 },
  { name: "onscreen", label: () => T.scriptEdit.fieldOnscreen, rows: 1, hint: () => T.scriptEdit.onscreenHint },
];
const MAX_CHARS = 1000;
const CONFIRM_MS = 4000;

function valueOf(row, name) {
  if (name === "onscreen") return (row.onscreen && row.onscreen.text) || "";
  return row[name] || "";
}

/** Make the script table of `result` editable; returns the bar to show above the table (none
 * on a read-only page, which gets the rows' fit bars and marks only). */
export function editableScript(ctx, job, result, table) {
  const scriptPath = `/api/jobs/${encodeURIComponent(job.id)}/script`;
  const version = h("p", { class: "muted script-version" });
  const restoreAll = h("button", { type: "button", class: "button secondary", onclick: onRestoreAll }, T.scriptEdit.restoreAll);
  const bar = h(
    "div",
    { class: "script-edit-bar" },
    h("p", { class: "muted" }, T.scriptEdit.hint),
    h("div", { class: "script-edit-status" }, version, restoreAll),
  );
  let confirmTimer = 0;

  const trs = () => [...table.querySelectorAll("tr.script-row")];

  function paintBar() {
    version.textContent = result.edited ? T.scriptEdit.version(result.script_version) : "";
    restoreAll.hidden = !result.edited;
    restoreAll.textContent = T.scriptEdit.restoreAll;
    delete restoreAll.dataset.confirm;
  }

  /** Take a result the server answered as the page's current one (rows updated in place). */
  function adopt(next) {
    next.script.forEach((row, i) => {
      if (result.script[i]) Object.assign(result.script[i], row);
    });
    result.script_version = next.script_version;
    result.edited = next.edited;
    for (const tr of trs()) paintRow(tr);
    paintBar();
  }

  async function send(path, method, body) {
    const response = await api.request(path, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.json();
  }

  function paintRow(tr) {
    const row = result.script[Number(tr.dataset.index)];
    if (!row) return;
    const textCell = tr.querySelector(".col-text");
    const visualCell = tr.querySelector(".col-visual");
    const noteCell = tr.querySelector(".col-note");
    if (visualCell) visualCell.textContent = row.visual;
    if (noteCell) noteCell.textContent = row.note;
    if (textCell) {
      // the line itself sits in its own span so the marks beside it can be redrawn alone
      let line = textCell.querySelector(".row-line");
      if (!line) {
        line = h("span", { class: "row-line" });
        for (const node of [...textCell.childNodes]) if (node.nodeType === Node.TEXT_NODE) node.remove();
        textCell.prepend(line);
      }
      line.textContent = row.text;
      for (const old of textCell.querySelectorAll(".row-onscreen, .fit")) old.remove();
      if (row.onscreen && row.onscreen.text) {
        textCell.append(
          h("span", { class: "row-onscreen" }, h("span", { class: "row-onscreen-label" }, `${T.scriptEdit.fieldOnscreen}: `), row.onscreen.text),
        );
      }
      const fit = fitBar(row);
      if (fit) textCell.append(fit);
    }
    const timeCell = tr.querySelector(".col-time");
    let badge = tr.querySelector(".edited-badge");
    if (row.edited && !badge && timeCell) {
      badge = h("span", { class: "edited-badge", title: T.scriptEdit.badgeLabel }, T.scriptEdit.badge);
      timeCell.append(badge);
    } else if (!row.edited && badge) {
      badge.remove();
    }
    tr.classList.toggle("edited", Boolean(row.edited));
  }

  function closeEditor(tr, focus = true) {
    const editor = tr.nextElementSibling;
    if (editor && editor.classList.contains("row-editor")) editor.remove();
    tr.classList.remove("editing");
    const button = tr.querySelector(".edit-row");
    if (button) {
      button.setAttribute("aria-expanded", "false");
      if (focus) button.focus();
    }
  }

  function openEditor(tr) {
    for (const other of trs()) if (other !== tr && other.classList.contains("editing")) closeEditor(other, false);
    if (tr.classList.contains("editing")) {
      closeEditor(tr);
      return;
    }
    const index = Number(tr.dataset.index);
    const row = result.script[index];
    const number = index + 1;
    const error = h("p", { class: "error-text", role: "alert", hidden: true });
    const inputs = {};
    const fields = FIELDS.map((field) => {
      const id = `edit-${index}-${field.name}`;
      const hintId = field.hint ? `${id}-hint` : null;
      inputs[field.name] = h(
        "textarea",
        {
          id,
          name: field.name,
          rows: field.rows,
          maxlength: MAX_CHARS,
          "aria-describedby": hintId,
          class: `edit-field edit-${field.name}`,
        },
        valueOf(row, field.name),
      );
      return h(
        "div",
        { class: "edit-group" },
        h("label", { for: id }, field.label()),
        inputs[field.name],
        hintId ? h("p", { class: "muted edit-hint", id: hintId }, field.hint()) : null,
      );
    });
    const save = h("button", { type: "submit", class: "button" }, T.scriptEdit.save);
    const restore = row.edited
      ? h("button", { type: "button", class: "button danger-outline", onclick: () => onRestoreRow() }, T.scriptEdit.restoreRow)
      : null;
    const busy = (value) => {
      for (const control of form.querySelectorAll("button, textarea")) control.disabled = value;
      save.textContent = value ? T.scriptEdit.saving : T.scriptEdit.save;
    };
    const fail = (err) => {
      busy(false);
      error.textContent = err.message;
      error.hidden = false;
    };

    async function onSave(event) {
      event.preventDefault();
      const change = { index };
      for (const field of FIELDS) {
        const value = inputs[field.name].value.trim();
        if (value !== valueOf(row, field.name).trim()) change[field.name] = value;
      }
      if (Object.keys(change).length === 1) {
        ctx.toast(T.scriptEdit.nothingChanged);
        closeEditor(tr);
        return;
      }
      busy(true);
      try {
        adopt(await send(scriptPath, "PATCH", { rows: [change] }));
      } catch (err) {
        fail(err);
        return;
      }
      closeEditor(tr);
      ctx.toast(T.scriptEdit.saved);
    }

    async function onRestoreRow() {
      busy(true);
      try {
        adopt(await send(`${scriptPath}/restore`, "POST", { rows: [index] }));
      } catch (err) {
        fail(err);
        return;
      }
      closeEditor(tr);
      ctx.toast(T.scriptEdit.restored);
    }

    const form = h(
      "form",
      {
        class: "edit-form",
        "aria-label": T.scriptEdit.title(number),
        novalidate: true,
        onsubmit: onSave,
        onkeydown: (event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            event.stopPropagation();
            closeEditor(tr);
          } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            form.requestSubmit();
          }
        },
      },
      h("h3", { class: "edit-title" }, T.scriptEdit.title(number)),
      fields,
      error,
      h(
        "div",
        { class: "actions" },
        save,
        h("button", { type: "button", class: "button secondary", onclick: () => closeEditor(tr) }, T.scriptEdit.cancel),
        restore,
      ),
    );
    const editor = h("tr", { class: "row-editor" }, h("td", { colspan: "5" }, form));
    tr.after(editor);
    tr.classList.add("editing");
    tr.querySelector(".edit-row").setAttribute("aria-expanded", "true");
    inputs.text.focus();
  }

  async function onRestoreAll() {
    if (!restoreAll.dataset.confirm) {
      // a second tap confirms: the whole script is a lot to undo by accident
      restoreAll.dataset.confirm = "1";
      restoreAll.textContent = T.scriptEdit.restoreAllConfirm;
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(paintBar, CONFIRM_MS);
      return;
    }
    clearTimeout(confirmTimer);
    restoreAll.disabled = true;
    try {
      adopt(await send(`${scriptPath}/restore`, "POST"));
      for (const tr of trs()) closeEditor(tr, false);
      ctx.toast(T.scriptEdit.restoredAll);
    } catch (err) {
      ctx.toast(err.message, "error");
    } finally {
      restoreAll.disabled = false;
    }
  }

  if (ctx.readOnly) {
    // a shared page: the rows' fit and marks, nothing to change
    for (const tr of trs()) paintRow(tr);
    return null;
  }
  for (const tr of trs()) {
    const number = Number(tr.dataset.index) + 1;
    const timeCell = tr.querySelector(".col-time");
    const button = h(
      "button",
      {
        type: "button",
        class: "edit-row",
        "aria-label": T.scriptEdit.editLabel(number),
        "aria-expanded": "false",
        onclick: () => openEditor(tr),
      },
      h("span", { "aria-hidden": "true" }, "✎"),
      T.scriptEdit.edit,
    );
    if (timeCell) timeCell.append(button);
    paintRow(tr);
  }
  paintBar();
  return bar;
}
