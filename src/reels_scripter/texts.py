"""What a person reads, by stable code: error messages, stage names and analysis notices.

Code, logs and `AppError.message` are English; everything shown to the person who uploaded the
reel is rendered here, in the target language (`TARGET_LANGUAGE`, Russian by default). A text
may use the error's `params` (`{duration}`, `{limit}`); when a param is missing the short form
is used, so a message never shows a raw placeholder. Languages without a catalog fall back to
English, codes without a text to the generic text of their HTTP status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from reels_scripter.errors import AppError


@dataclass(frozen=True)
class Text:
    full: str
    short: str | None = None  # without params

    def render(self, params: Mapping[str, Any], language: str = "en") -> str:
        if _base(language) == "ru":
            params = {k: _RuFigure(v) if _is_figure(v) else v for k, v in params.items()}
            try:
                text = self.full.format(**params)
            except (KeyError, IndexError, ValueError):
                text = self.short or self.full
            return sentence(typeset(text))
        try:
            return self.full.format(**params)
        except (KeyError, IndexError, ValueError):
            return self.short or self.full


T = Text
V = TypeVar("V")

_RU_ERRORS: dict[str, Text] = {
    # bad input (the probe and the upload stream)
    "empty_file": T("Файл пустой (0 байт)"),
    "not_a_video": T(
        "Это {kind_text} {format}, а не видео. Загрузите MP4, MOV или WebM",
        "Файл не является видео. Загрузите MP4, MOV или WebM",
    ),
    "unsupported_format": T(
        "Видео в формате {format} не поддерживается. Загрузите MP4, MOV или WebM",
        "Неподдерживаемый формат видео. Загрузите MP4, MOV или WebM",
    ),
    "audio_only": T("В файле только звук ({format}), без видео", "В файле только звук, без видео"),
    "no_video_stream": T("В файле нет видеодорожки"),
    "corrupt_video": T("Видеофайл повреждён или загружен не полностью"),
    "too_long": T(
        "Видео длится {duration:.0f} с — больше допустимых {limit:.0f} с",
        "Видео слишком длинное",
    ),
    "too_large": T("Файл больше допустимых {limit_mb:.0f} МБ", "Файл слишком большой"),
    "resolution_too_large": T(
        "Разрешение {width}×{height} больше допустимого ({limit_mp} Мп)",
        "Слишком большое разрешение видео",
    ),
    "probe_timeout": T("Не удалось проверить видео за отведённое время"),
    "invalid_video": T("Не удалось прочитать видео"),
    # server-side setup of the analysis
    "speech_model_unavailable": T("Модель распознавания речи недоступна на сервере"),
    "ocr_unavailable": T("Модель чтения текста в кадре недоступна на сервере"),
    "probe_unavailable": T("Сервер не смог проверить видео, попробуйте позже"),
    "analysis_failed": T("Не удалось проанализировать видео"),
    # AI providers
    "ai_failed": T("ИИ-сервис не смог написать сценарий, попробуйте позже"),
    "ai_misconfigured": T("ИИ-сервис настроен неверно: обратитесь к администратору"),
    # the model's name and its setting are in the server log, not for the person uploading
    "ai_model_not_found": T("Выбранная модель ИИ недоступна: обратитесь к администратору"),
    "ai_blocked": T("ИИ-сервис отказался обрабатывать это видео"),
    # storage and jobs
    "storage_failed": T("Хранилище файлов недоступно, попробуйте позже"),
    "video_missing": T("Загруженное видео больше не доступно, загрузите его снова"),
    "internal_error": T("Внутренняя ошибка сервера"),
    "unavailable": T("Сервис временно недоступен"),
    "database_unavailable": T("База данных временно недоступна"),
    "connection_error": T("Проблема с соединением, попробуйте позже"),
    "timeout": T(
        "Анализ длился дольше {limit:.0f} с и был остановлен",
        "Анализ длился слишком долго и был остановлен",
    ),
    "worker_lost": T("Обработчик несколько раз аварийно останавливался, анализ прерван"),
    "worker_unavailable": T(
        "Анализ сейчас невозможен: обработчик задач не запускается — {cause_text}. "
        "Обратитесь к администратору",
        "Анализ сейчас невозможен: обработчик задач не запущен",
    ),
    # HTTP API
    "bad_request": T("Некорректный запрос"),
    "unauthorized": T("Требуется действительный API-ключ"),
    "forbidden": T("Доступ запрещён"),
    "not_found": T("Не найдено"),
    "method_not_allowed": T("Метод не поддерживается"),
    "not_acceptable": T("Неприемлемый формат ответа"),
    "conflict": T("Конфликт состояния"),
    "length_required": T("Требуется заголовок Content-Length"),
    "unsupported_media_type": T("Неподдерживаемый тип содержимого"),
    "validation_error": T("Некорректные данные запроса"),
    "rate_limited": T("Слишком много запросов, попробуйте позже"),
    "job_not_found": T("Разбор не найден — возможно, его удалили"),
    "not_completed": T("Анализ ещё не завершён"),
    "keyframe_not_found": T("Кадр не найден"),
    "no_file": T("Файл не загружен"),
    "malformed_multipart": T("Некорректный запрос на загрузку файла"),
    "client_disconnected": T("Загрузка прервана"),
    "upload_timeout": T("Загрузка шла слишком медленно и была прервана, попробуйте ещё раз"),
    "too_many_uploads": T(
        "Сейчас идёт слишком много загрузок, попробуйте через {retry_after} с",
        "Сейчас идёт слишком много загрузок, попробуйте чуть позже",
    ),
    "invalid_callback_url": T(
        "Некорректный адрес для уведомлений: нужен полный адрес http:// или https://"
    ),
    "callback_url_forbidden": T(
        "Адрес для уведомлений ведёт во внутреннюю сеть; разрешены только публичные адреса"
    ),
    "callback_url_unresolvable": T("Не удалось найти сервер, указанный в адресе для уведомлений"),
    "http_error": T("Ошибка запроса"),
    "video_gone": T(
        "Видео больше не хранится на сервере: после анализа оно хранится {hours:g} ч",
        "Видео больше не хранится на сервере",
    ),
    "range_not_satisfiable": T("Запрошенный диапазон за пределами файла"),
    "headers_too_large": T("Заголовки запроса слишком велики"),
    "no_subtitles": T("{no_subtitles_text}", "В ролике нет речи — субтитры сделать не из чего"),
    "no_translation": T("Перевода нет — субтитры перевода сделать не из чего"),
    "invalid_access_token": T("Ссылка недействительна"),
    "access_token_expired": T("Срок действия ссылки истёк, обновите страницу"),
    "access_token_read_only": T("Эта ссылка открывает только просмотр одного разбора"),
    # the studio's «Подключить ИИ» (PUT /api/settings/ai)
    "ai_key_required": T("Вставьте ключ: без него Gemini не отвечает."),
    "ai_key_rejected": T(
        "Ключ не подошёл: сервис ИИ его не принял. Проверьте, что ключ скопирован целиком "
        "и не отозван."
    ),
    "ai_model_unavailable": T(
        "Такой модели нет или её сняли с поддержки. Выберите другую: {suggested}.",
        "Такой модели нет или её сняли с поддержки. Выберите другую.",
    ),
    "ai_server_unreachable": T(
        "Сервер ИИ по этому адресу не отвечает. Проверьте адрес и что сервер запущен."
    ),
    "ai_service_busy": T("Сервис ИИ сейчас не отвечает. Попробуйте ещё раз через минуту."),
    "ai_settings_from_environment": T(
        "ИИ для этого сервера выбрал администратор в его настройках — здесь его не изменить."
    ),
    "admin_key_required": T("Подключать ИИ может только администратор сервера."),
    "ai_key_unreadable": T(
        "Сохранённый ключ ИИ не читается: у сервера сменился секрет. Подключите ИИ заново."
    ),
    # import by link (reels_scripter.imports)
    "link_invalid": T(
        "Это не ссылка на видео: нужен полный адрес, начинающийся с http:// или https://."
    ),
    "link_forbidden": T(
        "Ссылка ведёт во внутреннюю сеть: импортировать можно только с публичных сайтов."
    ),
    "link_unsupported": T(
        "По этой ссылке не нашлось видео. Поддерживаются Reels, TikTok, Shorts, клипы VK и прямые "
        "ссылки на видеофайл."
    ),
    "link_login_required": T(
        "Видео закрыто: оно приватное, с ограничением по возрасту или сайт требует входа. "
        "Администратор может подключить файл cookies, или загрузите файл "
        "вручную."
    ),
    "link_not_found": T("Видео по ссылке не найдено: возможно, его удалили."),
    "link_too_long": T(
        "Видео по ссылке длится {duration:.0f}\u00a0с — больше допустимых {limit:.0f}\u00a0с.",
        "Видео по ссылке слишком длинное.",
    ),
    "link_too_large": T(
        "Видео по ссылке больше допустимых {limit_mb:.0f}\u00a0МБ.",
        "Видео по ссылке слишком большое.",
    ),
    "link_timeout": T(
        "Сайт слишком долго отдавал видео (дольше {limit:.0f}\u00a0с), попробуйте позже.",
        "Сайт слишком долго отдавал видео, попробуйте позже.",
    ),
    "link_unreachable": T("Не удалось связаться с сайтом по ссылке, попробуйте позже."),
    "no_link": T("Вставьте ссылку на ролик."),
    "share_not_found": T("Ссылка не найдена: её отозвали, срок её действия истёк или она неверна."),
    # the creator's edits of the script
    "script_edit_invalid": T(
        "Правку сценария не удалось прочитать: нужен список блоков, у каждого — номер и "
        "новый текст."
    ),
    "script_edit_empty": T("В правке нет ни одного блока сценария."),
    "script_row_not_found": T(
        "В сценарии нет блока {number}: всего блоков {count}.",
        "В сценарии нет такого блока.",
    ),
    "script_row_repeated": T(
        "Блок {number} указан в правке дважды.", "Один блок указан в правке дважды."
    ),
    "script_row_no_fields": T(
        "Для блока {number} не указано, что изменить.",
        "Для одного из блоков не указано, что изменить.",
    ),
    "script_text_too_long": T(
        "Текст блока {number} длиннее {limit} символов.",
        "Текст в правке длиннее допустимого.",
    ),
    "script_edit_conflict": T(
        "Сценарий в эту же секунду меняли в другом окне. Сохраните правку ещё раз."
    ),
    "script_version_not_found": T(
        "У сценария нет версии {version}.", "У сценария нет такой версии."
    ),
}

_EN_ERRORS: dict[str, Text] = {
    "ai_key_required": T("Paste a key: Gemini does not answer without one."),
    "ai_key_rejected": T("The AI service did not accept the key. Check it is complete."),
    "ai_model_unavailable": T(
        "No such model, or it was retired. Choose another: {suggested}.",
        "No such model, or it was retired. Choose another.",
    ),
    "ai_server_unreachable": T("No AI server answers at this address. Is it running?"),
    "ai_service_busy": T("The AI service is not answering now. Try again in a minute."),
    "ai_settings_from_environment": T(
        "The server's administrator chose the AI in its environment; it cannot be changed here."
    ),
    "admin_key_required": T("Only the server's administrator may connect an AI."),
    "ai_key_unreadable": T(
        "The stored AI key cannot be read: the server secret changed. Connect the AI again."
    ),
    "empty_file": T("The file is empty (0 bytes)"),
    "not_a_video": T(
        "This is {kind_text} ({format}), not a video. Upload an MP4, MOV or WebM file",
        "The file is not a video. Upload an MP4, MOV or WebM file",
    ),
    "unsupported_format": T(
        "{format} videos are not supported. Upload an MP4, MOV or WebM file",
        "Unsupported video format. Upload an MP4, MOV or WebM file",
    ),
    "audio_only": T("The file holds only audio, no video"),
    "no_video_stream": T("The file has no video track"),
    "corrupt_video": T("The video file is damaged or incomplete"),
    "too_long": T(
        "The video is {duration:.0f} s long, over the {limit:.0f} s limit",
        "The video is too long",
    ),
    "too_large": T("The file is over the {limit_mb:.0f} MB limit", "The file is too large"),
    "resolution_too_large": T("The video resolution is too large"),
    "probe_timeout": T("The video could not be checked in time"),
    "invalid_video": T("The video could not be read"),
    "ai_failed": T("The AI service could not write the script; try again later"),
    "ai_misconfigured": T("The AI service is misconfigured; contact the administrator"),
    "ai_model_not_found": T(
        "AI model {model} is not available: the administrator must change {setting}",
        "The AI model is not available; contact the administrator",
    ),
    "ai_blocked": T("The AI service refused to process this video"),
    "video_missing": T("The uploaded video is no longer available; upload it again"),
    "internal_error": T("Internal server error"),
    "unavailable": T("The service is temporarily unavailable"),
    "job_not_found": T("Job not found"),
    "not_completed": T("The analysis has not finished yet"),
    "unauthorized": T("A valid API key is required"),
    "rate_limited": T("Too many requests; try again later"),
    "no_file": T("No file was uploaded"),
    "worker_unavailable": T(
        "Analysis is not possible now: the job worker cannot start ({cause_text}). "
        "Contact the administrator",
        "Analysis is not possible now: no job worker is running",
    ),
    "upload_timeout": T("The upload was too slow and was cut off; try again"),
    "headers_too_large": T("The request headers are too large"),
    "too_many_uploads": T(
        "Too many uploads are in progress; try again in {retry_after} s",
        "Too many uploads are in progress; try again shortly",
    ),
    "invalid_callback_url": T("Invalid callback URL: a full http:// or https:// URL is needed"),
    "callback_url_forbidden": T(
        "The callback URL leads into a private network; only public addresses are allowed"
    ),
    "callback_url_unresolvable": T("The callback URL's host could not be found"),
    "link_invalid": T("Not a video link: a full http:// or https:// address is needed."),
    "link_forbidden": T("The link leads into a private network; only public sites are allowed."),
    "link_unsupported": T("No video was found at this link."),
    "link_login_required": T(
        "The video is private, age-restricted or behind a login. The administrator can set "
        "IMPORT_COOKIES_FILE, or upload the file instead."
    ),
    "link_not_found": T("The video at this link was not found."),
    "link_too_long": T(
        "The linked video is {duration:.0f} s long, over the {limit:.0f} s limit.",
        "The linked video is too long.",
    ),
    "link_too_large": T(
        "The linked video is over the {limit_mb:.0f} MB limit.", "The linked video is too large."
    ),
    "link_timeout": T("The site took too long to send the video; try again later."),
    "link_unreachable": T("The site at this link could not be reached; try again later."),
    "no_link": T("Paste a link to the reel."),
    "share_not_found": T("This link was revoked, has expired or is wrong."),
    "script_edit_invalid": T(
        "The script edit could not be read: it needs a list of rows, each with its number "
        "and new text."
    ),
    "script_edit_empty": T("The edit names no script row."),
    "script_row_not_found": T(
        "The script has no row {number}: it has {count}.", "The script has no such row."
    ),
    "script_row_repeated": T("Row {number} is named twice.", "A row is named twice."),
    "script_row_no_fields": T(
        "Row {number} says nothing to change.", "A row of the edit says nothing to change."
    ),
    "script_text_too_long": T(
        "The text of row {number} is over {limit} characters.", "A text of the edit is too long."
    ),
    "script_edit_conflict": T("The script was edited elsewhere at the same moment; save again."),
    "script_version_not_found": T(
        "The script has no version {version}.", "The script has no such version."
    ),
}

# Why a worker could not start (`worker_unavailable`'s `cause`), as a person reads it.
_CAUSES = {
    "ru": {
        "ai_provider": "ИИ-сервис не принимает ключ или модель из настроек",
        "storage": "хранилище файлов недоступно или настроено неверно",
        "speech_model": "модель распознавания речи не найдена",
        "database": "база данных недоступна",
        "crashed": "процесс обработчика аварийно завершается при запуске",
    },
    "en": {
        "ai_provider": "the AI service rejects the configured key or model",
        "storage": "file storage is unreachable or misconfigured",
        "speech_model": "the speech recognition model is not found",
        "database": "the database is unreachable",
        "crashed": "the worker process crashes at start-up",
    },
}

_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "upload_timeout",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "unavailable",
}

# What the job is doing, as shown beside the progress bar.
_RU_STAGES: dict[str, str] = {
    "queued": "В очереди",
    "download": "Получение видео",
    "import": "Скачиваем ролик",
    "probe": "Проверка файла",
    "video": "Анализ кадров",
    "speech": "Распознавание речи",
    "audio": "Анализ звука",
    "ocr": "Чтение текста в кадре",
    "ai": "Написание сценария",
    "done": "Готово",
    "failed": "Ошибка",
    "retrying": "Повторная попытка",
    "requeued": "Перезапуск после сбоя обработчика",
    "deduplicated": "Готово: это видео уже анализировалось",
}
_EN_STAGES: dict[str, str] = {
    "queued": "Queued",
    "download": "Fetching the video",
    "import": "Downloading the reel",
    "probe": "Checking the file",
    "video": "Analysing frames",
    "speech": "Recognising speech",
    "audio": "Analysing sound",
    "ocr": "Reading on-screen text",
    "ai": "Writing the script",
    "done": "Done",
    "failed": "Failed",
    "retrying": "Retrying",
    "requeued": "Restarting after a worker crash",
    "deduplicated": "Done: this video was analysed before",
}

# Notices the analysis attaches to a result (meta.warnings), by code.
_RU_NOTICES: dict[str, Text] = {
    "video_decode_stopped": T(
        "Видео удалось прочитать только до {at} с из {duration} с",
        "Видео прочитано не до конца",
    ),
    "video_frames_end_early": T(
        "Кадры заканчиваются на {at} с из {duration} с", "Кадры заканчиваются раньше звука"
    ),
    "audio_decode_stopped": T(
        "Звук удалось прочитать только до {at} с", "Звук прочитан не до конца"
    ),
    "faces_unavailable": T("Распознавание лиц недоступно: крупность плана не определена"),
    # the studio shows its «Подключить ИИ» button beside this notice, by its code
    "translation_unavailable": T(
        "Перевода нет: ИИ не подключён, а без него перевести речь {language_from} не получается. "
        "Подключите ИИ в студии (кнопка «Подключить ИИ») — и сценарий будет на русском. Пока в "
        "тексте за кадром — реплики оригинала с пометкой языка",
        "Перевода нет: ИИ не подключён. Подключите ИИ в студии (кнопка «Подключить ИИ») — и "
        "сценарий будет на русском",
    ),
    "speech_not_transcribed": T(
        "В ролике звучит речь ({seconds:.0f} с), но {missing:.0f} с из неё не удалось "
        "распознать (язык: {language_text}). Ключи и сценарий не опираются на эти слова: "
        "послушайте оригинал и допишите текст за кадром сами",
        "В ролике звучит речь, но её не удалось распознать: ключи и сценарий не опираются на "
        "эти слова",
    ),
    "onscreen_text_unread": T(
        "В кадре, похоже, есть надписи, которые не удалось прочитать ({count}): чтение надписей "
        "знает латиницу, но не кириллицу — проверьте текст на экране вручную",
        "В кадре, похоже, есть надписи, которые не удалось прочитать",
    ),
    "local_writes_russian_only": T(
        "Без ИИ тексты пишутся только по-русски; для других языков подключите ИИ"
    ),
    "ai_fallback": T("ИИ не ответил: тексты составлены без ИИ, по измерениям ролика"),
    "import_single_file": T(
        "На сервере нет ffmpeg: ролик скачан одним файлом, и его качество может быть ниже "
        "лучшего, что есть на сайте."
    ),
    "ai_partial": T(
        "ИИ написал не весь ответ ({parts}): эти части составлены без ИИ, по измерениям ролика",
        "ИИ написал не весь ответ: недостающие части составлены без ИИ, по измерениям ролика",
    ),
    "script_rows_too_long": T(
        "Реплики не укладываются в своё время при темпе оригинала: {spans_text}. Сократите их "
        "или говорите быстрее",
        "Часть реплик не укладывается в своё время: сократите их",
    ),
}
_EN_NOTICES: dict[str, Text] = {
    "video_decode_stopped": T(
        "The video could be read only up to {at:.1f} s of {duration:.1f} s",
        "The video was not read to the end",
    ),
    "translation_unavailable": T(
        "Not translated: no AI is connected, and without it speech in {language_text} cannot "
        "be translated. Connect an AI in the studio (the «Подключить ИИ» button) for a script "
        "in your language; until then the voice-over keeps the original lines, marked with "
        "their language.",
        "Not translated: no AI is connected. Connect an AI in the studio for a translated script.",
    ),
    "speech_not_transcribed": T(
        "The reel has speech ({seconds:.0f} s), but {missing:.0f} s of it could not be "
        "transcribed (language: {language_text}). The keys and the script do not rest on those "
        "words: listen to the original and write the voice-over yourself.",
        "The reel has speech that could not be transcribed",
    ),
    "onscreen_text_unread": T(
        "There seems to be on-screen text that could not be read ({count}): the bundled model "
        "reads Latin script, not Cyrillic; check the on-screen text by hand",
        "There seems to be on-screen text that could not be read",
    ),
    "ai_fallback": T(
        "AI provider {provider} failed; texts were written locally ({fallback})",
        "The AI provider failed; texts were written locally",
    ),
    "ai_partial": T(
        "AI provider {provider} left out part of the answer ({parts}); those parts were "
        "written locally from the measurements",
        "The AI provider left out part of the answer; it was written locally",
    ),
    "local_writes_russian_only": T(
        "The local provider writes Russian only; use an AI provider for other languages"
    ),
    "script_rows_too_long": T(
        "Lines too long to say in their time at the original's pace: {spans_text}. Shorten "
        "them or speak faster",
        "Some lines are too long to say in their time: shorten them",
    ),
    "import_single_file": T(
        "No ffmpeg on the server: the reel was fetched as one file, which may be below the best "
        "quality the site has."
    ),
}

# Parts of an answer (`meta.filled_by_local` paths) as a person names them.
_PARTS = {
    "ru": {
        "translation": "перевод",
        "transcription": "оригинал",
        "hook_type": "тип хука",
        "keys": "ключ «{}»",
        "script": "строка сценария {}",
        "recommendations": "рекомендация «{}»",
        "hook": "хук",
        "structure": "структура",
        "delivery": "подача",
        "visual": "визуал",
        "audio": "звук",
        "voice": "голос",
        "music": "музыка",
        "avatar": "аватар",
        "editing": "монтаж",
        "other": "другое",
    },
    "en": {
        "translation": "translation",
        "transcription": "transcription",
        "hook_type": "hook type",
        "keys": "key “{}”",
        "script": "script row {}",
        "recommendations": "“{}” advice",
    },
}

# What kind of file it is, for "this is an image, not a video" (sniff.ForeignKind).
_KINDS = {
    "ru": {"image": "изображение", "audio": "аудиофайл", "video": "видео", "other": "документ"},
    "en": {
        "image": "an image",
        "audio": "an audio file",
        "video": "a video",
        "other": "a document",
    },
}

# Spoken languages (ISO 639-1), as a person names them.
_LANGUAGES = {
    "ru": {
        "en": "английский",
        "es": "испанский",
        "de": "немецкий",
        "fr": "французский",
        "it": "итальянский",
        "pt": "португальский",
        "ru": "русский",
        "uk": "украинский",
        "be": "белорусский",
        "kk": "казахский",
        "pl": "польский",
        "tr": "турецкий",
        "ar": "арабский",
        "zh": "китайский",
        "ja": "японский",
        "ko": "корейский",
        "hi": "хинди",
        "nl": "нидерландский",
    },
    "en": {
        "en": "English",
        "es": "Spanish",
        "de": "German",
        "fr": "French",
        "it": "Italian",
        "pt": "Portuguese",
        "ru": "Russian",
        "uk": "Ukrainian",
    },
}
_UNKNOWN_LANGUAGE = {"ru": "не определён", "en": "unknown"}


def language_label(code: str | None, language: str = "ru") -> str:
    """A spoken language as a person names it («испанский»); the code when unnamed."""
    if not code:
        return _UNKNOWN_LANGUAGE.get(language.lower().split("-")[0], "unknown")
    return _catalog(_LANGUAGES, language).get(code.lower(), code)


def language_from(code: str | None) -> str:
    """«с английского», «с хинди»: the language a text is translated from (Russian)."""
    if not code:
        return "с языка оригинала"
    label = language_label(code, "ru")
    if label == code:  # no Russian name: the code is no word for a person
        return "с языка оригинала"
    return "с " + (label[:-2] + "ого" if label.endswith("ий") else label)


# Why there are no subtitles, by track.
_NO_SUBTITLES = {
    "ru": {
        "original": "В ролике нет речи — субтитры сделать не из чего",
        "translation": "Перевода нет — субтитры перевода сделать не из чего",
    },
    "en": {
        "original": "The reel has no speech: there is nothing to subtitle",
        "translation": "There is no translation to subtitle",
    },
}

# Subtitle tracks, as `?track=` names them.
_TRACKS = {
    "ru": {"original": "оригинал", "translation": "перевод"},
    "en": {"original": "original", "translation": "translation"},
}

_ERRORS = {"ru": _RU_ERRORS, "en": _EN_ERRORS}
_STAGES = {"ru": _RU_STAGES, "en": _EN_STAGES}
_NOTICES = {"ru": _RU_NOTICES, "en": _EN_NOTICES}


# The hook taxonomy (contract.HOOK_TYPES), as a person reads it (the studio page has the same).
_HOOK_TYPES: dict[str, dict[str, str]] = {
    "ru": {
        "result_first": "Сначала результат",
        "shock_violation": "Шок, нарушение ожиданий",
        "reveal_transform": "Раскрытие, преображение",
        "relatable_slice": "Узнаваемая ситуация",
        "humor_gag": "Шутка",
        "tension_wait": "Напряжение, ожидание",
        "direct_callout": "Прямое обращение к зрителю",
        "challenge_stakes": "Вызов и ставки",
        "authority_flex": "Демонстрация экспертности",
        "social_proof": "Социальное доказательство",
        "open_question": "Открытый вопрос",
        "demo_novelty": "Демонстрация новинки",
        "confession_secret": "Признание, секрет",
        "contradiction_mythbust": "Разрушение мифа",
        "unknown": "Не определён",
    },
    "en": {
        "result_first": "Result first",
        "shock_violation": "Shock, broken expectation",
        "reveal_transform": "Reveal, transformation",
        "relatable_slice": "Relatable moment",
        "humor_gag": "Gag",
        "tension_wait": "Tension, wait for it",
        "direct_callout": "Direct call-out",
        "challenge_stakes": "Challenge and stakes",
        "authority_flex": "Authority",
        "social_proof": "Social proof",
        "open_question": "Open question",
        "demo_novelty": "Novelty demo",
        "confession_secret": "Confession, secret",
        "contradiction_mythbust": "Myth busting",
        "unknown": "Unknown",
    },
}


def hook_type_label(hook_type: str, language: str = "ru") -> str:
    """A hook type code as a person reads it."""
    return _catalog(_HOOK_TYPES, language).get(hook_type, hook_type)


def _catalog(catalogs: Mapping[str, Mapping[str, V]], language: str) -> Mapping[str, V]:
    return catalogs.get(language.lower().split("-")[0], catalogs["en"])


def error_text(
    code: str,
    language: str = "ru",
    params: Mapping[str, Any] | None = None,
    *,
    http_status: int | None = None,
) -> str:
    """The person-facing message for an error code (generic text of its status if unknown)."""
    catalog = _catalog(_ERRORS, language)
    text = catalog.get(code)
    if text is None and http_status is not None:
        text = catalog.get(_STATUS_CODES.get(http_status, "internal_error"))
    if text is None:
        text = catalog.get("internal_error") or _RU_ERRORS["internal_error"]
    values = dict(params or {})
    if "track" in values:
        values["track_text"] = _catalog(_TRACKS, language).get(
            str(values["track"]), values["track"]
        )
    if "kind" in values:
        values["kind_text"] = _catalog(_KINDS, language).get(str(values["kind"]), values["kind"])
    if code == "no_subtitles" and "track" in values:
        no_text = _catalog(_NO_SUBTITLES, language).get(str(values["track"]))
        if no_text is not None:
            values["no_subtitles_text"] = no_text
    cause = _catalog(_CAUSES, language).get(str(values.get("cause")))
    if cause is not None:  # an unknown cause: the short form, not a raw code
        values["cause_text"] = cause
    return text.render(values, language)


def describe(error: AppError, language: str = "ru") -> str:
    """The person-facing message for an error instance."""
    return error_text(error.code, language, error.params, http_status=error.http_status)


def status_code_name(http_status: int) -> str:
    """The stable code used for a bare HTTP status (404 -> not_found)."""
    return _STATUS_CODES.get(http_status, "http_error")


def stage_label(stage: str | None, language: str = "ru") -> str | None:
    """A stage code as a person reads it; unknown codes pass through unchanged."""
    if stage is None:
        return None
    return _catalog(_STAGES, language).get(stage, stage)


def part_names(paths: list[str], language: str = "ru") -> str:
    """`["keys.audio", "script.3"]` as a person reads it: «ключ «аудио», строка сценария 3»."""
    names = _catalog(_PARTS, language)
    shown = []
    for path in paths:
        group, _, item = path.partition(".")
        template = names.get(group, path)
        if item:
            shown.append(template.format(names.get(item, item)) if "{}" in template else path)
        else:
            shown.append(template)
    return ", ".join(shown)


def notice_text(
    code: str, language: str = "ru", params: Mapping[str, Any] | None = None
) -> str | None:
    """A notice's text, or None when the catalog has none (the caller keeps its own)."""
    text = _catalog(_NOTICES, language).get(code)
    if text is None:
        return None
    values = dict(params or {})
    if isinstance(values.get("paths"), list):
        values["parts"] = part_names(values["paths"], language)
    if isinstance(values.get("spans"), list):
        values["spans_text"] = ", ".join(
            seconds_span(float(a), float(b))
            if language.lower().startswith("ru")
            else f"{float(a):g}–{float(b):g} s"
            for a, b in values["spans"]
        )
    if "language" in values or "source" in values:
        spoken = values.get("language", values.get("source"))
        values["language_text"] = language_label(str(spoken) if spoken else None, language)
        values["language_from"] = language_from(str(spoken) if spoken else None)
    return text.render(values, language)


