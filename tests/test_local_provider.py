from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from reels_scripter.analysis.models import CameraFacts, Measurements, OnscreenText, SceneColour
from reels_scripter.config import Settings
from reels_scripter.contract import KEY_CATEGORIES, REQUIRED_RECOMMENDATION_KINDS
from reels_scripter.providers.base import Creative, RowPlan, WriteRequest
from reels_scripter.providers.local import LocalProvider, by_frequency, camera_summary
from reels_scripter.rows import plan_rows
from reels_scripter.texts import notice_text, plural, with_prep
from support.factories import measurements, segment

NB = "\xa0"  # a figure and its unit stay on one line


def _write(m: Measurements, language: str = "ru") -> tuple[list[RowPlan], Creative]:
    rows = plan_rows(m)
    req = WriteRequest(measurements=m, rows=rows, video_path="x.mp4", target_language=language)
    return rows, LocalProvider.from_settings(Settings()).write(req)


def test_keys_cite_measured_evidence() -> None:
    m = measurements(
        cuts=[1.2, 2.5, 6.0], duration=10.0, segments=[segment("stop scrolling here is why", 0.4)]
    )
    _, c = _write(m)
    assert [k.category for k in c.keys] == list(KEY_CATEGORIES)
    hook = c.keys[0]
    assert f"первая реплика на 0,4{NB}с" in hook.evidence
    assert f"2{NB}склейки за первые 3{NB}с" in hook.evidence
    audio = c.keys[4]
    assert f"музыка около 120{NB}BPM" in audio.evidence
    delivery = c.keys[2]
    assert f"темп 30{NB}слов в минуту" in delivery.evidence


def test_recommendations_cover_required_kinds() -> None:
    _, c = _write(measurements(cuts=[3.0], duration=6.0))
    assert {r.kind for r in c.recommendations} >= set(REQUIRED_RECOMMENDATION_KINDS)
    assert all(r.text and r.category for r in c.recommendations)


def test_offline_translation_is_empty_and_the_voice_over_keeps_the_marked_original() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[segment("hello world", 0.5)])
    _rows, c = _write(m)
    assert c.translation == ""  # never the source text passed off as a translation
    assert c.rows[0].text == "[английский, без перевода] hello world"
    assert c.rows[0].text_language == "en"
    [notice] = c.notices
    assert (notice.code, notice.params["source"]) == ("translation_unavailable", "en")
    shown = notice_text(notice.code, "ru", notice.params)
    assert shown is not None and "с английского" in shown
    assert "«Подключить ИИ»" in shown  # the studio's button, in the creator's words
    assert "AI_PROVIDER" not in shown and "README" not in shown and "argostranslate" not in shown


def test_hook_type_is_classified_from_the_first_sentence() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[segment("why do reels fail?", 0.5)])
    _rows, c = _write(m)
    assert c.hook_type is not None and c.hook_type.type == "open_question"
    assert "why do reels fail?" in c.hook_type.evidence


def test_other_languages_get_the_russian_only_notice() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[segment("hallo welt", 0.5)])
    _rows, c = _write(m, language="de")
    assert [n.code for n in c.notices] == ["local_writes_russian_only", "translation_unavailable"]


def test_same_language_speech_is_used_as_is_without_warning() -> None:
    m = measurements(
        cuts=[3.0], duration=6.0, segments=[segment("привет всем друзья", 0.5)], language="ru"
    )
    _, c = _write(m)
    assert c.rows[0].text == "привет всем друзья"
    assert c.translation == "привет всем друзья"
    assert not c.notices


def test_silent_reel_gets_placeholder_text_and_no_translation_warning() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[])
    rows, c = _write(m)
    assert len(c.rows) == len(rows)
    assert all("без текста" in r.text for r in c.rows)
    assert c.translation == ""
    assert not c.notices
    assert c.keys[2].evidence == ["речи не обнаружено"]


