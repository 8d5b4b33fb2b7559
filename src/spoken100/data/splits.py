"""Speaker-independent cross-validation folds: the paper's, a stand-in equivalent, and a validation split.

The paper trains on 28 speakers and tests on 4, eight times (``KFold(8, shuffle=True,
random_state=42)`` over the speaker folders, paper-facts §4.2). The fold assignment depends on the
order in which the file system listed the folders, so it cannot be recomputed from the names; the
authors published it as ``cross_validation_splits.csv`` in their repository. That repository states no
licence, so the file is not bundled here: :func:`paper_splits` reads a copy the user downloads
(its checksum is verified).

The paper has no validation split: the best epoch is chosen on the test fold itself. For an honest
estimate, :func:`honest_split` holds out validation speakers from the training speakers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from spoken100.data import paper_facts
from spoken100.data.index import sha256_file
from spoken100.data.paths import data_home, shared_dir
from spoken100.data.speakers import real_speakers, standin_voices

PAPER_SPLITS_FILE = "cross_validation_splits.csv"
#: sha256 of the published file (ankilab/SpokeN-100, 2,292 bytes).
PAPER_SPLITS_SHA256 = "f417535157d104fc388d2cb67c8d55d3fad72a172df010b72641cf30c9aba1c9"
PAPER_SPLITS_REPOSITORY = "https://github.com/ankilab/SpokeN-100"
PAPER_SPLITS_URL = (
    "https://raw.githubusercontent.com/ankilab/SpokeN-100/78f1c7e13050a492fc7d489de85011aad5457dec/" + PAPER_SPLITS_FILE
)
#: The stand-in's folds as shipped with the package: ``standin_splits(standin_voices(), 8, seed=0)``.
STANDIN_SPLITS_FILE = "standin_cv_splits.csv"


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold: ``fold`` is 1-based, as in the paper's file."""

    fold: int
    train: tuple[str, ...]
    test: tuple[str, ...]


def user_splits_path() -> Path:
    """Where :func:`paper_splits` looks for a downloaded copy: ``<data home>/reference/``."""
    return data_home() / "reference" / PAPER_SPLITS_FILE


def _locate_paper_splits() -> Path:
    candidates = [user_splits_path()]
    shared = shared_dir()
    if shared is not None:
        candidates.append(shared / "reference" / PAPER_SPLITS_FILE)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    target = candidates[0]
    raise FileNotFoundError(
        "The paper's cross-validation split is not bundled with this package (its repository states no "
        f"licence). Download it once from the authors' repository ({PAPER_SPLITS_REPOSITORY}):\n"
        f"    curl -L --create-dirs -o {target} {PAPER_SPLITS_URL}\n"
        "or pass the path of a copy: paper_splits(path)."
    )


def _names(cell: str) -> tuple[str, ...]:
    return tuple(re.findall(r"'([^']*)'", cell))


def paper_splits(path: str | Path | None = None, *, verify: bool = True) -> list[Fold]:
    """The paper's 8 speaker folds, read from its ``cross_validation_splits.csv``.

    path: the file; by default a copy in :func:`user_splits_path`, else the developers' reference
        folder (``SPOKEN100_SHARED``). If neither exists, the error says how to download it.
    verify: check the file's sha256 against :data:`PAPER_SPLITS_SHA256`.

    The folds are validated: 8 folds of 4 test and 28 training speakers, every one of the 32
    speakers tested exactly once.
    """
    path = Path(path) if path is not None else _locate_paper_splits()
    if verify:
        digest = sha256_file(path)
        if digest != PAPER_SPLITS_SHA256:
            raise ValueError(
                f"{path}: sha256 {digest} is not that of the published split ({PAPER_SPLITS_SHA256}); "
                f"download it again from {PAPER_SPLITS_URL}"
            )
    table = pd.read_csv(path)
    if list(table.columns) != ["split_id", "train", "test"]:
        raise ValueError(f"{path}: expected columns split_id, train, test; found {', '.join(table.columns)}")
    folds = [Fold(int(row.split_id), _names(row.train), _names(row.test)) for row in table.itertuples()]
    validate_folds(folds, n_folds=int(paper_facts.figure("cv_folds").value),
                   test_size=int(paper_facts.figure("cv_test_speakers").value))  # fmt: skip
    return folds


