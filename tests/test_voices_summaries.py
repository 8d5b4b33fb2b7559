"""Chapter 2's glued per-gender F0 means: pandas' NaN-skipping mean, genders present only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spoken100.voices.summaries import gender_means


def features(seed: int = 0, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male"], n)
    f0 = np.where(gender == "female", 210.0, 120.0) + rng.normal(0, 15, n)
    f0[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"gender": gender, "language": rng.choice(["english", "german"], n), "f0_mean_hz": f0})


def test_means_follow_the_gender_of_each_clip_and_skip_nan():
    table = features()
    means = gender_means(table, "f0_mean_hz")
    assert list(means) == ["female", "male"]
    assert all(isinstance(v, float) for v in means.values())
    for gender, value in means.items():
        values = table.f0_mean_hz.to_numpy()[table.gender.to_numpy() == gender]
        assert value == pytest.approx(np.nanmean(values), rel=1e-12)
    assert 190 < means["female"] < 230 and 100 < means["male"] < 140


def test_the_glued_value_is_the_notebooks_inline_mean_bit_for_bit():
    for seed in range(20):
        table = features(seed)
        means = gender_means(table, "f0_mean_hz")
        for gender in ("female", "male"):
            assert means[gender] == float(table.loc[table.gender == gender, "f0_mean_hz"].mean())


def test_absent_genders_get_no_entry_and_unmeasured_ones_nan():
    table = features()
    only_female = table[table.gender == "female"]
    assert list(gender_means(only_female, "f0_mean_hz")) == ["female"]
    unmeasured = table.assign(f0_mean_hz=np.where(table.gender == "male", np.nan, table.f0_mean_hz))
    means = gender_means(unmeasured, "f0_mean_hz")
    assert np.isnan(means["male"]) and not np.isnan(means["female"])
    assert list(
        gender_means(table.assign(gender=table.gender.astype("category")), "f0_mean_hz", genders=("male",))
    ) == ["male"]
