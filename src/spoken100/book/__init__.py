"""The book tooling, on top of the chapters: notebook runner, profiles, build information, summaries,
publishing, the Sphinx extension and the site and browser checks of the rendered book.

No chapter module imports it. ``browsercheck`` needs the optional extra ``check`` (selenium).
"""
