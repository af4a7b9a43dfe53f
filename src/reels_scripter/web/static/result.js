// The finished analysis: take-away buttons, warnings, the timeline picture, hook type, the
// five keys, the script table with a player, recommendations, original and translation.

import * as api from "./api.js";
import { h, clear } from "./dom.js";
import {
  HOOK_TYPE_LABELS,
  KEY_LABELS,
  clock,
  count,
  num,
  seconds,
  span,
  stem,
  warningText,
} from "./format.js";
import { prompterButton } from "./prompter.js";
import { editableScript } from "./script-edit.js";
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
  const lines = [`Сценарий по ролику «${name}»`, ""];
  result.script.forEach((row, i) => {
    lines.push(`${i + 1}. ${span(row.start, row.end)}`);
    lines.push(`Визуал: ${row.visual}`);
    lines.push(`Текст за кадром: ${row.text}`);
    if (row.note) lines.push(`Заметка: ${row.note}`);
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

function downloads(ctx, job, result) {
  const id = encodeURIComponent(job.id);
  const name = stem(job.displayName);
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
    { class: "takeaway", role: "group", "aria-label": "Забрать результат" },
    h(
      "button",
      {
        type: "button",
        class: "button",
        onclick: async () => {
          try {
            await copyText(scriptAsText(job.displayName || "ролик", result));
            ctx.toast("Сценарий скопирован");
          } catch {
            ctx.toast("Не удалось скопировать: браузер не дал доступ к буферу обмена", "error");
          }
        },
      },
      "Скопировать сценарий",
    ),
    h(
      "span",
      { class: "takeaway-group" },
      h("span", { class: "takeaway-label" }, "Скачать сценарий:"),
      h(
        "button",
        {
          type: "button",
          class: "button secondary",
          "aria-label": "Скачать JSON",
          onclick: () => {
            const blob = new Blob([JSON.stringify(result, null, 2)], { type: "application/json" });
            api.saveBlob(blob, `${name}.json`);
          },
        },
        "JSON",
      ),
      fetchButton("Markdown", `/api/jobs/${id}/script.md`, `${name}.md`, "Скачать Markdown"),
      fetchButton("DOCX", `/api/jobs/${id}/script.docx`, `${name}.docx`, "Скачать DOCX"),
    ),
    h(
      "span",
      { class: "takeaway-group" },
      h("span", { class: "takeaway-label" }, "Субтитры оригинала:"),
      fetchButton("SRT", `/api/jobs/${id}/subtitles.srt?track=original`, `${name}.srt`, "Субтитры оригинала, SRT"),
      fetchButton("VTT", `/api/jobs/${id}/subtitles.vtt?track=original`, `${name}.vtt`, "Субтитры оригинала, VTT"),
    ),
    h(
      "span",
      { class: "takeaway-group" },
      h("span", { class: "takeaway-label" }, "Субтитры перевода:"),
      fetchButton("SRT", `/api/jobs/${id}/subtitles.srt?track=translation`, `${name}-ru.srt`, "Субтитры перевода, SRT"),
      fetchButton("VTT", `/api/jobs/${id}/subtitles.vtt?track=translation`, `${name}-ru.vtt`, "Субтитры перевода, VTT"),
    ),
  );
}

function warningsBox(result) {
  const warnings = (result.meta && result.meta.warnings) || [];
  if (!warnings.length) return null;
  return h(
    "aside",
    { class: "warnings", "aria-labelledby": "warnings-title" },
    h("h2", { id: "warnings-title" }, "Обратите внимание"),
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
    h("p", { class: "eyebrow" }, "Тип хука"),
    h("p", { class: "hook-type-name" }, HOOK_TYPE_LABELS[hook.type] || hook.type),
    typeof hook.payoff_at === "number"
      ? h("p", {}, `Развязка обещания — на ${seconds(hook.payoff_at)}`)
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
              h("p", { class: "evidence-title" }, "На чём основано:"),
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
  let sourcePromise = null;

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
      h("button", { type: "button", class: "player-close", onclick: close }, "Закрыть"),
    );

  const showKeyframe = (row, reason) => {
    if (video) video.pause();
    onTime(null);
    const url = keyframes.get(row.scene);
    clear(panel).append(
      bar(`Фрагмент ${span(row.start, row.end)} · ключевой кадр`),
      url
        ? h("img", { class: "player-still", src: url, alt: `Ключевой кадр фрагмента ${span(row.start, row.end)}` })
        : h("p", {}, "Ключевого кадра нет."),
      h("p", { class: "muted" }, reason),
    );
    panel.hidden = false;
  };

  const play = async (row) => {
    const url = await source();
    if (!url) {
      showKeyframe(row, "Видео больше не хранится на сервере, поэтому показан ключевой кадр сцены.");
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
      video.addEventListener("timeupdate", () => {
        onTime(video.currentTime);
        if (stopAt !== null && video.currentTime >= stopAt) {
          video.pause();
          stopAt = null;
        }
      });
      video.addEventListener("error", () => {
        const current = panel.dataset.row ? result.script[Number(panel.dataset.row)] : result.script[0];
        video = null;
        sourcePromise = Promise.resolve(null);
        showKeyframe(current, "Видео не удалось воспроизвести, поэтому показан ключевой кадр сцены.");
      });
    }
    const index = result.script.indexOf(row);
    panel.dataset.row = String(index);
    clear(panel).append(bar(`Фрагмент ${span(row.start, row.end)} · блок ${index + 1}`), video);
    panel.hidden = false;
    stopAt = row.end;
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
    const label = `Смотреть фрагмент ${span(row.start, row.end)}`;
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
        { class: "col-time", "data-label": "Время" },
        h(
          "button",
          { type: "button", class: "play", "aria-label": label, onclick: () => onPlay(row, tr) },
          h("span", { class: "play-icon", "aria-hidden": "true" }, "▶"),
          span(row.start, row.end),
        ),
      ),
      h(
        "td",
        { class: "col-frame", "data-label": "Кадр" },
        url
          ? h("img", {
              class: "thumb",
              src: url,
              alt: `Кадр сцены ${row.scene + 1}`,
              width: 72,
              height: 128,
              decoding: "async",
            })
          : "—",
      ),
      h("td", { class: "col-visual", "data-label": "Визуал" }, row.visual),
      h("td", { class: "col-text", "data-label": "Текст за кадром" }, row.text),
      h("td", { class: "col-note", "data-label": "Заметка" }, row.note),
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
      h("caption", { class: "visually-hidden" }, "Сценарий по сценам"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Время", "Кадр", "Визуал", "Текст за кадром", "Заметка"].map((c) => h("th", { scope: "col" }, c)),
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
  const target = meta.target_language || "ru";
  const foreign = Boolean(original.transcription && source && source !== target);
  // An empty translation of foreign speech means no translator ran (offline); results from
  // before that rule carried the transcript itself in `translation`.
  const untranslated =
    foreign && (!original.translation || original.translation === original.transcription);
  let translation;
  if (untranslated) {
    translation = [
      h("p", { class: "long-text muted" }, "Перевод не выполнен."),
      h(
        "p",
        { class: "muted" },
        "Офлайн-переводчика нет: в сценарии оставлены оригинальные реплики с пометкой языка. " +
          "Для перевода подключите ИИ-провайдер или офлайн-переводчик argostranslate.",
      ),
    ];
  } else {
    translation = [
      h(
        "p",
        { class: "long-text" },
        original.translation || (original.transcription ? "Перевода нет." : "Речь не распознана."),
      ),
    ];
  }
  return h(
    "div",
    { class: "pair" },
    h(
      "div",
      { class: "card" },
      h("h3", {}, source ? `Оригинал (${source})` : "Оригинал"),
      h("p", { class: "long-text" }, original.transcription || "Речь не распознана."),
    ),
    h("div", { class: "card" }, h("h3", {}, `Перевод (${target})`), ...translation),
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
  const meta = result.meta || {};
  const duration = result.timeline.duration;
  const name = job.displayName || "Ролик без названия";
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
    "Сценарий",
    "script-panel",
    h(
      "p",
      { class: "muted" },
      "Нажмите на строку, чтобы посмотреть этот фрагмент оригинала.",
    ),
    view.panel,
  );
  const table = scriptTable(result, keyframes, onPlay);
  scriptSection.append(prompterButton(result), editableScript(ctx, job, result, table), table);
  scriptSection.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !view.panel.hidden) view.close();
  });

  clear(container).append(
    h(
      "header",
      { class: "result-head" },
      h("p", { class: "eyebrow" }, "Разбор готов"),
      h("h1", { tabindex: "-1" }, name),
      h(
        "p",
        { class: "muted" },
        [
          `Длительность ${clock(duration)}`,
          count(result.timeline.scenes.length, ["сцена", "сцены", "сцен"]),
          count(result.script.length, ["блок сценария", "блока сценария", "блоков сценария"]),
          meta.provider ? `анализ: ${meta.provider}${meta.model ? ` (${meta.model})` : ""}` : null,
        ]
          .filter(Boolean)
          .join(" · "),
      ),
      downloads(ctx, job, result),
    ),
    warningsBox(result),
    section(
      "Таймлайн",
      "timeline-panel",
      h("p", { class: "muted" }, `Кадры сцен, склейки, речь и громкость за ${num(duration)} с.`),
      picture.element,
      hookTypeCard(result),
    ),
    section("Пять ключей к успеху", "keys", keyCards(result)),
    scriptSection,
    section("Рекомендации", "recs-panel", recommendations(result)),
    section("Текст ролика", "original", originalText(result)),
  );
}