# The studio page's shell, filled in by the server because it is read before any script runs
# (the title, the link preview, the page without JavaScript); the page's own texts are in
# web/static/texts.js.
STUDIO_PAGE: Mapping[str, str] = {
    "title": "Reels Scripter — студия",
    "description": "Разбор коротких вертикальных видео: ключи к успеху, сценарий по сценам "
    "и рекомендации на русском",
    "noscript": "Для работы студии нужен JavaScript.",
    # the read-only page a share link opens (share.html)
    "share_title": "Разбор ролика — Reels Scripter",
    "share_description": "Разбор ролика: ключи к успеху, сценарий по сценам и рекомендации",
}

# The page a revoked, expired or unknown share link gets (404), written by the server.
SHARE_GONE_PAGE: Mapping[str, str] = {
    "title": "Ссылка не найдена — Reels Scripter",
    "heading": "Ссылка не найдена",
    "text": "Владелец отозвал эту ссылку, срок её действия истёк или в ней ошибка. "
    "Попросите у владельца новую ссылку.",
}


# --- Figures and agreement in Russian prose -----------------------------------------------------

SCENE_FORMS = ("сцена", "сцены", "сцен")
WORD_FORMS = ("слово", "слова", "слов")
SECOND_FORMS = ("секунда", "секунды", "секунд")
PAUSE_FORMS = ("пауза", "паузы", "пауз")
CHANGE_FORMS = ("смена", "смены", "смен")
BLOCK_FORMS = ("блок", "блока", "блоков")
PLAN_FORMS = ("план", "плана", "планов")
CUT_FORMS = ("склейка", "склейки", "склеек")
THOUGHT_FORMS = ("мысль", "мысли", "мыслей")
# «около 1 слова», «около 161 слова», «около 150 слов»: after «около» the genitive
WORD_GEN_FORMS = ("слова", "слов", "слов")
# «в 1 из 5 планов», «в 2 из 5 планов»: after «из» the genitive
PLAN_OF_FORMS = ("плана", "планов", "планов")
# «из 1 сцены», «из 5 сцен»: after «из» the genitive
SCENE_OF_FORMS = ("сцены", "сцен", "сцен")
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
    («9,2 слова»), a whole number the usual plural («9 слов»)."""
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


NBSP = "\u00a0"
MINUS = "\u2212"


def num(value: float, digits: int = 1) -> str:
    """A figure as Russian prose writes it: a decimal comma, no trailing zero, a typographic
    minus («5,3», «−21», «0,5»). The one number formatter of every person-facing text."""
    rounded = round(value, digits)
    whole = rounded == int(rounded)
    text = str(int(rounded)) if whole else f"{rounded:.{digits}f}".rstrip("0")
    # a typographic minus, as in the fixed texts ("−14 LUFS"), not a hyphen
    return text.replace("-", MINUS).replace(".", ",")


def seconds(value: float) -> str:
    """«5,3 с»: a time in seconds, as page, DOCX and Markdown write it."""
    return f"{num(value)}{NBSP}с"


def seconds_span(start: float, end: float) -> str:
    """«6–13,4 с»: a row's span, one rounding and one style for page, DOCX and Markdown."""
    return f"{num(start)}–{num(end)}{NBSP}с"


