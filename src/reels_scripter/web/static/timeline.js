// The timeline picture: keyframes along the time axis, cut marks, speech, the loudness
// curve, on-screen text and the 0–3 s hook window, drawn as SVG at the container's width.

import { h, svg, clear } from "./dom.js";
import { count, seconds, span } from "./format.js";
import { T } from "./texts.js";

const HOOK_FALLBACK_SEC = 3;
const FLOOR_DB = -60;
const TICK_STEPS = [0.5, 1, 2, 5, 10, 15, 30, 60];

let uid = 0;

function tickStep(duration, maxTicks) {
  return TICK_STEPS.find((step) => duration / step <= maxTicks) || 60;
}

function payoffAt(result) {
  const hook = result.hook_type;
  return hook && typeof hook.payoff_at === "number" ? hook.payoff_at : null;
}

function layout(width, hasOnscreen) {
  const compact = width < 560;
  const frames = compact ? 72 : 96;
  const rows = {};
  // room above the strip for the hook label (its own row) and below it the cut marks' heads,
  // so that no mark crosses the label
  let y = 30;
  rows.frames = { top: y, height: frames };
  y += frames + 18;
  rows.speech = { top: y, height: 14, label: T.timeline.speech };
  y += 14 + 18;
  rows.loudness = { top: y, height: compact ? 36 : 44, label: T.timeline.loudness };
  y += rows.loudness.height;
  if (hasOnscreen) {
    y += 18;
    rows.onscreen = { top: y, height: 20, label: T.timeline.onscreen };
    y += 20;
  }
  const plotBottom = y;
  y += 22; // axis
  return { compact, rows, plotBottom, height: y, left: 8, right: 8 };
}

/** Shorten an SVG label to `room` px with an ellipsis; no label where not even a letter fits. */
function fitLabel(label, text, room) {
  if (label.getComputedTextLength() <= room) return;
  let keep = text.length;
  while (keep > 0) {
    keep -= 1;
    label.textContent = `${text.slice(0, keep).trimEnd()}…`;
    if (label.getComputedTextLength() <= room) return;
  }
  label.textContent = "";
}

