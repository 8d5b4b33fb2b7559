"""Speaker folds: the paper's published file, the stand-in's balanced folds and the validation split."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from spoken100.data.speakers import real_speakers, standin_voices
from spoken100.data.splits import (
    PAPER_SPLITS_URL,
    Fold,
    folds_table,
    honest_split,
    packaged_standin_splits,
    paper_splits,
    standin_splits,
    validate_folds,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPOKEN100_SHARED", ROOT.parent / "shared"))
PUBLISHED = SHARED / "reference" / "cross_validation_splits.csv"
needs_published = pytest.mark.skipif(not PUBLISHED.is_file(), reason="the paper's split file is not available here")


def write_paper_format(folds: list[Fold], path: Path) -> Path:
    """Folds in the published file's format (numpy array reprs inside a CSV)."""

    def cell(names):
        return "[" + " ".join(f"'{n}'" for n in names) + "]"

    pd.DataFrame(
        {
            "split_id": [f.fold for f in folds],
            "train": [cell(f.train) for f in folds],
            "test": [cell(f.test) for f in folds],
        }
    ).to_csv(path, index=False)
    return path


@needs_published
def test_published_folds():
    folds = paper_splits(PUBLISHED)
    assert len(folds) == 8 and all(len(f.test) == 4 and len(f.train) == 28 for f in folds)
    tested = sorted(s for f in folds for s in f.test)
    assert tested == sorted(real_speakers().speaker)
    assert folds[0].test == ("Jessie", "Emily", "Gigi", "Charlotte")
    genders = folds_table(folds).groupby("fold").gender.apply(lambda g: tuple(sorted(set(g))))
    assert genders[6] == ("male",) and genders[8] == ("female",)  # single-gender folds (paper-facts §4.2)


@needs_published
def test_published_file_is_found_through_the_shared_folder(monkeypatch):
    monkeypatch.setenv("SPOKEN100_SHARED", str(SHARED))
    assert paper_splits() == paper_splits(PUBLISHED)


def test_missing_file_explains_how_to_download(monkeypatch):
    monkeypatch.delenv("SPOKEN100_SHARED", raising=False)
    with pytest.raises(FileNotFoundError, match="curl") as info:
        paper_splits()
    assert PAPER_SPLITS_URL in str(info.value)


def test_file_in_the_paper_format_is_parsed_and_checksummed(tmp_path):
    folds = standin_splits(standin_voices())
    path = write_paper_format(folds, tmp_path / "splits.csv")
    with pytest.raises(ValueError, match="sha256"):
        paper_splits(path)
    assert paper_splits(path, verify=False) == folds


def test_invalid_folds_are_refused(tmp_path):
    folds = standin_splits(standin_voices())
    broken = [*folds[:-1], Fold(8, folds[7].train, (*folds[7].test[:3], folds[0].test[0]))]
    with pytest.raises(ValueError, match="more than once"):
        validate_folds(broken)
    with pytest.raises(ValueError, match="expected 8 folds"):
        paper_splits(write_paper_format(folds[:4], tmp_path / "four.csv"), verify=False)


def test_standin_folds_are_gender_balanced():
    table = standin_voices()
    folds = standin_splits(table, n_folds=8, seed=0)
    counts = folds_table(folds, table).groupby("fold").gender.value_counts().unstack()
    assert (counts["female"] == 2).all() and (counts["male"] == 2).all()
    assert sorted(s for f in folds for s in f.test) == sorted(table.speaker)
    assert standin_splits(table, seed=0) == folds
    assert standin_splits(table, seed=1) != folds


def test_packaged_standin_folds_match_the_function():
    assert packaged_standin_splits() == standin_splits(standin_voices(), n_folds=8, seed=0)


def test_standin_folds_for_a_subset_and_impossible_requests():
    table = standin_voices()
    subset = pd.concat([table[table.gender == "female"].head(4), table[table.gender == "male"].head(4)])
    folds = standin_splits(subset, n_folds=4)
    assert all(len(f.test) == 2 and len(f.train) == 6 for f in folds)
    with pytest.raises(ValueError, match="multiple of n_folds"):
        standin_splits(subset, n_folds=8)


def test_honest_split_takes_balanced_validation_speakers_from_training():
    genders = dict(zip(real_speakers().speaker, real_speakers().gender, strict=True))
    # the paper's fold 6 tests four male speakers, so its training set has 12 male and 16 female
    test = ("Giovanni", "Michael", "Harry", "Callum")
    train = tuple(s for s in real_speakers().speaker if s not in test)
    fit, val = honest_split(train, n_val=4, seed=6)
    assert len(val) == 4 and sorted([genders[s] for s in val]) == ["female", "female", "male", "male"]
    assert set(fit) | set(val) == set(train) and not set(fit) & set(val)
    assert honest_split(train, 4, seed=6) == (fit, val)
    with pytest.raises(ValueError, match="evenly"):
        honest_split(train, n_val=3)
    with pytest.raises(ValueError, match="no gender"):
        honest_split(("Nobody", "Bella"), n_val=2)


def test_the_gender_sentence_is_computed_from_the_folds_it_describes():
    """Balanced folds give one mix; the paper's kind of split (a single-gender fold) is named fold by fold."""
    from spoken100.data.splits import gender_balance_text

    folds = packaged_standin_splits()
    half = len(folds[0].test) // 2  # the stand-in's folds are balanced by construction
    assert (
        gender_balance_text(folds, standin_voices()) == f"Each test fold holds {half} female and {half} male speakers."
    )
    uneven = [Fold(1, ("c", "d"), ("a", "b")), Fold(2, ("a", "b"), ("c", "d"))]
    text = gender_balance_text(uneven, {"a": "female", "b": "female", "c": "female", "d": "male"})
    assert "differs" in text and "fold 1: 2 female;" in text and "fold 2: 1 female, 1 male" in text


@needs_published
def test_the_gender_sentence_says_the_papers_folds_are_not_balanced():
    from spoken100.data.splits import gender_balance_text

    assert "differs" in gender_balance_text(paper_splits(PUBLISHED), real_speakers())  # single-gender folds