class _RuFigure:
    """A figure inside a catalog template: `{at}` or `{at:.1f}` comes out as Russian writes it."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if not spec:
            return num(self.value)
        return format(self.value, spec).replace("-", MINUS).replace(".", ",")

    def __str__(self) -> str:
        return num(self.value)


def _is_figure(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# A figure and the word or unit after it stay on one line («5 с», «3 TRICKS»), and a percent
# sign is set off by a non-breaking space («3 %»).
_FIGURE_WORD = re.compile(r"(\d) (?=[^\W\d_]|%)")
_PERCENT = re.compile(r"(\d)%")


def typeset(text: str) -> str:
    """Non-breaking spaces between a figure and its word or unit, and before «%»."""
    return _PERCENT.sub(rf"\1{NBSP}%", _FIGURE_WORD.sub(rf"\1{NBSP}", text))


def as_sentence(text: str) -> str:
    """A clause written as a sentence: a capital first letter and a final full stop."""
    text = text.strip()
    return sentence(text[:1].upper() + text[1:]) if text else text


_DECIMAL_POINT = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])")


def russian_prose(text: str) -> str:
    """Any writer's Russian (an AI's too) set as an editor would: a decimal comma between digits
    and non-breaking spaces after figures. Text without Cyrillic is left as it is."""
    if not _CYRILLIC_LETTER.search(text):
        return text
    return typeset(_DECIMAL_POINT.sub(r"\1,\2", text))


_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")


def sentence(text: str) -> str:
    """A message as a sentence: it ends with a full stop (or its own . ! ? …)."""
    text = text.rstrip()
    if not text or text.endswith((".", "!", "?", "…")):
        return text
    return text + "."


def quote(text: str, limit: int = 60) -> str:
    """«…» around a quoted line; its own full stop is dropped, so the sentence around it ends
    once («…every day».), and a long line is shortened with «…»."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    elif text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    return f"«{text}»"


