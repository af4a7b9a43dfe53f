"""The result as a DOCX shooting script: keys, the scene table with keyframe pictures,
recommendations and the original text. A pure function: pictures come in as bytes."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Cm, Pt, RGBColor

from reels_scripter.contract import AnalysisResult
from reels_scripter.render.markdown import transcript_label, translation_text
from reels_scripter.texts import (
    ExportTexts,
    as_sentence,
    hook_type_label,
    seconds,
    seconds_span,
)

TEXTS = ExportTexts
# Landscape A4 minus margins is about 25.7 cm; the picture column fits a 9:16 thumbnail.
COLUMN_WIDTHS_CM = (2.2, 3.4, 6.4, 7.2, 6.5)
THUMB_WIDTH_CM = 3.0
MUTED = RGBColor(0x55, 0x5B, 0x66)


def _landscape(document: Any) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))


def _muted(paragraph: Any, text: str) -> None:
    run = paragraph.add_run(text)
    run.italic = True
    run.font.color.rgb = MUTED


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


PRODUCT = "Reels Scripter"


def _properties(document: Any, title: str | None) -> None:
    """What a file manager and Word's Info pane show: the reel's name and this product, not
    the template's "python-docx" author and empty title."""
    props = document.core_properties
    props.title = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", title or "").strip()
    props.author = PRODUCT
    props.last_modified_by = PRODUCT
    props.comments = ""
    props.subject = ""
    props.keywords = ""


def render_docx(
    result: AnalysisResult, keyframes: Mapping[int, bytes], title: str | None = None
) -> bytes:
    """A .docx document; `keyframes` maps a scene index to its JPEG (missing: no picture)."""
    document = Document()
    _properties(document, title)
    _landscape(document)
    styles = document.styles
    styles["Normal"].font.name = "Arial"
    styles["Normal"].font.size = Pt(10)

    document.add_heading(TEXTS.DOCX_TITLE, level=0)
    info = document.add_paragraph()
    if title:
        info.add_run(TEXTS.SAMPLE.format(title)).bold = True
    scenes = len(result.timeline.scenes)
    info.add_run(
        TEXTS.SUMMARY.format(_duration(result.timeline.duration), scenes, len(result.script))
    )

    hook = result.hook_type
    if hook is not None:
        p = document.add_paragraph()
        p.add_run(f"{TEXTS.HOOK_TYPE}: ").bold = True
        p.add_run(hook_type_label(hook.type) + ".")
        if hook.payoff_at:
            p.add_run(TEXTS.PAYOFF.format(seconds(hook.payoff_at)))
        if hook.evidence:
            _muted(p, f" {as_sentence(hook.evidence)}")

    document.add_heading(TEXTS.KEYS, level=1)
    for key in result.keys:
        p = document.add_paragraph(style="List Bullet")
        p.add_run(f"{key.title}. ").bold = True
        p.add_run(key.description)
        if key.evidence:
            _muted(p, TEXTS.FACTS.format("; ".join(key.evidence)))

    document.add_heading(TEXTS.SCRIPT, level=1)
    table = document.add_table(rows=1, cols=len(TEXTS.COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, name in zip(table.rows[0].cells, TEXTS.COLUMNS, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(name).bold = True
    for row in result.script:
        cells = table.add_row().cells
        cells[0].text = seconds_span(row.start, row.end)
        picture = keyframes.get(row.scene)
        if picture:
            cells[1].paragraphs[0].add_run().add_picture(
                io.BytesIO(picture), width=Cm(THUMB_WIDTH_CM)
            )
        else:
            cells[1].text = "—"
        cells[2].text = row.visual
        cells[3].text = row.text
        cells[4].text = row.note
    for column, width in zip(table.columns, COLUMN_WIDTHS_CM, strict=True):
        for cell in column.cells:
            cell.width = Cm(width)

    document.add_heading(TEXTS.RECOMMENDATIONS, level=1)
    for rec in result.recommendations:
        p = document.add_paragraph(style="List Bullet")
        p.add_run(f"{rec.category}. ").bold = True
        p.add_run(rec.text)

    document.add_heading(TEXTS.ORIGINAL, level=1)
    p = document.add_paragraph()
    p.add_run(f"{transcript_label(result)}: ").bold = True
    p.add_run(result.original.transcription or "—")
    p = document.add_paragraph()
    p.add_run(TEXTS.TRANSLATION + ": ").bold = True
    p.add_run(translation_text(result))

    if result.meta.warnings:
        document.add_heading(TEXTS.WARNINGS, level=1)
        for warning in result.meta.warnings:
            document.add_paragraph(str(warning), style="List Bullet")

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
