"""Execute a parameterized notebook with papermill into the book's staging folder.

The executed copy is written atomically (a failed run never replaces the last good copy) and
prepared for the book: the parameters cell and papermill's injected cell are hidden and replaced
by a small table of the effective parameters; code cells are folded behind a toggle.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import papermill

from spoken100.data import atomic

HIDDEN_CELL_TAGS = {"parameters", "injected-parameters"}


class NotebookFailed(RuntimeError):
    """A notebook raised during execution; the message names the notebook and the failing cell."""


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Refuse parameters that the notebook does not declare in its ``parameters`` cell."""
    declared = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(
            f"{notebook.name}: the profile sets parameter(s) {unknown} that the notebook does not declare "
            f"(declared: {sorted(declared)})"
        )


def _parameter_table(parameters: dict) -> str:
    rows = "\n".join(f"| `{k}` | `{json.dumps(v)}` |" for k, v in parameters.items())
    return (
        "```{admonition} Parameters of this build\n:class: note\n\n| parameter | value |\n|---|---|\n" + rows + "\n```"
    )


def prepare_for_book(nb: nbformat.NotebookNode, parameters: dict) -> nbformat.NotebookNode:
    """Hide parameter cells, show the effective parameters as a table, fold code behind a toggle."""
    cells = []
    inserted = False
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "code":
            if tags & HIDDEN_CELL_TAGS:
                tags.add("remove-cell")
            elif not tags & {"remove-cell", "remove-input"}:
                tags.add("hide-input")
            cell.metadata["tags"] = sorted(tags)
        cells.append(cell)
        if not inserted and cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            cells.append(nbformat.v4.new_markdown_cell(_parameter_table(parameters)))
            inserted = True
    nb.cells = cells
    return nb


def run_notebook(source: Path, output: Path, parameters: dict, failed_dir: Path | None = None) -> float:
    """Execute ``source`` with ``parameters`` into ``output``; return the seconds it took.

    On failure the partly executed copy goes to ``failed_dir`` (for inspection), ``output`` keeps
    its last good version, and :class:`NotebookFailed` names the cell and the error.
    """
    source, output = Path(source), Path(output)
    check_parameters(source, parameters)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with atomic.atomic_path(output) as tmp:
        try:
            papermill.execute_notebook(
                str(source), str(tmp), parameters=parameters, cwd=str(output.parent),
                kernel_name="python3", progress_bar=False, log_output=False,
            )  # fmt: skip
        except papermill.PapermillExecutionError as err:
            if failed_dir is not None:
                failed = Path(failed_dir) / source.name
                failed.parent.mkdir(parents=True, exist_ok=True)
                failed.write_bytes(tmp.read_bytes())
            raise NotebookFailed(
                f"notebook {source.name} failed in cell {err.exec_count} ({err.ename}): {err.evalue}\n"
                + "".join(err.traceback[-6:])
            ) from err
        nb = nbformat.read(str(tmp), as_version=4)
        nbformat.write(prepare_for_book(nb, parameters), str(tmp))
    return time.perf_counter() - start
