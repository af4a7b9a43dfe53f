"""An AI answer as separate pieces: each key, row and recommendation is kept or rejected alone.

A partial answer is worth keeping: one missing row or an empty key must not throw away the
rest. `read_answer` salvages whatever JSON there is (fences, trailing commas, a tail cut off by
the output-token limit), validates each piece on its own and reports the missing or invalid ones
by path (`keys.audio`, `script.3`, `recommendations.editing`), which is what a follow-up request
asks for and what `meta.filled_by_local` lists when the local provider has to write it.

Both the schema's object shape (`keys: {hook: {...}}`) and the seed's list shape
(`keys: [{category: "hook", ...}]`) are read, since a server that ignores the schema (an
OpenAI-compatible one in `json_object` mode) may answer either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from json_repair import repair_json

from reels_scripter.contract import (
    HOOK_TYPES,
    KEY_CATEGORIES,
    REQUIRED_RECOMMENDATION_KINDS,
    HookType,
    Key,
    KeyCategory,
    Pace,
    Recommendation,
    RecommendationKind,
)
from reels_scripter.fit import fit_row, syllable_budget
from reels_scripter.providers.base import RowContent, RowPlan
from reels_scripter.providers.schema import (
    EXTRAS,
    HOOK_TYPE,
    TRANSCRIPTION,
    TRANSLATION,
    key_path,
    recommendation_path,
    required_paths,
    row_path,
)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@dataclass(frozen=True)
class Plan:
    """What a complete answer holds for this reel."""

    rows: tuple[RowPlan, ...]
    target_language: str
    duration: float
    has_speech: bool
    pace: Pace | None = None  # with it, a row whose text cannot be said in time is redone

    def required(self) -> list[str]:
        return required_paths(self.rows)


@dataclass(frozen=True)
class LongRow:
    """A row whose text was kept but cannot be said in the row's time at the reel's pace."""

    syllables: int
    budget: int  # the most syllables said without hurry
    seconds: float
    text: str

    def describe(self, row_id: int) -> str:
        return (
            f"{row_path(row_id)}: {self.syllables} syllables; at most {self.budget} fit in "
            f"{self.seconds:.1f} s"
        )


@dataclass
class Pieces:
    """The valid pieces of one or more answers, and why the others were rejected."""

    transcription: str | None = None
    translation: str | None = None
    hook_type: HookType | None = None
    keys: dict[KeyCategory, Key] = field(default_factory=dict)
    rows: dict[int, RowContent] = field(default_factory=dict)
    recommendations: dict[RecommendationKind, Recommendation] = field(default_factory=dict)
    extras: list[Recommendation] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # path -> why it was rejected
    long_rows: dict[int, LongRow] = field(default_factory=dict)  # kept, but too long to say

    def paths(self) -> set[str]:
        have: set[str] = set()
        if self.translation is not None:
            have.add(TRANSLATION)
        if self.transcription is not None:
            have.add(TRANSCRIPTION)
        if self.hook_type is not None:
            have.add(HOOK_TYPE)
        have |= {key_path(c) for c in self.keys}
        have |= {row_path(i) for i in self.rows}
        have |= {recommendation_path(k) for k in self.recommendations}
        if self.extras:
            have.add(EXTRAS)
        return have

    @property
    def usable(self) -> bool:
        return bool(self.paths())

    def missing(self, plan: Plan) -> list[str]:
        have = self.paths()
        return [p for p in plan.required() if p not in have]

    def redo(self, plan: Plan) -> list[str]:
        """What a follow-up asks for: the missing pieces and the rows too long to say."""
        long = {row_path(i) for i in self.long_rows}
        have = self.paths() - long
        return [p for p in plan.required() if p not in have]

    def merge(self, later: Pieces) -> None:
        """Take from `later` only what is still missing (the first valid piece wins)."""
        if self.transcription is None:
            self.transcription = later.transcription
        if self.translation is None:
            self.translation = later.translation
        if self.hook_type is None:
            self.hook_type = later.hook_type
        for category, key in later.keys.items():
            self.keys.setdefault(category, key)
        for row_id, row in later.rows.items():
            if row_id not in self.rows:
                self.rows[row_id] = row
                if row_id in later.long_rows:
                    self.long_rows[row_id] = later.long_rows[row_id]
            elif row_id in self.long_rows:
                # A shortened row replaces the long one if it is shorter, fitting or not.
                mine, theirs = self.long_rows[row_id], later.long_rows.get(row_id)
                if theirs is None or theirs.syllables < mine.syllables:
                    self.rows[row_id] = row
                    if theirs is None:
                        del self.long_rows[row_id]
                    else:
                        self.long_rows[row_id] = theirs
        for kind, rec in later.recommendations.items():
            self.recommendations.setdefault(kind, rec)
        if not self.extras:
            self.extras = list(later.extras)
        have = self.paths()
        self.problems = {
            p: why for p, why in {**self.problems, **later.problems}.items() if p not in have
        }

    def describe_long(self) -> str:
        """The rows too long to say, with their budgets and texts, for the follow-up."""
        return "\n".join(self.long_rows[i].describe(i) for i in sorted(self.long_rows))

    def accepted_json(self) -> dict[str, Any]:
        """The accepted pieces in the schema's shape (shown to the model in a follow-up); rows
        too long to say are listed apart under "too_long" (the follow-up asks for them again)."""
        out: dict[str, Any] = {}
        if self.translation is not None:
            out["translation"] = self.translation
        if self.hook_type is not None:
            out["hook_type"] = self.hook_type.model_dump()
        if self.keys:
            out["keys"] = {
                c: {"title": k.title, "description": k.description, "evidence": k.evidence}
                for c, k in self.keys.items()
            }
        rows = {i: r for i, r in self.rows.items() if i not in self.long_rows}
        if rows:
            out["script"] = {
                str(i): {
                    "visual": r.visual,
                    "text": r.text,
                    "note": r.note,
                    **({"onscreen": r.onscreen} if r.onscreen else {}),
                }
                for i, r in sorted(rows.items())
            }
        if self.long_rows:
            # Not accepted: the texts to shorten, shown as data like the rest.
            out["too_long"] = {str(i): r.text for i, r in sorted(self.long_rows.items())}
        if self.recommendations:
            out["recommendations"] = {
                k: {"category": r.category, "text": r.text} for k, r in self.recommendations.items()
            }
        return out


@dataclass(frozen=True)
class Reading:
    """One answer read: its valid pieces, and a reason when nothing at all was usable."""

    pieces: Pieces
    unusable: str | None = None  # e.g. "not JSON", "empty answer"


def _load(text: str) -> Any:
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    # Trailing commas, unescaped quotes or a tail cut off by the token limit: json_repair keeps
    # every complete piece without another (billed) request.
    return repair_json(stripped, return_objects=True)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


class _Reader:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.pieces = Pieces()
        self.order: list[str] = []  # paths in the order the answer wrote them
        self.row_plans = {r.id: r for r in plan.rows}

    def reject(self, path: str, why: str) -> None:
        self.order.append(path)
        self.pieces.problems.setdefault(path, why)

    def russian(self, text: str) -> bool:
        return self.plan.target_language != "ru" or bool(_CYRILLIC.search(text))

    # --- the pieces ----------------------------------------------------------------------

    def translation(self, value: Any) -> None:
        text = _text(value)
        if text is None:
            self.reject(TRANSLATION, "not a string")
        elif not text and self.plan.has_speech:
            self.reject(TRANSLATION, "empty although the reel has speech")
        else:
            self.pieces.translation = text
            self.order.append(TRANSLATION)

    def transcription(self, value: Any) -> None:
        text = _text(value)
        if text:  # null or empty means "the measured transcript is right"
            self.pieces.transcription = text
            self.order.append(TRANSCRIPTION)

    def hook_type(self, value: Any) -> None:
        if not isinstance(value, Mapping) or value.get("type") not in HOOK_TYPES:
            self.reject(HOOK_TYPE, f"type must be one of the {len(HOOK_TYPES)} hook types")
            return
        payoff = value.get("payoff_at")
        if not isinstance(payoff, int | float) or not 0 <= payoff <= self.plan.duration:
            payoff = None  # a time outside the reel is no time at all
        self.pieces.hook_type = HookType(
            type=value["type"], payoff_at=payoff, evidence=_text(value.get("evidence")) or ""
        )
        self.order.append(HOOK_TYPE)

    def key(self, category: str, value: Any) -> None:
        if category not in KEY_CATEGORIES:
            return
        path = key_path(category)
        if not isinstance(value, Mapping):
            self.reject(path, "not an object")
            return
        title, description = _text(value.get("title")), _text(value.get("description"))
        if not title or not description:
            self.reject(path, "empty title or description")
            return
        if not self.russian(description):
            self.reject(path, "not written in Russian")
            return
        evidence = value.get("evidence")
        facts = (
            [e.strip() for e in evidence if isinstance(e, str) and e.strip()]
            if (isinstance(evidence, list))
            else []
        )
        if category not in self.pieces.keys:
            self.pieces.keys[category] = Key(
                title=title, description=description, category=category, evidence=facts
            )
        self.order.append(path)

    def row(self, raw_id: Any, value: Any) -> None:
        try:
            row_id = int(str(raw_id).strip())
        except ValueError:
            return
        plan = self.row_plans.get(row_id)
        if plan is None:
            return  # an id we did not plan: nothing to fill with it
        path = row_path(row_id)
        if not isinstance(value, Mapping):
            self.reject(path, "not an object")
            return
        visual, text, note = (_text(value.get(n)) for n in ("visual", "text", "note"))
        if not visual:
            self.reject(path, "empty 'visual'")
            return
        if text is None or note is None:
            self.reject(path, "'text' or 'note' missing")
            return
        if row_id not in self.pieces.rows:
            # The adapted caption is optional: without it the original caption is shown.
            onscreen = _text(value.get("onscreen")) if plan.captions else None
            if onscreen and not self.russian(onscreen):
                onscreen = None
            self.pieces.rows[row_id] = RowContent(
                id=row_id, visual=visual, text=text, note=note, onscreen=onscreen or None
            )
            self.check_fit(plan, text)
        self.order.append(path)

    def check_fit(self, row: RowPlan, text: str) -> None:
        pace = self.plan.pace
        if pace is None:
            return
        seconds = row.end - row.start
        fit = fit_row(text, self.plan.target_language, seconds, pace)
        if fit.status == "too_long":
            self.pieces.long_rows[row.id] = LongRow(
                syllables=fit.syllables,
                budget=syllable_budget(seconds, pace),
                seconds=seconds,
                text=text,
            )

    def _advice(self, value: Any) -> tuple[str, str] | None:
        if not isinstance(value, Mapping):
            return None
        category, text = _text(value.get("category")), _text(value.get("text"))
        if not category or not text or not self.russian(text):
            return None
        return category, text

    def recommendation(self, kind: str, value: Any) -> None:
        if kind == "other":
            self.extras(value)
            return
        if kind not in REQUIRED_RECOMMENDATION_KINDS:
            return
        path = recommendation_path(kind)
        advice = self._advice(value)
        if advice is None:
            self.reject(path, "empty, or not written in Russian")
            return
        if kind not in self.pieces.recommendations:
            self.pieces.recommendations[kind] = Recommendation(
                category=advice[0], text=advice[1], kind=kind
            )
        self.order.append(path)

    def extras(self, value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        for item in items:
            advice = self._advice(item)
            if advice is not None:
                self.pieces.extras.append(
                    Recommendation(category=advice[0], text=advice[1], kind="other")
                )
                self.order.append(EXTRAS)

    # --- the document --------------------------------------------------------------------

    def read(self, data: Mapping[str, Any]) -> None:
        for name, value in data.items():
            if name == "translation":
                self.translation(value)
            elif name == "transcription":
                self.transcription(value)
            elif name == "hook_type":
                self.hook_type(value)
            elif name == "keys":
                for category, item in _members(value, "category"):
                    self.key(category, item)
            elif name in ("script", "rows"):
                for row_id, item in _members(value, "id"):
                    self.row(row_id, item)
            elif name == "recommendations":
                for kind, item in _members(value, "kind"):
                    self.recommendation(kind, item)

    def drop_last(self) -> None:
        """The piece being written when the output limit struck may be cut mid-sentence."""
        if not self.order:
            return
        last = self.order[-1]
        if last == TRANSLATION:
            self.pieces.translation = None
        elif last == TRANSCRIPTION:
            self.pieces.transcription = None
        elif last == HOOK_TYPE:
            self.pieces.hook_type = None
        elif last == EXTRAS:
            self.pieces.extras = self.pieces.extras[:-1]
        else:
            group, _, name = last.partition(".")
            if group == "keys":
                self.pieces.keys.pop(name, None)  # type: ignore[call-overload]
            elif group == "script":
                self.pieces.rows.pop(int(name), None)
                self.pieces.long_rows.pop(int(name), None)
            elif group == "recommendations":
                self.pieces.recommendations.pop(name, None)  # type: ignore[call-overload]
        self.pieces.problems.setdefault(last, "cut off by the output limit")


def _members(value: Any, tag: str) -> list[tuple[Any, Any]]:
    """(name, item) pairs from the object shape, or from a list tagged by `tag`."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list):
        return [(item.get(tag), item) for item in value if isinstance(item, Mapping)]
    return []


def read_answer(text: str | None, plan: Plan, *, truncated: bool = False) -> Reading:
    """The valid pieces of one answer; `truncated` when the output-token limit cut it."""
    if text is None or not text.strip():
        return Reading(Pieces(), unusable="the answer is empty")
    data = _load(text)
    if not isinstance(data, Mapping) or not data:
        return Reading(Pieces(), unusable="the answer is not a JSON object")
    reader = _Reader(plan)
    reader.read(data)
    if truncated:
        reader.drop_last()
    pieces = reader.pieces
    if not pieces.usable:
        return Reading(pieces, unusable="no part of the answer matches the schema")
    return Reading(pieces)


def describe_missing(paths: Sequence[str], pieces: Pieces) -> str:
    """The missing pieces with the reason each was rejected, for the follow-up request."""
    parts = []
    for path in paths:
        why = pieces.problems.get(path)
        parts.append(f"{path} ({why})" if why else f"{path} (missing)")
    return "; ".join(parts)