function draw(root, data, width) {
  const { result, keyframes } = data;
  const tl = result.timeline;
  const duration = Math.max(tl.duration || 0, 0.1);
  const onscreen = Array.isArray(tl.onscreen_text) ? tl.onscreen_text : [];
  const L = layout(width, onscreen.length > 0);
  const plotW = width - L.left - L.right;
  const x = (t) => L.left + (Math.min(Math.max(t, 0), duration) / duration) * plotW;
  const id = `tl${++uid}`;
  const video = (result.meta && result.meta.video) || {};
  const aspect = video.width && video.height ? video.width / video.height : 9 / 16;
  const hookEnd = Math.min((tl.hook && tl.hook.window) || HOOK_FALLBACK_SEC, duration);
  const scenes = tl.scenes || [];
  const speech = tl.speech || [];

  const description = [
    T.timeline.summary(count(scenes.length, T.format.scenes), seconds(duration)),
    speech.length
      ? T.timeline.speechAt(speech.map((s) => span(s.start, s.end)).join(", "))
      : T.timeline.noSpeech,
    T.timeline.hookWindow(span(0, hookEnd)),
  ].join("; ");

  const defs = svg("defs");
  const picture = svg(
    "svg",
    {
      class: "timeline-svg",
      width,
      height: L.height,
      viewBox: `0 0 ${width} ${L.height}`,
      role: "img",
      "aria-labelledby": `${id}-title ${id}-desc`,
    },
    svg("title", { id: `${id}-title` }, T.timeline.title),
    svg("desc", { id: `${id}-desc` }, description),
    defs,
  );

  // lane backgrounds and labels
  for (const row of Object.values(L.rows)) {
    picture.append(
      svg("rect", {
        class: "lane",
        x: L.left,
        y: row.top,
        width: plotW,
        height: row.height,
        rx: 4,
      }),
    );
  }
  // a lane's label sits in the gap above the lane, where nothing else is drawn (the hook
  // window, cut lines and the payoff line cover the lanes only)
  const laneLabels = Object.values(L.rows)
    .filter((row) => row.label)
    .map((row) => svg("text", { class: "lane-label", x: L.left, y: row.top - 5 }, row.label));
  const lanes = Object.values(L.rows).map((row) => [row.top, row.top + row.height]);
  // a vertical mark through every lane, broken in the gaps that hold the labels
  const acrossLanes = (cls, px, top = lanes[0][0]) =>
    lanes.map(([y1, y2]) => svg("line", { class: cls, x1: px, x2: px, y1: Math.max(y1, top), y2 }));

  // keyframes: a film strip per scene, each picture at the video's own aspect ratio
  const F = L.rows.frames;
  const thumbW = Math.max(F.height * aspect, 24);
  scenes.forEach((scene, i) => {
    const x0 = x(scene.start);
    const w = Math.max(x(scene.end) - x0 - 1, 1);
    const clipId = `${id}-scene-${i}`;
    defs.append(
      svg("clipPath", { id: clipId }, svg("rect", { x: x0, y: F.top, width: w, height: F.height })),
    );
    const group = svg(
      "g",
      { class: "scene", "clip-path": `url(#${clipId})` },
      svg("title", {}, T.timeline.scene(i + 1, span(scene.start, scene.end))),
      svg("rect", { class: "scene-bg", x: x0, y: F.top, width: w, height: F.height }),
    );
    const href = keyframes.get(scene.index);
    if (href) {
      for (let tx = x0; tx < x0 + w; tx += thumbW) {
        const image = svg("image", {
          class: "keyframe",
          href,
          x: tx,
          y: F.top,
          width: thumbW,
          height: F.height,
          preserveAspectRatio: "xMidYMid slice",
        });
        image.addEventListener("load", () => image.setAttribute("data-loaded", "1"));
        image.addEventListener("error", () => image.setAttribute("data-failed", "1"));
        group.append(image);
      }
    }
    picture.append(group);
  });
  // scene numbers above the pictures, unclipped: a short first scene still shows its «1»;
  // a later one too narrow for its number leaves it to its tooltip
  const badges = [];
  let badgeEnd = -Infinity;
  scenes.forEach((scene, i) => {
    const x0 = x(scene.start);
    const wide = x(scene.end) - x0 >= 18;
    const bx = Math.min(x0 + 3, width - L.right - 17);
    if ((i > 0 && !wide) || bx < badgeEnd + 2) return;
    badgeEnd = bx + 16;
    badges.push(
      svg("rect", { class: "scene-badge", x: bx, y: F.top + 3, width: 16, height: 14, rx: 3 }),
      svg("text", { class: "scene-badge-text", x: bx + 8, y: F.top + 13.5 }, String(i + 1)),
    );
  });

  // speech segments
  const S = L.rows.speech;
  for (const segment of speech) {
    const x0 = x(segment.start);
    picture.append(
      svg(
        "rect",
        {
          class: "speech",
          x: x0,
          y: S.top,
          width: Math.max(x(segment.end) - x0, 2),
          height: S.height,
          rx: 3,
        },
        svg("title", {}, `${span(segment.start, segment.end)}: ${segment.text}`),
      ),
    );
  }

  // loudness curve (dBFS per step), floor at -60 dB
  const A = L.rows.loudness;
  const audio = tl.audio || {};
  const curve = Array.isArray(audio.loudness_curve) ? audio.loudness_curve : [];
  const step = audio.curve_step || 0.5;
  if (curve.length) {
    const bottom = A.top + A.height;
    const points = curve.map((db, i) => {
      const level = (Math.max(Math.min(db, 0), FLOOR_DB) - FLOOR_DB) / -FLOOR_DB;
      return [x(Math.min((i + 0.5) * step, duration)), bottom - level * (A.height - 2)];
    });
    const line = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" L");
    const first = points[0][0].toFixed(1);
    const last = points[points.length - 1][0].toFixed(1);
    picture.append(
      svg("path", { class: "loudness-area", d: `M${first},${bottom} L${line} L${last},${bottom} Z` }),
      svg("path", { class: "loudness-line", d: `M${line}` }),
    );
  } else {
    picture.append(
      svg("text", { class: "lane-empty", x: L.left + 6, y: A.top + A.height / 2 + 4 }, T.timeline.noSound),
    );
  }

  // the hook window: a tint over each lane, its label in a row of its own above the strip
  const hookW = x(hookEnd) - x(0);
  for (const [top, bottom] of lanes) {
    picture.append(
      svg("rect", { class: "hook-window", x: x(0), y: top, width: hookW, height: bottom - top, rx: 4 }),
    );
  }

  // cut marks: a line through every lane and a small head above the strip
  scenes.slice(1).forEach((scene) => {
    const cx = x(scene.start);
    picture.append(
      ...acrossLanes("cut", cx),
      svg("path", { class: "cut-head", d: `M${cx - 4},${F.top - 7} L${cx + 4},${F.top - 7} L${cx},${F.top - 1} Z` }),
    );
  });
  picture.append(...badges);

  // on-screen text: chips drawn over the cut lines, each label cut short to fit its chip
  const chipLabels = [];
  if (L.rows.onscreen) {
    const O = L.rows.onscreen;
    onscreen.forEach((item) => {
      const x0 = x(item.start);
      const w = Math.max(x(item.end) - x0, 3);
      const label = svg("text", { class: "onscreen-text", x: x0 + 4, y: O.top + 14 }, item.text);
      chipLabels.push({ label, text: item.text, room: w - 8 });
      picture.append(
        svg(
          "g",
          { class: "onscreen" },
          svg("title", {}, `${span(item.start, item.end)}: ${item.text}`),
          svg("rect", { class: "onscreen-bg", x: x0, y: O.top, width: w, height: O.height, rx: 3 }),
          label,
        ),
      );
    });
  }

  // where the hook pays off (when the result names it): a dashed line and a diamond
  const payoff = payoffAt(result);
  if (payoff !== null && payoff <= duration) {
    const px = x(payoff);
    const my = S.top + S.height / 2;
    picture.append(
      svg(
        "g",
        { class: "payoff" },
        svg("title", {}, T.timeline.payoff(seconds(payoff))),
        ...acrossLanes("payoff-line", px),
        svg("path", { class: "payoff-mark", d: `M${px},${my - 7} L${px + 7},${my} L${px},${my + 7} L${px - 7},${my} Z` }),
      ),
    );
  }

  picture.append(
    ...laneLabels,
    svg("text", { class: "hook-label", x: x(0) + 2, y: 12 }, T.timeline.hook(span(0, hookEnd))),
  );

  // time axis
  const axisY = L.plotBottom + 4;
  const every = tickStep(duration, L.compact ? 5 : 10);
  for (let t = 0; t <= duration + 1e-6; t += every) {
    const tx = x(t);
    const anchor = t === 0 ? "start" : tx > width - 30 ? "end" : "middle";
    picture.append(
      svg("line", { class: "tick", x1: tx, x2: tx, y1: axisY - 4, y2: axisY }),
      svg("text", { class: "tick-label", x: tx, y: axisY + 12, "text-anchor": anchor }, seconds(t)),
    );
  }

  const playhead = svg("line", {
    class: "playhead",
    x1: 0,
    x2: 0,
    y1: L.rows.frames.top,
    y2: L.plotBottom,
    visibility: "hidden",
  });
  picture.append(playhead);

  clear(root).append(picture);
  for (const chip of chipLabels) fitLabel(chip.label, chip.text, chip.room);
  return (t) => {
    if (t === null || t === undefined) {
      playhead.setAttribute("visibility", "hidden");
      return;
    }
    const px = x(t);
    playhead.setAttribute("x1", px);
    playhead.setAttribute("x2", px);
    playhead.setAttribute("visibility", "visible");
  };
}

