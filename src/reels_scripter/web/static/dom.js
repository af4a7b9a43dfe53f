// Tiny DOM builders. Text always goes in as text nodes, never as HTML: everything the page
// shows from a result (written by an AI from a stranger's video) is untrusted.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Append children, skipping null/undefined/false (native Element.append prints "null"). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h("button", {class: "x", onclick: fn, "aria-label": "…"}, "text", child) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "style") {
      Object.assign(el.style, value); // CSSOM, allowed by the page's CSP
    } else if (key in el && typeof value !== "string") {
      el[key] = value; // properties such as hidden, disabled, value
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** svg("rect", {x: 0, y: 0, width: 10, height: 10}) */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** The toast function of a page: shows `text` in `box` (its #toast) for 4 s; a new one replaces it. */
export function toaster(box) {
  let timer = 0;
  return (text, kind = "info") => {
    clearTimeout(timer);
    box.textContent = text;
    box.className = `toast show ${kind}`;
    timer = setTimeout(() => {
      box.className = "toast";
    }, 4000);
  };
}

/** A page that could not be shown: its title, the error message and any further children. */
export function failurePanel(title, message, ...more) {
  return h(
    "section",
    { class: "panel" },
    h("h1", { tabindex: "-1" }, title),
    h("p", { class: "error-box", role: "alert" }, message),
    ...more,
  );
}

/** Replace an element's content; a null child (a section with nothing to say) is left out. */
export function fill(el, ...children) {
  append(clear(el), children);
  return el;
}
