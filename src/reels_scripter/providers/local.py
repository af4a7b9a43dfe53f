"""The offline provider: writes the keys, script and recommendations from measurements alone.

It needs no key and no network, so the full result is always available; every claim it makes
cites a measured figure as evidence. Its Russian is template-based: plain, but never invented.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from statistics import mean

from reels_scripter.analysis.models import (
    SENTENCE_BREAK,
    SENTENCE_END,
    Measurements,
    Word,
)
from reels_scripter.contract import Key, Recommendation
from reels_scripter.providers.base import (
    Creative,
    Notice,
    Provider,
    RowContent,
    RowPlan,
    WriteRequest,
)
from reels_scripter.providers.directions import row_direction
from reels_scripter.providers.hook_signals import (
    call_to_action,
    hook_type_from_measurements,
)
from reels_scripter.providers.translation import offline_translator
from reels_scripter.texts import (
    BLOCK_FORMS,
    CUT_FORMS,
    LOCAL,
    PAUSE_FORMS,
    PLAN_OF_FORMS,
    SCENE_FORMS,
    SCENE_OF_FORMS,
    THOUGHT_FORMS,
    WORD_FORMS,
    WORD_GEN_FORMS,
    count,
    language_label,
    num,
    plural,
    plural_of,
    quote,
    typeset,
    with_prep,
)

# Notice codes (texts.py renders them for the person reading the result).
LOCAL_RUSSIAN_ONLY = "local_writes_russian_only"
TRANSLATION_UNAVAILABLE = "translation_unavailable"

# Voice activity without a recognised word counts as speech from this long on: shorter blips in
# music or noise are nothing a creator could listen to, and a reel without speech is told so.
HEARD_SEC = 1.5
# A pause worth naming in delivery: longer than a breath between words.
PAUSE_SEC = 0.5


def _level(value: float, low: float, high: float, words: tuple[str, str, str]) -> str:
    if value < low:
        return words[0]
    if value > high:
        return words[2]
    return words[1]


def _pauses(words: list[Word]) -> list[float]:
    return [b.start - a.end for a, b in itertools.pairwise(words) if b.start - a.end >= PAUSE_SEC]


def _phrase_lengths(words: list[Word]) -> list[int]:
    """Words per phrase: a phrase ends at . ! ? … or at a pause."""
    lengths, current = [], 0
    for i, word in enumerate(words):
        current += 1
        pause_after = i + 1 < len(words) and words[i + 1].start - word.end >= PAUSE_SEC
        if SENTENCE_END.search(word.text) or pause_after or i == len(words) - 1:
            lengths.append(current)
            current = 0
    return lengths


class _Facts:
    """Derived figures the texts cite, computed once."""

    def __init__(self, m: Measurements) -> None:
        self.m = m
        self.duration = max(m.duration, 0.001)
        self.scene_count = max(len(m.scenes), 1)
        self.avg_shot = self.duration / self.scene_count
        self.cuts_per_min = (self.scene_count - 1) / self.duration * 60
        self.word_list = [w for s in m.transcript.segments for w in (s.words or [])]
        self.words = sum(len(s.text.split()) for s in m.transcript.segments)
        self.wpm = m.hook.words_per_minute
        self.has_speech = self.words > 0
        # speech heard by voice activity, recognised or not
        self.speech_seconds = max(m.audio.speech_seconds, 0.0)
        self.untranscribed = m.audio.untranscribed_speech_sec
        self.speech_heard = self.has_speech or self.speech_seconds >= HEARD_SEC
        scales = [s.shot_scale for s in m.scenes]
        self.main_scale = next(iter(by_frequency(scales)), "unknown")
        self.faces = any(s.faces for s in m.scenes)
        self.face_shots = sum(1 for s in m.scenes if s.faces)
        self.motion = mean(s.motion for s in m.scenes) if m.scenes else 0.0
        cameras = [s.camera for s in m.scenes if s.camera is not None]
        self.moving_share = mean(c.changed for c in cameras) if cameras else None
        self.camera_moves = [c.move for c in cameras]
        self.has_audio = m.audio.has_audio
        self.speech_share = max(0.0, min(1.0, m.audio.speech_share))
        self.cta = call_to_action(m)
        self.shape = _shape(m.probe.width, m.probe.height)
        self.pauses = _pauses(self.word_list)
        self.phrases = _phrase_lengths(self.word_list)


def _hook_key(f: _Facts) -> Key:
    h = f.m.hook
    evidence = []
    if h.first_word_at is not None:
        evidence.append(LOCAL.HOOK_FIRST_WORD.format(num(h.first_word_at)))
    elif h.speech_at is not None and h.speech_at < h.window:
        evidence.append(LOCAL.HOOK_SPEECH_UNRECOGNISED.format(num(h.speech_at)))
    elif not f.has_audio:
        evidence.append(LOCAL.HOOK_NO_SOUND)
    else:
        evidence.append(LOCAL.HOOK_NO_SPEECH.format(num(h.window)))
    if h.cuts:
        evidence.append(LOCAL.HOOK_CUTS.format(count(h.cuts, CUT_FORMS), num(h.window)))
    else:
        evidence.append(LOCAL.HOOK_NO_CUTS.format(num(h.window)))
    captions = list(dict.fromkeys(t.text for t in h.onscreen_text))
    if captions:
        evidence.append(LOCAL.HOOK_CAPTIONS.format(", ".join(quote(t) for t in captions[:2])))
    if h.loudness_db is not None:
        evidence.append(LOCAL.HOOK_LOUDNESS.format(num(h.loudness_db)))
    if captions and (h.first_word_at is None or h.first_word_at > 1.0):
        desc = LOCAL.HOOK_BY_CAPTION.format(quote(captions[0]), num(h.onscreen_text[0].start))
    elif h.first_word_at is not None and h.first_word_at <= 1.0:
        desc = LOCAL.HOOK_BY_SPEECH.format(quote(h.first_words))
        if captions:
            desc += LOCAL.HOOK_CAPTION_DOUBLES.format(quote(captions[0]))
    elif h.first_word_at is not None and h.first_word_at < h.window:
        desc = LOCAL.HOOK_LATE_LINE.format(num(h.first_word_at), quote(h.first_words))
    elif h.cuts >= 2:
        desc = LOCAL.HOOK_BY_CUTS.format(count(h.cuts, CUT_FORMS), num(h.window))
    else:
        desc = LOCAL.HOOK_BY_PICTURE
    return Key(title=LOCAL.HOOK_TITLE, description=desc, category="hook", evidence=evidence)


def _structure_key(f: _Facts, rows: list[RowPlan]) -> Key:
    evidence = [
        LOCAL.STRUCTURE_SCENES.format(count(f.scene_count, SCENE_FORMS), num(f.duration)),
        LOCAL.STRUCTURE_AVG_SHOT.format(num(f.avg_shot)),
        LOCAL.STRUCTURE_BLOCKS.format(count(len(rows), BLOCK_FORMS)),
    ]
    if f.speech_heard:
        evidence.append(LOCAL.SPEECH_SHARE.format(round(f.m.audio.speech_share * 100)))
    pace = _level(f.avg_shot, 2.5, 5, LOCAL.PACE)
    scenes = f"{f.scene_count} {plural(f.scene_count, SCENE_OF_FORMS)}"
    desc = LOCAL.STRUCTURE.format(scenes, with_prep(pace), num(f.avg_shot))
    return Key(
        title=LOCAL.STRUCTURE_TITLE, description=desc, category="structure", evidence=evidence
    )


def _delivery_key(f: _Facts) -> Key:
    if not f.has_speech and f.speech_heard:
        return Key(
            title=LOCAL.DELIVERY_UNRECOGNISED_TITLE,
            description=LOCAL.DELIVERY_UNRECOGNISED.format(num(f.speech_seconds, 0)),
            category="delivery",
            evidence=[
                LOCAL.DELIVERY_VOICE_SECONDS.format(num(f.speech_seconds, 0)),
                LOCAL.DELIVERY_NO_WORDS,
            ],
        )
    if not f.has_audio:
        return Key(
            title=LOCAL.DELIVERY_NO_SOUND_TITLE,
            description=LOCAL.DELIVERY_NO_SOUND,
            category="delivery",
            evidence=[LOCAL.AUDIO_NONE_EVIDENCE],
        )
    if not f.has_speech or f.wpm is None:
        return Key(
            title=LOCAL.DELIVERY_SILENT_TITLE,
            description=LOCAL.DELIVERY_SILENT,
            category="delivery",
            evidence=[LOCAL.DELIVERY_NO_SPEECH],
        )
    wpm = f.wpm
    tempo = _level(wpm, 110, 160, LOCAL.TEMPO)
    evidence = [
        LOCAL.DELIVERY_TEMPO_EVIDENCE.format(count(round(wpm), WORD_FORMS)),
        LOCAL.DELIVERY_WORDS.format(count(f.words, WORD_FORMS), num(f.duration)),
    ]
    parts = [LOCAL.DELIVERY_TEMPO.format(tempo, count(round(wpm), WORD_FORMS))]
    if f.phrases:
        avg = mean(f.phrases)
        length = _level(avg, 8, 15, LOCAL.PHRASE_LENGTH)
        parts.append(LOCAL.DELIVERY_PHRASES.format(length, num(avg), plural_of(avg, WORD_FORMS)))
        evidence.append(
            LOCAL.DELIVERY_PHRASES_EVIDENCE.format(num(avg), plural_of(avg, WORD_FORMS))
        )
    if f.pauses:
        longest = max(f.pauses)
        parts.append(
            LOCAL.DELIVERY_PAUSES.format(
                count(len(f.pauses), PAUSE_FORMS).capitalize(), num(PAUSE_SEC), num(longest)
            )
        )
        evidence.append(
            LOCAL.DELIVERY_PAUSES_EVIDENCE.format(count(len(f.pauses), PAUSE_FORMS), num(PAUSE_SEC))
        )
    elif len(f.word_list) > 1:
        parts.append(LOCAL.DELIVERY_NO_PAUSES.format(num(PAUSE_SEC)))
        evidence.append(LOCAL.DELIVERY_NO_PAUSES_EVIDENCE.format(num(PAUSE_SEC)))
    if f.untranscribed >= 1.5:
        parts.append(LOCAL.DELIVERY_UNTRANSCRIBED.format(num(f.untranscribed, 0)))
    return Key(
        title=LOCAL.DELIVERY_TITLE,
        description=" ".join(parts),
        category="delivery",
        evidence=evidence,
    )


def _visual_key(f: _Facts) -> Key:
    evidence = [LOCAL.VISUAL_SCALE.format(LOCAL.SCALE[f.main_scale])]
    per_min = round(f.cuts_per_min)
    evidence.append(
        LOCAL.VISUAL_CUTS.format(count(per_min, CUT_FORMS)) if per_min else LOCAL.VISUAL_NO_CUTS
    )
    if f.moving_share is not None:
        evidence.append(LOCAL.VISUAL_MOVING.format(num(f.moving_share * 100, 0)))
    else:
        evidence.append(LOCAL.VISUAL_CHANGE.format(num(f.motion * 100)))
    if f.shape is not None:
        shape, ratio = f.shape
        template = LOCAL.SHAPE_LANDSCAPE if shape == "landscape" else LOCAL.SHAPE_SQUARE
        evidence.append(template.format(ratio))
    moves = by_frequency(f.camera_moves)
    total = len(f.camera_moves)
    if moves:
        top = next(iter(moves))
        evidence.append(
            LOCAL.VISUAL_TOP_MOVE.format(
                LOCAL.CAMERA_TOP[top], moves[top], total, plural(total, PLAN_OF_FORMS)
            )
        )
    if f.faces:
        desc = LOCAL.VISUAL_FACES.format(
            f.face_shots,
            f.scene_count,
            plural(f.scene_count, PLAN_OF_FORMS),
            LOCAL.SCALE[f.main_scale],
        )
    else:
        desc = LOCAL.VISUAL_NO_FACES
    if moves:
        desc += LOCAL.VISUAL_CAMERA.format(", ".join(camera_summary(moves)))
    return Key(title=LOCAL.VISUAL_TITLE, description=desc, category="visual", evidence=evidence)


def by_frequency(items: Iterable[str]) -> dict[str, int]:
    """How often each item occurs, most frequent first; ties in the order they first occur, so
    the same reel always gets the same words (a set's order changes from process to process)."""
    return dict(Counter(items).most_common())


def camera_summary(moves: dict[str, int]) -> list[str]:
    """`moves` from `by_frequency`, as counted Russian phrases in that order."""
    return [count(n, LOCAL.CAMERA_COUNTED[m]) for m, n in moves.items()]


def _audio_key(f: _Facts) -> Key:
    a = f.m.audio
    evidence = []
    if not a.has_audio:
        return Key(
            title=LOCAL.AUDIO_NONE_TITLE,
            description=LOCAL.AUDIO_NONE,
            category="audio",
            evidence=[LOCAL.AUDIO_NONE_EVIDENCE],
        )
    if a.music:
        evidence.append(
            LOCAL.AUDIO_MUSIC_BPM.format(round(a.tempo_bpm)) if a.tempo_bpm else LOCAL.AUDIO_MUSIC
        )
    else:
        evidence.append(LOCAL.AUDIO_NO_MUSIC)
    if a.loudness_lufs is not None:
        evidence.append(LOCAL.AUDIO_LOUDNESS.format(num(a.loudness_lufs)))
    if a.loudness_range_lu is not None:
        evidence.append(LOCAL.AUDIO_RANGE.format(num(a.loudness_range_lu)))
    if a.true_peak_dbtp is not None:
        evidence.append(LOCAL.AUDIO_PEAK.format(num(a.true_peak_dbtp)))
    evidence.append(LOCAL.SPEECH_SHARE.format(round(a.speech_share * 100)))
    if a.music and f.speech_heard:
        desc = LOCAL.AUDIO_VOICE_OVER_MUSIC
    elif a.music:
        desc = LOCAL.AUDIO_MUSIC_ONLY
    elif f.speech_heard:
        desc = LOCAL.AUDIO_VOICE_ONLY
    else:
        desc = LOCAL.AUDIO_BACKGROUND
    if a.loudness_lufs is not None:
        level = _level(a.loudness_lufs, -18, -10, LOCAL.LEVEL)
        desc += LOCAL.AUDIO_LEVEL.format(num(a.loudness_lufs), level)
        desc += "." if level != LOCAL.LEVEL[1] else LOCAL.AUDIO_LEVEL_WITHIN
    return Key(title=LOCAL.AUDIO_TITLE, description=desc, category="audio", evidence=evidence)


def _shape(width: int, height: int) -> tuple[str, str] | None:
    """("landscape", "16:9") for a frame that is not vertical; None for a vertical one."""
    if width <= 0 or height <= 0 or height > width * 1.05:
        return None
    ratio = width / height
    named = {"16:9": 16 / 9, "4:3": 4 / 3, "1:1": 1.0, "21:9": 21 / 9, "3:2": 3 / 2}
    label, value = min(named.items(), key=lambda kv: abs(kv[1] - ratio))
    if abs(value - ratio) > 0.03:
        label = f"{width}×{height}"
    return ("square" if ratio < 1.05 else "landscape", label)


def _ideas(speech: str) -> int:
    """Sentences said in a row: more than one is more than one thought."""
    return len([s for s in SENTENCE_BREAK.split(speech.strip()) if s.strip()])


def _note(row: RowPlan, index: int, total: int, f: _Facts) -> str:
    length = row.end - row.start
    cta = f.cta
    if cta is not None and row.start - 1e-6 <= cta.at < row.end and index > 0:
        return LOCAL.NOTE_CTA.format(quote(cta.text))
    if index == 0:
        return LOCAL.NOTE_HOOK
    if index == total - 1:
        return LOCAL.NOTE_FINAL if cta is None else LOCAL.NOTE_FINAL_AFTER_CTA
    if length < 2.5:
        return LOCAL.NOTE_SHORT.format(num(length))
    if not row.speech:
        if not f.has_audio:
            return LOCAL.NOTE_NO_SOUND
        return LOCAL.NOTE_PAUSE if f.speech_heard else LOCAL.NOTE_NO_SPEECH
    ideas = _ideas(row.speech)
    if ideas > 1 or len(row.scenes) > 1:
        thoughts = max(ideas, len(row.scenes))
        return LOCAL.NOTE_BLOCK_IDEAS.format(num(length), count(thoughts, THOUGHT_FORMS))
    return LOCAL.NOTE_BLOCK.format(num(length))


def _avatar(f: _Facts) -> str:
    share = round(f.speech_share * 100)
    if not f.speech_heard:
        return LOCAL.AVATAR_NO_SPEECH
    if f.speech_share < 0.4:
        return LOCAL.AVATAR_SECONDARY.format(share)
    if f.faces:
        return LOCAL.AVATAR_TALKING_HEAD.format(share)
    return LOCAL.AVATAR_VOICE_LED.format(share)


def _recommendations(f: _Facts) -> list[Recommendation]:
    a = f.m.audio
    if f.has_speech and f.wpm:
        voice = LOCAL.VOICE_TEMPO.format(count(round(f.wpm), WORD_GEN_FORMS))
    elif f.speech_heard:
        voice = LOCAL.VOICE_UNRECOGNISED
    elif not f.has_audio:
        voice = LOCAL.VOICE_NO_SOUND
    else:
        voice = LOCAL.VOICE_NONE
    if not f.has_audio:
        music = LOCAL.MUSIC_NO_SOUND
    elif a.music and a.tempo_bpm:
        music = LOCAL.MUSIC_BPM.format(round(a.tempo_bpm))
    elif f.speech_heard:
        music = LOCAL.MUSIC_NONE
    else:
        music = LOCAL.MUSIC_NONE_NO_SPEECH
    editing = LOCAL.EDITING.format(num(f.avg_shot), count(f.scene_count, SCENE_FORMS))
    if f.m.hook.onscreen_text:
        editing += LOCAL.EDITING_CAPTION
    recommendations = [
        Recommendation(category=LOCAL.CATEGORY_VOICE, text=voice, kind="voice"),
        Recommendation(category=LOCAL.CATEGORY_MUSIC, text=music, kind="music"),
        Recommendation(category=LOCAL.CATEGORY_AVATAR, text=_avatar(f), kind="avatar"),
        Recommendation(category=LOCAL.CATEGORY_EDITING, text=editing, kind="editing"),
    ]
    if f.shape is not None:
        shape, ratio = f.shape
        recommendations.append(
            Recommendation(
                category=LOCAL.CATEGORY_SHAPE,
                text=LOCAL.SHAPE.format(LOCAL.SHAPE_HOW[shape], ratio),
                kind="other",
            )
        )
    return recommendations


def _typeset_key(key: Key) -> Key:
    return key.model_copy(
        update={
            "title": typeset(key.title),
            "description": typeset(key.description),
            "evidence": [typeset(e) for e in key.evidence],
        }
    )


def untranslated_line(text: str, language: str | None) -> str:
    """An original line kept in the voice-over, marked with its language."""
    return LOCAL.UNTRANSLATED.format(language_label(language), text)


def _heard_untranscribed(row: RowPlan, m: Measurements) -> bool:
    voiced = sum(max(0.0, min(e, row.end) - max(s, row.start)) for s, e in m.voice_spans)
    return voiced >= 1.0 and not row.speech


class LocalProvider(Provider):
    name = "local"

    @property
    def model(self) -> str | None:
        return "local-rules-v1"

    def write(self, request: WriteRequest) -> Creative:
        m = request.measurements
        f = _Facts(m)
        notices: list[Notice] = []
        target = request.target_language
        if target != "ru":
            notices.append(Notice(code=LOCAL_RUSSIAN_ONLY))
        source = m.transcript.language
        translate = offline_translator(source, target) if source else None
        if f.has_speech and translate is None:
            notices.append(
                Notice(code=TRANSLATION_UNAVAILABLE, params={"source": source, "target": target})
            )
        rows = []
        for i, row in enumerate(request.rows):
            following = request.rows[i + 1] if i + 1 < len(request.rows) else None
            visual = row_direction(row, m.scenes, following)
            text_language = None
            if row.speech and translate is not None:
                text = translate(row.speech)
            elif row.speech:
                text, text_language = untranslated_line(row.speech, source), source
            elif f.speech_heard and _heard_untranscribed(row, m):
                text = LOCAL.SPEECH_UNRECOGNISED_ROW
            else:
                text = LOCAL.NO_TEXT_ROW
            rows.append(
                RowContent(
                    id=row.id,
                    visual=typeset(visual),
                    text=text,
                    note=typeset(_note(row, i, len(request.rows), f)),
                    text_language=text_language,
                )
            )
        hook = hook_type_from_measurements(m)
        transcript = m.transcript.text
        # Never the source text passed off as a translation: empty when there is no translator.
        translation = translate(transcript) if translate and transcript else ""
        return Creative(
            translation=translation,
            keys=[
                _typeset_key(key)
                for key in (
                    _hook_key(f),
                    _structure_key(f, request.rows),
                    _delivery_key(f),
                    _visual_key(f),
                    _audio_key(f),
                )
            ],
            rows=rows,
            recommendations=[
                r.model_copy(update={"text": typeset(r.text)}) for r in _recommendations(f)
            ],
            hook_type=hook.model_copy(update={"evidence": typeset(hook.evidence)}),
            model=self.model,
            notices=notices,
        )
