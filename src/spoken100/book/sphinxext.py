"""A Sphinx extension for the book: drop inline scripts that Sphinx 7.4 writes twice.

Sphinx 7.4 adds an extension's inline ``<script>`` bodies to every page once per registration, so
sphinx-thebe's ``const THEBE_JS_URL = ...`` appears twice and every page logs "Identifier
'THEBE_JS_URL' has already been declared" in the browser (sphinx-doc/sphinx#13402, fixed in
Sphinx 8.2, which myst-parser 3 does not allow). This handler keeps the first of identical
script entries. Registered in ``_config.yml`` (``sphinx: extra_extensions``).
"""

from __future__ import annotations

from typing import Any


def _script_key(script: Any) -> tuple:
    # The same inline script is registered once with filename None and once with "": same key.
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def drop_repeated_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """``html-page-context`` handler: remove repeated entries of ``context["script_files"]``."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point."""
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
