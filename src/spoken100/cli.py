"""The ``spoken100`` command line: fetch, generate, index and audit corpora; build-time helpers.

Errors are printed as one clear message with a non-zero exit code, never a traceback.

Each command imports what it needs inside its own function, deliberately: ``spoken100 --help`` and
the light commands must not load the scientific stack (torch, TensorFlow, librosa) of the others.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from spoken100.data import atomic


def os_error_message(err: OSError) -> str:
    """One line for a file-system fault: the path, then the problem (``/x/cache: Permission denied``)."""
    where = " -> ".join(str(f) for f in (err.filename, err.filename2) if f is not None)
    problem = err.strerror or str(err) or type(err).__name__
    line = f"{where}: {problem}" if where else problem
    if isinstance(err, PermissionError):
        line += " (for the data home, SPOKEN100_HOME can point to a writable folder)"
    return line


class _Errors(click.Group):
    """Turn the package's expected errors into ``Error: ...`` messages and exit code 1.

    File-system faults (``OSError``: a missing or unreadable file, a read-only folder, a folder where
    a file was expected) become one line naming the path and the problem, too.
    """

    def invoke(self, ctx):
        from spoken100.book.profiles import ProfileError
        from spoken100.book.runner import NotebookFailed
        from spoken100.data.corpus import CorpusError
        from spoken100.data.fetch import FetchError
        from spoken100.data.synth import SynthesisError

        try:
            return super().invoke(ctx)
        except (CorpusError, FetchError, ProfileError, NotebookFailed, SynthesisError, ValueError) as err:
            raise click.ClickException(str(err)) from err
        except OSError as err:
            raise click.ClickException(os_error_message(err)) from err


@click.group(cls=_Errors)
@click.version_option(package_name="spoken100")
def main() -> None:
    """Companion to SpokeN-100 (Groh, Goes, Kist 2024): corpora, audits and the book."""


DATA_HELP = "'standin' (generated here), 'real' (fetched) or a folder in the SpokeN-100 layout."


@main.command()
@click.option("--zip", "archive", type=click.Path(dir_okay=False, path_type=Path),
              help="Use this local SpokeN-100.zip (with --fsdd: an FSDD archive); it is only read.")  # fmt: skip
@click.option("--url", default=None, help="Download from this address instead of Zenodo (or FSDD's release).")
@click.option("--force", is_flag=True,
              help="Start over: forget the earlier download and its recorded checksum, download and unpack again.")  # fmt: skip
@click.option("--fsdd", is_flag=True,
              help="Get the Free Spoken Digit Dataset instead (pinned release, verified sha256) for chapter 4.")  # fmt: skip
@click.option("--optional", is_flag=True,
              help="With --fsdd: a failed download (offline) prints one line and exits 0; make book uses it.")  # fmt: skip
def fetch(archive: Path | None, url: str | None, force: bool, fsdd: bool, optional: bool) -> None:
    """Download the real SpokeN-100 from Zenodo (record 10810044) and unpack it safely.

    A download that fails its checks is moved to <data home>/downloads/SpokeN-100.zip.failed; a
    dropped connection resumes (the partial file is kept for the next run).

    With --fsdd, get the Free Spoken Digit Dataset (CC BY-SA 4.0) into <data home>/fsdd instead,
    for chapter 4's synthetic-to-real test; nothing is done when a copy is already found.
    """
    if fsdd:
        _fetch_fsdd(archive, url, force, optional)
        return
    if optional:
        raise click.UsageError("--optional goes with --fsdd")
    from spoken100.data.fetch import ZENODO_URL
    from spoken100.data.fetch import fetch as do_fetch

    root = do_fetch(url or ZENODO_URL, archive=archive, force=force, say=lambda line: click.echo(line, err=True))
    click.echo(f"SpokeN-100 is at {root}; build on it with: make book DATA=real")


def _fetch_fsdd(archive: Path | None, url: str | None, force: bool, optional: bool) -> None:
    """``spoken100 fetch --fsdd``: FSDD into the data home, unless a copy is found (or ``--force``)."""
    from spoken100.baselines import fsdd
    from spoken100.data.fetch import FetchError

    found = fsdd.fsdd_dir()
    if found is not None and not force and archive is None and url is None:
        click.echo(f"FSDD is already at {found}; nothing to do.")
        return
    try:
        folder = fsdd.fetch_fsdd(url or fsdd.FSDD_URL, archive=archive, progress=not optional)
    except (FetchError, OSError) as err:
        if not optional:
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        click.echo(f"FSDD was not fetched ({first}); chapter 4's synthetic-to-real section will say Skipped. "
                   "Get it later with: spoken100 fetch --fsdd", err=True)  # fmt: skip
        return
    click.echo(f"FSDD is at {folder} (licence {fsdd.FSDD_LICENCE}); rebuild the book to use it: make book")


@main.command()
@click.option("--n-speakers", type=int, default=None, help="Gender-balanced subset (default: all 32).")
@click.option("--jobs", type=int, default=None, help="Parallel processes (default: all cores).")
def generate(n_speakers: int | None, jobs: int | None) -> None:
    """Generate the espeak-ng stand-in corpus in the SpokeN-100 layout (resumable)."""
    from spoken100.data.generate import generate_standin
    from spoken100.data.speakers import select_speakers, standin_voices

    root = generate_standin(select_speakers(standin_voices(), n_speakers), n_jobs=jobs)
    click.echo(f"stand-in corpus at {root}")


def _check_output_file(out: Path | None, example: str) -> None:
    """Refuse an ``--out`` that is an existing folder before any work (writing would fail only at the end)."""
    if out is not None and out.is_dir():
        raise click.ClickException(f"{out}: is a folder; --out needs a file name (e.g. {out / example})")


#: Rows of a problem listing printed in full; the rest are counted and written with --out.
LISTING_ROWS = 200


def _listing(table, out_option: str, out: Path | None) -> str:
    """``table`` as text, cut at :data:`LISTING_ROWS` with a line saying what was left out and where it is.

    Files that are there but wrong come first; the clips missing from the grid, often thousands, last.
    """
    table = table.sort_values("check", key=lambda check: check == "complete grid", kind="stable")
    if len(table) <= LISTING_ROWS:
        return table.to_string(index=False)
    text = table.head(LISTING_ROWS).to_string(index=False)
    where = f"the full table is in {out}" if out else f"write the full table with {out_option} FILE.csv"
    return f"{text}\n... {len(table) - LISTING_ROWS:,} more rows left out ({len(table):,} in all); {where}"


@main.command()
@click.option("--data", default="standin", show_default=True, help=DATA_HELP)
@click.option("--n-speakers", type=int, default=None)
@click.option("--out", type=click.Path(path_type=Path), help="Write the index as CSV here.")
def index(data: str, n_speakers: int | None, out: Path | None) -> None:
    """Index a corpus: one row per clip with format facts and checksums; exit 1 if a file could not be indexed."""
    from spoken100.data.corpus import open_corpus

    _check_output_file(out, "index.csv")
    corpus = open_corpus(data, n_speakers)
    if out:
        with atomic.atomic_path(out) as tmp:
            corpus.index.to_csv(tmp, index=False)
    click.echo(json.dumps(corpus.summary(), indent=2))
    for row in corpus.problems.itertuples():
        click.echo(f"problem: {corpus.root / row.path}: {row.problem}", err=True)
    if len(corpus.problems):
        raise click.ClickException(f"{corpus.root}: {len(corpus.problems):,} files with problems (listed above)")


@main.command()
@click.option("--data", default="standin", show_default=True, help=DATA_HELP)
@click.option("--n-speakers", type=int, default=None)
@click.option("--out", type=click.Path(path_type=Path),
              help="Write every file with a problem (check, path, problem) as CSV here.")  # fmt: skip
def audit(data: str, n_speakers: int | None, out: Path | None) -> None:
    """Audit a corpus (grid, formats, durations, silence, level, speakers); exit 1 if a check fails."""
    from spoken100.audit.checks import run_audit
    from spoken100.data.corpus import open_corpus

    _check_output_file(out, "problems.csv")
    corpus = open_corpus(data, n_speakers)
    report = run_audit(corpus)
    click.echo(f"Corpus: {corpus.label}\n  {corpus.root}\n")
    click.echo(report.summary().to_string(index=False))
    issues = report.issues()
    if out:
        with atomic.atomic_path(out) as tmp:
            issues.to_csv(tmp, index=False)
    if len(issues):
        click.echo("\nFiles with problems:")
        click.echo(_listing(issues, "--out", out))
    if not report.passed:
        sys.exit(1)


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("clip", type=click.Path(path_type=Path))
@click.option("--top", type=click.IntRange(min=1), default=1, show_default=True, help="Also list the next classes.")
@click.option("--interpreter", type=click.Choice(["tflm", "tflite"]), default="tflm", show_default=True,
              help="TensorFlow Lite Micro (as on the board) or TFLite's reference kernels.")  # fmt: skip
@click.option("--peak-normalize/--no-peak-normalize", "normalize", default=None,
              help="Divide the clip by its peak first (default: as MODEL's model.json says).")  # fmt: skip
def predict(model: Path, clip: Path, top: int, interpreter: str, normalize: bool | None) -> None:
    """Classify CLIP (an audio file) with MODEL (an int8 .tflite): prints the language or number and its score."""
    from spoken100.nas.predict import predict_file

    result = predict_file(model, clip, interpreter=interpreter, normalize=normalize)
    click.echo(str(result))
    for label, score in result.top(top)[1:]:
        click.echo(f"  next: {label} ({score:.2f})")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


# ---- build-time helpers used by the Makefile -------------------------------------------------


@main.command(hidden=True)
@click.option("--data", required=True)
@click.option("--profile", "profile_path", type=click.Path(path_type=Path), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--allow-problems", is_flag=True, help="Build on a corpus that fails the index checks (listed).")
def prepare(data: str, profile_path: Path, out: Path, allow_problems: bool) -> None:
    """Make sure the corpus exists and is usable, and write its summary (only if it changed, for Make).

    The corpus must pass the audit's index checks (complete grid, no extra or duplicate clips,
    every file readable, 44.1 kHz mono 16-bit, no clip under 50 ms); otherwise the build stops with
    the list of problems, unless ``--allow-problems`` (``make book ALLOW_PROBLEMS=1``).
    """
    from spoken100.audit.checks import FAIL, index_checks, issue_table
    from spoken100.book.profiles import load_profile
    from spoken100.data.corpus import open_corpus

    profile = load_profile(profile_path)
    corpus = open_corpus(data, (profile.get("corpus") or {}).get("n_speakers"))
    failed = [check for check in index_checks(corpus) if check.status == FAIL]
    if failed:
        lines = [f"  {c.name}: {c.detail}" for c in failed]
        table = issue_table(failed)
        table = table.sort_values("check", key=lambda check: check == "complete grid", kind="stable")
        listing = table.head(20).to_string(index=False)
        more = f"\n... and {len(table) - 20:,} more files" if len(table) > 20 else ""
        message = (
            f"{corpus.root}: the corpus is not usable for the {profile_path.stem} profile "
            f"({len(corpus.index):,} of {corpus.expected_clips:,} expected clips indexed):\n" + "\n".join(lines)
            + f"\n{listing}{more}\n"
            f"Every problem: spoken100 audit --data {data} --out problems.csv. "
            f"To build on this corpus anyway: make book DATA={data} ALLOW_PROBLEMS=1"
        )  # fmt: skip
        if not allow_problems:
            raise click.ClickException(message)
        click.echo(f"warning (ALLOW_PROBLEMS): {message}", err=True)
    summary = {**corpus.summary(), "timing": corpus.timing}
    changed = atomic.write_json(out, summary, if_changed=True)
    click.echo(f"corpus: {corpus.kind}, {len(corpus.index):,} clips ({'changed' if changed else 'unchanged'})")


@main.command("run-notebook", hidden=True)
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--profile", "profile_path", type=click.Path(path_type=Path), required=True)
@click.option("--data", required=True)
@click.option("--timings", type=click.Path(path_type=Path), required=True, help="Folder for timing records.")
def run_notebook_command(source: Path, output: Path, profile_path: Path, data: str, timings: Path) -> None:
    """Execute one notebook with its profile parameters into the book's staging folder."""
    from spoken100.book.devices import chapter_device
    from spoken100.book.profiles import load_profile, notebook_parameters
    from spoken100.book.runner import run_notebook

    profile = load_profile(profile_path)
    params = notebook_parameters(profile, source.stem, profile_path.stem, data)
    click.echo(f"executing {source.name} ({profile_path.stem} profile) ...")
    seconds = run_notebook(source, output, params, failed_dir=timings / "failed")
    device = chapter_device(source.stem, params)
    atomic.write_json(timings / f"{source.stem}.json",
                      {"notebook": source.stem, "seconds": round(seconds, 1), "device": device})  # fmt: skip
    click.echo(f"executed {source.name} in {seconds:.1f} s")


