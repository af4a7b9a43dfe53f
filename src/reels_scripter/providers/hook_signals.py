"""The hook type and the call to action from measured signals alone, for the local provider.

Only what the measurements can show is claimed. The hook is read from the opening: the words
said in the first seconds of speech (more than one sentence: «Stop scrolling. Here are three
tricks…» is one hook) together with the caption on screen in the hook window. The cues are the
ones a creator names: a pattern interrupt (a sentence that opens with "stop scrolling"), a
number or list promise ("3 tricks", «5 ошибок»), a question, a myth, a secret, a "you"...
Without words, a burst of cuts. Anything else is `unknown`; the payoff moment is never guessed.

The call to action ("follow for more", «подпишитесь») is found where it is said or shown, so
the script notes it in the row that holds it.

The cue words are English and Russian (the languages the bundled models handle best), with the
pattern interrupt, list promise and call to action also in Spanish and German; they are data
matched against speech, not texts a person reads (the architecture test allows them by name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reels_scripter.analysis.models import SENTENCE_BREAK, Measurements, Word
from reels_scripter.contract import HookType, HookTypeName
from reels_scripter.texts import CUT_FORMS, HookTexts, count, num, quote

# The opening runs this long from the first word, then to the end of the sentence in progress
# (at most OPENING_SPILL_SEC more), so a promise is not cut before its noun.
OPENING_SPILL_SEC = 2.0
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
# A sentence that opens by stopping the scroll.
_INTERRUPTS = re.compile(
    r"^(stop scrolling|stop right there|don't scroll|hold on|"
    r"стоп|хватит листать|не листай\w*|стойте|перестань\w* листать|"
    r"deja de deslizar|deja de hacer scroll|para de deslizar|hör auf zu scrollen)\b",
    re.IGNORECASE,
)
# A number (a figure or a word) before what is counted: "3 tricks", "one trick", «5 ошибок».
_COUNTS = (
    r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"один|одна|одно|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять|"
    r"uno|una|dos|tres|cuatro|cinco|ein|eine|zwei|drei|vier|fünf"
)
_LISTS = re.compile(
    rf"\b({_COUNTS})\s+(\w+\s+)?(tricks?|tips?|ways?|mistakes?|reasons?|steps?|things?|"
    r"hacks?|secrets?|ideas?|rules?|habits?|"
    r"трюк\w*|совет\w*|способ\w*|ошиб\w*|причин\w*|шаг\w*|лайфхак\w*|секрет\w*|иде\w*|"
    r"правил\w*|привыч\w*|вещ\w*|при[её]м\w*|"
    r"trucos?|consejos?|errores|error|pasos?|tipps?|fehler|schritte)\b",
    re.IGNORECASE,
)
# A call to action: what a creator asks the viewer to do next.
_CALLS_TO_ACTION = re.compile(
    r"\b(follow|subscribe|like and|hit like|comment|save this|save it|share this|share it|"
    r"link in (my |the )?bio|turn on notifications|"
    r"подпиш\w*|подписывай\w*|ставь\w* лайк|лайкн\w*|сохран\w*|напиш\w* в комментари\w*|"
    r"пиши\w* в комментари\w*|поделит\w*|поделись|ссылк\w* в (профиле|описании|шапке)|"
    r"sígueme|sigueme|suscríbete|suscribete|folge mir|abonniere)\b",
    re.IGNORECASE,
)


def _timed_words(m: Measurements) -> list[Word]:
    words: list[Word] = []
    for seg in m.transcript.segments:
        if seg.words:
            words.extend(seg.words)
        elif seg.text.strip():  # no word timings: the segment as one "word"
            words.append(Word(start=seg.start, end=seg.end, text=seg.text.strip()))
    return sorted(words, key=lambda w: w.start)


def opening(m: Measurements) -> str:
    """The words of the first `hook.window` seconds of speech, with the sentence in progress
    finished (up to OPENING_SPILL_SEC more)."""
    words = _timed_words(m)
    if not words:
        return ""
    limit = words[0].start + m.hook.window
    taken: list[str] = []
    for word in words:
        if word.start >= limit + OPENING_SPILL_SEC:
            break
        if word.start >= limit and (not taken or taken[-1].rstrip().endswith((".", "!", "?", "…"))):
            break
        taken.append(word.text.strip())
    return " ".join(t for t in taken if t)


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_BREAK.split(text.strip()) if s]


def _classify(text: str, where: str) -> HookType | None:
    """The hook type an opening's words show; `where` names it in the evidence (the start of the
    speech, the caption on screen, both)."""
    sentences = _sentences(text)
    if not sentences:
        return None
    quoted = quote(text, 80)
    interrupt = any(_INTERRUPTS.match(s) for s in sentences)
    promise = _LISTS.search(text)
    if interrupt:
        evidence = HookTexts.INTERRUPT_AND_LIST if promise else HookTexts.PATTERN_INTERRUPT
        return HookType(type="shock_violation", evidence=evidence.format(where, quoted))
    first = sentences[0]
    if first.endswith("?") or _QUESTION_START.match(first):
        return HookType(type="open_question", evidence=HookTexts.QUESTION.format(where, quoted))
    if promise:
        return HookType(type="result_first", evidence=HookTexts.LIST_PROMISE.format(where, quoted))
    for name, cue in _CUES:
        if cue.search(text):
            return HookType(type=name, evidence=HookTexts.CUE.format(where.capitalize(), quoted))
    if _YOU.search(text):
        return HookType(type="direct_callout", evidence=HookTexts.CALLOUT.format(where, quoted))
    return None


def hook_type_from_measurements(m: Measurements) -> HookType:
    spoken = opening(m)
    caption = " ".join(dict.fromkeys(t.text.strip() for t in m.hook.onscreen_text)).strip()
    if spoken and caption:
        found = _classify(spoken, HookTexts.IN_SPEECH) or _classify(
            f"{spoken} {caption}", HookTexts.IN_BOTH
        )
    elif spoken:
        found = _classify(spoken, HookTexts.IN_SPEECH)
    else:
        found = _classify(caption, HookTexts.IN_CAPTION) if caption else None
    if found is not None:
        return found
    if not spoken and m.hook.cuts >= 2:
        return HookType(
            type="demo_novelty",
            evidence=HookTexts.CUTS_ONLY.format(count(m.hook.cuts, CUT_FORMS), num(m.hook.window)),
        )
    return HookType(type="unknown", evidence=HookTexts.UNKNOWN)


@dataclass(frozen=True)
class CallToAction:
    at: float  # when it is said or first shown
    text: str  # the words, as said or read


def call_to_action(m: Measurements) -> CallToAction | None:
    """The first call to action said in the speech or shown on screen, with its time."""
    found: list[CallToAction] = []
    for seg in m.transcript.segments:
        said = 0  # words of the segment before this sentence
        for piece in _sentences(seg.text):
            if _CALLS_TO_ACTION.search(piece):
                words = seg.words or []
                at = words[said].start if said < len(words) else seg.start
                found.append(CallToAction(at, piece))
                break
            said += len(piece.split())
    for caption in m.onscreen_text:
        if _CALLS_TO_ACTION.search(caption.text):
            found.append(CallToAction(caption.start, caption.text.strip()))
    return min(found, key=lambda c: c.at) if found else None
