// Where an imported reel came from (result.source): platform, author and reach, with a link
// to the original. Nothing here for an uploaded reel.

import { h } from "./dom.js";
import { plural } from "./format.js";
import { T } from "./texts.js";

const NB = "\u00a0";
const decimal = new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 1 });
const day = new Intl.DateTimeFormat("ru-RU", { day: "numeric", month: "long", year: "numeric" });

/** 2300000 views -> "2,3" + million + views (the forms from texts.js); 161 -> "161" + its form */
export function reach(n, forms) {
  const S = T.source;
  const units = [
    [1e9, S.billion],
    [1e6, S.million],
    [1e3, S.thousand],
  ];
  for (let i = 0; i < units.length; i++) {
    let [size, unit] = units[i];
    if (n < size) continue;
    let value = Math.round((n / size) * 10) / 10;
    if (value >= 1000 && i > 0) {
      // a figure that rounds up to the next unit takes it: 999 960 views read as 1 million,
      // never as 1000 thousand
      [size, unit] = units[i - 1];
      value = Math.round((n / size) * 10) / 10;
    }
    return `${decimal.format(value)}${NB}${unit}${NB}${forms[2]}`;
  }
  return `${n}${NB}${plural(n, forms)}`;
}

function safeLink(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The source line, or null when the reel was uploaded. */
export function sourceLine(result) {
  const source = result && result.source;
  if (!source) return null;
  const S = T.source;
  const href = safeLink(source.url);
  // a page or file on any other site is named by its host
  const known = source.platform !== "web" && S.platforms[source.platform];
  const platform = known || (href ? new URL(href).hostname.replace(/^www\./, "") : S.platforms.web);
  const parts = [
    source.uploader ? S.author(source.uploader) : null,
    Number.isFinite(source.views) ? reach(source.views, S.views) : null,
    Number.isFinite(source.likes) ? reach(source.likes, S.likes) : null,
    Number.isFinite(source.comments) ? reach(source.comments, S.comments) : null,
  ].filter(Boolean);
  if (source.published_at) {
    const when = new Date(source.published_at);
    if (!Number.isNaN(when.getTime())) parts.push(S.published(day.format(when)));
  }
  return h(
    "p",
    { class: "source-line", "data-platform": source.platform },
    h("span", { class: "source-lead" }, `${S.lead} `),
    href
      ? h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow", title: S.open }, platform)
      : platform,
    parts.length ? ` · ${parts.join(" · ")}` : "",
  );
}
