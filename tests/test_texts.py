import pytest

from spoken100.data.texts import mandarin_hanzi, mandarin_pinyin, spoken_text, written_text


@pytest.mark.parametrize(
    ("number", "pinyin", "hanzi"),
    [(0, "ling2", "零"), (7, "qi1", "七"), (10, "shi2", "十"), (11, "shi2 yi1", "十一"),
     (20, "er4 shi2", "二十"), (42, "si4 shi2 er4", "四十二"), (99, "jiu3 shi2 jiu3", "九十九")],
)  # fmt: skip
def test_mandarin_rule(number, pinyin, hanzi):
    assert mandarin_pinyin(number) == pinyin
    assert mandarin_hanzi(number) == hanzi


def test_num2words_languages():
    assert spoken_text(42, "english") == "forty-two"
    assert spoken_text(42, "german") == "zweiundvierzig"
    assert spoken_text(71, "french") == "soixante et onze"
    assert written_text(42, "mandarin") == "四十二"


@pytest.mark.parametrize(("number", "language"), [(100, "english"), (-1, "german"), (5, "klingon")])
def test_rejects_bad_input(number, language):
    with pytest.raises(ValueError):
        spoken_text(number, language)
