import numpy as np

from spoken100.data.segment import TrimParams, edge_silence, rolling_std, trim_silence

SR = 44_100


def test_rolling_std_matches_numpy():
    x = np.random.default_rng(0).normal(size=1000)
    ours = rolling_std(x, 50)
    ref = np.array([x[i : i + 50].std() for i in range(len(x) - 49)])
    np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_trim_keeps_the_tone_and_the_padding():
    tone = 0.5 * np.sin(2 * np.pi * 300 * np.arange(SR // 2) / SR)
    x = np.concatenate([np.zeros(SR // 2), tone, np.zeros(SR)])
    params = TrimParams()
    trimmed = trim_silence(x, SR, params)
    expected = len(tone) + 2 * round(params.pad_s * SR)
    # a window that overlaps the tone by one sample is already active: edges blur by up to one window
    assert abs(len(trimmed) - expected) <= 2 * round(params.window_s * SR)
    lead, trail = edge_silence(x, SR, params)
    assert abs(lead - 0.5) < 0.011 and abs(trail - 1.0) < 0.011


def test_silent_clip_gives_nothing():
    assert trim_silence(np.zeros(SR), SR).size == 0
    assert all(np.isnan(edge_silence(np.zeros(SR), SR)))
