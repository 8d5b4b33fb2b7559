"""Human voices for all 100 numbers: recorded prompt words joined into a small SpokeN-100-layout corpus.

For every number 0-99 and every language with prompts (:mod:`spoken100.data.prompts`), the words
:func:`~spoken100.data.prompt_words.prompt_words` names are read at 44.1 kHz as the corpus's clips are
(:func:`~spoken100.data.audio.load_clip`, the paper's loader: the 8 kHz files are upsampled, so nothing
above 4 kHz exists in them), each word's edge silence is cut with the corpus's own rule
(:func:`~spoken100.data.segment.trim_silence`, the :class:`~spoken100.data.segment.TrimParams` that
trimmed every stand-in clip, which keeps 20 ms of silence at each edge), the words are joined with a
fixed pause of :data:`PAUSE_S` (so :data:`PAUSE_S` + 40 ms of silence lies between two words, about a
short natural pause between words that were recorded apart), and the whole clip is trimmed once more.

The clips are written as 16-bit WAV files in the SpokeN-100 layout, one speaker per language::

    <data home>/prompts/<key>/SpokeN-100-prompts/english_numbers/Allison/42.wav
    <data home>/prompts/<key>/SpokeN-100-prompts/french_numbers/June/71.wav

``<key>`` changes when a source file, a setting or the word rules change, so a stale copy is never
reused. :func:`prompt_corpus` opens them as a :class:`~spoken100.data.corpus.Corpus` (kind
``"prompts"``), so the audit of chapter 1, :func:`~spoken100.data.inputs.corpus_inputs` and every
other reader apply unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from spoken100.data import atomic
from spoken100.data.audio import encode_wav, load_clip
from spoken100.data.corpus import PROMPTS, Corpus, CorpusError
from spoken100.data.index import build_index, sha256_file
from spoken100.data.layout import NUMBERS, SAMPLE_RATE, clip_path
from spoken100.data.paths import data_home
from spoken100.data.prompt_words import PROMPT_LANGUAGES, needed_stems, prompt_words
from spoken100.data.prompts import PROMPTS_LICENCE, PROMPTS_SOURCE, PromptSource, prompt_sources, prompts_status
from spoken100.data.segment import TrimParams, trim_silence
from spoken100.data.texts import written_text

#: The sample rate the telephone prompts were recorded at: nothing above half of it exists in them.
PROMPT_SAMPLE_RATE = 8000
#: Silence added between two words, beyond the 20 ms the trim rule keeps at each word's edges.
PAUSE_S = 0.02
LAYOUT_DIR = "SpokeN-100-prompts"
MANIFEST = "prompts.json"
#: Bumped when the assembly changes in a way the settings do not show.
ASSEMBLY_VERSION = 1


def assemble_words(
    paths: Sequence[str | Path], pause_s: float = PAUSE_S, trim: TrimParams = TrimParams()
) -> np.ndarray:
    """One clip (float32 at 44.1 kHz) from word files: each read at 44.1 kHz and trimmed, joined with ``pause_s``.

    Raises ``ValueError`` naming a word file in which the trim rule finds no sound.
    """
    if not paths:
        raise ValueError("no word files to assemble")
    gap = np.zeros(round(pause_s * SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    for path in paths:
        word = trim_silence(load_clip(path), SAMPLE_RATE, trim)
        if word.size == 0:
            raise ValueError(f"{path}: the silence rule finds no sound in this word file")
        if pieces:
            pieces.append(gap)
        pieces.append(word.astype(np.float32))
    clip = trim_silence(np.concatenate(pieces), SAMPLE_RATE, trim)
    return np.clip(clip, -1.0, 1.0).astype(np.float32)


def assembly_key(sources: dict[str, PromptSource], pause_s: float = PAUSE_S, trim: TrimParams = TrimParams()) -> str:
    """A short key of everything the clips depend on: the word files' bytes, the rules and the settings."""
    record = {
        "version": ASSEMBLY_VERSION, "pause_s": pause_s, "trim": trim.as_dict(), "sample_rate": SAMPLE_RATE,
        "languages": {
            lang: {"speaker": s.speaker, "words": [list(prompt_words(n, lang)) for n in NUMBERS],
                   "files": {stem: sha256_file(s.word_file(stem)) for stem in needed_stems(lang)}}
            for lang, s in sorted(sources.items())
        },
    }  # fmt: skip
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


def build_prompt_clips(
    sources: dict[str, PromptSource], home: Path | None = None, pause_s: float = PAUSE_S,
    trim: TrimParams = TrimParams(),
) -> Path:  # fmt: skip
    """Write the clips of every language in ``sources`` (once; reused while the key holds) and return the layout root."""
    if not sources:
        raise CorpusError(f"no prompts to assemble. {prompts_status()}")
    folder = (home or data_home() / "prompts") / assembly_key(sources, pause_s, trim)
    root = folder / LAYOUT_DIR
    manifest = folder / MANIFEST
    if manifest.is_file():
        return root
    for language, source in sorted(sources.items()):
        for number in NUMBERS:
            words = [source.word_file(stem) for stem in prompt_words(number, language)]
            atomic.write_bytes(clip_path(root, language, source.speaker, number),
                               encode_wav(assemble_words(words, pause_s, trim)))  # fmt: skip
    atomic.write_json(manifest, {
        "source": PROMPTS_SOURCE, "licence": PROMPTS_LICENCE, "pause_s": pause_s, "trim": trim.as_dict(),
        "languages": {lang: {"speaker": s.speaker, "gender": s.gender, "folder": str(s.digits)}
                      for lang, s in sorted(sources.items())},
    })  # fmt: skip
    return root


def prompt_speakers(sources: dict[str, PromptSource]) -> pd.DataFrame:
    """The speaker table of the prompt corpus: ``speaker``, ``gender``, ``language``, ``accent``."""
    accents = {"english": "US English", "french": "Canadian French"}
    rows = [{"speaker": s.speaker, "gender": s.gender, "language": lang, "accent": accents.get(lang, lang)}
            for lang, s in sorted(sources.items())]  # fmt: skip
    return pd.DataFrame(rows, columns=["speaker", "gender", "language", "accent"])


def prompt_corpus(languages: tuple[str, ...] = PROMPT_LANGUAGES, progress: bool = False) -> Corpus:
    """The human-voice corpus: assembled (first time only) and indexed, for every language whose prompts exist.

    Raises :class:`~spoken100.data.corpus.CorpusError` with what to install when no language has prompts.
    """
    sources = prompt_sources(tuple(languages))
    root = build_prompt_clips(sources)
    speakers = prompt_speakers(sources)
    genders = dict(zip(speakers.speaker, speakers.gender, strict=True))
    index, problems = build_index(root, lambda s: genders.get(s, "unknown"), written_text, progress=progress)
    manifest = json.loads((root.parent / MANIFEST).read_text())
    return Corpus(PROMPTS, root, index, problems, speakers, manifest=manifest,
                  languages=tuple(lang for lang in PROMPT_LANGUAGES if lang in sources))  # fmt: skip


def try_prompt_corpus(languages: tuple[str, ...] = PROMPT_LANGUAGES) -> tuple[Corpus | None, str]:
    """:func:`prompt_corpus`, or ``None`` and a "Skipped: ..." line saying what to install when there are no prompts.

    The message always names the source and licence; for a language without prompts it says how to get them.
    """
    if not prompt_sources(tuple(languages)):
        return None, f"**Skipped:** no human number prompts were found. {prompts_status(tuple(languages))}"
    return prompt_corpus(languages), prompts_status(tuple(languages))
