"""The data layer, below every chapter: audio, corpora, index, splits, model inputs, task constants.

It also holds the package's one table of the paper's published figures
(:mod:`spoken100.data.paper_facts`) and the caches every stage writes through
(:mod:`~spoken100.data.clipmap`, :mod:`~spoken100.data.memo`, :mod:`~spoken100.data.codehash`).
Nothing here imports an acoustics, chapter or book module. The CSV files beside these modules are
package data (see ``README.md`` in this folder).
"""
