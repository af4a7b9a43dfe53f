"""The offline provider: writes the keys, script and recommendations from measurements alone.

It needs no key and no network, so the full result is always available; every claim it makes
cites a measured figure as evidence. Its Russian is template-based: plain, but never invented.
"""

from __future__ import annotations

import itertools
from statistics import mean

from reels_scripter.analysis.models import SENTENCE_END, CameraFacts, Measurements, SceneFacts, Word
from reels_scripter.contract import Key, Recommendation
from reels_scripter.providers.base import (
    Creative,
    Notice,
    Provider,
    RowContent,
    RowPlan,
    WriteRequest,
)
from reels_scripter.providers.hook_signals import hook_type_from_measurements
from reels_scripter.providers.translation import offline_translator
from reels_scripter.texts import language_label

# Notice codes (texts.py renders them for the person reading the result).
LOCAL_RUSSIAN_ONLY = "local_writes_russian_only"
TRANSLATION_UNAVAILABLE = "translation_unavailable"

SCENE_FORMS = ("сцена", "сцены", "сцен")
WORD_FORMS = ("слово", "слова", "слов")
SECOND_FORMS = ("секунда", "секунды", "секунд")
PAUSE_FORMS = ("пауза", "паузы", "пауз")
SCALE_RU = {
    "close-up": "крупный план",
    "medium": "средний план",
    "wide": "общий план",
    "unknown": "план без лиц",
}
CAMERA_RU = {
    ("static", None): "камера неподвижна",
    ("pan", "left"): "камера панорамирует влево",
    ("pan", "right"): "камера панорамирует вправо",
    ("tilt", "up"): "камера движется вверх",
    ("tilt", "down"): "камера движется вниз",
    ("zoom", "in"): "наезд камеры",
    ("zoom", "out"): "отъезд камеры",
    ("handheld", None): "съёмка с рук, кадр подрагивает",
}
# A pause worth naming in delivery: longer than a breath between words.
PAUSE_SEC = 0.5
_VOWELS = set("аеёиоуыэюяaeiouy")


def plural(n: int, forms: tuple[str, str, str]) -> str:
    """Russian plural: (1 сцена, 2 сцены, 5 сцен)."""
    n_abs = abs(n) % 100
    if 11 <= n_abs <= 19:
        return forms[2]
    last = n_abs % 10
    if last == 1:
        return forms[0]
    if 2 <= last <= 4:
        return forms[1]
    return forms[2]


def plural_of(value: float, forms: tuple[str, str, str]) -> str:
    """The form after a figure as it is written: a fraction takes the genitive singular
    («9.2 слова»), a whole number the usual plural («9 слов»)."""
    rounded = round(value, 1)
    if rounded != int(rounded):
        return forms[1]
    return plural(int(rounded), forms)


def count(n: int, forms: tuple[str, str, str]) -> str:
    """«1 сцена», «3 сцены», «11 сцен»."""
    return f"{n} {plural(n, forms)}"


def with_prep(word: str) -> str:
    """«с» or «со» before `word`: «со» before с/з/ш/ж/щ + consonant and before «мн»/«вс»
    («со спокойным», «со звуком», «со всеми»), «с» otherwise («с быстрым»)."""
    w = word.lower()
    if len(w) >= 2 and ((w[0] in "сзшжщ" and w[1] not in _VOWELS) or w.startswith(("мн", "вс"))):
        return f"со {word}"
    return f"с {word}"


def num(value: float, digits: int = 1) -> str:
    rounded = round(value, digits)
    text = str(int(rounded)) if rounded == int(rounded) else f"{rounded:.{digits}f}"
    # a typographic minus, as in the fixed texts ("−14 LUFS"), not a hyphen
    return text.replace("-", "−")


def _level(value: float, low: float, high: float, words: tuple[str, str, str]) -> str:
    if value < low:
        return words[0]
    if value > high:
        return words[2]
    return words[1]


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"«{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}»"


def colour_phrase(names: list[str]) -> str:
    """«преобладает зелёный цвет», «преобладают синий и белый цвета»."""
    if not names:
        return ""
    if len(names) == 1:
        return f"преобладает {names[0]} цвет"
    listed = ", ".join(names[:-1]) + f" и {names[-1]}"
    return f"преобладают {listed} цвета"


