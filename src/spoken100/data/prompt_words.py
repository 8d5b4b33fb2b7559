"""Which recorded telephone prompts say a number 0-99, in English and in French.

Telephone systems speak a number by playing short recorded words one after another: "forty" then
"two"; "soixante", "et", "onze". Debian's Asterisk prompt packages (:mod:`spoken100.data.prompts`)
hold one file per word, ``digits/<stem>.wav``; this module says which stems make each number, by the
language's own rules. The rules were checked against the files the packages install
(``asterisk-core-sounds-en-wav`` and ``-fr-wav`` 1.6.1, the ``digits/`` folders of
``en_US_f_Allison`` and ``fr_CA_f_June``), and they are the rules of Asterisk's own French and
English number readers.

English (US): 0-20 are one word each (``0`` is "zero"; the teens are single words); above 20 a
number is its tens word (``20`` ... ``90``) followed by its unit word when the unit is not 0:
42 = ``40`` + ``2``.

French: 0-20 are one word each (17-19, "dix-sept" ... "dix-neuf", are single files in the package).
21-69: the tens word (``20`` ... ``60``), then ``et`` + ``1`` for a unit of one ("vingt et un") or
the unit word ("vingt-deux"). 70-79 are "soixante" + 10-19 ("soixante-dix", "soixante et onze"
with ``et``, "soixante-douze"). 80-99 are "quatre-vingt(s)" + 0-19 without ``et`` ("quatre-vingts",
"quatre-vingt-un", "quatre-vingt-onze").

Choices, documented because the packages would allow others:

* The French package also has ``70.wav`` and ``90.wav``. They are not used: 70-79 and 90-99 are
  built from ``60`` and ``80`` as the rule above (and Asterisk) builds them, so that 70 and 71 share
  their first word as they do in speech, and the Belgian/Swiss "septante"/"nonante" question never
  arises (the speaker is Canadian French: "soixante-dix", "quatre-vingt-dix").
* ``80.wav`` serves both 80 ("quatre-vingts") and the first word of 81-99 ("quatre-vingt-"): the
  final *s* is silent, so the two are spoken the same.
* The masculine ``1.wav`` ("un") is used throughout; the package's feminine forms are not needed for
  counting.
"""

from __future__ import annotations

#: Languages with prompts (the prompt packages exist in English and French only).
PROMPT_LANGUAGES: tuple[str, ...] = ("english", "french")


def _check(number: int) -> int:
    number = int(number)
    if not 0 <= number <= 99:
        raise ValueError(f"number {number!r} is outside 0-99")
    return number


def english_words(number: int) -> tuple[str, ...]:
    """The English prompt stems of ``number`` (0-99), e.g. 42 -> ``("40", "2")``, 14 -> ``("14",)``."""
    number = _check(number)
    if number <= 20:
        return (str(number),)
    tens, unit = divmod(number, 10)
    return (str(10 * tens),) + ((str(unit),) if unit else ())


def french_words(number: int) -> tuple[str, ...]:
    """The French prompt stems of ``number`` (0-99), e.g. 71 -> ``("60", "et", "11")``, 81 -> ``("80", "1")``."""
    number = _check(number)
    if number <= 20:
        return (str(number),)
    if number < 70:
        tens, unit = divmod(number, 10)
        if unit == 0:
            return (str(10 * tens),)
        return (str(10 * tens), "et", "1") if unit == 1 else (str(10 * tens), str(unit))
    if number < 80:  # soixante + 10-19, "et" before onze only
        rest = number - 60
        return ("60", "et", str(rest)) if rest == 11 else ("60", str(rest))
    rest = number - 80  # quatre-vingt(s) + 0-19, never "et"
    return ("80",) if rest == 0 else ("80", str(rest))


def prompt_words(number: int, language: str) -> tuple[str, ...]:
    """The prompt stems of ``number`` in ``language`` (``"english"`` or ``"french"``)."""
    if language == "english":
        return english_words(number)
    if language == "french":
        return french_words(number)
    raise ValueError(f"no prompts for {language!r}; prompts exist for {', '.join(PROMPT_LANGUAGES)}")


def needed_stems(language: str) -> tuple[str, ...]:
    """Every stem the numbers 0-99 of ``language`` need, sorted as numbers first, then words."""
    stems = {stem for number in range(100) for stem in prompt_words(number, language)}
    return tuple(sorted(stems, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s)))
