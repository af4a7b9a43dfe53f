"""The offline provider: writes the keys, script and recommendations from measurements alone.

It needs no key and no network, so the full result is always available; every claim it makes
cites a measured figure as evidence. Its Russian is template-based: plain, but never invented.
"""

from __future__ import annotations

from statistics import mean

from reels_scripter.analysis.models import Measurements, SceneFacts
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

# Notice codes (texts.py renders them for the person reading the result).
LOCAL_RUSSIAN_ONLY = "local_writes_russian_only"
TRANSLATION_UNAVAILABLE = "translation_unavailable"

SCENE_FORMS = ("сцена", "сцены", "сцен")
WORD_FORMS = ("слово", "слова", "слов")
SCALE_RU = {
    "close-up": "крупный план",
    "medium": "средний план",
    "wide": "общий план",
    "unknown": "кадр без людей",
}


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


def num(value: float, digits: int = 1) -> str:
    rounded = round(value, digits)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.{digits}f}"


def _level(value: float, low: float, high: float, words: tuple[str, str, str]) -> str:
    if value < low:
        return words[0]
    if value > high:
        return words[2]
    return words[1]


def describe_scene(scene: SceneFacts) -> str:
    parts = [SCALE_RU[scene.shot_scale].capitalize()]
    if scene.faces:
        parts.append("человек в кадре" if scene.faces == 1 else f"{scene.faces} человека в кадре")
    parts.append(
        _level(scene.brightness, 0.3, 0.7, ("тёмная картинка", "ровный свет", "светлая картинка"))
    )
    parts.append(
        _level(
            scene.motion, 0.02, 0.08, ("статичная камера", "лёгкое движение", "динамичное движение")
        )
    )
    return ", ".join(parts) + "."


class _Facts:
    """Derived figures the texts cite, computed once."""

    def __init__(self, m: Measurements) -> None:
        self.m = m
        self.duration = max(m.duration, 0.001)
        self.scene_count = max(len(m.scenes), 1)
        self.avg_shot = self.duration / self.scene_count
        self.cuts_per_min = (self.scene_count - 1) / self.duration * 60
        self.words = sum(len(s.text.split()) for s in m.transcript.segments)
        self.wpm = m.hook.words_per_minute
        self.has_speech = self.words > 0
        scales = [s.shot_scale for s in m.scenes]
        self.main_scale = max(set(scales), key=scales.count) if scales else "unknown"
        self.faces = any(s.faces for s in m.scenes)
        self.motion = mean(s.motion for s in m.scenes) if m.scenes else 0.0


def _hook_key(f: _Facts) -> Key:
    h = f.m.hook
    evidence = []
    if h.first_word_at is not None:
        evidence.append(f"первая реплика на {num(h.first_word_at)} с")
    else:
        evidence.append(f"в первые {num(h.window)} с нет речи")
    evidence.append(
        f"{h.cuts} {plural(h.cuts, ('смена', 'смены', 'смен'))} кадра за первые {num(h.window)} с"
    )
    if h.loudness_db is not None:
        evidence.append(f"громкость начала {num(h.loudness_db)} дБ")
    if h.first_word_at is not None and h.first_word_at <= 1.0:
        desc = (
            f"Видео начинается сразу с речи: «{h.first_words}». Зритель получает повод остаться "
            "ещё до того, как успеет пролистать."
        )
    elif h.cuts >= 2:
        desc = (
            "Внимание удерживается быстрым монтажом в первые секунды: кадр меняется чаще, "
            "чем зритель успевает заскучать."
        )
    else:
        desc = (
            "Хук держится на картинке: в первые секунды нет ни быстрой речи, ни частых склеек. "
            "Сильнее сработает фраза или резкая смена кадра в первую секунду."
        )
    return Key(title="Хук в первые 3 секунды", description=desc, category="hook", evidence=evidence)