def test_russian_plurals() -> None:
    forms = ("сцена", "сцены", "сцен")
    assert [plural(n, forms) for n in (1, 2, 5, 11, 21, 22, 25, 111)] == [
        "сцена",
        "сцены",
        "сцен",
        "сцен",
        "сцена",
        "сцены",
        "сцен",
        "сцен",
    ]


# --- claims only from measurements, in grammatical Russian -------------------------------


def _scene_update(m: Measurements, index: int, **fields: Any) -> Measurements:
    scenes = list(m.scenes)
    scenes[index] = scenes[index].model_copy(update=fields)
    return m.model_copy(update={"scenes": scenes})


def test_speech_heard_but_not_transcribed_is_never_called_no_speech() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[])
    m = m.model_copy(
        update={
            "audio": m.audio.model_copy(
                update={"speech_share": 0.7, "speech_seconds": 4.2, "untranscribed_speech_sec": 4.2}
            ),
            "voice_spans": [(0.5, 4.7)],
            "hook": m.hook.model_copy(update={"speech_at": 0.5}),
        }
    )
    _rows, c = _write(m)
    delivery = c.keys[2]
    text = " ".join([delivery.title, delivery.description, *delivery.evidence])
    assert "нет речи" not in text and "речи не обнаружено" not in text
    assert "не удалось распознать" in delivery.description
    assert f"речь начинается на 0,5{NB}с (не распознана)" in c.keys[0].evidence
    assert "звучит речь" in c.rows[0].text
    assert all("нет речи" not in k.description for k in c.keys)


def test_delivery_cites_pace_pauses_and_phrase_length_from_the_words() -> None:
    continuous = segment("one two three four five six seven eight nine ten eleven twelve.", 0.2)
    _rows, c = _write(measurements(cuts=[], duration=5.0, segments=[continuous]))
    delivery = c.keys[2]
    assert "вырезан" not in delivery.description  # nothing measured says pauses were cut
    assert f"без пауз длиннее 0,5{NB}с" in delivery.description
    assert f"в среднем 12{NB}слов во фразе" in delivery.evidence
    paused = [segment("stop.", 0.2), segment("look here.", 1.5), segment("now go.", 3.5)]
    _rows, c = _write(measurements(cuts=[], duration=5.0, segments=paused))
    assert f"2{NB}паузы длиннее 0,5{NB}с" in c.keys[2].evidence
    assert "Фразы короткие" in c.keys[2].description


def test_structure_text_agrees_with_its_numbers_and_prepositions() -> None:
    _rows, c = _write(measurements(cuts=[6.0], duration=12.0))  # 2 shots of 6 s: calm
    desc = c.keys[1].description
    assert f"Ролик собран из 2{NB}сцен со спокойным ритмом монтажа" in desc
    assert "с спокойным" not in desc
    _rows, c = _write(measurements(cuts=[4.0, 8.0], duration=12.0))  # 3 shots of 4 s
    assert f"из 3{NB}сцен с ровным ритмом" in c.keys[1].description
    _rows, c = _write(measurements(cuts=[], duration=4.0))
    assert f"из 1{NB}сцены" in c.keys[1].description


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("спокойным", "со спокойным"),
        ("звуком", "со звуком"),
        ("всеми", "со всеми"),
        ("светом", "со светом"),
        ("сильным", "с сильным"),
        ("быстрым", "с быстрым"),
        ("сами", "с сами"),
        ("ровным", "с ровным"),
    ],
)
def test_preposition_s_before_consonant_clusters(word: str, expected: str) -> None:
    assert with_prep(word) == expected


