"""The result as a Markdown document a person can print and shoot from."""

from __future__ import annotations

from reels_scripter.contract import AnalysisResult


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def render_markdown(result: AnalysisResult) -> str:
    lines = ["# Сценарий ролика", ""]
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
    lines.append(f"**Перевод:** {result.original.translation or '—'}")
    if result.meta.warnings:
        lines += ["", "## Warnings", ""]
        lines += [f"- {w}" for w in result.meta.warnings]
    return "\n".join(lines) + "\n"
