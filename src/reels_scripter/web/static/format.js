// Russian words and numbers for the page.

/** plural(5, ["сцена", "сцены", "сцен"]) -> "сцен" */
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

/** 2.5 -> "2,5 с" */
export function seconds(value) {
  return `${num(Math.round(value * 10) / 10)}\u00a0с`;
}

/** 0 and 5.2 -> "0–5,2 с" */
export function span(start, end) {
  return `${num(Math.round(start * 10) / 10)}–${num(Math.round(end * 10) / 10)}\u00a0с`;
}

/** 68.4 -> "1:08" */
export function clock(value) {
  const total = Math.max(0, Math.round(value));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** A duration as words: 200 -> "3 мин 20 с" */
export function duration(value) {
  const total = Math.max(0, Math.round(value));
  const m = Math.floor(total / 60);
  const s = total % 60;
  if (!m) return `${s}\u00a0с`;
  return s ? `${m}\u00a0мин ${s}\u00a0с` : `${m}\u00a0мин`;
}

export function bytes(value) {
  if (value < 1024 * 1024) return `${num(Math.max(value, 0) / 1024)}\u00a0КБ`;
  return `${num(value / (1024 * 1024))}\u00a0МБ`;
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

export const STATE_LABELS = {
  waiting: "В очереди",
  active: "Анализируется",
  completed: "Готово",
  failed: "Ошибка",
};

// Only for servers that still send a bare stage code in `stage` (no `stageCode` beside it):
// newer ones send the Russian label themselves, and unknown codes fall back to the state.
const STAGE_FALLBACK = {
  queued: "В очереди",
  download: "Получаем видео",
  probe: "Проверяем файл",
  video: "Разбираем кадры",
  speech: "Распознаём речь",
  audio: "Слушаем звук",
  ai: "Пишем сценарий",
  retrying: "Повторная попытка",
  requeued: "Снова в очереди",
  done: "Готово",
  deduplicated: "Готово",
};

/** What to call the job's current step, in Russian, from a status body. */
export function stageLabel(status) {
  const stage = typeof status.stage === "string" ? status.stage.trim() : "";
  if (stage && (status.stageCode || /[а-яё]/i.test(stage))) return stage;
  if (stage && STAGE_FALLBACK[stage]) return STAGE_FALLBACK[stage];
  const code = typeof status.stageCode === "string" ? status.stageCode : "";
  if (code && STAGE_FALLBACK[code]) return STAGE_FALLBACK[code];
  if (status.state === "waiting") return "В очереди";
  if (status.state === "completed") return "Готово";
  return "Идёт анализ";
}

export const KEY_LABELS = {
  hook: "Хук",
  structure: "Структура",
  delivery: "Подача",
  visual: "Визуал",
  audio: "Звук",
};

export const HOOK_TYPE_LABELS = {
  result_first: "Сначала результат",
  shock_violation: "Шок, нарушение ожиданий",
  reveal_transform: "Раскрытие, преображение",
  relatable_slice: "Узнаваемая ситуация",
  humor_gag: "Шутка",
  tension_wait: "Напряжение, ожидание",
  direct_callout: "Прямое обращение к зрителю",
  challenge_stakes: "Вызов и ставки",
  authority_flex: "Демонстрация экспертности",
  social_proof: "Социальное доказательство",
  open_question: "Открытый вопрос",
  demo_novelty: "Демонстрация новинки",
  confession_secret: "Признание, секрет",
  contradiction_mythbust: "Разрушение мифа",
  unknown: "Не определён",
};

/** A warning may be a plain string or (later) an object with text and code. */
export function warningText(warning) {
  if (typeof warning === "string") return warning;
  if (warning && typeof warning === "object") {
    return warning.text || warning.message || warning.error || JSON.stringify(warning);
  }
  return String(warning);
}

/** "reel.mp4" -> "reel" (for download names) */
export function stem(name) {
  const base = (name || "").replace(/\.[A-Za-z0-9]{1,5}$/, "").trim();
  return base || "scenario";
}
