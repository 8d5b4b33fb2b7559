"""The build pipeline's failure paths: a failing notebook, an unrendered site, CLI errors."""

from __future__ import annotations

import nbformat
import pytest
from click.testing import CliRunner

from spoken100.book.publish import publish_html
from spoken100.book.runner import NotebookFailed, run_notebook
from spoken100.cli import main


def _notebook(path, body: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("fail = False")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_failing_notebook_names_cell_and_keeps_last_good_output(tmp_path):
    source = _notebook(tmp_path / "chapter.ipynb", "if fail:\n    raise RuntimeError('boom')\nx = 1")
    output = tmp_path / "stage" / "chapter.ipynb"
    run_notebook(source, output, {"fail": False})
    good = output.read_bytes()
    assert b"Parameters of this build" in good

    with pytest.raises(NotebookFailed, match=r"chapter\.ipynb failed in cell \d+ \(RuntimeError\): boom"):
        run_notebook(source, output, {"fail": True}, failed_dir=tmp_path / "failed")
    assert output.read_bytes() == good
    assert (tmp_path / "failed" / "chapter.ipynb").is_file()
    assert not list(output.parent.glob("*.tmp*"))


def test_unknown_parameter_is_refused(tmp_path):
    source = _notebook(tmp_path / "chapter.ipynb", "x = 1")
    with pytest.raises(ValueError, match="does not declare"):
        run_notebook(source, tmp_path / "out.ipynb", {"n_typo": 3})


def test_publish_swaps_and_keeps_last_good_site(tmp_path):
    built, dest = tmp_path / "built", tmp_path / "html"
    built.mkdir()
    (built / "index.html").write_text("v1")
    publish_html(built, dest)
    assert (dest / "index.html").read_text() == "v1"

    (built / "index.html").write_text("v2")
    publish_html(built, dest)
    assert (dest / "index.html").read_text() == "v2"

    (built / "index.html").unlink()
    with pytest.raises(FileNotFoundError, match="not rendered"):
        publish_html(built, dest)
    assert (dest / "index.html").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["built", "html"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["index", "--data", "/no/such/folder"], "no such folder"),
        (["audit", "--data", "/no/such/folder"], "no such folder"),
        (["fetch", "--zip", "/no/such/SpokeN-100.zip"], "SpokeN-100.zip"),
        (["generate", "--n-speakers", "0"], "at least 1"),
    ],
)
def test_cli_errors_are_one_message_and_exit_1(args, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_index_on_a_folder_outside_the_layout(tmp_path):
    (tmp_path / "stuff").mkdir()
    result = CliRunner().invoke(main, ["index", "--data", str(tmp_path / "stuff")])
    assert result.exit_code == 1
    assert "not in the SpokeN-100 layout" in result.output