def test_visual_text_differs_for_differently_measured_shots() -> None:
    m = measurements(cuts=[4.0], duration=8.0)
    m = _scene_update(
        m,
        0,
        shot_scale="unknown",
        faces=0,
        brightness=0.2,
        camera=CameraFacts(move="static", changed=0.01),
        colours=[SceneColour(name="green", share=0.6, rgb="#208020")],
    )
    m = _scene_update(
        m,
        1,
        shot_scale="unknown",
        faces=0,
        brightness=0.2,
        camera=CameraFacts(move="pan", direction="right", speed=0.2, changed=0.4),
        colours=[
            SceneColour(name="brown", share=0.5, rgb="#604020"),
            SceneColour(name="grey", share=0.3, rgb="#808080"),
        ],
        onscreen_text=["WAIT FOR IT"],
    )
    m.onscreen_text = [OnscreenText(start=4.5, end=8.0, text="WAIT FOR IT")]
    _rows, c = _write(m)
    first, second = c.rows[0].visual, c.rows[1].visual
    assert first != second
    # A direction to film: the backdrop's colour only where one colour fills the picture.
    assert "Камера неподвижна" in first and "Однотонный зелёный фон" in first
    assert "Камера плавно панорамирует вправо" in second
    assert "коричнев" not in second and "серый" not in second
    assert "Надпись на экране: «WAIT FOR IT»" in second
    visual_key = c.keys[3]
    assert f"в среднем движется 20{NB}% кадра" in visual_key.evidence
    assert f"1{NB}статичный план" in visual_key.description
    assert f"1{NB}панорама" in visual_key.description


def test_hook_key_cites_the_caption_on_screen() -> None:
    m = measurements(cuts=[], duration=6.0)
    hook = m.hook.model_copy(
        update={"onscreen_text": [OnscreenText(start=0.0, end=2.5, text="3 TRICKS")]}
    )
    _rows, c = _write(m.model_copy(update={"hook": hook}))
    assert f"надпись на экране: «3{NB}TRICKS»" in c.keys[0].evidence
    assert f"«3{NB}TRICKS»" in c.keys[0].description


def test_loudness_is_cited_in_lufs() -> None:
    m = measurements(cuts=[], duration=6.0)
    m = m.model_copy(
        update={
            "audio": m.audio.model_copy(
                update={"loudness_lufs": -20.7, "loudness_range_lu": 5.1, "true_peak_dbtp": -1.2}
            )
        }
    )
    _rows, c = _write(m)
    audio = c.keys[4]
    assert f"громкость −20,7{NB}LUFS" in audio.evidence
    assert f"диапазон громкости 5,1{NB}LU" in audio.evidence
    assert f"пик −1,2{NB}dBTP" in audio.evidence
    assert "тише обычных для Reels" in audio.description


def test_hook_type_reads_the_caption_when_nothing_is_said() -> None:
    m = measurements(cuts=[], duration=6.0)
    hook = m.hook.model_copy(
        update={"onscreen_text": [OnscreenText(start=0.0, end=2.5, text="WAIT FOR IT")]}
    )
    _rows, c = _write(m.model_copy(update={"hook": hook}))
    assert c.hook_type is not None and c.hook_type.type == "tension_wait"
    assert c.hook_type.evidence == "В надписи на экране: «WAIT FOR IT»."


# --- claims inside their shot: hook type, call to action, notes ---------------------------


def test_stop_scrolling_and_three_tricks_is_a_pattern_interrupt_with_a_list_promise() -> None:
    m = measurements(
        cuts=[3.0],
        duration=8.0,
        segments=[
            segment("Stop scrolling.", 0.3),
            segment("Here are three tricks that save you an hour every day.", 1.0),
        ],
    )
    _rows, c = _write(m)
    assert c.hook_type is not None and c.hook_type.type == "shock_violation"
    assert c.hook_type.evidence.startswith("Прерывание ленты и обещание списка")
    assert "three tricks" in c.hook_type.evidence  # the second sentence is part of the opening


@pytest.mark.parametrize(
    ("speech", "caption", "expected"),
    [
        ("This one trick saves you an hour every day", None, "result_first"),
        ("5 ошибок, из-за которых рилс не смотрят", None, "result_first"),
        ("Here is my morning routine", "3 TRICKS", "result_first"),
        ("Deja de deslizar. Hoy te enseño tres trucos.", None, "shock_violation"),
    ],
)
def test_a_number_or_list_promise_is_a_hook(
    speech: str, caption: str | None, expected: str
) -> None:
    m = measurements(cuts=[3.0], duration=8.0, segments=[segment(speech, 0.3)])
    if caption:
        shown = OnscreenText(start=0.0, end=2.5, text=caption)
        m = m.model_copy(update={"hook": m.hook.model_copy(update={"onscreen_text": [shown]})})
    _rows, c = _write(m)
    assert c.hook_type is not None and c.hook_type.type == expected


