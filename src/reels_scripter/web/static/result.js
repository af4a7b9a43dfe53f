// The finished analysis: take-away buttons, warnings, the timeline picture, hook type, the
// five keys, the script table with a player, recommendations, original and translation.

import * as api from "./api.js";
import { h, clear, fill } from "./dom.js";
import {
  HOOK_TYPE_LABELS,
  KEY_LABELS,
  clock,
  count,
  seconds,
  span,
  stem,
  warningText,
} from "./format.js";
import { aiOffer } from "./ai.js";
import { prompterButton } from "./prompter.js";
import { editableScript } from "./script-edit.js";
import { shareControls } from "./sharing.js";
import { sourceLine } from "./source.js";
import { T } from "./texts.js";
import { timeline } from "./timeline.js";

function section(title, className, ...children) {
  const headingId = `s-${className}`;
  return h(
    "section",
    { class: `panel ${className}`, "aria-labelledby": headingId },
    h("h2", { id: headingId }, title),
    ...children,
  );
}

function scriptAsText(name, result) {
  const lines = [T.result.asTextTitle(name), ""];
  result.script.forEach((row, i) => {
    lines.push(`${i + 1}. ${span(row.start, row.end)}`);
    lines.push(`${T.result.asTextVisual}: ${row.visual}`);
    lines.push(`${T.result.asTextVoice}: ${row.text}`);
    if (row.note) lines.push(`${T.result.asTextNote}: ${row.note}`);
    lines.push("");
  });
  return lines.join("\n").trim() + "\n";
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // plain http on a LAN address has no Clipboard API: the old way still works there
  const area = h("textarea", { class: "visually-hidden", readonly: true }, text);
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy failed");
}

/** The subtitle tracks the server can make, by the same rule as render/subtitles.py: the
 * original when something was said, the translation only when the speech was translated. */
function subtitleTracks(result) {
  const original = result.original || {};
  const meta = result.meta || {};
  const spoken = (result.timeline.speech || []).some((s) => (s.text || "").trim());
  const source = original.language || meta.source_language || "";
  const target = meta.target_language || "ru";
  const translation = (original.translation || "").trim();
  // lines the creator wrote in the target language are the voice-over, translated or not
  const edited = (result.script || []).some(
    (row) => row.edited && (row.text || "").trim() && !row.text_language,
  );
  const translated =
    spoken &&
    (edited ||
      (Boolean(translation) &&
        !(source && source.split("-")[0] === target.split("-")[0]) &&
        translation !== (original.transcription || "").trim()));
  return {
    original: spoken ? { language: source } : null,
    translation: translated ? { language: target } : null,
  };
}

function downloads(ctx, job, result) {
  const id = encodeURIComponent(job.id);
  const name = stem(job.displayName);
  const tracks = subtitleTracks(result);
  // `<name>.en.srt`, as the server names it
  const subtitleName = (track, kind) =>
    track.language ? `${name}.${track.language}.${kind}` : `${name}.${kind}`;
  const subtitleGroup = (track, code, label, srtLabel, vttLabel) =>
    track
      ? h(
          "span",
          { class: "takeaway-group" },
          h("span", { class: "takeaway-label" }, label),
          fetchButton("SRT", `/api/jobs/${id}/subtitles.srt?track=${code}`, subtitleName(track, "srt"), srtLabel),
          fetchButton("VTT", `/api/jobs/${id}/subtitles.vtt?track=${code}`, subtitleName(track, "vtt"), vttLabel),
        )
      : null;
  const fetchButton = (label, path, fallback, description) =>
    h(
      "button",
      {
        type: "button",
        class: "button secondary",
        "aria-label": description,
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          try {
            await api.download(path, fallback);
          } catch (err) {
            ctx.toast(err.message, "error");
          } finally {
            button.disabled = false;
          }
        },
      },
      label,
    );
  return h(
    "div",
    { class: "takeaway", role: "group", "aria-label": T.result.takeaway },
    h(
      "button",
      {
        type: "button",
        class: "button",
        onclick: async () => {
          try {
            await copyText(scriptAsText(job.displayName || T.result.reel, result));
            ctx.toast(T.result.copied);
          } catch {
            ctx.toast(T.result.copyFailed, "error");
          }
        },
      },
      T.result.copy,
    ),
    h(
      "span",
      { class: "takeaway-group" },
      h("span", { class: "takeaway-label" }, T.result.downloadScript),
      h(
        "button",
        {
          type: "button",
          class: "button secondary",
          "aria-label": T.result.downloadJson,
          onclick: () => {
            const blob = new Blob([JSON.stringify(result, null, 2)], { type: "application/json" });
            api.saveBlob(blob, `${name}.json`);
          },
        },
        "JSON",
      ),
      fetchButton("Markdown", `/api/jobs/${id}/script.md`, `${name}.md`, T.result.downloadMarkdown),
      fetchButton("DOCX", `/api/jobs/${id}/script.docx`, `${name}.docx`, T.result.downloadDocx),
    ),
    subtitleGroup(
      tracks.original,
      "original",
      T.result.subtitlesOriginal,
      T.result.subtitlesOriginalSrt,
      T.result.subtitlesOriginalVtt,
    ),
    subtitleGroup(
      tracks.translation,
      "translation",
      T.result.subtitlesTranslation,
      T.result.subtitlesTranslationSrt,
      T.result.subtitlesTranslationVtt,
    ),
  );
}

