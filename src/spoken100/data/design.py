"""The published corpus's design in numbers, for prose that describes it (chapter 1, the landing page).

Kept apart from :mod:`spoken100.data.paper_facts`: cached stages refer to that module, whose whole
code then counts in their keys, and describing the paper in prose must not recompute them.
"""

from __future__ import annotations

from spoken100.data import paper_facts
from spoken100.data.layout import LANGUAGES, NUMBERS, SAMPLE_RATE


def corpus_design() -> dict[str, int | float]:
    """Clips, speakers, languages, numbers and sample rate of the published corpus (for ``glue``).

    ``paper_n_clips`` and ``paper_n_speakers`` come from the facts table; the languages, numbers and
    sample rate from the layout every corpus of the book follows (``spoken100.data.layout``), so a
    sentence such as "12,800 clips, 4 languages x 32 speakers x 100 numbers" is computed, not typed.
    """
    return {
        "paper_n_clips": int(paper_facts.figure("n_clips").value),
        "paper_n_speakers": int(paper_facts.figure("n_speakers").value),
        "n_languages": len(LANGUAGES),
        "n_numbers": len(NUMBERS),
        "corpus_khz": SAMPLE_RATE / 1000,
    }
