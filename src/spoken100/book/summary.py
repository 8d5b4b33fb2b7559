"""The book at a glance: the paper's published figures beside this build's, and the landing page's headline.

Every number of this build comes from the executed chapters themselves: each chapter *glues* its
findings (``myst_nb.glue``), papermill stores them in the executed notebook, and
:func:`glued_values` reads them back. Nothing is typed in and nothing is recomputed, so the
summary can only show what the build computed; a value a chapter did not produce (a study skipped
by its profile) is shown as "not computed in this build".

The paper's side is :data:`COMPARISONS`: each row names the published figure and its public source,
both read from :mod:`spoken100.data.paper_facts` (the paper's own tables could not be retrieved, so
most figures come from the companion repository's executed notebooks or a summary of the paper),
which chapter and glued value of this build answer it, and how the two differ (corpus, protocol,
method). ``spoken100 summary`` writes the Markdown the "Paper vs this companion" page and the
landing page include (see the Makefile).
"""

from __future__ import annotations

import ast
import base64
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from spoken100.data import atomic, paper_facts
from spoken100.data.design import corpus_design
from spoken100.data.layout import LANGUAGES, NUMBERS
from spoken100.data.speakers import real_speakers
from spoken100.data.tasks import TASK_CLASSES, chance

#: The cell tag that marks the landing page's figure in an executed notebook (its first PNG is used).
HEADLINE_TAG = "headline-figure"
NOT_COMPUTED = "not computed in this build"

#: Chance level of each task as printed beside an accuracy (one over its classes), and of the
#: restricted scoring of spoken digits 0-9 (FSDD): derived, never typed.
CHANCE = {task: f"{100 * chance(task):g} %" for task in TASK_CLASSES}
DIGIT_CHANCE = f"{100 * chance('digit'):g} %"

#: The baselines in the paper's order, as ``(model key, title)``, from the published figures' table.
_BASELINES = tuple(
    (key.removeprefix("baseline_number_"), quantity.split(",")[0])
    for key, quantity in zip(paper_facts.table().key, paper_facts.table().quantity, strict=True)
    if key.startswith("baseline_number_")
)


def _paper(key: str) -> tuple[str, str]:
    """``(figure as printed, its source as a link)`` of a published figure."""
    fig = paper_facts.figure(key)
    return fig.display(), fig.cite()


def _fittest_with_latency() -> tuple[str, str]:
    acc, lat = paper_facts.figure("evonas_number_fittest_summary"), paper_facts.figure("evonas_fittest_latency_ms")
    return f"{acc.display()} at {lat.value:g} ms (measured on the board)", f"{acc.cite()}; {lat.cite()}"


#: How this build's latency beside the paper's measured latency reads: an estimate for the same architecture, with its band.
_ESTIMATE_UNIT = " ms, estimated: central (band low–high), for the paper's fittest number architecture"
_ESTIMATE_DEVIATION = (
    "the same architecture, estimated from its MACs per class with cycles per MAC calibrated on MLPerf Tiny and "
    "on this very figure (its front-end constant is fitted on it, so the central value agrees by construction); "
    f"the band is the uncertainty; no board, and only a secondary summary attributes the "
    f"{paper_facts.figure('evonas_fittest_latency_ms').value:g} ms to this model"
)


@dataclass(frozen=True)
class Comparison:
    """One published figure and the value of this build that answers it.

    topic: the book's chapter topic; chapter: the page (notebook stem) holding our value.
    quantity: what is compared. paper: the published figure as printed; source: where it is from.
    ours: ``(notebook stem, glue key)`` of this build's value, or ``None`` when only the paper's
        figure exists; fmt: how to print ours (a format spec, or ``"{}"`` for text).
    unit: appended to our value. deviation: how this build's figure differs in what it measures;
    deviation_key: ``(notebook stem, glue key)`` of a text the build glued that says more of how
    (e.g. the epochs and network width it trained a model with), printed before ``deviation``.
    """

    topic: str
    chapter: str
    quantity: str
    paper: str
    source: str
    ours: tuple[str, str] | None
    fmt: str = "{}"
    unit: str = ""
    deviation: str = ""
    deviation_key: tuple[str, str] | None = None


