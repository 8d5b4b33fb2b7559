"""Where the human-recorded number words come from: Debian's Asterisk prompt packages, or a folder.

Debian ships telephone prompts recorded by professional speakers under CC BY-SA 3.0:

* ``asterisk-core-sounds-en-wav`` -- US English, female speaker (Allison), in
  ``/usr/share/asterisk/sounds/en_US_f_Allison/digits/``;
* ``asterisk-core-sounds-fr-wav`` -- Canadian French, female speaker (June), in
  ``/usr/share/asterisk/sounds/fr_CA_f_June/digits/``;

8 kHz, 16-bit, mono WAV files, one word each (:mod:`spoken100.data.prompt_words` says which make a
number). ``make setup`` and ``.ci/run`` install both packages when run as root. Nothing is
downloaded from anywhere else and nothing from the packages is committed to this repository.

Where the prompts are looked for (:func:`prompt_sources`), per language, in this order:

1. the folder named by ``SPOKEN100_PROMPTS``, laid out like ``/usr/share/asterisk/sounds``: a
   sub-folder per voice or language (``en_US_f_Allison``, ``en_US``, ``en`` or ``english``; ``fr_CA_f_June``,
   ``fr_CA``, ``fr`` or ``french``) holding ``digits/``;
2. the Debian install path, ``/usr/share/asterisk/sounds``.

A folder counts only when its ``digits/`` holds every word the language's 0-99 need. The speaker's
name and gender are read from the voice folder's name (``en_US_f_Allison``: female, Allison), after
following the symbolic links Debian's alternatives make (``en`` -> ``en_US_f_Allison``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from spoken100.data.prompt_words import PROMPT_LANGUAGES, needed_stems

#: Environment variable naming a folder of prompts laid out like :data:`DEBIAN_SOUNDS`.
ENV_PROMPTS = "SPOKEN100_PROMPTS"
#: Where Debian's Asterisk prompt packages install their voices.
DEBIAN_SOUNDS = Path("/usr/share/asterisk/sounds")
#: The Debian package of each language's prompts.
PACKAGES: dict[str, str] = {"english": "asterisk-core-sounds-en-wav", "french": "asterisk-core-sounds-fr-wav"}
#: Voice folders tried under a sounds folder, most specific first.
VOICE_FOLDERS: dict[str, tuple[str, ...]] = {
    "english": ("en_US_f_Allison", "en_US", "en", "english"),
    "french": ("fr_CA_f_June", "fr_CA", "fr", "french"),
}
PROMPTS_LICENCE = "Creative Commons Attribution-ShareAlike 3.0 (CC BY-SA 3.0)"
PROMPTS_SOURCE = "Asterisk core sound prompts (Digium / Sangoma), as packaged by Debian"
INSTALL_HINT = "sudo apt-get install " + " ".join(PACKAGES.values())
_VOICE = re.compile(r"^(?P<lang>[a-z]{2})_(?P<region>[A-Z]{2})_(?P<gender>[fm])_(?P<name>[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class PromptSource:
    """One language's prompt folder: ``digits`` holds the word files; the speaker read from the voice folder."""

    language: str
    digits: Path
    speaker: str
    gender: str
    origin: str

    def word_file(self, stem: str) -> Path:
        """The file of one word, e.g. ``"40"`` -> ``.../digits/40.wav``."""
        return self.digits / f"{stem}.wav"


def missing_words(digits: Path, language: str) -> list[str]:
    """The stems of ``language``'s 0-99 that ``digits`` lacks (all of them when it is no folder)."""
    return [stem for stem in needed_stems(language) if not (digits / f"{stem}.wav").is_file()]


def _speaker_of(voice_folder: Path, language: str) -> tuple[str, str]:
    """Speaker name and gender from a voice folder's (resolved) name; a generic name when it says neither."""
    match = _VOICE.match(voice_folder.resolve().name)
    if match is None:
        return f"prompts_{language}", "unknown"
    return match["name"], "female" if match["gender"] == "f" else "male"


def _bases() -> list[tuple[str, Path]]:
    bases = []
    env = os.environ.get(ENV_PROMPTS)
    if env:
        bases.append((f"${ENV_PROMPTS}", Path(env).expanduser()))
    bases.append(("the Debian packages", DEBIAN_SOUNDS))
    return bases


def prompt_source(language: str) -> PromptSource | None:
    """The first complete prompt folder of ``language`` (see the module docstring), or ``None``."""
    if language not in PROMPT_LANGUAGES:
        raise ValueError(f"no prompts for {language!r}; prompts exist for {', '.join(PROMPT_LANGUAGES)}")
    for origin, base in _bases():
        for name in VOICE_FOLDERS[language]:
            voice = base / name
            if (voice / "digits").is_dir() and not missing_words(voice / "digits", language):
                speaker, gender = _speaker_of(voice, language)
                return PromptSource(language, voice / "digits", speaker, gender, origin)
    return None


def prompt_sources(languages: tuple[str, ...] = PROMPT_LANGUAGES) -> dict[str, PromptSource]:
    """The prompt folder of every language in ``languages`` that has one."""
    found = {language: prompt_source(language) for language in languages}
    return {language: source for language, source in found.items() if source is not None}


def prompts_status(languages: tuple[str, ...] = PROMPT_LANGUAGES) -> str:
    """One paragraph: which prompts are used, or what to install when some are missing."""
    found = prompt_sources(languages)
    parts = [
        f"{lang.capitalize()}: {s.speaker} ({s.gender}), {s.digits} (from {s.origin})." for lang, s in found.items()
    ]
    missing = [lang for lang in languages if lang not in found]
    if missing:
        packages = " ".join(PACKAGES[lang] for lang in missing)
        env = os.environ.get(ENV_PROMPTS)
        note = f" ${ENV_PROMPTS} is set to {env}, which holds no complete set." if env else ""
        parts.append(
            f"No complete set of {' or '.join(m.capitalize() for m in missing)} number prompts was found.{note} "
            f"Install them with `sudo apt-get install {packages}` (Debian/Ubuntu; `make setup` does it as root), "
            f"or set {ENV_PROMPTS} to a folder laid out like {DEBIAN_SOUNDS}."
        )
    parts.append(f"Licence of the recordings: {PROMPTS_LICENCE}; source: {PROMPTS_SOURCE}.")
    return " ".join(parts)