def camera_phrase(camera: CameraFacts | None) -> str:
    if camera is None:
        return ""
    return CAMERA_RU.get((camera.move, camera.direction), CAMERA_RU.get((camera.move, None), ""))


def describe_scene(scene: SceneFacts, shots: int = 1) -> str:
    """The shot as measured: scale and faces, camera, colours, light, text on screen."""
    first = SCALE_RU[scene.shot_scale].capitalize()
    if scene.faces == 1:
        first += ", человек в кадре"
    elif scene.faces > 1:
        first += f", людей в кадре: {scene.faces}"
    if shots > 1:
        first += (
            f" (и ещё {shots - 1} {plural(shots - 1, ('план', 'плана', 'планов'))} в этом блоке)"
        )
    parts = [first]
    camera = camera_phrase(scene.camera)
    if camera:
        moving = round(scene.camera.changed * 100) if scene.camera is not None else 0
        if moving >= 5:
            camera += f"; меняется около {moving}% картинки"
        parts.append(camera)
    light = _level(
        scene.brightness, 0.3, 0.7, ("тёмная картинка", "ровный свет", "светлая картинка")
    )
    if scene.contrast is not None and scene.contrast >= 0.25:
        light += ", высокий контраст"
    elif scene.contrast is not None and scene.contrast < 0.08:
        light += ", низкий контраст"
    colours = colour_phrase([c.name_ru for c in scene.colours[:3]])
    parts.append(f"{colours}, {light}" if colours else light)
    if scene.onscreen_text:
        parts.append("надпись " + ", ".join(_quote(t) for t in scene.onscreen_text[:2]))
    sentences = [parts[0]] + [p[0].upper() + p[1:] for p in parts[1:]]
    return ". ".join(sentences) + "."


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
        self.speech_heard = self.has_speech or self.speech_seconds > 0
        scales = [s.shot_scale for s in m.scenes]
        self.main_scale = max(set(scales), key=scales.count) if scales else "unknown"
        self.faces = any(s.faces for s in m.scenes)
        self.face_shots = sum(1 for s in m.scenes if s.faces)
        self.motion = mean(s.motion for s in m.scenes) if m.scenes else 0.0
        cameras = [s.camera for s in m.scenes if s.camera is not None]
        self.moving_share = mean(c.changed for c in cameras) if cameras else None
        self.camera_moves = [c.move for c in cameras]
        self.pauses = _pauses(self.word_list)
        self.phrases = _phrase_lengths(self.word_list)


def _hook_key(f: _Facts) -> Key:
    h = f.m.hook
    evidence = []
    if h.first_word_at is not None:
        evidence.append(f"первая реплика на {num(h.first_word_at)} с")
    elif h.speech_at is not None and h.speech_at < h.window:
        evidence.append(f"речь начинается на {num(h.speech_at)} с (не распознана)")
    else:
        evidence.append(f"в первые {num(h.window)} с нет речи")
    evidence.append(
        f"{h.cuts} {plural(h.cuts, ('смена', 'смены', 'смен'))} кадра за первые {num(h.window)} с"
    )
    captions = list(dict.fromkeys(t.text for t in h.onscreen_text))
    if captions:
        evidence.append("надпись на экране: " + ", ".join(_quote(t) for t in captions[:2]))
    if h.loudness_db is not None:
        evidence.append(f"громкость начала {num(h.loudness_db)} дБ")
    if captions and (h.first_word_at is None or h.first_word_at > 1.0):
        desc = (
            f"Хук держит надпись на экране: {_quote(captions[0])} видна с "
            f"{num(h.onscreen_text[0].start)} с — зритель читает обещание ролика ещё до первой "
            "реплики."
        )
    elif h.first_word_at is not None and h.first_word_at <= 1.0:
        desc = (
            f"Видео начинается сразу с речи: «{h.first_words}». Зритель получает повод остаться "
            "ещё до того, как успеет пролистать."
        )
        if captions:
            desc += f" Надпись {_quote(captions[0])} дублирует обещание текстом."
    elif h.first_word_at is not None and h.first_word_at < h.window:
        desc = (
            f"Первая реплика звучит на {num(h.first_word_at)} с: «{h.first_words}». До неё "
            "внимание держит только картинка; фраза с первой же секунды удержит сильнее."
        )
    elif h.cuts >= 2:
        desc = (
            f"Внимание удерживается монтажом: {count(h.cuts, ('смена', 'смены', 'смен'))} "
            f"кадра за первые {num(h.window)} с."
        )
    else:
        desc = (
            "Хук держится на картинке: в первые секунды нет ни речи, ни частых склеек, "
            "ни надписи. Сильнее сработает фраза, надпись или резкая смена кадра в первую "
            "секунду."
        )
    return Key(title="Хук в первые 3 секунды", description=desc, category="hook", evidence=evidence)


