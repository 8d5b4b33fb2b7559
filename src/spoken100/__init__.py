"""spoken100: reproducible companion to the SpokeN-100 paper (Groh, Goes, Kist 2024).

The package holds all logic of the companion book: corpus sources (the real
SpokeN-100 release and an espeak-ng stand-in generated in the same layout), the
corpus index, the generation audit, and the helpers that build the book.
"""

from spoken100.corpus import Corpus, open_corpus

__all__ = ["Corpus", "open_corpus", "__version__"]
__version__ = "0.1.0"