@main.command("build-info", hidden=True)
@click.option("--corpus", "corpus_json", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--profile", "profile_path", type=click.Path(path_type=Path), required=True)
@click.option("--timings", type=click.Path(path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def build_info(corpus_json: Path, profile_path: Path, timings: Path, out: Path) -> None:
    """Write the book's build-information snippet (corpus, profile, stage timings)."""
    from spoken100.book.buildinfo import build_info_markdown

    text = build_info_markdown(json.loads(corpus_json.read_text()), profile_path, timings)
    atomic.write_text_if_changed(out, text)


@main.command("summary", hidden=True)
@click.option("--notebooks", "notebooks_dir", type=click.Path(path_type=Path), required=True,
              help="Folder of this build's executed notebooks.")  # fmt: skip
@click.option("--corpus", "corpus_json", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--profile", "profile_path", type=click.Path(path_type=Path), required=True)
@click.option("--out-dir", type=click.Path(path_type=Path), required=True, help="The book's _generated folder.")
def summary(notebooks_dir: Path, corpus_json: Path, profile_path: Path, out_dir: Path) -> None:
    """Write the landing page's headline, the paper-vs-companion table and the reproducibility tables."""
    from spoken100.book.buildinfo import reproducibility_markdown
    from spoken100.book.summary import write_summary

    write_summary(notebooks_dir, json.loads(corpus_json.read_text()), profile_path.stem, out_dir)
    atomic.write_text_if_changed(out_dir / "reproducibility.md", reproducibility_markdown(notebooks_dir))


@main.command("bench-info", hidden=True)
@click.option("--bench", type=click.Path(path_type=Path), required=True, help="Folder of benchmark records.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
def bench_info(bench: Path, out: Path) -> None:
    """Write the book's benchmark snippet from the records of ``make bench``."""
    from spoken100.book.buildinfo import benchmarks_markdown

    atomic.write_text_if_changed(out, benchmarks_markdown(bench))


@main.command(hidden=True)
@click.argument("built", type=click.Path(path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path))
def publish(built: Path, dest: Path) -> None:
    """Swap the rendered site BUILT into DEST (the last good site stays if BUILT is incomplete)."""
    from spoken100.book.publish import publish_html

    try:
        publish_html(built, dest)
    except FileNotFoundError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"The book is at {dest}/index.html  (view it with: make serve)")


if __name__ == "__main__":
    main()