def _structure_key(f: _Facts, rows: list[RowPlan]) -> Key:
    evidence = [
        f"{count(f.scene_count, SCENE_FORMS)} за {num(f.duration)} с",
        f"средняя длина кадра {num(f.avg_shot)} с",
        f"{count(len(rows), ('блок', 'блока', 'блоков'))} сценария",
    ]
    if f.speech_heard:
        evidence.append(f"речь звучит {round(f.m.audio.speech_share * 100)}% времени")
    pace = "быстрым" if f.avg_shot < 2.5 else "спокойным" if f.avg_shot > 5 else "ровным"
    scenes = f"{f.scene_count} {plural(f.scene_count, ('сцены', 'сцен', 'сцен'))}"
    desc = (
        f"Ролик собран из {scenes} {with_prep(pace)} ритмом монтажа: в среднем "
        f"{num(f.avg_shot)} с на кадр."
    )
    return Key(title="Структура и ритм", description=desc, category="structure", evidence=evidence)


def _delivery_key(f: _Facts) -> Key:
    if not f.has_speech and f.speech_seconds > 0:
        return Key(
            title="Подача: речь не распознана",
            description=f"В ролике звучит речь (около {num(f.speech_seconds, 0)} с), но её не "
            "удалось распознать, поэтому о темпе и словах здесь ничего не сказано. Послушайте "
            "оригинал или подключите более сильную модель распознавания (WHISPER_MODEL).",
            category="delivery",
            evidence=[
                f"речь по голосовой активности: {num(f.speech_seconds, 0)} с",
                "распознанных слов нет",
            ],
        )
    if not f.has_speech or f.wpm is None:
        return Key(
            title="Подача без слов",
            description="В ролике нет речи: смысл передают картинка, монтаж и звук. Такой формат "
            "понятен без языка и хорошо работает в ленте без звука.",
            category="delivery",
            evidence=["речи не обнаружено"],
        )
    wpm = f.wpm
    tempo = "быстрый" if wpm > 160 else "спокойный" if wpm < 110 else "разговорный"
    evidence = [
        f"темп {count(round(wpm), WORD_FORMS)} в минуту",
        f"{count(f.words, WORD_FORMS)} за {num(f.duration)} с",
    ]
    parts = [f"Темп речи {tempo}: {count(round(wpm), WORD_FORMS)} в минуту."]
    if f.phrases:
        avg = mean(f.phrases)
        length = "короткие" if avg < 8 else "длинные" if avg > 15 else "средней длины"
        parts.append(f"Фразы {length}: в среднем {num(avg)} {plural_of(avg, WORD_FORMS)}.")
        evidence.append(f"в среднем {num(avg)} {plural_of(avg, WORD_FORMS)} во фразе")
    if f.pauses:
        longest = max(f.pauses)
        parts.append(
            f"{count(len(f.pauses), PAUSE_FORMS).capitalize()} длиннее {num(PAUSE_SEC)} с, "
            f"самая длинная — {num(longest)} с."
        )
        evidence.append(f"{count(len(f.pauses), PAUSE_FORMS)} длиннее {num(PAUSE_SEC)} с")
    elif len(f.word_list) > 1:
        parts.append(f"Речь идёт без пауз длиннее {num(PAUSE_SEC)} с.")
        evidence.append(f"пауз длиннее {num(PAUSE_SEC)} с нет")
    if f.untranscribed >= 1.5:
        parts.append(f"Около {num(f.untranscribed, 0)} с речи распознать не удалось.")
    return Key(
        title="Подача и темп речи",
        description=" ".join(parts),
        category="delivery",
        evidence=evidence,
    )