def validate_folds(folds: Sequence[Fold], n_folds: int | None = None, test_size: int | None = None) -> None:
    """Raise ``ValueError`` unless ``folds`` partition one speaker set into disjoint test folds.

    Every speaker is tested exactly once, each fold trains on all the other speakers, folds are
    numbered 1..n; optionally there are ``n_folds`` folds of ``test_size`` test speakers.
    """
    if n_folds is not None and len(folds) != n_folds:
        raise ValueError(f"expected {n_folds} folds, found {len(folds)}")
    if [f.fold for f in folds] != list(range(1, len(folds) + 1)):
        raise ValueError(f"folds must be numbered 1..{len(folds)}, found {[f.fold for f in folds]}")
    tested = [s for f in folds for s in f.test]
    repeated = sorted({s for s in tested if tested.count(s) > 1})
    if repeated:
        raise ValueError(f"speakers tested more than once: {', '.join(repeated)}")
    everyone = set(tested)
    for f in folds:
        if test_size is not None and len(f.test) != test_size:
            raise ValueError(f"fold {f.fold}: {len(f.test)} test speakers, expected {test_size}")
        if len(set(f.train)) != len(f.train) or set(f.train) != everyone - set(f.test):
            raise ValueError(f"fold {f.fold}: the training speakers are not exactly the other folds' test speakers")


def _gender_map(genders: Mapping[str, str] | pd.DataFrame | None) -> Mapping[str, str]:
    if genders is None:
        genders = pd.concat([real_speakers()[["speaker", "gender"]], standin_voices()[["speaker", "gender"]]])
    if isinstance(genders, pd.DataFrame):
        return dict(zip(genders["speaker"], genders["gender"], strict=True))
    return genders