def _base(language: str) -> str:
    return language.lower().split("-")[0]


# --- Colours (analysis.colours names them in English; a person reads them here) ---------------

_COLOURS: dict[str, dict[str, str]] = {
    "ru": {  # nominative masculine singular, declined by the writer
        "black": "чёрный",
        "white": "белый",
        "grey": "серый",
        "red": "красный",
        "orange": "оранжевый",
        "yellow": "жёлтый",
        "green": "зелёный",
        "light blue": "голубой",
        "blue": "синий",
        "purple": "фиолетовый",
        "pink": "розовый",
        "brown": "коричневый",
        "beige": "бежевый",
    },
    "en": {},
}


def colour_label(name: str, language: str = "ru") -> str:
    """A basic colour term («blue») as a person reads it («синий»)."""
    return _catalog(_COLOURS, language).get(name, name)


# --- The upload answer and the seed's script interval -------------------------------------------

UPLOAD_ACCEPTED = "Видео загружено и отправлено на анализ"
# The seed's `time` field: «0-3 сек» (a contract promise, kept as the seed wrote it).
_INTERVAL_UNITS = {"ru": "сек", "en": "s"}


def interval_unit(language: str) -> str:
    return _INTERVAL_UNITS.get(language.lower().split("-")[0], _INTERVAL_UNITS["en"])


