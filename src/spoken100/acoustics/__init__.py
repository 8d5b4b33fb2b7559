"""Per-clip acoustics: F0 (pYIN, Praat), formants, voice measures, spectra and the audit measurements.

Each function works on one clip (read through :mod:`spoken100.data.audio`); corpus-wide features
are mapped and cached with :func:`spoken100.data.clipmap.map_clips`. Stands on the data layer only.
"""
