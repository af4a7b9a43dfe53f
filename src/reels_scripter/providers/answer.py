"""The answer an AI provider must return, how it is parsed, checked and turned into a Creative.

Both network providers ask for the same JSON (`Answer`), so parsing, repair, validation and the
single corrective retry live here once. The model never returns timings: rows are keyed by the
measured row ids, and `compose_result` takes start/end from the measurements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from json_repair import repair_json
from pydantic import BaseModel, Field, ValidationError

from reels_scripter.contract import (
    KEY_CATEGORIES,
    REQUIRED_RECOMMENDATION_KINDS,
    Key,
    KeyCategory,
    Recommendation,
    RecommendationKind,
)
from reels_scripter.providers.base import Creative, ProviderError, RowContent, RowPlan


class AnswerKey(BaseModel):
    title: str = Field(description="Short title of the key to success, in the target language.")
    description: str = Field(description="Why it works, 1-3 sentences, in the target language.")
    category: KeyCategory = Field(description="One key per category.")
    evidence: list[str] = Field(
        default_factory=list,
        description="Measured facts (from the data block) or visible details this key rests on.",
    )


class AnswerRow(BaseModel):
    id: int = Field(description="The script row id from the data block, unchanged.")
    visual: str = Field(description="What to show: shot scale, action, on-screen text.")
    text: str = Field(description="Voice-over text for this row, adapted to the target language.")
    note: str = Field(description="Why this moment matters / a tip.")


class AnswerRecommendation(BaseModel):
    kind: RecommendationKind = Field(description="voice, music, avatar, editing or other.")
    category: str = Field(description="Human label in the target language.")
    text: str = Field(description="Practical advice in the target language.")


class Answer(BaseModel):
    """What the model returns; its JSON schema is sent as the response schema."""

    transcription: str | None = Field(
        None,
        description="Only if the measured transcript is missing or clearly wrong: the full "
        "transcript in the spoken language. Otherwise null.",
    )
    translation: str = Field(description="The transcript translated into the target language.")
    keys: list[AnswerKey] = Field(
        description="Exactly 5 keys: hook, structure, delivery, visual, audio."
    )
    rows: list[AnswerRow] = Field(description="Exactly one entry per script row id.")
    recommendations: list[AnswerRecommendation] = Field(
        description="At least one each of voice, music, avatar, editing."
    )


def answer_json_schema() -> dict[str, Any]:
    """Plain JSON schema of `Answer` (for OpenAI-style `json_schema` response formats)."""
    return Answer.model_json_schema()


class AnswerError(ValueError):
    """The model's text is not a valid answer; the message is written to be sent back to it."""


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _load(text: str) -> Any:
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    # Models sometimes emit trailing commas, unescaped quotes or a truncated tail; json_repair
    # recovers most of these without another (billed) request.
    repaired = repair_json(stripped, return_objects=True)
    if not isinstance(repaired, dict) or not repaired:
        raise AnswerError("The answer is not a JSON object.")
    return repaired


def _schema_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def check_answer(answer: Answer, rows: list[RowPlan], target_language: str) -> list[str]:
    """Rules a JSON schema cannot express; returns the problems found (empty = valid)."""
    problems: list[str] = []
    expected = [r.id for r in rows]
    seen: dict[int, int] = {}
    for row in answer.rows:
        seen[row.id] = seen.get(row.id, 0) + 1
    missing = [i for i in expected if i not in seen]
    if missing:
        problems.append(f"rows missing for ids {missing}")
    duplicated = sorted(i for i, n in seen.items() if n > 1)
    if duplicated:
        problems.append(f"row ids repeated: {duplicated}")
    unknown = sorted(i for i in seen if i not in set(expected))
    if unknown:
        problems.append(f"row ids not in the data block: {unknown}")
    empty_visual = [r.id for r in answer.rows if not r.visual.strip()]
    if empty_visual:
        problems.append(f"empty 'visual' in rows {empty_visual}")
    if len(answer.keys) != 5:
        problems.append(f"expected exactly 5 keys, got {len(answer.keys)}")
    categories = {k.category for k in answer.keys}
    absent = [c for c in KEY_CATEGORIES if c not in categories]
    if absent:
        problems.append(f"keys missing categories {absent} (one key per category)")
    kinds = {r.kind for r in answer.recommendations}
    absent_kinds = [k for k in REQUIRED_RECOMMENDATION_KINDS if k not in kinds]
    if absent_kinds:
        problems.append(f"recommendations missing kinds {absent_kinds}")
    if target_language == "ru":
        prose = " ".join(k.description for k in answer.keys) + " ".join(
            r.text for r in answer.recommendations
        )
        if prose.strip() and not _CYRILLIC.search(prose):
            problems.append("keys and recommendations must be written in Russian")
    return problems