def _by_gender(speakers: Iterable[str], genders: Mapping[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for speaker in sorted(speakers):
        if speaker not in genders:
            raise ValueError(f"no gender known for speaker {speaker!r}")
        groups.setdefault(genders[speaker], []).append(speaker)
    return groups


def standin_splits(speakers_table: pd.DataFrame, n_folds: int = 8, seed: int = 0) -> list[Fold]:
    """Gender-balanced speaker folds in the paper's format, for the stand-in (or any speaker table).

    speakers_table: one row per speaker with ``speaker`` and ``gender`` columns (``Corpus.speakers``).
    n_folds: number of folds; each gender's count must be a multiple of it, so that every test fold
        holds the same number of each gender (32 speakers, 8 folds: 2 female + 2 male per fold).
    seed: seeds the shuffle within each gender (``numpy.random.default_rng``).

    Unlike the paper's folds (some of which are single-gender, paper-facts §4.2), every test fold
    here has the corpus' gender balance.
    """
    groups = _by_gender(speakers_table["speaker"], _gender_map(speakers_table))
    uneven = {g: len(s) for g, s in groups.items() if len(s) % n_folds}
    if n_folds < 2 or uneven:
        raise ValueError(
            f"cannot make {n_folds} gender-balanced folds from { ({g: len(s) for g, s in groups.items()}) } speakers: "
            "each gender's count must be a multiple of n_folds (and n_folds >= 2)"
        )
    rng = np.random.default_rng(seed)
    tests: list[list[str]] = [[] for _ in range(n_folds)]
    for gender in sorted(groups):
        shuffled = [groups[gender][i] for i in rng.permutation(len(groups[gender]))]
        per_fold = len(shuffled) // n_folds
        for k in range(n_folds):
            tests[k].extend(shuffled[k * per_fold : (k + 1) * per_fold])
    everyone = sorted(speakers_table["speaker"])
    folds = [
        Fold(k + 1, tuple(s for s in everyone if s not in test), tuple(sorted(test))) for k, test in enumerate(tests)
    ]
    validate_folds(folds, n_folds=n_folds)
    return folds


def honest_split(
    train_speakers: Sequence[str],
    n_val: int,
    seed: int = 0,
    genders: Mapping[str, str] | pd.DataFrame | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split a fold's training speakers into ``(fit, validation)`` speakers, gender-balanced.

    train_speakers: the fold's training speakers.
    n_val: validation speakers, an equal number from each gender (so a multiple of the number of
        genders among ``train_speakers``).
    seed: seeds the choice (``numpy.random.default_rng``); use e.g. the fold number.
    genders: speaker -> gender mapping or a table with ``speaker`` and ``gender``; by default the
        packaged tables of the real and the stand-in speakers.

    Selecting epochs on these validation speakers leaves the test fold unseen until the final
    evaluation, unlike the paper's protocol (paper-facts §4.2).
    """
    groups = _by_gender(train_speakers, _gender_map(genders))
    if n_val < 0 or n_val % len(groups):
        raise ValueError(f"n_val={n_val} cannot be split evenly over the genders {sorted(groups)}")
    per_gender = n_val // len(groups)
    short = {g: len(s) for g, s in groups.items() if len(s) <= per_gender}
    if short:
        raise ValueError(f"too few training speakers to hold out {per_gender} per gender: {short}")
    rng = np.random.default_rng(seed)
    validation: list[str] = []
    for gender in sorted(groups):
        chosen = rng.choice(len(groups[gender]), size=per_gender, replace=False)
        validation.extend(groups[gender][i] for i in sorted(chosen))
    fit = tuple(s for s in train_speakers if s not in validation)
    return fit, tuple(sorted(validation))


def folds_table(folds: Sequence[Fold], genders: Mapping[str, str] | pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per test speaker: ``fold``, ``speaker``, ``gender`` (the packaged split file's format)."""
    gender_of = _gender_map(genders)
    rows = [(f.fold, s, gender_of.get(s, "unknown")) for f in folds for s in f.test]
    return pd.DataFrame(rows, columns=["fold", "speaker", "gender"])


def gender_balance_text(folds: Sequence[Fold], genders: Mapping[str, str] | pd.DataFrame) -> str:
    """One sentence on the gender mix of ``folds``' test speakers, for prose that pools them.

    The stand-in's folds are balanced by construction; the paper's are not (some test folds hold a
    single gender), so the sentence is computed rather than typed.

    >>> gender_balance_text([Fold(1, ("c", "d"), ("a", "b"))], {"a": "female", "b": "male"})
    'Each test fold holds 1 female and 1 male speakers.'
    """
    table = folds_table(folds, genders)
    counts = pd.crosstab(table["fold"], table["gender"])
    mixes = {tuple(row) for row in counts.to_numpy()}
    if len(mixes) == 1:
        mix = next(iter(mixes))
        parts = " and ".join(f"{n} {gender}" for gender, n in zip(counts.columns, mix, strict=True) if n)
        return f"Each test fold holds {parts} speaker{'s' if sum(mix) != 1 else ''}."
    per_fold = "; ".join(
        f"fold {fold}: " + ", ".join(f"{n} {gender}" for gender, n in row.items() if n)
        for fold, row in counts.iterrows()
    )
    return f"The test folds' gender mix differs ({per_fold}), so a pooled gender gap also mixes folds."


def folds_from_table(table: pd.DataFrame) -> list[Fold]:
    """Inverse of :func:`folds_table`: folds from the test speakers of each fold (validated)."""
    everyone = sorted(table["speaker"])
    folds = []
    for number, group in table.groupby("fold", sort=True):
        test = tuple(sorted(group["speaker"]))
        folds.append(Fold(int(number), tuple(s for s in everyone if s not in test), test))
    validate_folds(folds)
    return folds


def packaged_standin_splits() -> list[Fold]:
    """The stand-in folds shipped as package data (``data/standin_cv_splits.csv``).

    They equal ``standin_splits(standin_voices(), n_folds=8, seed=0)``; the file keeps them fixed
    even if a future numpy shuffles differently.
    """
    with resources.files("spoken100.data").joinpath(STANDIN_SPLITS_FILE).open() as fh:
        return folds_from_table(pd.read_csv(fh))


def corpus_folds(corpus, n_folds: int = 8) -> tuple[list[Fold], str]:
    """The cross-validation folds for ``corpus`` and a sentence saying where they come from.

    The full real corpus uses the paper's published split when it is available; the full stand-in
    uses the packaged gender-balanced split; subsets (the smoke profile) get a gender-balanced split
    of their own speakers into ``n_folds`` folds.
    """
    paper_folds = int(paper_facts.figure("cv_folds").value)
    full = not corpus.subset and n_folds == paper_folds
    if full and corpus.kind == "real":
        try:
            return paper_splits(), f"the paper's published {paper_folds} speaker folds (cross_validation_splits.csv)"
        except FileNotFoundError as err:
            note = f"the paper's split file is not available ({str(err).splitlines()[0]}); "
            return standin_splits(corpus.speakers, n_folds), note + f"a gender-balanced {n_folds}-fold split instead"
    if full:
        packaged = packaged_standin_splits()
        return packaged, (f"the packaged gender-balanced {len(packaged)}-fold split of the "
                          f"{len(corpus.speakers)} stand-in voices")  # fmt: skip
    folds = standin_splits(corpus.speakers, n_folds)
    return folds, f"a gender-balanced {n_folds}-fold split of this build's {len(corpus.speakers)} speakers"