def _visual_key(f: _Facts) -> Key:
    evidence = [f"преобладает {SCALE_RU[f.main_scale]}"]
    per_min = round(f.cuts_per_min)
    evidence.append(f"{count(per_min, ('склейка', 'склейки', 'склеек'))} в минуту")
    if f.moving_share is not None:
        evidence.append(f"в движении в среднем {num(f.moving_share * 100, 0)}% кадра")
    else:
        evidence.append(f"среднее изменение кадра {num(f.motion * 100)}%")
    moves: dict[str, int] = {m: f.camera_moves.count(m) for m in set(f.camera_moves)}
    total = len(f.camera_moves)
    plans = ("плана", "планов", "планов")  # «в 1 из 5 планов», «в 2 из 5 планов»
    if moves:
        top = max(moves, key=lambda m: moves[m])
        label = {
            "static": "неподвижная камера",
            "pan": "панорамы",
            "tilt": "движение камеры вверх-вниз",
            "zoom": "наезды и отъезды",
            "handheld": "съёмка с рук",
        }[top]
        evidence.append(f"{label}: {moves[top]} из {total} {plural(total, plans)}")
    if f.faces:
        desc = (
            f"Человек в кадре: лицо найдено в {f.face_shots} из {f.scene_count} "
            f"{plural(f.scene_count, plans)}, чаще всего {SCALE_RU[f.main_scale]}."
        )
    else:
        desc = "Лиц в кадре не найдено: ролик держится на предметах, действии и окружении."
    if moves:
        desc += f" По камере: {', '.join(camera_summary(moves))}."
    return Key(title="Визуал и монтаж", description=desc, category="visual", evidence=evidence)


def camera_summary(moves: dict[str, int]) -> list[str]:
    names = {
        "static": ("неподвижный план", "неподвижных плана", "неподвижных планов"),
        "pan": ("панорама", "панорамы", "панорам"),
        "tilt": ("движение вверх-вниз", "движения вверх-вниз", "движений вверх-вниз"),
        "zoom": ("наезд или отъезд", "наезда или отъезда", "наездов или отъездов"),
        "handheld": ("план с рук", "плана с рук", "планов с рук"),
    }
    ordered = sorted(moves.items(), key=lambda kv: -kv[1])
    return [count(n, names[m]) for m, n in ordered]


def _audio_key(f: _Facts) -> Key:
    a = f.m.audio
    evidence = []
    if not a.has_audio:
        return Key(
            title="Звук",
            description="В ролике нет звуковой дорожки — он рассчитан на просмотр без звука, "
            "поэтому всё важное должно быть видно в кадре и в субтитрах.",
            category="audio",
            evidence=["звуковой дорожки нет"],
        )
    if a.music:
        evidence.append(
            f"музыка ~{round(a.tempo_bpm)} BPM" if a.tempo_bpm else "фоновая музыка есть"
        )
    else:
        evidence.append("музыки не обнаружено")
    if a.loudness_lufs is not None:
        evidence.append(f"громкость {num(a.loudness_lufs)} LUFS")
    if a.loudness_range_lu is not None:
        evidence.append(f"диапазон громкости {num(a.loudness_range_lu)} LU")
    if a.true_peak_dbtp is not None:
        evidence.append(f"пик {num(a.true_peak_dbtp)} dBTP")
    evidence.append(f"речь звучит {round(a.speech_share * 100)}% времени")
    if a.music and f.speech_heard:
        desc = "Голос звучит поверх музыки: бит задаёт темп, речь ведёт смысл."
    elif a.music:
        desc = "Музыка задаёт ритм всему ролику: речи нет, темп держит бит."
    elif f.speech_heard:
        desc = "Голос без музыкального бита: внимание целиком на словах."
    else:
        desc = "Ни речи, ни музыкального бита: звук работает фоном."
    if a.loudness_lufs is not None:
        level = (
            "тише" if a.loudness_lufs < -18 else "громче" if a.loudness_lufs > -10 else "в пределах"
        )
        desc += f" Громкость {num(a.loudness_lufs)} LUFS — {level} обычных для Reels −14 LUFS"
        desc += "." if level != "в пределах" else " (±4 LU)."
    return Key(title="Аудио", description=desc, category="audio", evidence=evidence)