def test_the_call_to_action_is_noted_in_the_row_where_it_is_said() -> None:
    m = measurements(
        cuts=[5.0, 10.0, 15.0, 20.0, 25.0],
        duration=30.0,
        segments=[
            segment("Stop scrolling. Here are three tricks.", 0.3),
            segment("First, shoot near a window.", 5.4),
            segment("Second, hold the phone at eye level.", 10.3),
            segment("Follow for more tips.", 15.2),
        ],
    )
    rows, c = _write(m)
    cta_row = next(i for i, r in enumerate(rows) if r.start <= 15.2 < r.end)
    assert "Follow for more tips" in c.rows[cta_row].note
    assert c.rows[cta_row].note.startswith("Здесь призыв к действию")
    # the silent last row is not told to add a call to action that was already made
    assert "дайте понятный призыв" not in c.rows[-1].note
    assert sum("призыв к действию" in r.note for r in c.rows) == 1


def test_a_caption_call_to_action_is_noted_where_it_is_shown() -> None:
    m = measurements(cuts=[4.0, 8.0], duration=12.0, segments=[segment("Look at this.", 0.3)])
    m = m.model_copy(update={"onscreen_text": [OnscreenText(start=5.0, end=7.0, text="SAVE THIS")]})
    _rows, c = _write(m)
    assert "SAVE THIS" in c.rows[1].note


def test_a_row_holding_two_thoughts_is_not_told_one_idea_per_shot() -> None:
    m = measurements(
        cuts=[3.0, 9.0],
        duration=12.0,
        segments=[
            segment("Hello there.", 0.3),
            segment("Trick one is light. Trick two is sound.", 3.3),
        ],
    )
    rows, c = _write(m)
    two = next(i for i, r in enumerate(rows) if "Trick one" in r.speech)
    assert "одна мысль" not in c.rows[two].note
    assert c.rows[two].note.startswith(f"Блок на 6{NB}с, 2{NB}мысли")


def test_a_blip_of_voice_activity_in_music_is_no_unrecognised_speech() -> None:
    m = measurements(cuts=[3.0, 6.0], duration=9.0, segments=[], music=True)
    m = m.model_copy(
        update={
            "audio": m.audio.model_copy(
                update={
                    "speech_share": 0.07,
                    "speech_seconds": 0.6,
                    "untranscribed_speech_sec": 0.6,
                }
            ),
            "voice_spans": [(4.0, 4.6)],
        }
    )
    _rows, c = _write(m)
    said = " ".join(
        [k.title + " " + k.description for k in c.keys] + [r.note + r.text for r in c.rows]
    )
    assert "не распознана" not in said and "Пауза в речи" not in said
    assert c.keys[2].title == "Подача без слов"


TIED_MOVES = ["pan", "handheld", "pan", "tilt", "static", "handheld", "zoom", "pan"]


def test_tied_camera_moves_keep_the_order_they_first_occur() -> None:
    moves = by_frequency(TIED_MOVES)
    assert list(moves.items()) == [
        ("pan", 3),
        ("handheld", 2),
        ("tilt", 1),
        ("static", 1),
        ("zoom", 1),
    ]
    assert camera_summary(moves)[2:] == [
        "1 движение вверх-вниз",
        "1 статичный план",
        "1 наезд или отъезд",
    ]


def test_camera_words_do_not_depend_on_the_process_hash_seed() -> None:
    """Held-out runs of one reel differed only in the order of tied moves (a set's order
    follows PYTHONHASHSEED): every seed must give the same words."""
    program = (
        "from reels_scripter.providers.local import by_frequency, camera_summary\n"
        f"print(camera_summary(by_frequency({TIED_MOVES!r})))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program],
            env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(outputs) == 1
