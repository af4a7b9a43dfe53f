"""Will a voice-over line fit its row? Syllables, the reel's pace, and the row's time.

A creator who adapts a reel says each line in the time of its row. Russian runs 20–30% longer
than English, so a faithful translation often does not fit. This module measures how fast the
original speaker talks (syllables a second) and how long a line takes at that pace:

- `count_syllables(text, language)`: syllables of a line, by the spelling rules below;
- `measure_pace(transcript)`: the original's pace over its timestamped words, or a calm default;
- `fit_row(text, language, seconds_available, pace)`: `ok` / `tight` / `too_long`.

Syllables are counted from spelling, not from a dictionary: one syllable per vowel group, with
each language's few regular exceptions:

- ru, uk: every vowel letter is a syllable (Russian spelling writes no diphthongs: "po-et",
  "no-va-ya" each have one vowel letter a syllable); the prepositions "v", "k", "s" have none.
- en: vowel groups (a e i o u y), less a silent final "e" ("make", but "table" keeps its "-le")
  and a silent "-es"/"-ed" ("makes", "jumped"; not "boxes", "wanted").
- es, it, pt: vowel groups, split between two strong vowels (a e o and the accented ones):
  "le-er", "dí-a", "a-e-re-o"; i/u beside another vowel join it ("bue-no", "gior-no"). The
  Portuguese nasal diphthongs ão, ãe, õe stay one.
- de: vowel groups (ei, ie, au, eu, äu and doubled vowels are one syllable, as written).
- fr: vowel groups, less a silent final "e"/"es" ("ta-ble" counts 1, as it is said).
- other languages and None: vowel groups over all the letters above.
- a number counts `DIGIT_SYLLABLES` a digit (English "three" is 1, Russian "chetyre" 3).

Known limits: hiatus that spelling does not show ("cre-ate", "i-de-a", "vid-e-o", Portuguese
"di-a"), French verb endings "-ent" (silent, counted), English words with silent inner vowels
("every" counts 3), abbreviations spelled letter by letter (Russian "SShA" counts 1, said as 3).
Over a line of ten words these errors are a syllable or two. The pace is counted in the spoken
language and applied to Russian lines as it is: languages differ in syllables a second
(Spanish and Italian speakers say more, shorter syllables than English ones), so for a fast
Spanish original the Russian budget is generous.

Text in brackets or parentheses is a direction, not spoken ("(pause)", the offline
"[English, untranslated]" tag), and is not counted. The code spells Cyrillic letters as escapes:
Russian text lives only in `texts.py`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence

from reels_scripter.analysis.models import Transcript, Word, join_words
from reels_scripter.contract import FitStatus, Pace, RowFit

# Notice code (texts.py renders it): rows whose line does not fit, named by their times.
ROWS_TOO_LONG = "script_rows_too_long"

# A calm voice-over when the original has no speech to measure: Russian narration read without
# hurry runs at about 4 syllables a second (conversational speech at 5–6).
DEFAULT_PACE = 4.0
# Shares of the row's time the line needs: up to OK_SHARE it is said without hurry; up to
# TOO_LONG_ABOVE a speaker manages by speeding up a little (a speaker's own rate varies by about
# ±10% around their average within one reel); beyond that it does not fit.
OK_SHARE = 0.9
TOO_LONG_ABOVE = 1.1
# Gaps between words longer than this are pauses (commas, sentence ends, beats), not speech: left
# out, so the pace is the speaker's articulation rate (the figure `rows.MIN_PAUSE_SEC` also takes
# for a pause). A row usually holds one phrase said without a pause, so a line is measured against
# the rate phrases are said at: with pauses up to 1 s counted in, the bundled sample's own
# English lines needed 91-113% of their rows (one "too long" at its speaker's own pace); with
# them out, 44-89%. 0.25 s also sits far from the pauses seen (0.4-0.6 s), so the figure is
# stable where a 0.5 s limit, right on them, gave 3.45 or 3.89 syllables/s for one espeak line.
PAUSE_SEC = 0.25
# A measured pace needs this much speech; less (one short word) says nothing about a speaker.
MIN_SPEECH_SEC = 1.5
MIN_SYLLABLES = 6
# A recogniser's bad word times can give absurd figures: the pace is kept in human range.
MIN_PACE, MAX_PACE = 2.0, 9.0

_VOWELS = {
    "ru": "\u0430\u0435\u0451\u0438\u043e\u0443\u044b\u044d\u044e\u044f",
    "uk": "\u0430\u0435\u0454\u0438\u0456\u0457\u043e\u0443\u044e\u044f",
    "en": "aeiouy",
    "es": "aeiouáéíóúü",
    "it": "aeiouàèéìíîòóù",
    "pt": "aeiouáâãàéêíóôõú",
    "de": "aeiouyäöü",
    "fr": "aeiouyàâäéèêëîïôöùûüœæ",
}
_ANY_VOWELS = "".join(sorted(set("".join(_VOWELS.values()))))
# Vowels that start a new syllable when they meet another one (hiatus).
_STRONG = {
    "es": "aeoáéóíú",
    "it": "aeoàèéòóìíù",
    "pt": "aeoáâãàéêóôõíú",
}
_PT_DIPHTHONGS = {("ã", "o"), ("ã", "e"), ("õ", "e")}
DIGIT_SYLLABLES = {"en": 1.2, "de": 1.5}
_DEFAULT_DIGIT_SYLLABLES = 1.7

_DIRECTION = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_TOKEN = re.compile(r"\d+|[^\W\d_]+(?:['’][^\W\d_]+)*")
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def _groups(word: str, vowels: str) -> list[str]:
    return re.findall(f"[{re.escape(vowels)}]+", word)


def _russian(word: str) -> int:
    return sum(1 for ch in word if ch in _VOWELS["ru"] or ch in _VOWELS["uk"])


def _english(word: str) -> int:
    count = len(_groups(word, _VOWELS["en"]))
    if count > 1:
        if word.endswith("e") and not word.endswith(("ee", "ye")):
            if not (word.endswith("le") and len(word) > 2 and word[-3] not in _VOWELS["en"]):
                count -= 1
        elif word.endswith("es") and not word.endswith(("ses", "xes", "zes", "ches", "shes")):
            syllabic_le = word.endswith("les") and len(word) > 3 and word[-4] not in "aeiouy"
            if word[-3] not in _VOWELS["en"] and not word.endswith(("ces", "ges")):
                count -= 0 if syllabic_le else 1
        elif (
            word.endswith("ed")
            and not word.endswith(("ted", "ded"))
            and word[-3] not in _VOWELS["en"]
        ):
            count -= 1
    return count


def _romance(word: str, language: str) -> int:
    strong = _STRONG[language]
    count = 0
    for group in _groups(word, _VOWELS[language]):
        count += 1
        for a, b in itertools.pairwise(group):
            diphthong = language == "pt" and (a, b) in _PT_DIPHTHONGS
            if a in strong and b in strong and not diphthong:
                count += 1
    return count


def _french(word: str) -> int:
    count = len(_groups(word, _VOWELS["fr"]))
    if count > 1 and word.endswith(("e", "es")) and not word.endswith(("ee", "ées")):
        stem = word[:-1] if word.endswith("e") else word[:-2]
        if stem and stem[-1] not in _VOWELS["fr"]:
            count -= 1
    return count


def _word_syllables(word: str, language: str | None) -> int:
    if word.isdigit():
        per_digit = DIGIT_SYLLABLES.get(language or "", _DEFAULT_DIGIT_SYLLABLES)
        return max(1, math.ceil(len(word) * per_digit))
    word = word.lower().replace("’", "'")
    if language in ("ru", "uk") or (language is None and has_cyrillic(word)):
        return _russian(word)
    if language == "en":
        count = _english(word)
    elif language in _STRONG:
        count = _romance(word, language)
    elif language == "fr":
        count = _french(word)
    elif language == "de":
        count = len(_groups(word, _VOWELS["de"]))
    else:
        count = len(_groups(word, _ANY_VOWELS))
    # A Latin word with letters is said with at least one syllable ("Mr", "hmm").
    return max(count, 1)


def has_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def spoken_part(text: str) -> str:
    """The text without directions in brackets or parentheses."""
    return _DIRECTION.sub(" ", text)


def count_syllables(text: str, language: str | None) -> int:
    """Syllables of `text` said in `language` (ISO 639-1; None: guessed from the letters)."""
    return sum(_word_syllables(t, language) for t in _TOKEN.findall(spoken_part(text)))


# --- the pace ---------------------------------------------------------------------------------


def _phrases(words: Sequence[Word]) -> Iterable[list[Word]]:
    """Runs of words with no pause longer than PAUSE_SEC between them."""
    run: list[Word] = []
    for word in words:
        if run and word.start - run[-1].end > PAUSE_SEC:
            yield run
            run = []
        run.append(word)
    if run:
        yield run


def measure_pace(transcript: Transcript) -> Pace:
    """The original speaker's syllables a second over the timestamped words, counted in the
    spoken language; pauses longer than PAUSE_SEC are left out. With too little speech to
    measure (under MIN_SPEECH_SEC or MIN_SYLLABLES), the calm DEFAULT_PACE."""
    words = sorted(
        (w for s in transcript.segments for w in (s.words or []) if w.text.strip()),
        key=lambda w: w.start,
    )
    syllables, seconds = 0, 0.0
    for phrase in _phrases(words):
        syllables += count_syllables(join_words(phrase), transcript.language)
        seconds += max(0.0, phrase[-1].end - phrase[0].start)
    if seconds < MIN_SPEECH_SEC or syllables < MIN_SYLLABLES:
        return Pace(syllables_per_sec=DEFAULT_PACE, source="default")
    pace = min(max(syllables / seconds, MIN_PACE), MAX_PACE)
    return Pace(syllables_per_sec=round(pace, 2), source="measured")


# --- the fit ----------------------------------------------------------------------------------


def fit_status(seconds_needed: float, seconds_available: float) -> FitStatus:
    if seconds_needed <= OK_SHARE * seconds_available:
        return "ok"
    if seconds_needed <= TOO_LONG_ABOVE * seconds_available:
        return "tight"
    return "too_long"


def fit_row(text: str, language: str | None, seconds_available: float, pace: Pace) -> RowFit:
    """How long `text` takes at `pace`, against the row's `seconds_available`."""
    syllables = count_syllables(text, language)
    needed = syllables / pace.syllables_per_sec
    available = max(seconds_available, 0.0)
    return RowFit(
        syllables=syllables,
        seconds_needed=round(needed, 2),
        seconds_available=round(available, 2),
        status=fit_status(needed, available),
    )


def syllable_budget(seconds_available: float, pace: Pace) -> int:
    """The most syllables a line may have to be said without hurry (`ok`) in the row."""
    return math.floor(max(seconds_available, 0.0) * pace.syllables_per_sec * OK_SHARE)
