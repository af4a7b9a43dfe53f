"""The creator's edits of a script, as pure functions: what an edit may say, and the script it
makes.

An edit names rows by their index (0-based, as in `result.script`) and gives any of the
row's four texts: the voice-over `text`, the `visual` direction, the `note` and the
`onscreen` caption. Everything else about a row (its measured times, scene, keyframe) is the
measurement's and cannot be edited. A row whose texts all equal the AI's again *is* the AI's
row again (its own `fit` and language back), so `edited` always means "differs from
version 1".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reels_scripter.contract import OnscreenCaption, Pace, ScriptRow
from reels_scripter.errors import AppError
from reels_scripter.fit import fit_row

# One field of one row: a paragraph, not a document. The limit is the API's promise.
MAX_FIELD_CHARS = 1000
# More rows than any 180 s reel has (rows are at least a second long).
MAX_ROWS = 500

EditableField = Literal["text", "visual", "note", "onscreen"]
EDITABLE_FIELDS: tuple[EditableField, ...] = ("text", "visual", "note", "onscreen")


class RowEdit(BaseModel):
    """New texts for one row; a field left out (or null) stays as it is. An empty `onscreen`
    removes the row's caption."""

    model_config = ConfigDict(extra="forbid", strict=True)

    index: int = Field(ge=0, description="The row's position in `result.script`, from 0.")
    text: str | None = Field(None, max_length=MAX_FIELD_CHARS, description="Voice-over text.")
    visual: str | None = Field(None, max_length=MAX_FIELD_CHARS, description="What to film.")
    note: str | None = Field(None, max_length=MAX_FIELD_CHARS, description="A note.")
    onscreen: str | None = Field(
        None, max_length=MAX_FIELD_CHARS, description="The caption to put on screen."
    )

    def given(self) -> dict[EditableField, str]:
        return {f: v for f in EDITABLE_FIELDS if (v := getattr(self, f)) is not None}


class ScriptPatch(BaseModel):
    """`PATCH /api/jobs/{id}/script`: any subset of rows and of their texts."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rows: list[RowEdit] = Field(min_length=1, max_length=MAX_ROWS)


class ScriptRestore(BaseModel):
    """`POST /api/jobs/{id}/script/restore`: the rows to give back the AI's texts (all when
    left out)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rows: list[int] | None = Field(None, max_length=MAX_ROWS)


class ScriptEditError(AppError, code="script_edit_invalid", http_status=422):
    """An edit that cannot be applied; nothing was changed."""


class EmptyEditError(ScriptEditError, code="script_edit_empty"):
    """The edit names no row."""


class RowNotFoundError(ScriptEditError, code="script_row_not_found"):
    """The edit names a row the script does not have."""


class RowRepeatedError(ScriptEditError, code="script_row_repeated"):
    """The edit names the same row twice."""


class RowUnchangedError(ScriptEditError, code="script_row_no_fields"):
    """A row of the edit gives no field to change."""


class TextTooLongError(ScriptEditError, code="script_text_too_long"):
    """A field of the edit is longer than MAX_FIELD_CHARS."""


def parse_patch(body: Any) -> ScriptPatch:
    """The edit from a request body, or the ScriptEditError that says what is wrong with it."""
    return _parse(ScriptPatch, body)


def parse_restore(body: Any) -> ScriptRestore:
    return ScriptRestore() if body is None else _parse(ScriptRestore, body)


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise _explain(exc, body) from None


def _explain(exc: ValidationError, body: Any) -> ScriptEditError:
    """The one error a person is shown for an invalid body: the first problem, in words.
    The English detail (where and why, never the input itself) goes with it."""
    errors = exc.errors()
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in errors
    )
    first = errors[0]
    loc = first["loc"]
    if first["type"] == "string_too_long" and len(loc) == 3 and isinstance(loc[1], int):
        params: dict[str, Any] = {"limit": MAX_FIELD_CHARS}
        number = _row_number(body, loc[1])
        if number is not None:
            params["number"] = number
        return TextTooLongError(detail, params=params)
    if first["type"] == "too_short" and loc == ("rows",):
        return EmptyEditError(detail)
    return ScriptEditError(detail)