function warningsBox(result) {
  const warnings = (result.meta && result.meta.warnings) || [];
  if (!warnings.length) return null;
  return h(
    "aside",
    { class: "warnings", "aria-labelledby": "warnings-title" },
    h("h2", { id: "warnings-title" }, T.result.warnings),
    h("ul", {}, warnings.map((w) => h("li", {}, warningText(w)))),
  );
}

function hookTypeCard(result) {
  const hook = result.hook_type;
  if (!hook || typeof hook !== "object" || !hook.type) return null;
  const evidence = Array.isArray(hook.evidence) ? hook.evidence : hook.evidence ? [hook.evidence] : [];
  return h(
    "div",
    { class: "hook-type" },
    h("p", { class: "eyebrow" }, T.result.hookType),
    h("p", { class: "hook-type-name" }, HOOK_TYPE_LABELS[hook.type] || hook.type),
    typeof hook.payoff_at === "number"
      ? h("p", {}, T.result.payoff(seconds(hook.payoff_at)))
      : null,
    evidence.length ? h("ul", { class: "evidence" }, evidence.map((e) => h("li", {}, String(e)))) : null,
  );
}

function keyCards(result) {
  return h(
    "div",
    { class: "cards" },
    result.keys.map((key) =>
      h(
        "article",
        { class: `card key key-${key.category}` },
        h("p", { class: "eyebrow" }, KEY_LABELS[key.category] || key.category),
        h("h3", {}, key.title),
        h("p", {}, key.description),
        key.evidence && key.evidence.length
          ? h(
              "div",
              { class: "evidence-block" },
              h("p", { class: "evidence-title" }, T.result.evidence),
              h("ul", { class: "evidence" }, key.evidence.map((e) => h("li", {}, e))),
            )
          : null,
      ),
    ),
  );
}

