"""The generation audit: is the corpus complete, well-formed and plausible?

Each check returns its verdict and the offending files, so that the chapter (and the
``spoken100 audit`` command) can show a pass/fail table and then the details.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spoken100.acoustics.measure import MeasureParams, measure_corpus
from spoken100.data.layout import SAMPLE_RATE, clip_path

PASS, WARN, FAIL = "pass", "warn", "fail"
#: Peak level (dBFS) of a clip whose every sample is zero (:func:`measure_clip` floors the peak at 1e-10).
SILENT_DBFS = -199.0


@dataclass(frozen=True)
class AuditThresholds:
    """Limits the audit checks against (the paper publishes 44.1 kHz clips; the rest are ours).

    min/max_duration_s: a spoken number outside this range is suspicious (0.15 s: a short human
        monosyllable such as French "un").
    max_edge_silence_s: leading or trailing silence left after segmentation.
    min/max_rms_dbfs: a plausible speech level.
    min_speaker_id_accuracy: nearest-centroid speaker identification accuracy that shows the
        voices are distinguishable (chance is 1 / number of speakers).
    min_usable_s: a clip shorter than this (50 ms: shorter than any spoken syllable) holds no
        number; it fails the audit, as does a silent clip (every sample zero).
    """

    sample_rate: int = SAMPLE_RATE
    channels: int = 1
    subtype: str = "PCM_16"
    min_duration_s: float = 0.15
    max_duration_s: float = 3.0
    max_edge_silence_s: float = 0.1
    min_rms_dbfs: float = -40.0
    max_rms_dbfs: float = -6.0
    min_speaker_id_accuracy: float = 0.5
    min_usable_s: float = 0.05


@dataclass
class Check:
    """One audit check: name, verdict, a one-line detail, and the offending rows."""

    name: str
    status: str
    detail: str
    offenders: pd.DataFrame = field(default_factory=pd.DataFrame)


def grid_check(corpus) -> pd.DataFrame:
    """Expected languages x speakers x numbers against what is present.

    Returns rows with ``issue`` in {"missing", "extra", "duplicate key", "identical audio"}.
    """
    index = corpus.index
    expected = pd.MultiIndex.from_product(
        [corpus.languages, list(corpus.speakers.speaker), corpus.numbers],
        names=["language", "speaker", "number"],
    )
    present = pd.MultiIndex.from_frame(index[["language", "speaker", "number"]])
    rows = []
    for language, speaker, number in expected.difference(present):
        path = clip_path(corpus.root, language, speaker, number).relative_to(corpus.root).as_posix()
        rows.append({"path": path, "language": language, "speaker": speaker, "number": number, "issue": "missing"})
    extra = index[~present.isin(expected)]
    rows += [{**r, "issue": "extra"} for r in extra[["path", "language", "speaker", "number"]].to_dict("records")]
    dup_key = index[index.duplicated(["language", "speaker", "number"], keep=False)]
    rows += [
        {**r, "issue": "duplicate key"} for r in dup_key[["path", "language", "speaker", "number"]].to_dict("records")
    ]
    same = index[index.duplicated("sha256", keep=False)]
    rows += [
        {**r, "issue": "identical audio"} for r in same[["path", "language", "speaker", "number"]].to_dict("records")
    ]
    return pd.DataFrame(rows, columns=["path", "language", "speaker", "number", "issue"])


def speaker_identification(corpus, profiles: np.ndarray) -> pd.DataFrame:
    """How distinguishable the voices are: nearest-centroid speaker identification per language.

    Centroids are the mean log-mel profiles of each speaker's even numbers; the odd numbers are
    classified. Returns accuracy per language with the chance level.
    """
    index = corpus.index.reset_index(drop=True)
    rows = []
    for language, part in index.groupby("language"):
        feats = profiles[part.index]
        feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-9)
        train = (part.number % 2 == 0).to_numpy()
        speakers = sorted(part.speaker.unique())
        centroids = np.stack([feats[train & (part.speaker == s).to_numpy()].mean(0) for s in speakers])
        test = ~train
        dist = ((feats[test][:, None, :] - centroids[None]) ** 2).sum(-1)
        predicted = np.array(speakers)[dist.argmin(1)]
        accuracy = float((predicted == part.speaker.to_numpy()[test]).mean())
        rows.append(
            {
                "language": language,
                "accuracy": accuracy,
                "chance": 1 / len(speakers),
                "n_test": int(test.sum()),
            }
        )
    return pd.DataFrame(rows)


def speaker_distances(corpus, profiles: np.ndarray) -> pd.DataFrame:
    """Euclidean distances between speakers' mean (z-scored) spectral profiles, over all languages."""
    feats = (profiles - profiles.mean(0)) / (profiles.std(0) + 1e-9)
    frame = pd.DataFrame(feats, index=corpus.index.speaker.to_numpy())
    centroids = frame.groupby(level=0).mean()
    diff = centroids.to_numpy()[:, None, :] - centroids.to_numpy()[None]
    return pd.DataFrame(np.sqrt((diff**2).sum(-1)), index=centroids.index, columns=centroids.index)


