"""The response schema, built per request so that a schema-valid answer is a complete answer.

The rules "exactly 5 keys, one per category", "one row per planned row id" and "each
recommendation kind" are structure here, not descriptions: keys and recommendations are objects
whose required members are the categories and kinds, and the script is an object whose required
members are the planned row ids. A model held to the schema by constrained decoding therefore
cannot leave any of them out; `pieces.py` maps the answer back to the seed's lists.

Two dialects of the same structure:
- `gemini` (sent as `response_json_schema`): only what Gemini's JSON-schema subset supports and
  nothing that multiplies decoder states — no array bounds, no numeric bounds, one short enum
  (the hook types); optional parts are simply not required.
- `strict` (OpenAI `json_schema` with `strict: true`): every property required and
  `additionalProperties: false` on every object, so an optional part becomes nullable
  (`transcription`, `payoff_at`) or an array that may be empty (`other` recommendations).

A follow-up request asks for a subset of the pieces: the same builder, given the missing paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from reels_scripter.contract import (
    HOOK_TYPES,
    KEY_CATEGORIES,
    REQUIRED_RECOMMENDATION_KINDS,
    Pace,
)
from reels_scripter.fit import syllable_budget
from reels_scripter.providers.base import RowPlan

Dialect = Literal["gemini", "strict"]

# Piece paths: also the names `meta.filled_by_local` reports.
TRANSCRIPTION = "transcription"
TRANSLATION = "translation"
HOOK_TYPE = "hook_type"
EXTRAS = "recommendations.other"

KEY_HINTS = {
    "hook": "How attention is won in the first 3 seconds.",
    "structure": "How the content is built.",
    "delivery": "Intonation, pace, energy.",
    "visual": "Camera, editing, effects.",
    "audio": "Music, sound accents.",
}
RECOMMENDATION_HINTS = {
    "voice": "Intonation and voice.",
    "music": "Background music.",
    "avatar": "Working with an AI avatar, if applicable.",
    "editing": "Editing and effects.",
}


def key_path(category: str) -> str:
    return f"keys.{category}"


def row_path(row_id: int) -> str:
    return f"script.{row_id}"


def recommendation_path(kind: str) -> str:
    return f"recommendations.{kind}"


def required_paths(rows: Sequence[RowPlan]) -> list[str]:
    """Every piece a complete answer has, in the order the answer is written."""
    return [
        TRANSLATION,
        HOOK_TYPE,
        *(key_path(c) for c in KEY_CATEGORIES),
        *(row_path(r.id) for r in rows),
        *(recommendation_path(k) for k in REQUIRED_RECOMMENDATION_KINDS),
    ]


def full_paths(rows: Sequence[RowPlan]) -> list[str]:
    """What the first request asks for: the required pieces plus the optional ones."""
    return [TRANSCRIPTION, *required_paths(rows), EXTRAS]


def _string(description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    if dialect == "strict":
        return {**schema, "type": [schema["type"], "null"]}
    return schema


def _object(
    properties: dict[str, Any],
    dialect: Dialect,
    *,
    optional: Iterable[str] = (),
    description: str | None = None,
) -> dict[str, Any]:
    """An object; in the strict dialect optional members are still listed (as nullable)."""
    skipped = set(optional) if dialect == "gemini" else set()
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    schema["properties"] = properties
    schema["required"] = [name for name in properties if name not in skipped]
    if dialect == "strict":
        schema["additionalProperties"] = False
    return schema


# Member descriptions are left to the prompt: the schema repeats these shapes many times.
def _key(category: str, dialect: Dialect) -> dict[str, Any]:
    return _object(
        {
            "title": _string(),
            "description": _string(),
            "evidence": {"type": "array", "items": {"type": "string"}},
        },
        dialect,
        description=KEY_HINTS[category],
    )


def _row(row: RowPlan, dialect: Dialect, pace: Pace | None) -> dict[str, Any]:
    # Repeated once per row: no member descriptions (the prompt explains visual/text/note), so a
    # 180 s reel's schema stays small; the row's measured span and syllable budget help the
    # model place and size it. A row where the original showed a caption also asks for the
    # caption adapted to the target language ("onscreen").
    members = {"visual": _string(), "text": _string(), "note": _string()}
    if row.captions:
        members["onscreen"] = _string()
    description = f"Row {row.id}, {row.start:.1f}-{row.end:.1f} s"
    if pace is not None:
        budget = syllable_budget(row.end - row.start, pace)
        description += f"; text at most {budget} syllables"
    return _object(members, dialect, description=description + ".")


def _recommendation(dialect: Dialect, hint: str | None = None) -> dict[str, Any]:
    return _object({"category": _string(), "text": _string()}, dialect, description=hint)


def _hook_type(dialect: Dialect) -> dict[str, Any]:
    payoff = _nullable(
        {"type": "number", "description": "Second the hook's promise pays off."}, dialect
    )
    return _object(
        {
            "type": {"type": "string", "enum": list(HOOK_TYPES)},
            "payoff_at": payoff,
            "evidence": _string("What in the reel shows this type."),
        },
        dialect,
        optional=("payoff_at",),
    )


def answer_schema(
    rows: Sequence[RowPlan],
    dialect: Dialect,
    paths: Iterable[str] | None = None,
    *,
    pace: Pace | None = None,
) -> dict[str, Any]:
    """The response schema asking for `paths` (default: the full answer), in answer order;
    with `pace`, each row says its syllable budget."""
    wanted = set(full_paths(rows) if paths is None else paths)
    by_id = {r.id: r for r in rows}
    top: dict[str, Any] = {}
    optional: list[str] = []
    if TRANSCRIPTION in wanted:
        top["transcription"] = _nullable(
            _string(
                "Only if the measured transcript is missing or clearly wrong: the full "
                "transcript in the spoken language. Otherwise null or absent."
            ),
            dialect,
        )
        optional.append("transcription")
    if TRANSLATION in wanted:
        top["translation"] = _string("The transcript translated into the target language.")
    if HOOK_TYPE in wanted:
        top["hook_type"] = _hook_type(dialect)
    keys: dict[str, Any] = {c: _key(c, dialect) for c in KEY_CATEGORIES if key_path(c) in wanted}
    if keys:
        top["keys"] = _object(keys, dialect, description="One key to success per category.")
    script = {str(i): _row(by_id[i], dialect, pace) for i in by_id if row_path(i) in wanted}
    if script:
        top["script"] = _object(
            script, dialect, description="One entry per script row id from the data block."
        )
    recommendations: dict[str, Any] = {
        k: _recommendation(dialect, RECOMMENDATION_HINTS[k])
        for k in REQUIRED_RECOMMENDATION_KINDS
        if recommendation_path(k) in wanted
    }
    if EXTRAS in wanted:
        recommendations["other"] = {
            "type": "array",
            "description": "Further advice, if any.",
            "items": _recommendation(dialect),
        }
    if recommendations:
        top["recommendations"] = _object(recommendations, dialect, optional=("other",))
    return _object(top, dialect, optional=optional)
