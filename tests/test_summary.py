"""The summary pages read this build's glued results back from the executed chapters, never typing one in."""

from __future__ import annotations

import base64
import inspect
import math
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from spoken100.book import summary
from spoken100.book.buildinfo import results_fingerprints
from spoken100.data import paper_facts

ROOT = Path(__file__).resolve().parents[1]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _glue_output(name: str, value) -> nbformat.NotebookNode:
    prefix = "application/papermill.record/"
    return nbformat.v4.new_output(
        "display_data", data={f"{prefix}text/plain": repr(value)},
        metadata={"scrapbook": {"name": name, "mime_prefix": prefix}},
    )  # fmt: skip


def _executed(path: Path, glued: dict, tagged_png: bool = False) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue(...)")
    cell.outputs = [_glue_output(k, v) for k, v in glued.items()]
    nb.cells.append(cell)
    if tagged_png:
        figure = nbformat.v4.new_code_cell("plot()", metadata={"tags": [summary.HEADLINE_TAG]})
        figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()})]
        nb.cells.append(figure)
    nbformat.write(nb, path)
    return path


def test_glued_values_round_trip(tmp_path):
    path = _executed(tmp_path / "03_umap.ipynb", {"n": 12800, "acc": 89.5, "model": "CNN-2D", "missing": math.nan})
    values = summary.glued_values(path)
    assert values["n"] == 12800 and values["acc"] == 89.5 and values["model"] == "CNN-2D"
    assert math.isnan(values["missing"])
    assert summary.glued_values(tmp_path / "absent.ipynb") == {}


def test_missing_values_say_so_and_are_never_nan():
    assert summary.format_value(None) == summary.NOT_COMPUTED
    assert summary.format_value(math.nan, "{:.1f}") == summary.NOT_COMPUTED
    assert summary.format_value(89.456, "{:.1f}", " %") == "89.5 %"
    assert summary.format_value("reached", "{:.1f}") == "reached"


def test_write_summary_uses_only_what_the_chapters_glued(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _executed(notebooks / "01_generation_audit.ipynb", {"n_clips": 3200, "n_checks": 12, "n_pass": 11})
    _executed(notebooks / "03_umap.ipynb", {"umap_knn_language": 91.25, "umap_chance_language": 25.0}, tagged_png=True)
    corpus = {"kind": "standin", "label": "the stand-in", "n_clips": 3200}
    paths = summary.write_summary(notebooks, corpus, "smoke", tmp_path / "out")
    headline = paths["headline"].read_text()
    assert "stand-in" in headline and "profile smoke" in headline and ":class: warning" in headline
    assert "3,200 clips; 11 of 12 checks pass" in headline and "91.2 %" in headline
    assert summary.NOT_COMPUTED in headline  # chapters 2 and 4-6 were not executed
    assert paths["figure"].read_bytes() == PNG and "_generated/headline.png" in headline
    table = paths["comparison"].read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| quantity")]
    assert len(rows) == len(summary.COMPARISONS)
    assert table.count("\n## ") == len({r.topic for r in summary.COMPARISONS})
    assert "| 3,200 |" in table and "84.77 ± 3.70 %" in table  # ours from the glue; the paper's from its source
    board = paths["board"].read_text()  # the firmware page's chip table: what the cost model's limits are read from
    assert "| 64 MHz " in board and "| 1 MB " in board and "| 256 KB " in board and "docs.zephyrproject.org" in board


def test_the_cost_models_board_limits_are_the_published_figures():
    from spoken100.nas import costs

    flash, ram = (int(paper_facts.figure(k).value) * 1024 for k in ("nrf52840_flash_kib", "nrf52840_ram_kib"))
    assert costs.fits(SimpleNamespace(flash_bytes=flash, ram_bytes=ram))
    assert not costs.fits(SimpleNamespace(flash_bytes=flash, ram_bytes=ram + 1))
    assert not costs.fits(SimpleNamespace(flash_bytes=flash + 1, ram_bytes=ram))


def _glue_patterns(notebook: Path) -> list[re.Pattern]:
    source = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    patterns = []
    for is_f, key in re.findall(r'glue\((f?)"([^"]+)"', source):
        patterns.append(re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(key)) if is_f else re.escape(key)))
    if "deploy.findings(" in source:  # chapter 6 glues every key of this dictionary in a loop
        from spoken100.nas import deploy

        keys = re.findall(r'"([a-z0-9_]+)":', inspect.getsource(deploy.findings))
        patterns += [re.compile(re.escape(k)) for k in keys]
    if "report.findings(" in source:  # chapter 5 likewise, with keys per task
        from spoken100.nas import report

        code = inspect.getsource(report.findings) + inspect.getsource(report.paper_fittest_glue)
        if "confirm.findings(" in source:  # and the confirmation's keys
            from spoken100.nas import confirm

            code += inspect.getsource(confirm.findings)
        for key in re.findall(r'out\[f?"([^"]+)"\]|"([a-z0-9_]+)":', code):
            key = key[0] or key[1]
            patterns.append(re.compile(re.sub(r"\\\{[^}]*\\\}", ".*", re.escape(key))))
    return patterns