# --- The local provider's words ------------------------------------------------------------------


class LocalTexts:
    """What the offline provider writes, by what it says; `{}` fields take formatted figures."""

    SCALE: ClassVar[Mapping[str, str]] = {
        "close-up": "крупный план",
        "medium": "средний план",
        "wide": "общий план",
        "unknown": "план без лиц",
    }
    CAMERA_TOP: ClassVar[Mapping[str, str]] = {
        "static": "статичная камера",
        "pan": "панорамы",
        "tilt": "движение камеры вверх-вниз",
        "zoom": "наезды и отъезды",
        "handheld": "съёмка с рук",
    }
    CAMERA_COUNTED: ClassVar[Mapping[str, tuple[str, str, str]]] = {
        "static": ("статичный план", "статичных плана", "статичных планов"),
        "pan": ("панорама", "панорамы", "панорам"),
        "tilt": ("движение вверх-вниз", "движения вверх-вниз", "движений вверх-вниз"),
        "zoom": ("наезд или отъезд", "наезда или отъезда", "наездов или отъездов"),
        "handheld": ("план с рук", "плана с рук", "планов с рук"),
    }

    # the hook key
    HOOK_TITLE = "Хук в первые 3 секунды"
    HOOK_FIRST_WORD = "первая реплика на {} с"
    HOOK_SPEECH_UNRECOGNISED = "речь начинается на {} с (не распознана)"
    HOOK_NO_SPEECH = "в первые {} с нет речи"
    HOOK_NO_SOUND = "звука нет"
    HOOK_CUTS = "{} за первые {} с"
    HOOK_NO_CUTS = "ни одной склейки за первые {} с"
    HOOK_CAPTIONS = "надпись на экране: {}"
    HOOK_LOUDNESS = "громкость начала {} дБ"
    HOOK_BY_CAPTION = (
        "Хук держит надпись на экране: {} видна с {} с — зритель читает обещание ролика ещё до "
        "первой реплики."
    )
    HOOK_BY_SPEECH = (
        "Видео начинается сразу с речи: {}. Зритель получает повод остаться ещё до того, как "
        "успеет пролистать."
    )
    HOOK_CAPTION_DOUBLES = " Надпись {} дублирует обещание текстом."
    HOOK_LATE_LINE = (
        "Первая реплика звучит на {} с: {}. До неё внимание держит только картинка; фраза с "
        "первой же секунды удержит сильнее."
    )
    HOOK_BY_CUTS = "Внимание удерживается монтажом: {} за первые {} с."
    HOOK_BY_PICTURE = (
        "Хук держится на картинке: в первые секунды нет ни речи, ни частых склеек, ни надписи. "
        "Сильнее сработает фраза, надпись или резкая склейка в первую секунду."
    )

    # the structure key
    STRUCTURE_TITLE = "Структура и ритм"
    STRUCTURE_SCENES = "{} за {} с"
    STRUCTURE_AVG_SHOT = "средняя длина кадра {} с"
    STRUCTURE_BLOCKS = "{} сценария"
    SPEECH_SHARE = "речь звучит {} % времени"
    PACE = ("быстрым", "ровным", "спокойным")  # short, middling, long shots
    STRUCTURE = "Ролик собран из {} {} ритмом монтажа: в среднем {} с на кадр."

    # the delivery key
    DELIVERY_UNRECOGNISED_TITLE = "Подача: речь не распознана"
    DELIVERY_UNRECOGNISED = (
        "В ролике звучит речь (около {} с), но её не удалось распознать, поэтому о темпе и "
        "словах здесь ничего не сказано. Послушайте оригинал и запишите реплики сами."
    )
    DELIVERY_VOICE_SECONDS = "речь по голосовой активности: {} с"
    DELIVERY_NO_WORDS = "распознанных слов нет"
    DELIVERY_SILENT_TITLE = "Подача без слов"
    DELIVERY_SILENT = (
        "В ролике нет речи: смысл передают картинка, монтаж и звук. Такой формат понятен без "
        "языка и хорошо работает в ленте без звука."
    )
    DELIVERY_NO_SPEECH = "речи не обнаружено"
    DELIVERY_NO_SOUND_TITLE = "Подача без звука"
    DELIVERY_NO_SOUND = (
        "В ролике нет звуковой дорожки: смысл передают только картинка, монтаж и надписи. Такой "
        "ролик понятен без слов и без звука."
    )
    TEMPO = ("спокойный", "разговорный", "быстрый")  # slow to fast
    DELIVERY_TEMPO_EVIDENCE = "темп {} в минуту"
    DELIVERY_WORDS = "{} за {} с"
    DELIVERY_TEMPO = "Темп речи {}: {} в минуту."
    PHRASE_LENGTH = ("короткие", "средней длины", "длинные")
    DELIVERY_PHRASES = "Фразы {}: в среднем {} {}."
    DELIVERY_PHRASES_EVIDENCE = "в среднем {} {} во фразе"
    DELIVERY_PAUSES = "{} длиннее {} с, самая длинная — {} с."
    DELIVERY_PAUSES_EVIDENCE = "{} длиннее {} с"
    DELIVERY_NO_PAUSES = "Речь идёт без пауз длиннее {} с."
    DELIVERY_NO_PAUSES_EVIDENCE = "пауз длиннее {} с нет"
    DELIVERY_UNTRANSCRIBED = "Около {} с речи распознать не удалось."
    DELIVERY_TITLE = "Подача и темп речи"

    # the visual key
    VISUAL_TITLE = "Визуал и монтаж"
    VISUAL_SCALE = "преобладает {}"
    VISUAL_CUTS = "{} в минуту"
    VISUAL_NO_CUTS = "склеек нет: один непрерывный план"
    VISUAL_MOVING = "в среднем движется {} % кадра"
    VISUAL_CHANGE = "кадр меняется в среднем на {} %"
    VISUAL_TOP_MOVE = "{}: {} из {} {}"
    VISUAL_FACES = "Человек в кадре: лицо найдено в {} из {} {}, чаще всего {}."
    VISUAL_NO_FACES = "Лиц в кадре не найдено: ролик держится на предметах, действии и окружении."
    VISUAL_CAMERA = " Камера: {}."
    SHAPE_LANDSCAPE = "кадр горизонтальный, {}"
    SHAPE_SQUARE = "кадр квадратный, {}"

    # the audio key
    # the page heads the card with the category («Звук»): the title says more than that
    AUDIO_TITLE = "Звук и музыка"
    AUDIO_NONE_TITLE = "Звука нет"
    AUDIO_NONE = (
        "В ролике нет звуковой дорожки — он рассчитан на просмотр без звука, поэтому всё важное "
        "должно быть видно в кадре и в субтитрах."
    )
    AUDIO_NONE_EVIDENCE = "звуковой дорожки нет"
    AUDIO_MUSIC_BPM = "музыка около {} BPM"
    AUDIO_MUSIC = "фоновая музыка есть"
    AUDIO_NO_MUSIC = "музыки не обнаружено"
    AUDIO_LOUDNESS = "громкость {} LUFS"
    AUDIO_RANGE = "диапазон громкости {} LU"
    AUDIO_PEAK = "пик {} dBTP"
    AUDIO_VOICE_OVER_MUSIC = "Голос звучит поверх музыки: бит задаёт темп, речь ведёт смысл."
    AUDIO_MUSIC_ONLY = "Музыка задаёт ритм всему ролику: речи нет, темп держит бит."
    AUDIO_VOICE_ONLY = "Голос без музыкального бита: внимание целиком на словах."
    AUDIO_BACKGROUND = "Ни речи, ни музыкального бита: звук работает фоном."
    LEVEL = ("тише", "в пределах", "громче")  # than the usual −14 LUFS
    AUDIO_LEVEL = " Громкость {} LUFS — {} обычных для Reels −14 LUFS"
    AUDIO_LEVEL_WITHIN = " (±4 LU)."

    # notes on the script rows
    NOTE_HOOK = (
        "Хук: первые секунды решают, досмотрят ли ролик — начните с самой сильной фразы или "
        "действия."
    )
    NOTE_FINAL = "Финал: дайте понятный призыв к действию (подписка, сохранение, комментарий)."
    NOTE_FINAL_AFTER_CTA = "Финал: призыв уже прозвучал — закончите коротко, без новой мысли."
    NOTE_CTA = "Здесь призыв к действию: {} — скажите его своими словами и покажите надписью."
    NOTE_SHORT = "Короткий кадр ({} с) держит темп — не затягивайте."
    NOTE_PAUSE = "Пауза в речи: здесь работает картинка, добавьте динамику или текст на экране."
    NOTE_NO_SPEECH = "Без слов: здесь работает картинка — добавьте динамику или надпись."
    NOTE_NO_SOUND = "Без звука: всё держит картинка — главное покажите надписью."
    NOTE_BLOCK = "Блок на {} с: одна мысль — один кадр."
    NOTE_BLOCK_IDEAS = "Блок на {} с, {}: на каждую — свой план или надпись."

    # recommendations
    VOICE_TEMPO = (
        "Говорите в темпе около {} в минуту, как в оригинале; делайте ударение на ключевых "
        "словах и держите энергию чуть выше разговорной."
    )
    VOICE_UNRECOGNISED = (
        "Речь оригинала не распознана: прослушайте его и повторите темп и паузы; для Reels "
        "обычно хорошо работают 140–160 слов в минуту."
    )
    VOICE_NONE = (
        "В оригинале нет речи; если добавляете текст за кадром, говорите коротко и энергично, не "
        "больше 140–150 слов в минуту."
    )
    VOICE_NO_SOUND = (
        "В оригинале нет звука; если добавляете текст за кадром, говорите коротко и энергично, "
        "не больше 140–150 слов в минуту, и дублируйте главное надписью."
    )
    MUSIC_BPM = (
        "Подберите трек с темпом около {} BPM и ставьте склейки в долю; под голосом приглушайте "
        "музыку на 12–18 дБ."
    )
    MUSIC_NONE = (
        "Музыкального бита в оригинале не обнаружено; лёгкий фоновый трек 90–110 BPM на 15–20 дБ "
        "тише голоса добавит динамики."
    )
    MUSIC_NONE_NO_SPEECH = (
        "В оригинале нет ни речи, ни музыкального бита; лёгкий фоновый трек 90–110 BPM добавит "
        "динамики, склейки ставьте в долю."
    )
    MUSIC_NO_SOUND = (
        "В оригинале нет звуковой дорожки: его смотрят без звука. Для своей версии подойдёт "
        "лёгкий трек 90–110 BPM, но всё важное оставьте в кадре и в надписях."
    )
    AVATAR_TALKING_HEAD = (
        "Речь звучит {} % времени, и в кадре человек: формат «говорящая голова» подходит для "
        "ИИ-аватара (HeyGen, Synthesia) — крупный план, взгляд в камеру, текст из сценария; жесты "
        "и смены плана добавьте монтажом."
    )
    AVATAR_VOICE_LED = (
        "Речь звучит {} % времени: ролик держится на словах, и ИИ-аватар (HeyGen, Synthesia) "
        "может вести его целиком — ведущий в кадре, а кадры оригинала вставками."
    )
    AVATAR_SECONDARY = (
        "Речь звучит лишь {} % времени: ролик держится на картинке, и ИИ-аватар здесь "
        "вторичен. Если нужен ведущий, вставьте аватар в начале (хук) и в финале (призыв), "
        "остальное — визуальный ряд."
    )
    AVATAR_NO_SPEECH = (
        "В ролике нет речи: он держится на картинке, и ИИ-аватар здесь не нужен. Если хотите "
        "ведущего, вставьте аватар только в начале (хук) и в финале (призыв)."
    )
    EDITING = (
        "Склейки примерно каждые {} с ({}); добавьте субтитры крупным шрифтом и акцент (зум или "
        "звук) на смене кадра."
    )
    SHAPE = (
        "Оригинал снят {} ({}), а Reels — вертикальные 9:16. Свою версию снимайте вертикально: "
        "человека и главный предмет держите в центре кадра, надписи ставьте в середину экрана, "
        "не к краям; кадры оригинала при переносе в 9:16 обрежутся по бокам."
    )
    SHAPE_HOW: ClassVar[Mapping[str, str]] = {"landscape": "горизонтально", "square": "в квадрате"}
    CATEGORY_SHAPE = "Формат кадра"
    EDITING_CAPTION = " Повторите надпись-хук первых секунд своими словами."
    CATEGORY_VOICE = "Голос и интонация"
    CATEGORY_MUSIC = "Фоновая музыка"
    CATEGORY_AVATAR = "ИИ-аватар"
    CATEGORY_EDITING = "Монтаж и эффекты"

    # voice-over placeholders
    UNTRANSLATED = "[{}, без перевода] {}"
    SPEECH_UNRECOGNISED_ROW = "(звучит речь, распознать её не удалось — послушайте оригинал)"
    NO_TEXT_ROW = "(без текста — говорит картинка)"