_LANGUAGE_UNPUBLISHED = (
    "not published",
    "the companion repository's language cell has no output (ankilab/SpokeN-100, notebooks/baselines.ipynb)",
)


def _baseline_rows() -> list[Comparison]:
    """Each baseline's accuracy per task, with its interval and chance (glued as text by chapter 4), and
    the recipe it was trained with (epochs, schedule, a narrowed network), so a gap to the paper's
    figure is not read as the protocol's or the corpus's alone."""
    rows = []
    for task in ("number", "language"):
        for model, title in _BASELINES:
            published = _paper(f"baseline_number_{model}") if task == "number" else _LANGUAGE_UNPUBLISHED
            rows.append(
                Comparison(
                    "Baselines", "04_baselines", f"{title}, {task} task ({TASK_CLASSES[task]} classes)", *published,
                    ("04_baselines", f"accuracy_text_{model}_{task}"), "{}", "",
                    "honest protocol, the profile's folds (see the top of the page)"
                    + ("; EfficientNet trained from scratch (no ImageNet weights offline)" if model == "cnn_effnet" else ""),
                    ("04_baselines", f"recipe_{model}_{task}"),
                )
            )  # fmt: skip
    return rows


def _reference_rows() -> list[Comparison]:
    """Chapter 4's long runs: the reference accuracy per model, and whether this build reached its plateau."""
    chance = CHANCE
    rows = []
    for task in ("number", "language"):
        for model, title in _BASELINES:
            published = _paper(f"baseline_number_{model}") if task == "number" else ("not published", "-")
            rows.append(
                Comparison(
                    "Baselines: long runs",
                    "04_baselines",
                    f"{title}, {task} task, reference run",
                    *published,
                    ("04_baselines", f"reference_accuracy_{model}_{task}"),
                    "{:.1f}",
                    f" % (chance {chance[task]})",
                    "the reference profile: full-size model, many one-cycle epochs, honest protocol, the folds finished "
                    "so far (epochs and folds counted in the chapter), committed records",
                )
            )
    for task in ("number", "language"):
        for model, title in _BASELINES:
            rows.append(
                Comparison(
                    "Baselines: long runs",
                    "04_baselines",
                    f"{title}, {task} task: this build against its plateau",
                    "not studied",
                    "-",
                    ("04_baselines", f"verdict_{model}_{task}"),
                    "{}",
                    "",
                    "validation accuracy of this build's run against the best of the long run, same speakers",
                )
            )
    return rows  # fmt: skip


def _control_rows() -> list[Comparison]:
    """Chapter 4's shortcut controls: classifiers that never hear the number, beside chance."""
    chance = CHANCE
    return [
        Comparison("Shortcut controls", "04_baselines", f"{task} task from {what} alone", "not studied", "-",
                   ("04_baselines", f"control_{control}_{task}"), "{:.1f}", f" % (chance {chance[task]})",
                   "a linear classifier on the networks' folds; how much one cheap feature set already carries")
        for task in ("language", "number")
        for control, what in (("duration", "clip duration"), ("voice", "F0 and formants"),
                              ("spectrum", "the time-averaged log-mel spectrum"))
    ]  # fmt: skip


def _training_noise_rows() -> list[Comparison]:
    """Chapter 4's seed replicates: how far one model's accuracy moves when only the training's seed changes."""
    return [
        Comparison("Training noise", "04_baselines", f"{task} task: spread of one model's test accuracy over seeds",
                   "not studied", "the paper reports one training per fold", ("04_baselines", f"replicate_spread_{task}"),
                   "{:.1f}", " points",
                   "retrained with other seeds, same speakers and rate; set it beside the clip intervals before "
                   "reading a difference between models", ("04_baselines", "replicated_model"))
        for task in ("language", "number")
    ]  # fmt: skip


