"""The hook type from measured signals alone, for the local provider.

Only what the measurements can show is claimed: the words of the first sentence (a question, a
"you", a myth, a secret...), else of the caption on screen in the first seconds, and, without
either, a burst of cuts. Anything else is `unknown`;
the payoff moment is never guessed. English and Russian cue words, since those are the speech
languages the bundled models handle.
"""

from __future__ import annotations

import re

from reels_scripter.analysis.models import SENTENCE_BREAK, Measurements
from reels_scripter.contract import HookType, HookTypeName
from reels_scripter.texts import HookTexts

_QUESTION_START = re.compile(
    r"^(how|why|what|which|who|when|where|did you|do you|have you|are you|is it|can you|"
    r"как|почему|зачем|что|кто|когда|где|сколько|какой|какая|какие|знаете ли|а вы|вы знали)\b",
    re.IGNORECASE,
)
# First matching rule wins; the order puts the most specific cues first.
_CUES: tuple[tuple[HookTypeName, re.Pattern[str]], ...] = (
    (
        "contradiction_mythbust",
        re.compile(
            r"\b(myth|wrong|stop doing|lie|you've been|миф|неправильно|ошибк\w*|перестаньте|"
            r"хватит|вас обманывают|на самом деле)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "confession_secret",
        re.compile(
            r"\b(secret|confess|nobody tells|truth about|секрет\w*|признаюсь|признание|"
            r"никто не говорит|правда о)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "reveal_transform",
        re.compile(r"\b(before and after|transformation|до и после|преображени\w*)\b", re.I),
    ),
    (
        "challenge_stakes",
        re.compile(r"\b(challenge|bet|i tried|for 30 days|челлендж|спорим|попробовал\w*)\b", re.I),
    ),
    (
        "tension_wait",
        re.compile(r"\b(wait for it|watch till the end|дождитесь|смотрите до конца)\b", re.I),
    ),
    (
        "social_proof",
        re.compile(r"\b(million|thousands of|everyone is|миллион\w*|тысячи|все уже)\b", re.I),
    ),
    (
        "authority_flex",
        re.compile(
            r"\b(as a (doctor|coach|lawyer|chef)|i'm a|years of experience|как врач|"
            r"я (врач|тренер|юрист|повар)|лет опыта)\b",
            re.IGNORECASE,
        ),
    ),
)
_YOU = re.compile(r"\b(you|your|you're|ты|тебя|тебе|твой|вы|вас|вам|ваш\w*)\b", re.IGNORECASE)


def first_sentence(m: Measurements) -> str:
    for segment in m.transcript.segments:
        text = segment.text.strip()
        if text:
            return SENTENCE_BREAK.split(text, maxsplit=1)[0]
    return ""


def _classify(sentence: str, where: str) -> HookType | None:
    """The hook type a sentence's words show; `where` names it in the evidence (the first
    sentence, the caption on screen)."""
    if sentence.endswith("?") or _QUESTION_START.match(sentence):
        return HookType(type="open_question", evidence=HookTexts.QUESTION.format(where, sentence))
    for name, cue in _CUES:
        if cue.search(sentence):
            return HookType(type=name, evidence=HookTexts.CUE.format(where, sentence))
    if _YOU.search(sentence):
        return HookType(type="direct_callout", evidence=HookTexts.CALLOUT.format(where, sentence))
    return None


def hook_type_from_measurements(m: Measurements) -> HookType:
    sentence = first_sentence(m)
    caption = m.hook.onscreen_text[0].text.strip() if m.hook.onscreen_text else ""
    if sentence:
        found = _classify(sentence, HookTexts.IN_FIRST_SENTENCE)
        if found is not None:
            return found
    if caption:
        found = _classify(caption, HookTexts.IN_CAPTION)
        if found is not None:
            return found
    if not sentence and m.hook.cuts >= 2:
        return HookType(
            type="demo_novelty",
            evidence=HookTexts.CUTS_ONLY.format(m.hook.window, m.hook.cuts),
        )
    return HookType(type="unknown", evidence=HookTexts.UNKNOWN)