def _verdict(bad: pd.DataFrame, name: str, ok: str, problem: str, status_if_bad: str = FAIL) -> Check:
    if len(bad) == 0:
        return Check(name, PASS, ok, bad)
    return Check(name, status_if_bad, f"{len(bad)} {problem}", bad)


def issue_table(checks: list[Check]) -> pd.DataFrame:
    """Every offending file of ``checks`` with its check: columns check, path, problem."""
    frames = [c.offenders.assign(check=c.name) for c in checks if len(c.offenders)]
    if not frames:
        return pd.DataFrame(columns=["check", "path", "problem"])
    table = pd.concat(frames, ignore_index=True)
    if "problem" not in table:
        table["problem"] = ""
    if "issue" in table:
        table["problem"] = table["problem"].fillna(table["issue"])
    return table[["check", "path", "problem"]].fillna("")


@dataclass
class AuditReport:
    """Everything the audit found: the checks, the measurements and the tables behind them."""

    checks: list[Check]
    grid: pd.DataFrame
    clips: pd.DataFrame
    speaker_id: pd.DataFrame
    distances: pd.DataFrame

    @property
    def passed(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def summary(self) -> pd.DataFrame:
        """The pass/fail table shown at the top of the chapter."""
        return pd.DataFrame([{"check": c.name, "result": c.status, "detail": c.detail} for c in self.checks])

    def issues(self) -> pd.DataFrame:
        """Every offending file with its check, one table."""
        return issue_table(self.checks)


def index_checks(corpus, thresholds: AuditThresholds = AuditThresholds()) -> list[Check]:
    """The checks that need only the index (no audio is read): grid, files, formats, length.

    ``spoken100 prepare`` runs these before a build, so that a corpus the book cannot use stops
    the build with the list of problems; :func:`run_audit` runs them first, then the rest.
    """
    t = thresholds
    index = corpus.index
    grid = grid_check(corpus)

    def offenders(mask, problem: str) -> pd.DataFrame:
        return index.loc[mask, ["path"]].assign(problem=problem)

    missing = grid[grid.issue == "missing"]
    too_short = index.duration_s < t.min_usable_s
    return [
        _verdict(missing, "complete grid",
                 f"all {corpus.expected_clips:,} expected clips present "
                 f"({len(corpus.languages)} languages x {len(corpus.speakers)} speakers x {len(corpus.numbers)} numbers)",
                 f"of {corpus.expected_clips:,} expected clips missing"),
        _verdict(grid[grid.issue == "extra"], "no extra files", "no clips outside the expected grid", "extra clips"),
        _verdict(grid[grid.issue.isin(["duplicate key", "identical audio"])], "no duplicates",
                 "no two files share a key or identical audio", "files duplicated"),
        _verdict(corpus.problems, "readable, well-named files", "every file is a readable, well-named WAV",
                 "files unreadable or misnamed"),
        _verdict(offenders(index.sample_rate != t.sample_rate, f"sample rate is not {t.sample_rate} Hz"),
                 "sample rate", f"all {t.sample_rate:,} Hz", "clips at another sample rate"),
        _verdict(offenders(index.channels != t.channels, "not mono"), "channels", "all mono", "clips not mono"),
        _verdict(offenders(index.subtype != t.subtype, f"not {t.subtype}"), "bit depth",
                 f"all {t.subtype.replace('_', ' ')}", "clips with another sample format"),
        _verdict(index.loc[too_short, ["path"]].assign(
                     problem=[f"only {1000 * d:.1f} ms long (under {1000 * t.min_usable_s:.0f} ms)"
                              for d in index.duration_s[too_short]]),
                 "long enough", f"every clip at least {1000 * t.min_usable_s:.0f} ms long",
                 f"clips shorter than {1000 * t.min_usable_s:.0f} ms"),
    ]  # fmt: skip


def run_audit(
    corpus,
    thresholds: AuditThresholds = AuditThresholds(),
    params: MeasureParams = MeasureParams(),
    progress: bool = True,
) -> AuditReport:
    """Run every check on ``corpus`` and return the report."""
    t = thresholds
    index = corpus.index
    if index.empty:
        raise ValueError(f"{corpus.root}: 0 clips to audit")
    grid = grid_check(corpus)
    measured, profiles = measure_corpus(corpus, params, progress=progress)
    clips = index.merge(measured, on="path", how="left")

    def offenders(mask, problem: str) -> pd.DataFrame:
        return clips.loc[mask, ["path"]].assign(problem=problem)

    checks = [
        *index_checks(corpus, t),
        _verdict(offenders(clips.peak_dbfs <= SILENT_DBFS, "silent (every sample is zero)"), "not silent",
                 "no clip is silent", "silent clips"),
        _verdict(offenders((clips.duration_s < t.min_duration_s) | (clips.duration_s > t.max_duration_s),
                           "duration out of range"),
                 "durations", f"all within {t.min_duration_s}-{t.max_duration_s} s", "clips out of range", WARN),
        _verdict(offenders((clips.lead_silence_s > t.max_edge_silence_s) | (clips.trail_silence_s > t.max_edge_silence_s)
                           | clips.lead_silence_s.isna(), "edge silence too long or clip silent"),
                 "edge silence", f"leading and trailing silence at most {t.max_edge_silence_s} s",
                 "clips with long edge silence", WARN),
        _verdict(offenders(clips.clipped_samples > 0, "clipped samples"), "no clipping",
                 "no sample at full scale", "clips with clipped samples", WARN),
        _verdict(offenders((clips.rms_dbfs < t.min_rms_dbfs) | (clips.rms_dbfs > t.max_rms_dbfs), "RMS level out of range"),
                 "level", f"RMS within {t.min_rms_dbfs} to {t.max_rms_dbfs} dBFS", "clips at an odd level", WARN),
    ]  # fmt: skip
    speaker_id = speaker_identification(corpus, profiles) if len(index) else pd.DataFrame()
    distances = speaker_distances(corpus, profiles) if len(index) else pd.DataFrame()
    if len(speaker_id):
        worst = speaker_id.accuracy.min()
        ok = worst >= t.min_speaker_id_accuracy
        checks.append(Check(
            "speaker distinctness", PASS if ok else WARN,
            f"nearest-centroid speaker identification {worst:.0%} or better in every language "
            f"(chance {speaker_id.chance.iloc[0]:.0%}; threshold {t.min_speaker_id_accuracy:.0%})",
        ))  # fmt: skip
    return AuditReport(checks, grid, clips, speaker_id, distances)
