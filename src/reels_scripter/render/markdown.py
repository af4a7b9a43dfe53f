"""The result as a Markdown document a person can print and shoot from."""

from __future__ import annotations

from reels_scripter.compose import format_seconds
from reels_scripter.contract import AnalysisResult
from reels_scripter.texts import hook_type_label


def translation_text(result: AnalysisResult) -> str:
    """The translation as a person reads it: an empty one of foreign speech is said to be
    missing (no offline translator), not shown as a blank."""
    original = result.original
    if original.translation:
        return original.translation
    foreign = original.language and original.language != result.meta.target_language
    if original.transcription and foreign:
        return "не выполнен (офлайн-переводчика нет; см. предупреждения)"
    return "—"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def render_markdown(result: AnalysisResult) -> str:
    lines = ["# Сценарий ролика", ""]
    hook = result.hook_type
    if hook is not None:
        payoff = f" Развязка — на {format_seconds(hook.payoff_at)} с." if hook.payoff_at else ""
        evidence = f" {hook.evidence}" if hook.evidence else ""
        lines += [f"**Тип хука:** {hook_type_label(hook.type)}.{payoff}{evidence}", ""]
    lines += ["## Ключи к успеху", ""]
    for key in result.keys:
        evidence = f" _({'; '.join(key.evidence)})_" if key.evidence else ""
        lines.append(f"- **{key.title}.** {key.description}{evidence}")
    lines += ["", "## Сценарий", "", "| Время | Визуал | Текст | Заметка |", "|---|---|---|---|"]
    for row in result.script:
        lines.append(
            f"| {_cell(row.time)} | {_cell(row.visual)} | {_cell(row.text)} | {_cell(row.note)} |"
        )
    lines += ["", "## Рекомендации", ""]
    for rec in result.recommendations:
        lines.append(f"- **{rec.category}.** {rec.text}")
    lines += ["", "## Оригинал", ""]
    lines.append(f"**Транскрипция:** {result.original.transcription or '—'}")
    lines.append("")
    lines.append(f"**Перевод:** {translation_text(result)}")
    if result.meta.warnings:
        lines += ["", "## Предупреждения", ""]
        lines += [f"- {w}" for w in result.meta.warnings]
    return "\n".join(lines) + "\n"
