"""The human-voice test set: number words by each language's rules, where the prompts are, the assembly."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from spoken100.data import assemble, prompts
from spoken100.data.prompt_words import english_words, french_words, needed_stems, prompt_words

# How each number is spelt, written out from the languages' rules (not from the code under test).
# English: teens are single words; tens + units above 20.
ENGLISH = {
    0: "zero",
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    13: "thirteen",
    14: "fourteen",
    15: "fifteen",
    16: "sixteen",
    17: "seventeen",
    18: "eighteen",
    19: "nineteen",
    20: "twenty",
    21: "twenty-one",
    22: "twenty-two",
    23: "twenty-three",
    24: "twenty-four",
    25: "twenty-five",
    26: "twenty-six",
    27: "twenty-seven",
    28: "twenty-eight",
    29: "twenty-nine",
    30: "thirty",
    31: "thirty-one",
    32: "thirty-two",
    33: "thirty-three",
    34: "thirty-four",
    35: "thirty-five",
    36: "thirty-six",
    37: "thirty-seven",
    38: "thirty-eight",
    39: "thirty-nine",
    40: "forty",
    41: "forty-one",
    42: "forty-two",
    43: "forty-three",
    44: "forty-four",
    45: "forty-five",
    46: "forty-six",
    47: "forty-seven",
    48: "forty-eight",
    49: "forty-nine",
    50: "fifty",
    51: "fifty-one",
    52: "fifty-two",
    53: "fifty-three",
    54: "fifty-four",
    55: "fifty-five",
    56: "fifty-six",
    57: "fifty-seven",
    58: "fifty-eight",
    59: "fifty-nine",
    60: "sixty",
    61: "sixty-one",
    62: "sixty-two",
    63: "sixty-three",
    64: "sixty-four",
    65: "sixty-five",
    66: "sixty-six",
    67: "sixty-seven",
    68: "sixty-eight",
    69: "sixty-nine",
    70: "seventy",
    71: "seventy-one",
    72: "seventy-two",
    73: "seventy-three",
    74: "seventy-four",
    75: "seventy-five",
    76: "seventy-six",
    77: "seventy-seven",
    78: "seventy-eight",
    79: "seventy-nine",
    80: "eighty",
    81: "eighty-one",
    82: "eighty-two",
    83: "eighty-three",
    84: "eighty-four",
    85: "eighty-five",
    86: "eighty-six",
    87: "eighty-seven",
    88: "eighty-eight",
    89: "eighty-nine",
    90: "ninety",
    91: "ninety-one",
    92: "ninety-two",
    93: "ninety-three",
    94: "ninety-four",
    95: "ninety-five",
    96: "ninety-six",
    97: "ninety-seven",
    98: "ninety-eight",
    99: "ninety-nine",
}
# French: "et" before "un" and "onze" at 21-71, not at 81 and 91; 70-79 = soixante + 10-19;
# 80-99 = quatre-vingt(s) + 0-19.
FRENCH = {
    0: "zéro",
    1: "un",
    2: "deux",
    3: "trois",
    4: "quatre",
    5: "cinq",
    6: "six",
    7: "sept",
    8: "huit",
    9: "neuf",
    10: "dix",
    11: "onze",
    12: "douze",
    13: "treize",
    14: "quatorze",
    15: "quinze",
    16: "seize",
    17: "dix-sept",
    18: "dix-huit",
    19: "dix-neuf",
    20: "vingt",
    21: "vingt et un",
    22: "vingt-deux",
    23: "vingt-trois",
    24: "vingt-quatre",
    25: "vingt-cinq",
    26: "vingt-six",
    27: "vingt-sept",
    28: "vingt-huit",
    29: "vingt-neuf",
    30: "trente",
    31: "trente et un",
    32: "trente-deux",
    33: "trente-trois",
    34: "trente-quatre",
    35: "trente-cinq",
    36: "trente-six",
    37: "trente-sept",
    38: "trente-huit",
    39: "trente-neuf",
    40: "quarante",
    41: "quarante et un",
    42: "quarante-deux",
    43: "quarante-trois",
    44: "quarante-quatre",
    45: "quarante-cinq",
    46: "quarante-six",
    47: "quarante-sept",
    48: "quarante-huit",
    49: "quarante-neuf",
    50: "cinquante",
    51: "cinquante et un",
    52: "cinquante-deux",
    53: "cinquante-trois",
    54: "cinquante-quatre",
    55: "cinquante-cinq",
    56: "cinquante-six",
    57: "cinquante-sept",
    58: "cinquante-huit",
    59: "cinquante-neuf",
    60: "soixante",
    61: "soixante et un",
    62: "soixante-deux",
    63: "soixante-trois",
    64: "soixante-quatre",
    65: "soixante-cinq",
    66: "soixante-six",
    67: "soixante-sept",
    68: "soixante-huit",
    69: "soixante-neuf",
    70: "soixante-dix",
    71: "soixante et onze",
    72: "soixante-douze",
    73: "soixante-treize",
    74: "soixante-quatorze",
    75: "soixante-quinze",
    76: "soixante-seize",
    77: "soixante-dix-sept",
    78: "soixante-dix-huit",
    79: "soixante-dix-neuf",
    80: "quatre-vingts",
    81: "quatre-vingt-un",
    82: "quatre-vingt-deux",
    83: "quatre-vingt-trois",
    84: "quatre-vingt-quatre",
    85: "quatre-vingt-cinq",
    86: "quatre-vingt-six",
    87: "quatre-vingt-sept",
    88: "quatre-vingt-huit",
    89: "quatre-vingt-neuf",
    90: "quatre-vingt-dix",
    91: "quatre-vingt-onze",
    92: "quatre-vingt-douze",
    93: "quatre-vingt-treize",
    94: "quatre-vingt-quatorze",
    95: "quatre-vingt-quinze",
    96: "quatre-vingt-seize",
    97: "quatre-vingt-dix-sept",
    98: "quatre-vingt-dix-huit",
    99: "quatre-vingt-dix-neuf",
}
# Which recorded word (file stem in digits/) says each written word.
ENGLISH_FILES = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
}  # fmt: skip
FRENCH_FILES = {
    "zéro": "0", "un": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "six": "6", "sept": "7",
    "huit": "8", "neuf": "9", "dix": "10", "onze": "11", "douze": "12", "treize": "13", "quatorze": "14",
    "quinze": "15", "seize": "16", "dix-sept": "17", "dix-huit": "18", "dix-neuf": "19", "vingt": "20",
    "trente": "30", "quarante": "40", "cinquante": "50", "soixante": "60", "quatre-vingt": "80",
    "quatre-vingts": "80", "et": "et",
}  # fmt: skip
#: Words spelt with a hyphen that are one recording.
_FRENCH_COMPOUNDS = re.compile(r"quatre-vingts?|dix-sept|dix-huit|dix-neuf")


def spelt_words(text: str, language: str) -> tuple[str, ...]:
    """The recorded words of a spelt number: split on spaces and hyphens, keeping one-recording compounds."""
    if language == "english":
        return tuple(ENGLISH_FILES[w] for w in re.split(r"[ -]", text))
    words = []
    for chunk in text.split(" "):
        while chunk:
            match = _FRENCH_COMPOUNDS.match(chunk)
            word = match.group(0) if match else chunk.split("-")[0]
            words.append(FRENCH_FILES[word])
            chunk = chunk[len(word) :].lstrip("-")
    return tuple(words)


def test_english_words_follow_the_rules():
    assert len(ENGLISH) == 100
    for number, text in ENGLISH.items():
        assert english_words(number) == spelt_words(text, "english"), (number, text)
    assert english_words(42) == ("40", "2") and english_words(14) == ("14",) and english_words(40) == ("40",)


def test_french_words_follow_the_rules():
    assert len(FRENCH) == 100
    for number, text in FRENCH.items():
        assert french_words(number) == spelt_words(text, "french"), (number, text)
    assert french_words(71) == ("60", "et", "11") and french_words(81) == ("80", "1")
    assert french_words(91) == ("80", "11") and french_words(21) == ("20", "et", "1")
    assert "et" not in french_words(61 + 20) and french_words(70) == ("60", "10")


def test_bad_numbers_and_languages_are_refused():
    with pytest.raises(ValueError, match="outside 0-99"):
        english_words(100)
    with pytest.raises(ValueError, match="no prompts for 'german'"):
        prompt_words(3, "german")


def test_needed_stems():
    assert needed_stems("english") == tuple(str(n) for n in [*range(21), 30, 40, 50, 60, 70, 80, 90])
    assert needed_stems("french") == (*(str(n) for n in [*range(21), 30, 40, 50, 60, 80]), "et")


@pytest.mark.parametrize("language", ["english", "french"])
def test_every_needed_word_is_installed(language):
    folder = prompts.DEBIAN_SOUNDS / prompts.VOICE_FOLDERS[language][0] / "digits"
    if not folder.is_dir():
        pytest.skip(f"{prompts.PACKAGES[language]} is not installed ({folder} is missing)")
    assert prompts.missing_words(folder, language) == []
    for stem in needed_stems(language):
        info = sf.info(folder / f"{stem}.wav")
        assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16"), stem


# ---- assembly, with fake prompts -----------------------------------------------------------------


def _word(freq: float, seconds: float = 0.3, sr: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    silence = np.zeros(int(0.1 * sr))
    return np.concatenate([silence, 0.3 * np.sin(2 * np.pi * freq * t), silence])


@pytest.fixture
def fake_prompts(tmp_path, monkeypatch):
    """A SPOKEN100_PROMPTS folder with every word of both languages (tones at 8 kHz), and no Debian packages."""
    base = tmp_path / "sounds"
    for voice, language in (("en_US_f_Testa", "english"), ("fr", "french")):
        digits = base / voice / "digits"
        digits.mkdir(parents=True)
        for k, stem in enumerate(needed_stems(language)):
            sf.write(digits / f"{stem}.wav", _word(200 + 10 * k), 8000, subtype="PCM_16")
    (base / "en").symlink_to(base / "en_US_f_Testa")  # as Debian's alternatives link en -> en_US_f_Allison
    monkeypatch.setenv(prompts.ENV_PROMPTS, str(base))
    monkeypatch.setattr(prompts, "DEBIAN_SOUNDS", tmp_path / "no-debian")
    return base


def test_assemble_joins_trimmed_words_with_a_fixed_pause(fake_prompts):
    digits = fake_prompts / "en_US_f_Testa" / "digits"
    one = assemble.assemble_words([digits / "40.wav"])
    two = assemble.assemble_words([digits / "40.wav", digits / "2.wav"])
    sr = assemble.SAMPLE_RATE
    assert one.dtype == np.float32 and abs(len(one) / sr - (0.3 + 0.04)) < 0.02  # 20 ms kept at each edge
    word_40 = len(one)
    word_2 = len(assemble.assemble_words([digits / "2.wav"]))
    assert abs((len(two) - word_40 - word_2) / sr - assemble.PAUSE_S) < 0.005
    with pytest.raises(ValueError, match="no word files"):
        assemble.assemble_words([])


def test_prompt_corpus_has_the_spoken100_layout(fake_prompts):
    corpus, message = assemble.try_prompt_corpus()
    assert corpus is not None and "Testa (female)" in message and "CC BY-SA 3.0" in message
    assert corpus.kind == "prompts" and corpus.languages == ("english", "french")
    assert len(corpus.index) == corpus.expected_clips == 200 and corpus.problems.empty
    assert set(corpus.index.speaker) == {"Testa", "prompts_french"}
    assert (corpus.root / "french_numbers" / "prompts_french" / "71.wav").is_file()
    assert set(corpus.index.sample_rate) == {44_100}
    row = corpus.index[(corpus.index.language == "french") & (corpus.index.number == 71)].iloc[0]
    assert row.text == "soixante et onze"
    again = assemble.prompt_corpus()
    assert again.root == corpus.root and again.digest == corpus.digest  # reused, not rebuilt


def test_without_prompts_the_section_is_skipped(tmp_path, monkeypatch):
    monkeypatch.delenv(prompts.ENV_PROMPTS, raising=False)
    monkeypatch.setattr(prompts, "DEBIAN_SOUNDS", tmp_path / "none")
    corpus, message = assemble.try_prompt_corpus()
    assert corpus is None and message.startswith("**Skipped:**")
    assert "apt-get install asterisk-core-sounds-en-wav asterisk-core-sounds-fr-wav" in message
    assert prompts.ENV_PROMPTS in message


def test_one_language_missing_is_named(fake_prompts, monkeypatch):
    import shutil

    shutil.rmtree(fake_prompts / "fr")
    corpus, message = assemble.try_prompt_corpus()
    assert corpus.languages == ("english",) and "asterisk-core-sounds-fr-wav" in message
