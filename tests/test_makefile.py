"""Issue 13 (build): a no-op ``make book`` remakes nothing, and only ``make test`` installs Chromium.

Only cheap targets run for real (staging ``_config.yml`` is one copy into a temporary WORK folder);
the rest is read from ``make -n`` (nothing executed). No book is built and the environment is untouched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def make(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60
    )


def test_the_staged_config_is_remade_only_when_the_repository_address_changes(tmp_path):
    work = tmp_path / "work"
    target = f"{work}/book/_config.yml"
    staged = Path(target)

    def build(*extra: str) -> int:
        result = make(f"WORK={work}", *extra, target)
        assert result.returncode == 0, result.stderr
        return staged.stat().st_mtime_ns

    settled = build()
    assert build() == settled and build() == settled  # nothing changed: nothing remade
    assert "repository:" not in staged.read_text()
    assert build("REPO_URL=https://example.org/spoken100") != settled
    assert "url: https://example.org/spoken100" in staged.read_text()
    again = staged.stat().st_mtime_ns
    assert build("REPO_URL=https://example.org/spoken100") == again
    build()
    assert "repository:" not in staged.read_text()


def test_the_data_stamp_is_written_once_and_kept(tmp_path):
    work = tmp_path / "work"
    stamp = work / "data-arg"
    assert make(f"WORK={work}", "DATA=standin", str(stamp)).returncode == 0
    written = stamp.stat().st_mtime_ns
    assert make(f"WORK={work}", "DATA=standin", str(stamp)).returncode == 0
    assert stamp.stat().st_mtime_ns == written
    assert make(f"WORK={work}", "DATA=real", str(stamp)).returncode == 0 and stamp.read_text() == "real\n"


def test_only_the_test_path_installs_chromium(tmp_path):
    book = make("-n", f"WORK={tmp_path / 'work'}", "book")
    assert book.returncode == 0, book.stderr
    assert "espeak-ng" in book.stdout and "chromium" not in book.stdout
    test = make("-n", f"WORK={tmp_path / 'work'}", "test")
    assert "apt-get install -y -qq chromium chromium-driver" in test.stdout


def test_setup_and_ci_install_the_human_prompts(tmp_path):
    deps = make("-n", "system-deps")
    assert deps.returncode == 0, deps.stderr
    assert (
        "apt-get install -y -qq" in deps.stdout
        and "asterisk-core-sounds-en-wav asterisk-core-sounds-fr-wav" in deps.stdout
    )
    ci = (ROOT / ".ci" / "run").read_text()
    assert "asterisk-core-sounds-en-wav asterisk-core-sounds-fr-wav" in ci


def test_book_tries_fsdd_without_requiring_it(tmp_path):
    book = make("-n", f"WORK={tmp_path / 'work'}", "book")
    assert "spoken100 fetch --fsdd --optional" in book.stdout
    (tmp_path / "work").mkdir(exist_ok=True)
    (tmp_path / "work" / "fsdd-tried").touch()  # tried once for this build folder: a rebuild starts no Python for it
    again = make("-n", f"WORK={tmp_path / 'work'}", "book")
    assert again.returncode == 0, again.stderr
    assert "fetch --fsdd" not in again.stdout
