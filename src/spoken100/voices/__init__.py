"""Chapter 2, voices: descriptive statistics of F0, formants and speaking rate per speaker, and their figures."""