#: Every published figure of the paper with the value of this build that answers it.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison("Dataset", "01_generation_audit", "clips (numbers × languages × speakers)",
               *_paper("n_clips"), ("01_generation_audit", "n_clips"),
               "{:,}", "", "stand-in voices synthesised with eSpeak NG, same layout"),
    Comparison("Dataset", "01_generation_audit", "mean clip duration, English numbers 20-99",
               *_paper("duration_english_20_99"),
               ("01_generation_audit", "mean_duration_english"), "{:.2f}", " s (all numbers)",
               "ours averages all 100 numbers of the stand-in"),
    Comparison("Dataset", "01_generation_audit", "mean clip duration, German numbers 20-99",
               *_paper("duration_german_20_99"),
               ("01_generation_audit", "mean_duration_german"), "{:.2f}", " s (all numbers)",
               "ours averages all 100 numbers of the stand-in"),
    Comparison("F0", "02_voices", "speaker mean F0, range over speakers",
               *_paper("f0_speaker_range"), None,
               deviation="see chapter 2's per-speaker figure, drawn the paper's way"),
    Comparison("F0", "02_voices", "mean F0, female voices", "not published", "the paper's code computes it; no value is published",
               ("02_voices", "f0_female_praat"), "{:.0f}", " Hz", "Praat (the paper used pYIN)"),
    Comparison("F0", "02_voices", "mean F0, male voices", "not published", "the paper's code computes it; no value is published",
               ("02_voices", "f0_male_praat"), "{:.0f}", " Hz", "Praat (the paper used pYIN)"),
    Comparison("F0", "02_voices", "share of clips inside the 50-300 Hz 'natural range'", "implied: all",
               f"the paper's F0 filter keeps {_paper('f0_natural_range')[0]}: {_paper('f0_natural_range')[1]}", ("02_voices", "share_natural_praat"),
               "{:.1f}", " %", "Praat F0 per clip"),
    Comparison("UMAP", "03_umap", "structure of the embedding",
               "language drives the layout; speakers and numbers intermixed (a picture)",
               "companion repository ankilab/SpokeN-100, notebooks/data_exploration.ipynb (UMAP plots)", ("03_umap", "umap_knn_language"), "{:.1f}",
               " % k-NN language accuracy in the embedding", "the same features and UMAP defaults; "
               "neighbours found exactly instead of by NN-descent"),
    Comparison("UMAP", "03_umap", "numbers in the embedding", "intermixed inside the language regions (a picture)",
               "companion repository ankilab/SpokeN-100, notebooks/data_exploration.ipynb (UMAP plots)", ("03_umap", "umap_knn_number"), "{:.1f}",
               f" % k-NN number accuracy (speaker-independent; chance {CHANCE['number']})", ""),
    *_baseline_rows(),
    Comparison("Baselines", "04_baselines", "best language model", *_paper("baseline_language_best"),
               ("04_baselines", "best_accuracy_language"), "{:.1f}", f" % (chance {CHANCE['language']})",
               "", ("04_baselines", "best_rule_language")),
    Comparison("Synthetic to real", "04_baselines", "English digits 0-9 of real speakers (FSDD)",
               "not studied", "-", ("04_baselines", "fsdd_accuracy"), "{:.1f}", f" % (chance {DIGIT_CHANCE})",
               "a question the paper leaves open"),
    Comparison("Synthetic to real", "04_baselines", "the same model on synthetic test speakers, English 0-9",
               "not studied", "-", ("04_baselines", "fsdd_synthetic_accuracy"), "{:.1f}", f" % (chance {DIGIT_CHANCE})",
               "restricted to 0-9 like the FSDD score, on few clips (see the chapter): the gap to the row above is the voices and recording conditions"),
    Comparison("Synthetic to real", "04_baselines", "best number model on a human voice, English 0-99",
               "not studied", "-", ("04_baselines", "human_best_english"), "{:.1f}", f" % (chance {CHANCE['number']})",
               "one telephone speaker (Asterisk prompts, 8 kHz) saying each number word by word; not fluent speech"),
    Comparison("Synthetic to real", "04_baselines", "the same model on synthetic test speakers, English 0-99",
               "not studied", "-", ("04_baselines", "human_best_synthetic_english"), "{:.1f}", f" % (chance {CHANCE['number']})",
               "the English clips of its own test speakers: the gap to the row above is the voice and the recording"),
    Comparison("Synthetic to real", "04_baselines", "best number model on a human voice, French 0-99",
               "not studied", "-", ("04_baselines", "human_best_french"), "{:.1f}", f" % (chance {CHANCE['number']})",
               "one telephone speaker (Asterisk prompts, 8 kHz) saying each number word by word; not fluent speech"),
    Comparison("Synthetic to real", "04_baselines", "the same model on synthetic test speakers, French 0-99",
               "not studied", "-", ("04_baselines", "human_best_synthetic_french"), "{:.1f}", f" % (chance {CHANCE['number']})",
               "the French clips of its own test speakers: the gap to the row above is the voice and the recording"),
    *_control_rows(),
    *_training_noise_rows(),
    *_reference_rows(),
    Comparison("EvoNAS", "05_evonas", "fittest number model, accuracy", *_paper("evonas_number_fittest"),
               ("05_evonas", "ours_fittest_number"), "{:.1f}", " % (validation, proxy training)",
               f"paper: full training, {paper_facts.figure('cv_folds').value:g} folds; ours: the search's short "
               "proxy training, one fold"),
    Comparison("EvoNAS", "05_evonas", "fittest number model, latency (the paper's: with its accuracy)",
               *_fittest_with_latency(), ("05_evonas", "paper_fittest_est_text"),
               "{}", _ESTIMATE_UNIT, _ESTIMATE_DEVIATION),
    Comparison("EvoNAS", "05_evonas", "most accurate number model", *_paper("evonas_number_accurate"),
               None, deviation="see chapter 5's picks table"),
    Comparison("EvoNAS", "05_evonas", "fastest number model", *_paper("evonas_number_fastest"),
               None, deviation="see chapter 5's picks table"),
    Comparison("EvoNAS", "05_evonas", "language models deployable on the microcontroller", *_paper("evonas_language_deployable"),
               ("05_evonas", "ours_fittest_language"), "{:.1f}", " % (fittest, validation)",
               "which of the paper's models is not said"),
    Comparison("EvoNAS", "05_evonas", "a searched model dominating the paper's fittest (language), screening",
               "-", "the goal of this companion", ("05_evonas", "goal_language"), "{}", " (validation speakers)",
               "same corpus and protocol for both; the best of the search, scored on the clips it was picked on"),
    Comparison("EvoNAS", "05_evonas", "the same claim confirmed on held-out test speakers (language)",
               "-", "the goal of this companion", ("05_evonas", "confirmed_dominates_language"), "{}", "",
               "pre-registered; retrained over seeds, Welch interval on the test-accuracy difference"),
    Comparison("EvoNAS", "05_evonas", "the same claim for the int8 models (language)",
               "-", "the goal of this companion", ("05_evonas", "confirmed_int8_dominates_language"), "{}", "",
               "the confirmation's models converted to int8 as the search's candidates; added after the pre-registration"),
    Comparison("EvoNAS", "05_evonas", "a searched model dominating the paper's fittest (number), screening",
               "-", "the goal of this companion", ("05_evonas", "goal_number"), "{}", " (validation speakers)",
               "same corpus and protocol for both; the best of the search, scored on the clips it was picked on"),
    Comparison("EvoNAS", "05_evonas", "the same claim confirmed on held-out test speakers (number)",
               "-", "the goal of this companion", ("05_evonas", "confirmed_dominates_number"), "{}", "",
               "pre-registered; retrained over seeds, Welch interval on the test-accuracy difference"),
    Comparison("EvoNAS", "05_evonas", "the same claim for the int8 models (number)",
               "-", "the goal of this companion", ("05_evonas", "confirmed_int8_dominates_number"), "{}", "",
               "the confirmation's models converted to int8 as the search's candidates; added after the pre-registration"),
    Comparison("Deployment", "06_deployment", "latency on the nRF52840",
               f"{paper_facts.figure('evonas_fittest_latency_ms').value:g} ms (fittest number model)",
               _paper("evonas_fittest_latency_ms")[1], ("06_deployment", "paper_fittest_est_text"), "{}",
               _ESTIMATE_UNIT, _ESTIMATE_DEVIATION),
    Comparison("Deployment", "06_deployment", "TFLite Micro int8 bit-exact with the reference kernels",
               "not reported", "-", ("06_deployment", "n_bit_exact"), "{}", " model(s) bit-exact", ""),
    Comparison("Deployment", "06_deployment",
               f"models fitting {paper_facts.figure('nrf52840_flash_kib').text} flash and "
               f"{paper_facts.figure('nrf52840_ram_kib').text} RAM",
               "all deployed (implied)", "the paper deploys its models on the nRF52840 (arXiv 2403.09753)", ("06_deployment", "n_fit"), "{}", " model(s)",
               "flash and RAM include a firmware overhead from the lab's build"),
)  # fmt: skip


