"""The book's Sphinx extension removes inline scripts written twice (they break every page's JavaScript)."""

from sphinx.builders.html._assets import _JavaScript

from spoken100.book.sphinxext import drop_repeated_scripts


def test_repeated_inline_scripts_are_dropped_keeping_order():
    body = 'const THEBE_JS_URL = "x";'
    scripts = [
        _JavaScript("_static/doctools.js", priority=200),
        _JavaScript(None, body=body),
        _JavaScript("_static/sphinx-thebe.js", **{"async": "async"}),
        _JavaScript("", body=body),  # the same script again, registered with "" instead of None
        _JavaScript(None, body="DOCUMENTATION_OPTIONS.pagename = 'x';"),
    ]
    context = {"script_files": scripts}
    drop_repeated_scripts(None, "x", "page.html", context, None)
    assert context["script_files"] == [scripts[0], scripts[1], scripts[2], scripts[4]]