LOCAL = LocalTexts


# --- The hook type's evidence (providers.hook_signals) ---------------------------------------


class HookTexts:
    """The hook type's evidence: one sentence each, shown after «Тип хука: …» in the exports."""

    IN_SPEECH = "в начале речи"
    IN_CAPTION = "в надписи на экране"
    IN_BOTH = "в начале речи и в надписи"
    QUESTION = "Вопрос {}: {}."
    CUE = "{}: {}."
    CALLOUT = "Обращение к зрителю {}: {}."
    PATTERN_INTERRUPT = "Прерывание ленты {}: {}."
    LIST_PROMISE = "Обещание списка {}: {}."
    INTERRUPT_AND_LIST = "Прерывание ленты и обещание списка {}: {}."
    CUTS_ONLY = "Без речи: {} за первые {} с."
    UNKNOWN = "По измерениям тип хука определить нельзя."


# --- Exports (DOCX and Markdown) -----------------------------------------------------------


class ExportTexts:
    COLUMNS = ("Время", "Кадр", "Визуал", "Текст за кадром", "Заметка")
    MD_COLUMNS = ("Время", "Визуал", "Текст за кадром", "Заметка")
    DOCX_TITLE = "Сценарий съёмки"
    MD_TITLE = "Сценарий ролика"
    SAMPLE = "Ролик-образец: {}. "
    SUMMARY = "Длительность {}, сцен: {}, блоков сценария: {}."
    HOOK_TYPE = "Тип хука"
    PAYOFF = " Развязка — на {}."
    KEYS = "Ключи к успеху"
    FACTS = " Факты: {}."
    SCRIPT = "Сценарий"
    RECOMMENDATIONS = "Рекомендации"
    # the page (web/static/texts.js) names the original's text «Оригинал (английский)» too
    ORIGINAL = "Оригинал и перевод"
    TRANSCRIPT = "Оригинал"
    TRANSLATION = "Перевод"
    WARNINGS = "Предупреждения"
    NOT_TRANSLATED = "нет — ИИ не подключён (подробнее — в предупреждениях)"