def _structure_key(f: _Facts, rows: list[RowPlan]) -> Key:
    evidence = [
        f"{f.scene_count} {plural(f.scene_count, SCENE_FORMS)} за {num(f.duration)} с",
        f"средняя длина кадра {num(f.avg_shot)} с",
        f"{len(rows)} {plural(len(rows), ('блок', 'блока', 'блоков'))} сценария",
    ]
    if f.has_speech:
        evidence.append(f"речь занимает {round(f.m.audio.speech_share * 100)}% времени")
    pace = "быстрым" if f.avg_shot < 2.5 else "спокойным" if f.avg_shot > 5 else "ровным"
    desc = (
        f"Ролик собран из {f.scene_count} {plural(f.scene_count, ('сцены', 'сцен', 'сцен'))} "
        f"с {pace} ритмом монтажа: одна мысль — один кадр, без затянутых мест."
    )
    return Key(title="Структура и ритм", description=desc, category="structure", evidence=evidence)


def _delivery_key(f: _Facts) -> Key:
    if not f.has_speech or f.wpm is None:
        return Key(
            title="Подача без слов",
            description="В ролике нет речи: смысл передают картинка, монтаж и звук. Такой формат "
            "понятен без языка и хорошо работает в ленте без звука.",
            category="delivery",
            evidence=["распознанной речи нет"],
        )
    wpm = f.wpm
    tempo = "быстрый" if wpm > 160 else "спокойный" if wpm < 110 else "уверенный разговорный"
    return Key(
        title="Подача и темп речи",
        description=f"Говорящий держит {tempo} темп, фразы короткие, паузы вырезаны — "
        "информация подаётся плотно, но разборчиво.",
        category="delivery",
        evidence=[
            f"темп {round(wpm)} {plural(round(wpm), WORD_FORMS)} в минуту",
            f"{f.words} {plural(f.words, WORD_FORMS)} за {num(f.duration)} с",
        ],
    )


def _visual_key(f: _Facts) -> Key:
    evidence = [f"преобладает {SCALE_RU[f.main_scale]}"]
    per_min = round(f.cuts_per_min)
    evidence.append(f"{per_min} {plural(per_min, ('склейка', 'склейки', 'склеек'))} в минуту")
    evidence.append(f"среднее движение в кадре {num(f.motion * 100)}%")
    if f.faces:
        desc = (
            "В центре кадра человек: лицо крупно, взгляд в камеру создаёт ощущение "
            "личного разговора."
        )
    else:
        desc = "Картинка работает сама: предмет или действие в кадре, смена планов задаёт динамику."
    return Key(title="Визуал и монтаж", description=desc, category="visual", evidence=evidence)


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
        evidence.append(f"средняя громкость {num(a.loudness_lufs)} дБ")
    evidence.append(f"речь звучит {round(a.speech_share * 100)}% времени")
    if a.music and f.has_speech:
        desc = "Голос ведёт, музыка поддерживает темп на фоне и не спорит с речью."
    elif a.music:
        desc = "Музыка задаёт ритм всему ролику: монтаж и движение подстроены под её темп."
    else:
        desc = "Чистый голос без музыки: внимание целиком на словах, ничего не отвлекает."
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
            f"Говорите в темпе около {round(f.wpm)} {plural(round(f.wpm), WORD_FORMS)} в минуту, "
            "как в оригинале; делайте "
            "ударение на ключевых словах и держите энергию чуть выше разговорной."
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
            "Музыки в оригинале нет или она незаметна; лёгкий фоновый трек 90–110 BPM на 15–20 дБ "
            "тише голоса добавит динамики."
        )
    if f.faces and f.has_speech:
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
        f"Склейка каждые ~{num(f.avg_shot)} с ({f.scene_count} "
        f"{plural(f.scene_count, SCENE_FORMS)}); вырезайте паузы, добавьте "
        "субтитры крупным шрифтом и акцент (зум или звук) на смене кадра."
    )
    return [
        Recommendation(category="Голос и интонация", text=voice, kind="voice"),
        Recommendation(category="Фоновая музыка", text=music, kind="music"),
        Recommendation(category="ИИ-аватар", text=avatar, kind="avatar"),
        Recommendation(category="Монтаж и эффекты", text=editing, kind="editing"),
    ]


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
            visual = describe_scene(scene) if scene else "Кадр без измерений."
            if row.speech:
                text = translate(row.speech) if translate else row.speech
            else:
                text = "(без текста — говорит картинка)"
            rows.append(
                RowContent(
                    id=row.id, visual=visual, text=text, note=_note(row, i, len(request.rows), f)
                )
            )
        transcript = m.transcript.text
        translation = (translate(transcript) if translate else transcript) if transcript else ""
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