/** The player panel: the original video from the row's start to its end, or the keyframe. */
function player(ctx, job, result, keyframes, onTime, onClose) {
  const panel = h("div", { class: "player", hidden: true, "aria-live": "polite" });
  let video = null;
  let stopAt = null;
  let watching = 0;
  let sourcePromise = null;
  const fps = (result.meta && result.meta.video && result.meta.video.fps) || 30;
  const frame = 1 / Math.max(fps, 1);

  // `timeupdate` comes only every quarter second or so: a row would run on into the next
  // shot. Each painted frame is checked instead, and the row ends on its own last frame.
  const watchFrames = () => {
    cancelAnimationFrame(watching);
    const check = () => {
      if (!video || stopAt === null) return;
      if (!video.paused && video.currentTime >= stopAt - frame) {
        video.pause();
        video.currentTime = Math.max(0, stopAt - frame / 2); // the row's last frame
        stopAt = null;
        return;
      }
      watching = requestAnimationFrame(check);
    };
    watching = requestAnimationFrame(check);
  };

  const source = () => {
    if (!sourcePromise) {
      const local = ctx.localVideos.get(job.id);
      if (local) sourcePromise = Promise.resolve(local.url);
      else if (job.videoStored)
        sourcePromise = api
          .signedUrl(job.id, `/api/jobs/${encodeURIComponent(job.id)}/video`)
          .catch(() => null);
      else sourcePromise = Promise.resolve(null);
    }
    return sourcePromise;
  };

  const close = () => {
    cancelAnimationFrame(watching);
    if (video) video.pause();
    onTime(null);
    panel.hidden = true;
    onClose();
  };
  const bar = (caption) =>
    h(
      "div",
      { class: "player-bar" },
      h("p", { class: "player-caption" }, caption),
      h("button", { type: "button", class: "player-close", onclick: close }, T.result.close),
    );

  const showKeyframe = (row, reason) => {
    if (video) video.pause();
    onTime(null);
    const url = keyframes.get(row.scene);
    clear(panel).append(
      bar(T.result.fragmentKeyframe(span(row.start, row.end))),
      url
        ? h("img", { class: "player-still", src: url, alt: T.result.keyframeAlt(span(row.start, row.end)) })
        : h("p", {}, T.result.noKeyframe),
      h("p", { class: "muted" }, reason),
    );
    panel.hidden = false;
  };

  const play = async (row) => {
    const url = await source();
    if (!url) {
      showKeyframe(row, T.result.videoGone);
      return;
    }
    if (!video) {
      video = h("video", {
        class: "player-video",
        controls: true,
        playsinline: true,
        preload: "metadata",
        src: url,
      });
      video.addEventListener("timeupdate", () => onTime(video.currentTime));
      video.addEventListener("play", watchFrames);
      video.addEventListener("error", () => {
        const current = panel.dataset.row ? result.script[Number(panel.dataset.row)] : result.script[0];
        video = null;
        sourcePromise = Promise.resolve(null);
        showKeyframe(current, T.result.videoBroken);
      });
    }
    const index = result.script.indexOf(row);
    panel.dataset.row = String(index);
    clear(panel).append(bar(T.result.fragmentBlock(span(row.start, row.end), index + 1)), video);
    panel.hidden = false;
    stopAt = row.end;
    watchFrames();
    const start = () => {
      video.currentTime = row.start;
      video.play().catch(() => {
        // autoplay refused (no gesture): the controls are there to press play
      });
    };
    if (video.readyState >= 1) start();
    else video.addEventListener("loadedmetadata", start, { once: true });
  };

  return { panel, play, close };
}