# --- Offline shooting directions (providers.directions) ----------------------------------------


class DirectionTexts:
    """What to film in a script row, built from the measurements: one sentence a fact."""

    # the subject by shot scale: one person, silent / talking
    PERSON: ClassVar[Mapping[str, str]] = {
        "close-up": "Крупный план: лицо человека",
        "medium": "Средний план: человек по пояс",
        "wide": "Общий план: человек в полный рост в обстановке",
        "unknown": "Человек в кадре",
    }
    PERSON_TALKS: ClassVar[Mapping[str, str]] = {
        "close-up": "Крупный план: человек говорит в камеру",
        "medium": "Средний план: человек по пояс говорит в камеру",
        "wide": "Общий план: человек в полный рост говорит в камеру",
        "unknown": "Человек в кадре говорит в камеру",
    }
    PEOPLE = "{}: в кадре {}\u00a0{}"  # «Средний план: в кадре 2 человека»
    PEOPLE_FORMS = ("человек", "человека", "человек")
    SCALE_NAME: ClassVar[Mapping[str, str]] = {
        "close-up": "Крупный план",
        "medium": "Средний план",
        "wide": "Общий план",
        "unknown": "План",
    }
    NO_PERSON = "Предмет или действие без людей в кадре"
    # motion in the picture
    BUSY = "В кадре много движения: действие идёт непрерывно"
    STILL = "Картинка почти неподвижна: держите кадр ровно"
    # the camera
    CAMERA: ClassVar[Mapping[tuple[str, str | None], str]] = {
        ("static", None): "Камера неподвижна — со штатива или с опоры",
        ("pan", "left"): "Камера плавно панорамирует влево",
        ("pan", "right"): "Камера плавно панорамирует вправо",
        ("tilt", "up"): "Камера плавно поднимается вверх",
        ("tilt", "down"): "Камера плавно опускается вниз",
        ("zoom", "in"): "Плавный наезд на объект",
        ("zoom", "out"): "Плавный отъезд от объекта",
        ("handheld", None): "Съёмка с рук, живое подрагивание кадра",
    }
    # on screen
    BACKGROUND = "Однотонный {} фон"
    CAPTION = "Надпись на экране: {}"
    # several shots in one row, and the cut out of the row
    SHOTS = "В блоке {}\u00a0{} примерно по {}\u00a0с: меняйте ракурс на каждой склейке"
    CUT_TO = "На склейке — {}"
    CUT_SAME = "На склейке — новый кадр того же плана"
    CUT_SCALE: ClassVar[Mapping[str, str]] = {
        "close-up": "крупный план",
        "medium": "средний план",
        "wide": "общий план",
        "unknown": "кадр без людей",
    }
    LAST = "Финальный кадр: задержите его на секунду после последней реплики"
    NO_SCENE = "Кадр без измерений: снимите по оригиналу"


