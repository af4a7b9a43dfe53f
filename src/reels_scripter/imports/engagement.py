"""An imported reel's source on its result: kept whole, and its reach cited as evidence.

"2,3 млн просмотров за 4 дня" is a measured fact about the reel like its cut rate, so it joins
the evidence of the hook key (the key about winning attention). Days are counted from the
posting to when the figures were read (`fetched_at`), not to now: the same input gives the same
result.
"""

from __future__ import annotations

from datetime import datetime

from reels_scripter.contract import AnalysisResult, Source
from reels_scripter.texts import engagement_text


def days_online(source: Source) -> int | None:
    """Whole days between posting and reading the figures; None when either is unknown."""
    if not source.published_at or not source.fetched_at:
        return None
    try:
        posted = datetime.fromisoformat(source.published_at)
        read = datetime.fromisoformat(source.fetched_at)
    except ValueError:
        return None
    if posted.tzinfo is None:
        posted = posted.replace(tzinfo=read.tzinfo)
    if read.tzinfo is None:
        return None
    return max((read - posted).days, 0)


def reach_evidence(source: Source, language: str) -> str | None:
    return engagement_text(
        source.views, source.likes, source.comments, days_online(source), language
    )


def with_source(result: AnalysisResult, source: Source | None, language: str) -> AnalysisResult:
    """`result` with `source` set and its reach added to the hook key's evidence."""
    if source is None:
        return result
    evidence = reach_evidence(source, language)
    keys = result.keys
    if evidence is not None:
        keys = [
            key.model_copy(update={"evidence": [*key.evidence, evidence]})
            if key.category == "hook"
            else key
            for key in keys
        ]
    return result.model_copy(update={"source": source, "keys": keys})