/**
 * The timeline figure for a result. `keyframes` maps a scene index to a loadable URL.
 * Returns {element, setPlayhead(seconds|null)}; the picture redraws when its width changes.
 */
export function timeline(result, keyframes) {
  const canvas = h("div", { class: "timeline-canvas" });
  const legend = h(
    "ul",
    { class: "legend", "aria-label": T.timeline.legend },
    h("li", {}, h("span", { class: "swatch swatch-hook", "aria-hidden": "true" }), T.timeline.legendHook),
    h("li", {}, h("span", { class: "swatch swatch-cut", "aria-hidden": "true" }), T.timeline.legendCut),
    h("li", {}, h("span", { class: "swatch swatch-speech", "aria-hidden": "true" }), T.timeline.legendSpeech),
    h("li", {}, h("span", { class: "swatch swatch-loud", "aria-hidden": "true" }), T.timeline.legendLoudness),
    payoffAt(result) !== null
      ? h("li", {}, h("span", { class: "swatch swatch-payoff", "aria-hidden": "true" }), T.timeline.legendPayoff)
      : null,
    Array.isArray(result.timeline.onscreen_text) && result.timeline.onscreen_text.length
      ? h("li", {}, h("span", { class: "swatch swatch-text", "aria-hidden": "true" }), T.timeline.legendOnscreen)
      : null,
  );
  const element = h("figure", { class: "timeline" }, canvas, legend);
  let setPlayhead = () => {};
  let lastWidth = 0;
  let lastTime = null;
  const redraw = () => {
    const width = Math.floor(canvas.clientWidth);
    if (width <= 0 || width === lastWidth) return;
    lastWidth = width;
    setPlayhead = draw(canvas, { result, keyframes }, width);
    setPlayhead(lastTime);
  };
  let pending = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(redraw);
  }).observe(canvas);
  return {
    element,
    setPlayhead(t) {
      lastTime = t;
      setPlayhead(t);
    },
  };
}
