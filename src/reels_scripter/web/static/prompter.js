// The teleprompter (T.prompter.open): the script's voice-over lines full screen, for reading while
// filming on a phone. The current row's line is large, the next one dimmed; rows advance on
// their measured times (`start`, `end`) after a 3-2-1 countdown. A tap pauses, −/+ change
// the pace, a switch mirrors the text (for a prompter glass). The screen is kept awake where
// the browser allows it (Screen Wake Lock). Everything it needs is the result already loaded.

import { h, clear } from "./dom.js";
import { num, span } from "./format.js";
import { T } from "./texts.js";

const COUNTDOWN = [3, 2, 1];
const SPEED_MIN = 0.5;
const SPEED_MAX = 2;
const SPEED_STEP = 0.1;
// How often the row's time bar is repainted while running; row changes are scheduled for
// their exact moment, not found by this tick.
const TICK_MS = 100;

/** The index of the row shown at script time `t` (seconds), or -1 once the last has ended. */
export function rowAt(rows, t) {
  if (!rows.length || t >= rows[rows.length - 1].end) return -1;
  let index = 0;
  for (let i = 0; i < rows.length; i += 1) {
    if (rows[i].start <= t) index = i;
    else break;
  }
  return index;
}

// A bracketed part of a line is a direction or a mark (offline: "this line is untranslated"), not
// something to say: it is shown small and dim beside the words that are said.
const DIRECTION = /(\([^)]*\)|\[[^\]]*\])/;

function lineOf(row) {
  const text = (row.text || "").trim();
  if (!text) return T.prompter.noText;
  return text
    .split(DIRECTION)
    .filter(Boolean)
    .map((part) => (DIRECTION.test(part) ? h("span", { class: "prompter-direction" }, part) : part));
}