def _row_number(body: Any, position: int) -> int | None:
    """The 1-based block number (as people count) of the edit's `position`-th row."""
    try:
        index = body["rows"][position]["index"]
    except (KeyError, IndexError, TypeError):
        return None
    return index + 1 if isinstance(index, int) and not isinstance(index, bool) else None


def check_rows(patch: ScriptPatch, rows: int) -> None:
    """Rows that exist, each once, each with something to change."""
    seen: set[int] = set()
    for edit in patch.rows:
        if edit.index >= rows:
            raise RowNotFoundError(
                f"row {edit.index} of {rows}", params={"number": edit.index + 1, "count": rows}
            )
        if edit.index in seen:
            raise RowRepeatedError(f"row {edit.index} twice", params={"number": edit.index + 1})
        if not edit.given():
            raise RowUnchangedError(
                f"row {edit.index} has no field", params={"number": edit.index + 1}
            )
        seen.add(edit.index)


def edited_script(
    current: Sequence[ScriptRow],
    original: Sequence[ScriptRow],
    patch: ScriptPatch,
    language: str,
    pace: Pace,
) -> list[ScriptRow]:
    """The script after `patch`: the edited rows with their texts replaced, `fit` measured
    again for a new voice-over line (spoken in `language` at `pace`), `edited` set."""
    check_rows(patch, len(current))
    rows = list(current)
    for edit in patch.rows:
        first = original[edit.index] if edit.index < len(original) else None
        rows[edit.index] = _edit_row(rows[edit.index], first, edit.given(), language, pace)
    return rows


def restored_script(
    current: Sequence[ScriptRow], original: Sequence[ScriptRow], indices: list[int] | None
) -> list[ScriptRow]:
    """The script with the AI's rows back: those at `indices`, or every row."""
    wanted = range(len(current)) if indices is None else indices
    rows = list(current)
    for index in wanted:
        if not 0 <= index < min(len(current), len(original)):
            raise RowNotFoundError(
                f"row {index} of {len(current)}",
                params={"number": index + 1, "count": len(current)},
            )
        rows[index] = original[index].model_copy(update={"edited": False})
    return rows


def _texts(row: ScriptRow) -> dict[EditableField, str]:
    return {
        "text": row.text,
        "visual": row.visual,
        "note": row.note,
        "onscreen": row.onscreen.text if row.onscreen is not None else "",
    }


def _edit_row(
    row: ScriptRow,
    original: ScriptRow | None,
    changes: dict[EditableField, str],
    language: str,
    pace: Pace,
) -> ScriptRow:
    changes = {field: value.strip() for field, value in changes.items()}
    if original is not None and {**_texts(row), **changes} == _texts(original):
        return original.model_copy(update={"edited": False})
    update: dict[str, Any] = {"edited": True}
    for field in ("visual", "note"):
        if field in changes:
            update[field] = changes[field]
    if "text" in changes and changes["text"] != row.text:
        # the creator's own line is in the target language, whatever the row held before
        update["text"] = changes["text"]
        update["text_language"] = None
        update["fit"] = fit_row(changes["text"], language, _seconds_available(row), pace)
    if "onscreen" in changes:
        update["onscreen"] = _caption(row, changes["onscreen"])
    return row.model_copy(update=update)


def _seconds_available(row: ScriptRow) -> float:
    if row.fit is not None:
        return row.fit.seconds_available
    return max(row.end - row.start, 0.0)


def _caption(row: ScriptRow, text: str) -> OnscreenCaption | None:
    """The row's on-screen caption with the creator's text (none when it is empty); a new
    caption spans the row."""
    if not text:
        return None
    if row.onscreen is not None:
        return row.onscreen.model_copy(update={"text": text, "language": None})
    return OnscreenCaption(text=text, start=row.start, end=row.end, original="", language=None)