def parse_answer(text: str | None, rows: list[RowPlan], target_language: str) -> Answer:
    """Parse (repairing if needed) and validate; raises AnswerError with a model-readable reason."""
    if text is None or not text.strip():
        raise AnswerError("The answer is empty.")
    data = _load(text)
    try:
        answer = Answer.model_validate(data)
    except ValidationError as exc:
        raise AnswerError(f"The JSON does not match the schema: {_schema_errors(exc)}") from exc
    problems = check_answer(answer, rows, target_language)
    if problems:
        raise AnswerError("The answer breaks the rules: " + "; ".join(problems))
    return answer


@dataclass(frozen=True)
class Correction:
    """A failed answer and why, to be sent back to the model once."""

    previous: str
    error: str

    def message(self) -> str:
        return (
            "Your previous answer was rejected: "
            + self.error
            + " Return the corrected answer as one JSON object that matches the response schema: "
            "every script row id exactly once, exactly 5 keys (hook, structure, delivery, visual, "
            "audio), recommendations with kinds voice, music, avatar and editing. JSON only."
        )


def answer_with_correction(
    ask: Callable[[Correction | None], str | None],
    rows: list[RowPlan],
    target_language: str,
    provider_label: str,
) -> Answer:
    """Ask once; on an invalid answer ask once more with the error; then give up clearly."""
    first = ask(None)
    try:
        return parse_answer(first, rows, target_language)
    except AnswerError as exc:
        correction = Correction(previous=first or "", error=str(exc))
    second = ask(correction)
    try:
        return parse_answer(second, rows, target_language)
    except AnswerError as exc:
        # Transient: a fresh attempt (or the fallback provider) may well succeed.
        raise ProviderError(
            f"{provider_label} returned an invalid answer twice ({exc})", transient=True
        ) from exc


def to_creative(answer: Answer, *, model: str | None, usage: dict[str, int] | None) -> Creative:
    transcription = answer.transcription.strip() if answer.transcription else None
    return Creative(
        transcription=transcription or None,
        translation=answer.translation,
        keys=[
            Key(title=k.title, description=k.description, category=k.category, evidence=k.evidence)
            for k in answer.keys
        ],
        rows=[RowContent(id=r.id, visual=r.visual, text=r.text, note=r.note) for r in answer.rows],
        recommendations=[
            Recommendation(category=r.category, text=r.text, kind=r.kind)
            for r in answer.recommendations
        ],
        model=model,
        usage=usage,
    )


class UsageMeter:
    """Token usage summed over every billed request of one write (a corrective retry costs too)."""

    def __init__(self) -> None:
        self.prompt = 0
        self.output = 0
        self.total = 0
        self.requests = 0

    def add(self, prompt: int | None, output: int | None, total: int | None) -> None:
        self.requests += 1
        self.prompt += prompt or 0
        self.output += output or 0
        self.total += total if total is not None else (prompt or 0) + (output or 0)

    def as_dict(self) -> dict[str, int] | None:
        if not self.requests:
            return None
        return {
            "prompt_tokens": self.prompt,
            "output_tokens": self.output,
            "total_tokens": self.total,
            "requests": self.requests,
        }