@pytest.mark.parametrize("row", [r for r in summary.COMPARISONS if r.ours], ids=lambda r: r.quantity)
def test_every_compared_value_is_glued_by_its_chapter(row):
    for notebook, key in filter(None, (row.ours, row.deviation_key)):
        patterns = _glue_patterns(ROOT / "notebooks" / f"{notebook}.ipynb")
        assert any(p.fullmatch(key) for p in patterns), f"{notebook} glues no value named {key}"


def test_a_glued_recipe_is_printed_before_the_rows_own_deviation(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _executed(notebooks / "04_baselines.ipynb", {"accuracy_text_rnn_number": "6.90 % (chance 1 %)",
                                                 "recipe_rnn_number": "2 epochs; width=0.25: 1 parameters"})  # fmt: skip
    table = summary.write_summary(notebooks, {"kind": "standin", "label": "x", "n_clips": 1}, "smoke", tmp_path / "o")
    (line,) = [row for row in table["comparison"].read_text().splitlines() if "RNN (BiLSTM), number task (100" in row]
    assert "| 6.90 % (chance 1 %) |" in line and "| 2 epochs; width=0.25: 1 parameters; honest protocol" in line
    (other,) = [row for row in table["comparison"].read_text().splitlines() if "CNN-2D, number task (100" in row]
    assert f"| {summary.NOT_COMPUTED} | honest protocol" in other  # no recipe glued: the row's own text only


def test_fingerprints_ignore_timings_and_see_results(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    _executed(a / "04_baselines.ipynb", {"best_accuracy_number": 7.8, "training_seconds": 100.0,
                                         "search_minutes": 12.9, "paper_search_core_hours": 65.4})  # fmt: skip
    _executed(b / "04_baselines.ipynb", {"best_accuracy_number": 7.8, "training_seconds": 250.0,
                                         "search_minutes": 12.0, "paper_search_core_hours": 59.0})  # fmt: skip
    assert results_fingerprints(a) == results_fingerprints(b)
    _executed(b / "04_baselines.ipynb", {"best_accuracy_number": 7.9, "training_seconds": 250.0})
    assert results_fingerprints(a) != results_fingerprints(b)


def test_headline_shows_the_best_human_voice_accuracy_with_chance():
    values = {"04_baselines": {"human_best_english": 12.34, "human_best_french": 5.0}}
    text = summary.headline_markdown(values, {"kind": "standin", "n_clips": 3200}, "default")
    assert "English 12.3 %, French 5.0 % (chance 1 %)" in text


def test_the_landing_pages_account_of_the_paper_is_computed_from_the_facts(monkeypatch, tmp_path):
    """Clips, voices, classes and folds come from the facts table and the data layer; a changed fact shows."""
    real = summary.paper_facts.figure

    def figure(key):
        fact = real(key)
        return type(fact)(**{**vars(fact), "value": 4}) if key == "cv_folds" else fact

    text = summary.paper_design_markdown()
    assert f"{int(real('n_clips').value):,} clips" in text and f"by {int(real('n_speakers').value)} voices" in text
    assert f"({summary.TASK_CLASSES['number']} classes)" in text and "{cite}`spoken100zenodo`" in text
    monkeypatch.setattr(summary.paper_facts, "figure", figure)
    assert "speaker-independent 4-fold" in summary.paper_design_markdown()
    paths = summary.write_summary(tmp_path, {"kind": "standin", "label": "x", "n_clips": 1}, "smoke", tmp_path / "o")
    assert paths["design"].read_text() == summary.paper_design_markdown()