def _note(row: RowPlan, index: int, total: int, f: _Facts) -> str:
    length = row.end - row.start
    if index == 0:
        return (
            "Хук: первые секунды решают, досмотрят ли ролик — начните с самой сильной фразы "
            "или действия."
        )
    if index == total - 1:
        return "Финал: дайте понятный призыв к действию (подписка, сохранение, комментарий)."
    if length < 2.5:
        return f"Короткий кадр ({num(length)} с) держит темп — не затягивайте."
    if not row.speech:
        return "Пауза в речи: здесь работает картинка, добавьте динамику или текст на экране."
    return f"Основная мысль блока, {num(length)} с — одна идея на один кадр."


def _recommendations(f: _Facts) -> list[Recommendation]:
    a = f.m.audio
    if f.has_speech and f.wpm:
        voice = (
            f"Говорите в темпе около {count(round(f.wpm), WORD_FORMS)} в минуту, "
            "как в оригинале; делайте "
            "ударение на ключевых словах и держите энергию чуть выше разговорной."
        )
    elif f.speech_heard:
        voice = (
            "Речь оригинала не распознана: прослушайте его и повторите темп и паузы; для "
            "Reels обычно хорошо работают 140–160 слов в минуту."
        )
    else:
        voice = (
            "В оригинале нет речи; если добавляете озвучку, говорите коротко и энергично, "
            "не больше 140–150 слов в минуту."
        )
    if a.music and a.tempo_bpm:
        music = (
            f"Подберите трек с темпом около {round(a.tempo_bpm)} BPM и ставьте склейки в долю; "
            "под голосом приглушайте музыку на 12–18 дБ."
        )
    else:
        music = (
            "Музыкального бита в оригинале не обнаружено; лёгкий фоновый трек 90–110 BPM на "
            "15–20 дБ тише голоса добавит динамики."
        )
    if f.faces and f.speech_heard:
        avatar = (
            "Формат «говорящая голова» подходит для ИИ-аватара (HeyGen, Synthesia): крупный план, "
            "взгляд в камеру, текст из сценария — жесты и смены плана добавьте монтажом."
        )
    else:
        avatar = (
            "ИИ-аватар здесь вторичен: ролик держится на картинке. Если нужен ведущий, вставьте "
            "аватара в начале (хук) и в финале (призыв), остальное — визуальный ряд."
        )
    editing = (
        f"Склейка каждые ~{num(f.avg_shot)} с ({count(f.scene_count, SCENE_FORMS)}); "
        "добавьте субтитры крупным шрифтом и акцент (зум или звук) на смене кадра."
    )
    if f.m.hook.onscreen_text:
        editing += " Повторите надпись-хук первых секунд своими словами."
    return [
        Recommendation(category="Голос и интонация", text=voice, kind="voice"),
        Recommendation(category="Фоновая музыка", text=music, kind="music"),
        Recommendation(category="ИИ-аватар", text=avatar, kind="avatar"),
        Recommendation(category="Монтаж и эффекты", text=editing, kind="editing"),
    ]


def untranslated_line(text: str, language: str | None) -> str:
    """An original line kept in the voice-over, marked with its language."""
    return f"[{language_label(language)}, без перевода] {text}"


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
        scenes = {s.index: s for s in m.scenes}
        rows = []
        for i, row in enumerate(request.rows):
            scene = scenes.get(row.scene)
            visual = describe_scene(scene, len(row.scenes)) if scene else "Кадр без измерений."
            text_language = None
            if row.speech and translate is not None:
                text = translate(row.speech)
            elif row.speech:
                text, text_language = untranslated_line(row.speech, source), source
            elif _heard_untranscribed(row, m):
                text = "(звучит речь, распознать её не удалось — послушайте оригинал)"
            else:
                text = "(без текста — говорит картинка)"
            rows.append(
                RowContent(
                    id=row.id,
                    visual=visual,
                    text=text,
                    note=_note(row, i, len(request.rows), f),
                    text_language=text_language,
                )
            )
        transcript = m.transcript.text
        # Never the source text passed off as a translation: empty when there is no translator.
        translation = translate(transcript) if translate and transcript else ""
        return Creative(
            translation=translation,
            keys=[
                _hook_key(f),
                _structure_key(f, request.rows),
                _delivery_key(f),
                _visual_key(f),
                _audio_key(f),
            ],
            rows=rows,
            recommendations=_recommendations(f),
            hook_type=hook_type_from_measurements(m),
            model=self.model,
            notices=notices,
        )