function scriptTable(result, keyframes, onPlay) {
  const rows = result.script.map((row, i) => {
    const label = T.result.watch(span(row.start, row.end));
    const url = keyframes.get(row.scene);
    const tr = h(
      "tr",
      {
        class: "script-row",
        onclick: (event) => {
          if (event.target.closest("button, a")) return;
          onPlay(row, tr);
        },
      },
      h(
        "td",
        { class: "col-time", "data-label": T.result.columns.time },
        h(
          "button",
          { type: "button", class: "play", "aria-label": label, onclick: () => onPlay(row, tr) },
          h("span", { class: "play-icon", "aria-hidden": "true" }, "▶"),
          span(row.start, row.end),
        ),
      ),
      h(
        "td",
        { class: "col-frame", "data-label": T.result.columns.frame },
        url
          ? h("img", {
              class: "thumb",
              src: url,
              alt: T.result.sceneAlt(row.scene + 1),
              width: 72,
              height: 128,
              decoding: "async",
            })
          : "—",
      ),
      h("td", { class: "col-visual", "data-label": T.result.columns.visual }, row.visual),
      h("td", { class: "col-text", "data-label": T.result.columns.voice }, row.text),
      h("td", { class: "col-note", "data-label": T.result.columns.note }, row.note),
    );
    tr.dataset.index = String(i);
    return tr;
  });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "script" },
      h("caption", { class: "visually-hidden" }, T.result.scriptCaption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          Object.values(T.result.columns).map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

function recommendations(result) {
  return h(
    "ul",
    { class: "recs" },
    result.recommendations.map((rec) =>
      h("li", { class: "card rec" }, h("h3", {}, rec.category), h("p", {}, rec.text)),
    ),
  );
}

function originalText(result) {
  const original = result.original;
  const meta = result.meta || {};
  const source = original.language || meta.source_language;
  const language = source ? T.result.languages[source] || null : null;
  const target = meta.target_language || "ru";
  const foreign = Boolean(original.transcription && source && source !== target);
  // An empty translation of foreign speech means no translator ran (offline); results from
  // before that rule carried the transcript itself in `translation`.
  const untranslated =
    foreign && (!original.translation || original.translation === original.transcription);
  let translation;
  if (untranslated) {
    translation = [
      h("p", { class: "long-text muted" }, T.result.untranslated),
      h("p", { class: "muted" }, T.result.untranslatedWhy),
    ];
  } else {
    translation = [
      h(
        "p",
        { class: "long-text" },
        original.translation || (original.transcription ? T.result.noTranslation : T.result.noSpeech),
      ),
    ];
  }
  return h(
    "div",
    { class: "pair" },
    h(
      "div",
      { class: "card" },
      h("h3", {}, language ? T.result.originalIn(language) : T.result.original),
      h("p", { class: "long-text" }, original.transcription || T.result.noSpeech),
    ),
    h("div", { class: "card" }, h("h3", {}, T.result.translationIn(T.result.languages[target] || target)), ...translation),
  );
}

async function signedKeyframes(job, result) {
  const map = new Map();
  await Promise.all(
    (result.timeline.scenes || []).map(async (scene) => {
      if (!scene.keyframe) return;
      map.set(scene.index, await api.signedUrl(job.id, scene.keyframe));
    }),
  );
  return map;
}

/** Render a completed job (JobDetail body) into `container`. */
export async function renderResult(container, ctx, job) {
  const alive = ctx.alive();
  const result = job.result;
  const keyframes = await signedKeyframes(job, result);
  if (!alive()) return; // the person has moved on to another page meanwhile
  const duration = result.timeline.duration;
  const name = job.displayName || T.result.unnamed;
  const picture = timeline(result, keyframes);
  let activeRow = null;
  const view = player(
    ctx,
    job,
    result,
    keyframes,
    (t) => picture.setPlayhead(t),
    () => {
      if (!activeRow) return;
      activeRow.classList.remove("active");
      activeRow.querySelector("button.play").focus();
      activeRow = null;
    },
  );
  const onPlay = (row, tr) => {
    if (activeRow) activeRow.classList.remove("active");
    activeRow = tr;
    tr.classList.add("active");
    view.play(row);
    view.panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
  };

  const scriptSection = section(
    T.result.script,
    "script-panel",
    h("p", { class: "muted" }, T.result.scriptHint),
    view.panel,
  );
  const table = scriptTable(result, keyframes, onPlay);
  const editBar = editableScript(ctx, job, result, table); // none on a read-only page
  scriptSection.append(...[prompterButton(result), editBar, table].filter(Boolean));
  scriptSection.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !view.panel.hidden) view.close();
  });

  fill(
    container,
    h(
      "header",
      { class: "result-head" },
      h("p", { class: "eyebrow" }, T.result.ready),
      h("h1", { tabindex: "-1" }, name),
      h(
        "p",
        { class: "muted" },
        [
          T.result.length(clock(duration)),
          count(result.timeline.scenes.length, T.format.scenes),
          count(result.script.length, T.format.blocks),
        ]
          .filter(Boolean)
          .join(" · "),
      ),
      sourceLine(result),
      downloads(ctx, job, result),
    ),
    ctx.readOnly ? null : aiOffer(result), // a shared page changes no settings
    warningsBox(result),
    section(
      T.result.timeline,
      "timeline-panel",
      h("p", { class: "muted" }, T.result.timelineHint(seconds(duration))),
      picture.element,
      hookTypeCard(result),
    ),
    section(T.result.keys, "keys", keyCards(result)),
    scriptSection,
    section(T.result.recommendations, "recs-panel", recommendations(result)),
    section(T.result.text, "original", originalText(result)),
    ctx.readOnly ? null : shareControls(ctx, job),
  );
}
