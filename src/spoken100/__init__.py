"""spoken100: reproducible companion to the SpokeN-100 paper (Groh, Goes, Kist 2024).

The package is built in layers, and imports point down only:

* :mod:`spoken100.data` -- the data layer: reading audio, corpora (real and stand-in), the corpus
  index, speaker splits, model inputs, task constants, the paper's published figures and the caches;
* :mod:`spoken100.acoustics` -- per-clip acoustics (F0, formants, spectra, audit measurements);
* the chapters' analyses, one subpackage each: :mod:`spoken100.audit` (1), :mod:`spoken100.voices`
  (2), :mod:`spoken100.embeddings` (3), :mod:`spoken100.baselines` (4), :mod:`spoken100.nas` (5-6);
* :mod:`spoken100.book` -- the book tooling (notebook runner, profiles, summaries, site checks);
  :mod:`spoken100.cli` sits on top of everything.

A chapter never imports another chapter or the book tooling (``tests/test_layers.py``).
"""

from spoken100.data.corpus import Corpus, open_corpus
from spoken100.data.describe import corpus_statement

__all__ = ["Corpus", "open_corpus", "corpus_statement", "__version__"]
__version__ = "0.1.0"
