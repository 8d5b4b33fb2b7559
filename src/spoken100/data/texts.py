"""The words behind each number, per language.

English, German and French come from num2words; Mandarin is built by a pinyin rule with
tone numbers, because espeak-ng's Mandarin voice misreads Chinese characters but reads
pinyin with its ``cmn-latn-pinyin`` voice. The characters are kept for display.
"""

from __future__ import annotations

from functools import cache

from num2words import num2words

from spoken100.data.layout import LANGUAGES

_NUM2WORDS_LANG = {"english": "en", "german": "de", "french": "fr"}

_PINYIN_DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")
_HANZI_DIGITS = "零一二三四五六七八九"


def _check(number: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")
    if not 0 <= int(number) <= 99:
        raise ValueError(f"number {number!r} is outside 0-99")


def mandarin_pinyin(number: int) -> str:
    """Pinyin with tone numbers for 0-99, e.g. 42 -> ``"si4 shi2 er4"``, 10 -> ``"shi2"``."""
    _check(number, "mandarin")
    tens, units = divmod(int(number), 10)
    if tens == 0:
        return _PINYIN_DIGITS[units]
    words = [] if tens == 1 else [_PINYIN_DIGITS[tens]]
    words.append("shi2")
    if units:
        words.append(_PINYIN_DIGITS[units])
    return " ".join(words)


def mandarin_hanzi(number: int) -> str:
    """Chinese characters for 0-99, e.g. 42 -> ``"四十二"``."""
    _check(number, "mandarin")
    tens, units = divmod(int(number), 10)
    if tens == 0:
        return _HANZI_DIGITS[units]
    text = ("" if tens == 1 else _HANZI_DIGITS[tens]) + "十"
    return text + (_HANZI_DIGITS[units] if units else "")


@cache  # 400 distinct texts, asked for once per clip when a corpus is indexed
def spoken_text(number: int, language: str) -> str:
    """The text that the stand-in's synthesiser reads (pinyin for Mandarin)."""
    _check(number, language)
    if language == "mandarin":
        return mandarin_pinyin(number)
    return num2words(int(number), lang=_NUM2WORDS_LANG[language])


def written_text(number: int, language: str) -> str:
    """The conventional written form (characters for Mandarin), for display."""
    if language == "mandarin":
        return mandarin_hanzi(number)
    return spoken_text(number, language)
