// A row's fit: how long its voice-over line takes to say against the time the row has.
// The status is written out and marked (✓ ≈ !), so it reads without colour; the bar draws
// the row's time as an outlined box and the line's time as a fill that runs past the box
// (striped) when the line is too long.

import { h } from "./dom.js";
import { seconds } from "./format.js";
import { T } from "./texts.js";

const STATUSES = ["ok", "tight", "too_long"];

/** The fit bar of `row`, or null when the row has no fit (an older result, no text). */
export function fitBar(row) {
  const fit = row && row.fit;
  if (!fit || !STATUSES.includes(fit.status)) return null;
  const needed = Math.max(0, Number(fit.seconds_needed) || 0);
  const available = Math.max(0, Number(fit.seconds_available) || 0);
  const scale = Math.max(needed, available) || 1;
  const status = T.fit.status[fit.status];
  const numbers = T.fit.numbers(seconds(needed), seconds(available));
  return h(
    "div",
    {
      class: `fit fit-${fit.status}`,
      "data-status": fit.status,
      role: "img",
      "aria-label": T.fit.label(status.toLowerCase(), seconds(needed), seconds(available)),
    },
    h(
      "div",
      { class: "fit-track", "aria-hidden": "true" },
      h("span", { class: "fit-available", style: { width: `${(available / scale) * 100}%` } }),
      h("span", { class: "fit-needed", style: { width: `${(needed / scale) * 100}%` } }),
    ),
    h(
      "p",
      { class: "fit-text", "aria-hidden": "true" },
      h("span", { class: "fit-mark" }, T.fit.mark[fit.status]),
      h("span", { class: "fit-status" }, status),
      h("span", { class: "fit-numbers" }, numbers),
    ),
  );
}
