"""The result as a Markdown document a person can print and shoot from."""

from __future__ import annotations

import re

from reels_scripter.contract import AnalysisResult
from reels_scripter.texts import (
    ExportTexts,
    as_sentence,
    hook_type_label,
    language_label,
    seconds,
    seconds_span,
)

TEXTS = ExportTexts
_SPACES = re.compile(r"[ \t\r\n]+")


def translation_text(result: AnalysisResult) -> str:
    """The translation as a person reads it: an empty one of foreign speech is said to be
    missing (no offline translator), not shown as a blank."""
    original = result.original
    if original.translation:
        return original.translation
    foreign = original.language and original.language != result.meta.target_language
    if original.transcription and foreign:
        return TEXTS.NOT_TRANSLATED
    return "—"


def transcript_label(result: AnalysisResult) -> str:
    """«Оригинал (английский)»: the original's text, named with its spoken language."""
    code = result.original.language
    return f"{TEXTS.TRANSCRIPT} ({language_label(code)})" if code else TEXTS.TRANSCRIPT


def _cell(text: str) -> str:
    # ordinary whitespace only: a non-breaking space («5 с») stays
    return _SPACES.sub(" ", text.replace("|", "\\|")).strip()


def render_markdown(result: AnalysisResult) -> str:
    lines = [f"# {TEXTS.MD_TITLE}", ""]
    hook = result.hook_type
    if hook is not None:
        payoff = TEXTS.PAYOFF.format(seconds(hook.payoff_at)) if hook.payoff_at else ""
        evidence = f" {as_sentence(hook.evidence)}" if hook.evidence else ""
        lines += [f"**{TEXTS.HOOK_TYPE}:** {hook_type_label(hook.type)}.{payoff}{evidence}", ""]
    lines += [f"## {TEXTS.KEYS}", ""]
    for key in result.keys:
        evidence = f" _({'; '.join(key.evidence)})_" if key.evidence else ""
        lines.append(f"- **{key.title}.** {key.description}{evidence}")
    header = " | ".join(TEXTS.MD_COLUMNS)
    lines += ["", f"## {TEXTS.SCRIPT}", "", f"| {header} |", "|---|---|---|---|"]
    for row in result.script:
        cells = (seconds_span(row.start, row.end), row.visual, row.text, row.note)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", f"## {TEXTS.RECOMMENDATIONS}", ""]
    for rec in result.recommendations:
        lines.append(f"- **{rec.category}.** {rec.text}")
    lines += ["", f"## {TEXTS.ORIGINAL}", ""]
    lines.append(f"**{transcript_label(result)}:** {result.original.transcription or '—'}")
    lines.append("")
    lines.append(f"**{TEXTS.TRANSLATION}:** {translation_text(result)}")
    if result.meta.warnings:
        lines += ["", f"## {TEXTS.WARNINGS}", ""]
        lines += [f"- {w}" for w in result.meta.warnings]
    return "\n".join(lines) + "\n"