/** Open the teleprompter over the page for `result`; `opener` gets the focus back. */
export function openPrompter(result, opener = null) {
  const rows = (result.script || []).filter((row) => Number.isFinite(row.start) && row.end > row.start);
  if (!rows.length) return null;
  const origin = rows[0].start;

  let phase = "countdown"; // countdown | running | paused | ended
  let speed = 1;
  let mirrored = false;
  let scriptTime = origin; // seconds of the reel shown now
  let anchorTime = origin; // script time at the last (re)start
  let anchorClock = 0; // performance.now() at the last (re)start
  let timer = 0;
  let shown = -2;
  let wakeLock = null;

  const items = rows.map((row, i) =>
    h(
      "li",
      { class: "prompter-row", "data-index": String(i) },
      h("span", { class: "prompter-line" }, lineOf(row)),
    ),
  );
  const list = h("ol", { class: "prompter-rows" }, items);
  const countdown = h("p", { class: "prompter-countdown", "aria-live": "assertive" });
  const rowBar = h("span", { class: "prompter-time-fill" });
  const position = h("p", { class: "prompter-position" });
  const hint = h("p", { class: "prompter-hint", role: "status" }, T.prompter.tapHint);
  const stage = h(
    "div",
    { class: "prompter-stage", onclick: () => togglePause() },
    countdown,
    list,
  );
  const speedLabel = h("output", { class: "prompter-speed", "aria-live": "polite" });
  const pauseButton = h("button", { type: "button", class: "prompter-button", onclick: () => togglePause() });
  const mirrorSwitch = h(
    "button",
    {
      type: "button",
      class: "prompter-button prompter-switch",
      role: "switch",
      "aria-checked": "false",
      onclick: () => setMirror(!mirrored),
    },
    h("span", { class: "switch-knob", "aria-hidden": "true" }),
    T.prompter.mirror,
  );
  const awakeNote = h("p", { class: "prompter-awake", hidden: true }, T.prompter.awakeOff);
  const overlay = h(
    "div",
    {
      class: "prompter",
      role: "dialog",
      "aria-modal": "true",
      "aria-label": T.prompter.title,
      tabindex: "-1",
      onkeydown: onKey,
    },
    h(
      "div",
      { class: "prompter-top" },
      position,
      h("button", { type: "button", class: "prompter-button prompter-close", onclick: () => close() }, T.prompter.close),
    ),
    h("div", { class: "prompter-time", "aria-hidden": "true" }, rowBar),
    stage,
    hint,
    awakeNote,
    h(
      "div",
      { class: "prompter-controls" },
      h(
        "div",
        { class: "prompter-pace", role: "group", "aria-label": T.prompter.pace },
        h("button", { type: "button", class: "prompter-button", "aria-label": T.prompter.slower, onclick: () => changeSpeed(-1) }, "−"),
        speedLabel,
        h("button", { type: "button", class: "prompter-button", "aria-label": T.prompter.faster, onclick: () => changeSpeed(1) }, "+"),
      ),
      pauseButton,
      mirrorSwitch,
    ),
  );

  function now() {
    return performance.now();
  }

  function currentTime() {
    if (phase !== "running") return scriptTime;
    return anchorTime + ((now() - anchorClock) / 1000) * speed;
  }

  function show(index) {
    if (index === shown) return;
    shown = index;
    items.forEach((item, i) => {
      item.classList.toggle("current", i === index);
      item.classList.toggle("next", index >= 0 && i === index + 1);
      if (i === index) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    });
    if (index >= 0) {
      const row = rows[index];
      position.textContent = `${T.prompter.rowOf(index + 1, rows.length)} · ${span(row.start, row.end)}`;
    }
  }

  function paintControls() {
    speedLabel.textContent = T.prompter.speed(num(speed));
    pauseButton.textContent = phase === "paused" ? T.prompter.resume : phase === "ended" ? T.prompter.restart : T.prompter.pause;
    pauseButton.disabled = phase === "countdown";
    overlay.dataset.phase = phase;
    if (phase === "paused") hint.textContent = T.prompter.pausedHint;
    else if (phase === "running") hint.textContent = T.prompter.tapHint;
  }

  function tick() {
    clearTimeout(timer);
    if (phase !== "running") return;
    scriptTime = currentTime();
    const index = rowAt(rows, scriptTime);
    if (index < 0) {
      finish();
      return;
    }
    show(index);
    const row = rows[index];
    const fraction = (scriptTime - row.start) / (row.end - row.start);
    rowBar.style.width = `${Math.min(100, Math.max(0, fraction * 100))}%`;
    // the next change (the next row, or the end) at its exact moment, else the next repaint
    const next = index + 1 < rows.length ? rows[index + 1].start : row.end;
    const untilNext = ((next - scriptTime) / speed) * 1000;
    timer = setTimeout(tick, Math.max(0, Math.min(TICK_MS, untilNext)));
  }

  function run() {
    anchorTime = scriptTime;
    anchorClock = now();
    phase = "running";
    countdown.textContent = "";
    paintControls();
    tick();
  }

  function startCountdown(from) {
    clearTimeout(timer);
    phase = "countdown";
    scriptTime = from;
    show(rowAt(rows, from));
    rowBar.style.width = "0%";
    paintControls();
    hint.textContent = T.prompter.getReady;
    let step = 0;
    const next = () => {
      if (step >= COUNTDOWN.length) {
        run();
        return;
      }
      countdown.textContent = String(COUNTDOWN[step]);
      step += 1;
      timer = setTimeout(next, 1000);
    };
    next();
  }

  function finish() {
    clearTimeout(timer);
    phase = "ended";
    scriptTime = rows[rows.length - 1].end;
    show(-1);
    rowBar.style.width = "100%";
    countdown.textContent = T.prompter.end;
    hint.textContent = "";
    paintControls();
  }

  function togglePause() {
    if (phase === "running") {
      scriptTime = currentTime();
      clearTimeout(timer);
      phase = "paused";
      paintControls();
    } else if (phase === "paused") {
      run();
    } else if (phase === "ended") {
      startCountdown(origin);
    }
  }

  function changeSpeed(direction) {
    const value = Math.round((speed + direction * SPEED_STEP) * 10) / 10;
    const clamped = Math.min(SPEED_MAX, Math.max(SPEED_MIN, value));
    if (clamped === speed) return;
    if (phase === "running") {
      // re-anchor: the time already read stays read at the old pace
      scriptTime = currentTime();
      anchorTime = scriptTime;
      anchorClock = now();
    }
    speed = clamped;
    paintControls();
    tick();
  }

  function setMirror(value) {
    mirrored = value;
    stage.classList.toggle("mirrored", mirrored);
    mirrorSwitch.setAttribute("aria-checked", String(mirrored));
  }

  function onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === " " && event.target === overlay) {
      event.preventDefault();
      togglePause();
    } else if (event.key === "+" || event.key === "=") {
      changeSpeed(1);
    } else if (event.key === "-") {
      changeSpeed(-1);
    }
  }

  async function keepAwake() {
    if (!("wakeLock" in navigator)) {
      awakeNote.hidden = false;
      return;
    }
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      awakeNote.hidden = true;
    } catch {
      // refused (battery saver, a hidden tab): the note says the screen may dim
      awakeNote.hidden = false;
    }
  }

  function onVisibility() {
    // the browser drops the lock when the page is hidden; take it again on return
    if (document.visibilityState === "visible" && overlay.isConnected) keepAwake();
    else if (phase === "running") togglePause();
  }

  function close() {
    clearTimeout(timer);
    phase = "closed";
    document.removeEventListener("visibilitychange", onVisibility);
    if (wakeLock) wakeLock.release().catch(() => {});
    wakeLock = null;
    if (document.fullscreenElement === overlay && document.exitFullscreen) {
      document.exitFullscreen().catch(() => {});
    }
    overlay.remove();
    document.documentElement.classList.remove("prompter-open");
    if (opener) opener.focus();
  }

  clear(countdown);
  document.body.append(overlay);
  document.documentElement.classList.add("prompter-open");
  if (overlay.requestFullscreen) overlay.requestFullscreen({ navigationUI: "hide" }).catch(() => {});
  document.addEventListener("visibilitychange", onVisibility);
  keepAwake();
  overlay.focus();
  startCountdown(origin);
  return { close, element: overlay };
}

/** The button that opens the teleprompter for `result`. */
export function prompterButton(result) {
  const button = h(
    "button",
    {
      type: "button",
      class: "button prompter-open-button",
      "aria-label": T.prompter.openLabel,
      onclick: () => openPrompter(result, button),
    },
    h("span", { "aria-hidden": "true" }, "▶"),
    T.prompter.open,
  );
  return button;
}
