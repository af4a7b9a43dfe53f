// Russian words and numbers for the page (the words themselves are in texts.js).

import { T } from "./texts.js";

const U = T.format.units;

/** plural(5, T.format.scenes) -> the form for five */
export function plural(n, [one, few, many]) {
  const abs = Math.abs(Math.trunc(n));
  const lastTwo = abs % 100;
  const last = abs % 10;
  if (lastTwo >= 11 && lastTwo <= 14) return many;
  if (last === 1) return one;
  if (last >= 2 && last <= 4) return few;
  return many;
}

export function count(n, forms) {
  return `${n} ${plural(n, forms)}`;
}

const number1 = new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 1 });

export function num(value) {
  return number1.format(value);
}

/** 2.5 -> "2,5" and the seconds unit */
export function seconds(value) {
  return `${num(Math.round(value * 10) / 10)}\u00a0${U.seconds}`;
}

/** 0 and 5.2 -> "0–5,2" and the seconds unit */
export function span(start, end) {
  return `${num(Math.round(start * 10) / 10)}–${num(Math.round(end * 10) / 10)}\u00a0${U.seconds}`;
}

/** 68.4 -> "1:08" */
export function clock(value) {
  const total = Math.max(0, Math.round(value));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** A duration as words: 200 -> 3 minutes 20 seconds */
export function duration(value) {
  const total = Math.max(0, Math.round(value));
  const m = Math.floor(total / 60);
  const s = total % 60;
  if (!m) return `${s}\u00a0${U.seconds}`;
  return s ? `${m}\u00a0${U.minutes} ${s}\u00a0${U.seconds}` : `${m}\u00a0${U.minutes}`;
}

export function bytes(value) {
  if (value < 1024 * 1024) return `${num(Math.max(value, 0) / 1024)}\u00a0${U.kilobytes}`;
  return `${num(value / (1024 * 1024))}\u00a0${U.megabytes}`;
}

const dateFormat = new Intl.DateTimeFormat("ru-RU", {
  day: "numeric",
  month: "long",
  hour: "2-digit",
  minute: "2-digit",
});

export function date(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : dateFormat.format(d);
}

export const STATE_LABELS = T.format.states;

const STAGE_FALLBACK = T.format.stages;

/** What to call the job's current step, in Russian, from a status body. */
export function stageLabel(status) {
  const stage = typeof status.stage === "string" ? status.stage.trim() : "";
  if (stage && (status.stageCode || /[\u0400-\u04ff]/.test(stage))) return stage;
  if (stage && STAGE_FALLBACK[stage]) return STAGE_FALLBACK[stage];
  const code = typeof status.stageCode === "string" ? status.stageCode : "";
  if (code && STAGE_FALLBACK[code]) return STAGE_FALLBACK[code];
  if (status.state === "waiting") return T.format.stageWaiting;
  if (status.state === "completed") return T.format.stageDone;
  return T.format.stageWorking;
}

export const KEY_LABELS = T.format.keys;

export const HOOK_TYPE_LABELS = T.format.hookTypes;

/** A warning may be a plain string or (later) an object with text and code. */
export function warningText(warning) {
  if (typeof warning === "string") return warning;
  if (warning && typeof warning === "object") {
    return warning.text || warning.message || warning.error || "";
  }
  return typeof warning === "number" ? String(warning) : "";
}

/** "reel.mp4" -> "reel" (for download names) */
export function stem(name) {
  const base = (name || "").replace(/\.[A-Za-z0-9]{1,5}$/, "").trim();
  return base || T.format.defaultStem;
}
