"""The chapter 3 step timer: a positive duration under the given key, only for blocks that finish."""

from __future__ import annotations

import time

import pytest

from spoken100.embeddings.timing import timed


def test_the_block_duration_is_recorded_under_its_name():
    timing: dict[str, float] = {"earlier": 1.5}
    with timed(timing, "sleep"):
        time.sleep(0.02)
    assert list(timing) == ["earlier", "sleep"] and timing["earlier"] == 1.5
    assert 0.02 <= timing["sleep"] < 5


def test_a_name_timed_again_is_overwritten_and_order_kept():
    timing: dict[str, float] = {}
    with timed(timing, "a"):
        time.sleep(0.03)
    with timed(timing, "b"):
        pass
    first = timing["a"]
    with timed(timing, "a"):
        pass
    assert list(timing) == ["a", "b"]
    assert 0 <= timing["a"] < first and 0 <= timing["b"] < first


def test_a_block_that_raises_records_nothing():
    timing: dict[str, float] = {}
    with pytest.raises(RuntimeError), timed(timing, "broken"):
        raise RuntimeError("boom")
    assert timing == {}