DIRECTIONS = DirectionTexts


# --- engagement of an imported reel (result.source), as evidence beside the keys ---

_NBSP = "\u00a0"
_ENGAGEMENT = {
    "ru": {
        "views": ("просмотр", "просмотра", "просмотров"),
        "likes": ("лайк", "лайка", "лайков"),
        "comments": ("комментарий", "комментария", "комментариев"),
        "days": ("день", "дня", "дней"),
        "thousand": "тыс.",
        "million": "млн",
        "billion": "млрд",
        "in": "за",
        "first_day": "за первые сутки",
        "decimal": ",",
        "lead": "Охват оригинала: ",
    },
    "en": {
        "views": ("view", "views", "views"),
        "likes": ("like", "likes", "likes"),
        "comments": ("comment", "comments", "comments"),
        "days": ("day", "days", "days"),
        "thousand": "K",
        "million": "M",
        "billion": "B",
        "in": "in",
        "first_day": "in the first day",
        "decimal": ".",
        "lead": "The original's reach: ",
    },
}


def _agreeing(n: int, forms: tuple[str, str, str], language: str) -> str:
    """The noun form that agrees with `n` in `language` (1 просмотр, 3 просмотра, 5 просмотров)."""
    if language.lower().startswith("en"):
        return forms[0] if n == 1 else forms[1]
    return plural(n, forms)


def compact_count(n: int, forms: tuple[str, str, str], language: str = "ru") -> str:
    """«2,3 млн просмотров», «1,5 тыс. лайков», «161 просмотр» (a non-breaking space inside)."""
    words = _catalog(_ENGAGEMENT, language)
    units = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
    for i, (size, unit) in enumerate(units):
        if n < size:
            continue
        value = round(n / size, 1)
        if value >= 1000 and i > 0:
            # a figure that rounds up to the next unit takes it: 999 960 is «1 млн», never
            # «1000 тыс.»
            size, unit = units[i - 1]
            value = round(n / size, 1)
        figure = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", str(words["decimal"]))
        return f"{figure}{_NBSP}{words[unit]}{_NBSP}{forms[2]}"
    return f"{n}{_NBSP}{_agreeing(n, forms, language)}"


def engagement_text(
    views: int | None,
    likes: int | None,
    comments: int | None,
    days: int | None,
    language: str = "ru",
) -> str | None:
    """«Охват оригинала: 2,3 млн просмотров за 4 дня, 120 тыс. лайков, 1,5 тыс. комментариев»;
    None when the site gave no figures."""
    words = _catalog(_ENGAGEMENT, language)
    parts: list[str] = []
    if views is not None:
        text = compact_count(views, words["views"], language)  # type: ignore[arg-type]
        if days is not None and days >= 1:
            day_forms = words["days"]
            text += f" {words['in']} {days}{_NBSP}{_agreeing(days, day_forms, language)}"  # type: ignore[arg-type]
        elif days is not None:
            text += f" {words['first_day']}"
        parts.append(text)
    for figure, name in ((likes, "likes"), (comments, "comments")):
        if figure is not None:
            parts.append(compact_count(figure, words[name], language))  # type: ignore[arg-type]
    if not parts:
        return None
    return f"{words['lead']}{', '.join(parts)}"


# Answers of successful requests that carry a sentence for people (`message`).
_MESSAGES = {
    "ru": {
        "import_accepted": "Ссылка принята: ролик скачивается и будет проанализирован",
    },
    "en": {
        "import_accepted": "Link accepted: the reel is being downloaded for analysis",
    },
}


def message_text(code: str, language: str = "ru") -> str:
    """A success message by code (the target language's, else English)."""
    return _catalog(_MESSAGES, language).get(code) or _MESSAGES["en"][code]