# ---- reading the executed chapters ---------------------------------------------------------------
def _glued_value(output: dict) -> Any:
    """The Python value behind one glued output (its ``text/plain`` repr)."""
    data = output.get("data", {})
    text = next((v for k, v in data.items() if k.endswith("text/plain")), None)
    if text is None:
        return None
    if text.strip() in ("nan", "inf", "-inf"):  # repr of non-finite floats, which literal_eval refuses
        return float(text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.strip("'\"")


def glued_values(notebook: str | Path) -> dict[str, Any]:
    """Every value a chapter glued, by key, read from its executed notebook (``{}`` when it is missing).

    myst-nb's ``glue`` stores each value as an output with ``metadata["scrapbook"]["name"]``; the
    value is recovered from its ``text/plain`` form (numbers, strings, NaN).
    """
    path = Path(notebook)
    if not path.is_file():
        return {}
    nb = nbformat.read(path, as_version=4)
    values: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                values[name] = _glued_value(output)
    return values


def headline_png(notebooks: Iterable[str | Path]) -> bytes | None:
    """The first PNG of the first cell tagged :data:`HEADLINE_TAG` in the executed notebooks, if any."""
    for path in notebooks:
        if not Path(path).is_file():
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            if HEADLINE_TAG in cell.get("metadata", {}).get("tags", []):
                for output in cell.get("outputs", []):
                    png = output.get("data", {}).get("image/png")
                    if png:
                        return base64.b64decode(png)
    return None


# ---- formatting ------------------------------------------------------------------------------------
def format_value(value: Any, fmt: str = "{}", unit: str = "") -> str:
    """A glued value for a table; missing or NaN values say so instead of printing 'nan'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_COMPUTED
    try:
        text = fmt.format(value)
    except (ValueError, TypeError):
        text = str(value)
    return f"{text}{unit}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def comparison_markdown(values: dict[str, dict[str, Any]], corpus_label: str, profile: str,
                        rows: Iterable[Comparison] = COMPARISONS) -> str:  # fmt: skip
    """One table per topic: each published figure, its source, this build's value and how they differ.

    values: notebook stem -> glued values (:func:`glued_values`).
    """
    lines = [
        f"This build: **{corpus_label}**, profile `{profile}`. Values marked *{NOT_COMPUTED}* belong to a "
        "chapter or study the profile left out.",
    ]
    topic = None
    for row in rows:
        if row.topic != topic:
            topic = row.topic
            lines += [
                "",
                f"## {topic}",
                "",
                f"From {{doc}}`/notebooks/{row.chapter}`.",
                "",
                "| quantity | paper | paper's source | this build | how they differ |",
                "|---|---|---|---|---|",
            ]
        if row.ours is None:
            ours = "see the chapter"
        else:
            notebook, key = row.ours
            ours = format_value(values.get(notebook, {}).get(key), row.fmt, row.unit)
        said = values.get(row.deviation_key[0], {}).get(row.deviation_key[1]) if row.deviation_key else None
        deviation = "; ".join(str(part) for part in (said, row.deviation) if part)
        cells = (row.quantity, row.paper, row.source, ours, deviation or "-")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def headline_markdown(values: dict[str, dict[str, Any]], corpus: dict[str, Any], profile: str,
                      figure: str | None = None) -> str:  # fmt: skip
    """The landing page's box: corpus badge, profile and the headline results with links.

    corpus: the build's corpus record (``kind``, ``label``, ``n_clips``; from ``spoken100 prepare``).
    figure: a path, relative to the page, of the headline figure to show under the results.
    """
    kind = "stand-in corpus (eSpeak NG voices, not the paper's recordings)" if corpus.get("kind") == "standin" \
        else "real SpokeN-100"  # fmt: skip
    v = {nb: values.get(nb, {}) for nb in ("01_generation_audit", "02_voices", "03_umap", "04_baselines",
                                           "05_evonas", "06_deployment")}  # fmt: skip

    def get(nb: str, key: str, fmt: str = "{}", unit: str = "") -> str:
        return format_value(v[nb].get(key), fmt, unit)

    audit = v["01_generation_audit"]
    checks = (f"{get('01_generation_audit', 'n_pass')} of {get('01_generation_audit', 'n_checks')} checks pass"
              if audit else NOT_COMPUTED)  # fmt: skip
    results = [
        f"- **Data** ({{doc}}`chapter 1 </notebooks/01_generation_audit>`): "
        f"{get('01_generation_audit', 'n_clips', '{:,}')} clips; {checks}.",
        f"- **Voices** ({{doc}}`chapter 2 </notebooks/02_voices>`): mean F0 "
        f"{get('02_voices', 'f0_female_praat', '{:.0f}', ' Hz')} (female) and "
        f"{get('02_voices', 'f0_male_praat', '{:.0f}', ' Hz')} (male); "
        f"{get('02_voices', 'share_natural_praat', '{:.1f}', ' %')} of clips inside the paper's {paper_facts.figure('f0_natural_range').text.split(' (')[0]}.",
        f"- **UMAP** ({{doc}}`chapter 3 </notebooks/03_umap>`): k-NN recovers the language of "
        f"{get('03_umap', 'umap_knn_language', '{:.1f}', ' %')} of clips from the 2-D embedding "
        f"(chance {get('03_umap', 'umap_chance_language', '{:.0f}', ' %')}).",
        f"- **Baselines** ({{doc}}`chapter 4 </notebooks/04_baselines>`): best language model "
        f"{get('04_baselines', 'best_model_language')} at {get('04_baselines', 'best_accuracy_language', '{:.1f}', ' %')} "
        f"(chance {CHANCE['language']}); best number model {get('04_baselines', 'best_model_number')} at "
        f"{get('04_baselines', 'best_accuracy_number', '{:.1f}', ' %')} (chance {CHANCE['number']}; chosen by {get('04_baselines', 'best_rule_number')}); real English "
        f"digits (FSDD) {get('04_baselines', 'fsdd_accuracy', '{:.1f}', ' %')} against "
        f"{get('04_baselines', 'fsdd_synthetic_accuracy', '{:.1f}', ' %')} on synthetic voices scored alike (chance {DIGIT_CHANCE}); "
        f"all 100 numbers in a human voice (one telephone speaker per language, word by word): English "
        f"{get('04_baselines', 'human_best_english', '{:.1f}', ' %')}, French "
        f"{get('04_baselines', 'human_best_french', '{:.1f}', ' %')} (chance {CHANCE['number']}).",
        f"- **EvoNAS** ({{doc}}`chapter 5 </notebooks/05_evonas>`): fittest language model "
        f"{get('05_evonas', 'ours_fittest_language', '{:.1f}', ' %')} at "
        f"{get('05_evonas', 'ours_fittest_ms_language', '{:.0f}', ' ms')} (estimated; band "
        f"{get('05_evonas', 'ours_fittest_ms_low_language', '{:.0f}')}–"
        f"{get('05_evonas', 'ours_fittest_ms_high_language', '{:.0f}', ' ms')}); dominating the paper's "
        f"fittest on validation: language {get('05_evonas', 'goal_language')}, number {get('05_evonas', 'goal_number')}; "
        f"confirmed on held-out test speakers: language {get('05_evonas', 'confirmed_dominates_language')}, number "
        f"{get('05_evonas', 'confirmed_dominates_number')} (as int8 models: language "
        f"{get('05_evonas', 'confirmed_int8_dominates_language')}, number "
        f"{get('05_evonas', 'confirmed_int8_dominates_number')}).",
        f"- **Deployment** ({{doc}}`chapter 6 </notebooks/06_deployment>`): {get('06_deployment', 'n_fit')} of "
        f"{get('06_deployment', 'n_models')} models fit the nRF52840; {get('06_deployment', 'n_bit_exact')} are "
        "bit-exact between TFLite Micro and the reference kernels.",
    ]
    badge = "warning" if corpus.get("kind") == "standin" else "tip"
    lines = [
        f":::{{admonition}} This build: {kind}, profile {profile}",
        f":class: {badge}",
        "",
        f"{corpus.get('label', '')}. Every figure below was computed by the run that built this site; "
        "the paper's own figures are set beside them in {doc}`/book/comparison`.",
        "",
        *results,
        ":::",
        "",
    ]
    if figure:
        lines += [
            f"```{{figure}} {figure}",
            ":name: headline-figure",
            ":width: 70%",
            "",
            "The paper's UMAP of mel-spectrogram features, recomputed on this build's corpus and coloured "
            "by language ({doc}`chapter 3 </notebooks/03_umap>`).",
            "```",
            "",
        ]
    return "\n".join(lines)


#: The paper's board, the nRF52840: its clock, flash and RAM (the firmware page's table).
BOARD_KEYS = ("nrf52840_clock_mhz", "nrf52840_flash_kib", "nrf52840_ram_kib")


def board_markdown() -> str:
    """The nRF52840's clock, flash and RAM as a table with their sources, from the table of published figures."""
    table = paper_facts.cited(list(BOARD_KEYS)).rename(columns={"paper": "figure"})
    return table.to_markdown(index=False) + "\n"


def paper_design_markdown() -> str:
    """The landing page's account of what the paper did, its counts computed from the facts table,
    the published speaker list and the task constants (never typed into the page)."""
    design = corpus_design()
    genders = real_speakers().gender.value_counts()
    voices = ", ".join(f"{int(genders[g])} {g}" for g in sorted(genders.index))
    languages = [language.title() for language in LANGUAGES]
    return (
        f"The authors synthesised {design['paper_n_clips']:,} clips of the numbers {NUMBERS[0]}-{NUMBERS[-1]} "
        f"spoken in {', '.join(languages[:-1])} and {languages[-1]} by {design['paper_n_speakers']} voices "
        f"({voices}) with a commercial text-to-speech service, cut them into single numbers, described them "
        "(durations, fundamental frequency, a UMAP projection), trained five baseline networks for two tasks - "
        f"which language ({TASK_CLASSES['language']} classes) and which number ({TASK_CLASSES['number']} "
        f"classes) - with speaker-independent {int(paper_facts.figure('cv_folds').value)}-fold cross-validation, "
        "and searched for tiny models that run on a microcontroller. The data are published on Zenodo "
        "{cite}`spoken100zenodo`.\n"
    )


def write_summary(
    notebooks_dir: str | Path, corpus: dict[str, Any], profile: str, out_dir: str | Path
) -> dict[str, Path]:
    """Write ``paper-vs-companion.md``, ``headline.md``, ``board.md``, ``paper-design.md`` and (when a chapter tagged one) ``headline.png``.

    notebooks_dir: the executed notebooks of this build; out_dir: the book's ``_generated`` folder.
    """

    notebooks = sorted(Path(notebooks_dir).glob("*.ipynb"))
    values = {path.stem: glued_values(path) for path in notebooks}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "comparison": out / "paper-vs-companion.md",
        "headline": out / "headline.md",
        "board": out / "board.md",
        "design": out / "paper-design.md",
    }
    png = headline_png(notebooks)
    figure = None
    if png is not None:
        paths["figure"] = out / "headline.png"
        atomic.write_bytes(paths["figure"], png)
        figure = "_generated/headline.png"
    atomic.write_text(paths["comparison"], comparison_markdown(values, corpus.get("label", ""), profile))
    atomic.write_text(paths["headline"], headline_markdown(values, corpus, profile, figure))
    atomic.write_text(paths["board"], board_markdown())
    atomic.write_text(paths["design"], paper_design_markdown())
    return paths


__all__ = [
    "COMPARISONS",
    "HEADLINE_TAG",
    "BOARD_KEYS",
    "NOT_COMPUTED",
    "Comparison",
    "board_markdown",
    "comparison_markdown",
    "format_value",
    "glued_values",
    "headline_markdown",
    "headline_png",
    "paper_design_markdown",
    "write_summary",
]
