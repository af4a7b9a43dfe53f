"""The write flow every network provider shares: ask → read → salvage → follow up → fill.

1. Ask once with the full response schema (`schema.py`).
2. Read the reply piece by piece (`pieces.py`), salvaging truncated or slightly broken JSON.
3. If pieces are missing or were rejected, or script rows are too long to say in their time at
   the reel's pace (`fit.py`), ask once more for exactly those (a new schema with only them,
   the accepted pieces shown as context, each long row with its syllable budget). A long row
   is kept unless the new one is shorter; whatever still does not fit stays, marked `too_long`
   (`compose` adds the warning). When the first reply was unusable (prose, empty, no
   candidates) the follow-up asks for the whole answer again.
4. Whatever is still missing is written by the local provider from the measurements, listed in
   `filled_by_local` and explained in a notice.

Only a reply that yields nothing usable twice fails the write (`ai_failed`, transient: a later
attempt may succeed). Blocks, bad keys and missing models fail at once, from the provider.

A provider implements `conversation`: a context manager (the Gemini one uploads the video and
deletes it afterwards) yielding the function that sends one `Ask` and returns its `Reply`.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar

from reels_scripter.contract import (
    KEY_CATEGORIES,
    REQUIRED_RECOMMENDATION_KINDS,
    Key,
    Recommendation,
)
from reels_scripter.fit import measure_pace
from reels_scripter.providers.base import (
    Creative,
    Notice,
    Provider,
    ProviderConfigError,
    ProviderError,
    RowContent,
    WriteRequest,
)
from reels_scripter.providers.local import (
    LOCAL_RUSSIAN_ONLY,
    TRANSLATION_UNAVAILABLE,
    LocalProvider,
)
from reels_scripter.providers.options import NoOptions
from reels_scripter.providers.pieces import Pieces, Plan, describe_missing, read_answer
from reels_scripter.providers.prompt import Prompt, build_prompt, follow_up_text
from reels_scripter.providers.schema import TRANSLATION, Dialect, answer_schema
from reels_scripter.providers.usage import Price, UsageMeter, price_for

log = logging.getLogger(__name__)

# Notice codes (texts.py renders them).
AI_PARTIAL = "ai_partial"


@dataclass(frozen=True)
class Ask:
    """One request: the response schema, and on the follow-up the text saying what to fix."""

    schema: dict[str, Any]
    follow_up: str | None = None


@dataclass(frozen=True)
class Reply:
    """What came back: the answer text, whether the output limit cut it, or why there is none."""

    text: str | None
    truncated: bool = False
    problem: str | None = None  # "no candidates", "content null", ... (text is None)


Send = Callable[[Ask], Reply]


class StructuredProvider(Provider):
    """Base of the providers that ask a model for the answer schema over the network."""

    label: ClassVar[str]  # "Gemini", for messages
    dialect: ClassVar[Dialect]

    @abstractmethod
    def prepare(self) -> None:
        """Configuration errors (no key) before any work."""

    @abstractmethod
    def media_note(self, request: WriteRequest) -> str:
        """How the pictures are attached, for the prompt (": one keyframe per scene...")."""

    @abstractmethod
    def conversation(
        self, request: WriteRequest, prompt: Prompt, meter: UsageMeter, deadline: float
    ) -> AbstractContextManager[Send]:
        """Set up the media (upload...), yield the sender, clean up whatever happens."""

    @abstractmethod
    def price_overrides(self) -> tuple[float | None, float | None]:
        """The configured USD per million tokens (input, output); None: use the table."""

    def price(self) -> Price | None:
        """The price per token of the configured model (None: unknown)."""
        input_override, output_override = self.price_overrides()
        return price_for(self.model, input_override=input_override, output_override=output_override)

    # --- the flow ---------------------------------------------------------------------------

    def write(self, request: WriteRequest) -> Creative:
        self.prepare()
        m = request.measurements
        deadline = time.monotonic() + self.context.retry_total
        plan = Plan(
            rows=tuple(request.rows),
            target_language=request.target_language,
            duration=m.duration,
            has_speech=bool(m.transcript.text.strip()),
            pace=measure_pace(m.transcript),
        )
        prompt = build_prompt(
            m,
            request.rows,
            request.target_language,
            media_note=self.media_note(request),
            source=request.source,
        )
        meter = UsageMeter()
        with self.conversation(request, prompt, meter, deadline) as send:
            pieces = self._converse(send, plan, prompt)
        return self._assemble(pieces, plan, request, meter)

    def _converse(self, send: Send, plan: Plan, prompt: Prompt) -> Pieces:
        """Every valid piece from at most two requests; raises when none was usable."""
        first = send(Ask(schema=answer_schema(plan.rows, self.dialect, pace=plan.pace)))
        reading = read_answer(first.text, plan, truncated=first.truncated)
        pieces = reading.pieces
        # Missing or rejected pieces, and rows whose text cannot be said in the row's time:
        # one follow-up asks for exactly these (a long row is kept unless the new one is shorter).
        redo = pieces.redo(plan)
        if not redo:
            return pieces
        missing = [p for p in redo if p in pieces.missing(plan)]
        unusable = None if pieces.usable else (first.problem or reading.unusable)
        log.info(
            "%s answer incomplete or too long (%s); one follow-up request",
            self.label,
            unusable or describe_missing(redo, pieces),
        )
        follow_up = Ask(
            # Nothing usable: the whole answer again (optional parts included).
            schema=answer_schema(
                plan.rows, self.dialect, None if unusable else redo, pace=plan.pace
            ),
            follow_up=follow_up_text(
                prompt,
                reason=unusable,
                missing=describe_missing(missing, pieces) if missing else None,
                too_long=pieces.describe_long() or None,
                accepted=pieces.accepted_json(),
                truncated=first.truncated,
            ),
        )
        try:
            second = send(follow_up)
        except ProviderError as exc:
            if not pieces.usable or isinstance(exc, ProviderConfigError):
                raise
            # A partial answer never fails the job: what is missing is written locally.
            log.warning("%s follow-up failed (%s); filling locally", self.label, exc.message)
            return pieces
        again = read_answer(second.text, plan, truncated=second.truncated)
        pieces.merge(again.pieces)
        if not pieces.usable:
            raise ProviderError(
                f"{self.label} returned no usable answer twice "
                f"({unusable}; then {second.problem or again.unusable})",
                transient=True,
            )
        return pieces

    def _assemble(
        self, pieces: Pieces, plan: Plan, request: WriteRequest, meter: UsageMeter
    ) -> Creative:
        """The complete Creative: the AI's pieces, the missing ones from the local provider."""
        missing = pieces.missing(plan)
        local = LocalProvider(NoOptions(), self.context).write(request) if missing else None
        notices: list[Notice] = []
        if local is not None:
            log.warning("%s left %s; written locally", self.label, ", ".join(missing))
            notices.append(
                Notice(code=AI_PARTIAL, params={"provider": self.label, "paths": missing})
            )
            notices += _relevant(local.notices, missing)
        keys = [pieces.keys.get(c) or _local_key(local, c) for c in KEY_CATEGORIES]
        rows = [pieces.rows.get(r.id) or _local_row(local, r.id) for r in plan.rows]
        advice = [
            pieces.recommendations.get(k) or _local_advice(local, k)
            for k in REQUIRED_RECOMMENDATION_KINDS
        ]
        translation = pieces.translation
        if translation is None:
            translation = _need(local).translation
        return Creative(
            transcription=pieces.transcription,
            translation=translation,
            keys=keys,
            rows=rows,
            recommendations=[*advice, *pieces.extras],
            hook_type=pieces.hook_type or _need(local).hook_type,
            model=self.model,
            usage=meter.usage(self.price()),
            filled_by_local=missing,
            notices=notices,
        )


def _need(local: Creative | None) -> Creative:
    # Only missing pieces are taken from the local answer, and it exists when any is missing.
    assert local is not None
    return local


def _local_key(local: Creative | None, category: str) -> Key:
    return next(k for k in _need(local).keys if k.category == category)


def _local_row(local: Creative | None, row_id: int) -> RowContent:
    return next(r for r in _need(local).rows if r.id == row_id)


def _local_advice(local: Creative | None, kind: str) -> Recommendation:
    return next(r for r in _need(local).recommendations if r.kind == kind)


def _relevant(notices: list[Notice], filled: list[str]) -> Iterator[Notice]:
    """The local provider's notices that concern what it actually wrote here."""
    wrote_speech = TRANSLATION in filled or any(p.startswith("script.") for p in filled)
    for notice in notices:
        if notice.code == TRANSLATION_UNAVAILABLE and not wrote_speech:
            continue
        if notice.code in (LOCAL_RUSSIAN_ONLY, TRANSLATION_UNAVAILABLE):
            yield notice
