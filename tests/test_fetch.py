"""fetch: safe extraction, checksums and download failures, tested on local files and a loopback server."""

import http.server
import shutil
import threading
import zipfile
from functools import partial

import pytest

from spoken100.data.fetch import FetchError, download, extract_safely, fetch
from spoken100.data.index import sha256_file


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _layout_zip(tmp_path, tiny_layout):
    tmp_path.mkdir(parents=True, exist_ok=True)
    archive = tmp_path / "SpokeN-100.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(tiny_layout.rglob("*.wav"))[:10]:
            zf.write(f, f"SpokeN-100/{f.relative_to(tiny_layout)}")
    return archive


@pytest.mark.parametrize("name", ["../evil.wav", "/abs/evil.wav", "SpokeN-100/../../evil.wav"])
def test_refuses_unsafe_entries(tmp_path, name):
    archive = _zip(tmp_path / "bad.zip", {"SpokeN-100/english_numbers/A/1.wav": b"x", name: b"x"})
    with pytest.raises(FetchError, match="refusing entry"):
        extract_safely(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "SpokeN-100").exists()
    assert not (tmp_path / "evil.wav").exists()


def test_refuses_symlinks(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("SpokeN-100/english_numbers/A/1.wav")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(FetchError, match="symbolic link"):
        extract_safely(archive, tmp_path / "out")


def test_partial_archive_is_refused_and_nothing_lost(tmp_path, tiny_layout):
    archive = _layout_zip(tmp_path, tiny_layout)
    good = fetch(archive=archive, destination=tmp_path / "real")
    assert (good / "english_numbers").is_dir()
    truncated = tmp_path / "partial.zip"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(FetchError, match="partial"):
        fetch(archive=truncated, destination=tmp_path / "real")
    assert (good / "english_numbers").is_dir()  # the earlier copy is untouched


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_records_then_verifies_checksum(tmp_path, tiny_layout, server):
    served, url = server
    (served / "SpokeN-100.zip").write_bytes(_layout_zip(tmp_path, tiny_layout).read_bytes())
    folder = tmp_path / "downloads"
    path = download(f"{url}/SpokeN-100.zip", folder=folder, progress=False)
    assert (folder / "SpokeN-100.zip.sha256").read_text().strip() == sha256_file(path)
    path.unlink()  # a later download is checked against the record
    other = tmp_path / "other"
    shutil.copytree(tiny_layout, other / "SpokeN-100")
    (other / "SpokeN-100" / "english_numbers" / "Arnold" / "0.wav").write_bytes(b"RIFF changed")
    (served / "SpokeN-100.zip").write_bytes(_layout_zip(tmp_path / "other", other / "SpokeN-100").read_bytes())
    with pytest.raises(FetchError, match="does not match the one recorded") as err:
        download(f"{url}/SpokeN-100.zip", folder=folder, progress=False)
    assert "--force" in str(err.value) and "SpokeN-100.zip.sha256" in str(err.value)
    assert not (folder / "SpokeN-100.zip").exists() and (folder / "SpokeN-100.zip.failed").is_file()


def test_offline_fails_at_once_with_a_local_copy_hint(tmp_path):
    with pytest.raises(FetchError, match="local copy|by hand"):
        download("http://127.0.0.1:9/SpokeN-100.zip", folder=tmp_path, timeout=5, progress=False)


# ---- issue 13: a hostile server, broken archives and the user's own files ---------------------


def _wav_bytes(seconds: float = 0.2) -> bytes:
    import io

    import soundfile as sf

    from .conftest import tone

    buffer = io.BytesIO()
    sf.write(buffer, tone(seconds), 44_100, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def _small_zip(path, suffix=".wav", speakers=("Bella", "Arnold"), numbers=range(3)):
    """A small archive in the SpokeN-100 layout (the test's stand-in for the real one)."""
    data = _wav_bytes()
    entries = {
        f"SpokeN-100/{lang}_numbers/{spk}/{n}{suffix}": data
        for lang in ("english", "german") for spk in speakers for n in numbers
    }  # fmt: skip
    return _zip(path, entries)


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Serves ``archive`` after the misbehaviours queued in ``script`` (one per request).

    html: an HTML page with HTTP 200; truncated: a third of the body, then the connection closes;
    drop: the connection closes before any answer; norange: the archive, ignoring a Range header;
    anything else (and an empty script): the archive, honouring ``Range: bytes=N-`` with 206.
    """

    archive = b""
    script: list = []
    requests: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        kind = self.script.pop(0) if self.script else "real"
        self.requests.append((kind, self.headers.get("Range")))
        body = self.archive
        if kind == "drop":
            self.close_connection = True
            return
        if kind == "html":
            page = b"<!DOCTYPE html><html><body>Too many requests; please sign in.</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        start = 0
        ranged = self.headers.get("Range", "")
        if kind != "norange" and ranged.startswith("bytes="):
            start = int(ranged.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if kind == "truncated":
            self.wfile.write(body[start : start + (len(body) - start) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture
def flaky(tmp_path, monkeypatch):
    """A loopback server whose misbehaviour each test scripts; its archive is a small layout zip."""
    monkeypatch.setattr("spoken100.data.download.time.sleep", lambda seconds: None)
    archive = _small_zip(tmp_path / "source.zip")
    handler = type("Handler", (_Scripted,), {"archive": archive.read_bytes(), "script": [], "requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_address[1]}/SpokeN-100.zip", archive
    httpd.shutdown()
    httpd.server_close()


def _cli(*args):
    from click.testing import CliRunner

    from spoken100.cli import main

    return CliRunner().invoke(main, list(args))


def test_an_html_page_is_refused_moved_aside_and_never_recorded(flaky, isolated_home):
    handler, url, archive = flaky
    downloads = isolated_home / "downloads"
    handler.script[:] = ["html"]
    bad = _cli("fetch", "--url", url)
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    failed = downloads / "SpokeN-100.zip.failed"
    assert "an HTML page, not a zip archive" in bad.output and str(failed) in bad.output
    assert "nothing was recorded" in bad.output
    assert failed.read_bytes().startswith(b"<!DOCTYPE html>")
    assert not (downloads / "SpokeN-100.zip.sha256").exists() and not (downloads / "SpokeN-100.zip").exists()

    good = _cli("fetch", "--url", url)  # the server behaves now: the real archive is accepted
    assert good.exit_code == 0, good.output
    assert (downloads / "SpokeN-100.zip.sha256").read_text().strip() == sha256_file(archive)
    assert (isolated_home / "real" / "SpokeN-100" / "english_numbers" / "Bella" / "0.wav").is_file()


def test_a_checksum_recorded_from_a_bad_file_is_named_and_force_starts_over(flaky, isolated_home):
    handler, url, archive = flaky
    downloads = isolated_home / "downloads"
    downloads.mkdir(parents=True)
    record = downloads / "SpokeN-100.zip.sha256"
    record.write_text("0" * 64 + "\n")  # what an earlier version recorded for an HTML page
    stuck = _cli("fetch", "--url", url)
    assert stuck.exit_code == 1
    assert str(record) in stuck.output and "does not match" in stuck.output and "fetch --force" in stuck.output
    assert not (isolated_home / "real" / "SpokeN-100").exists()

    fresh = _cli("fetch", "--url", url, "--force")
    assert fresh.exit_code == 0, fresh.output
    assert record.read_text().strip() == sha256_file(archive)
    assert (downloads / "SpokeN-100.zip").read_bytes() == archive.read_bytes()


def test_a_dropped_connection_resumes_and_a_server_without_ranges_restarts(flaky, isolated_home):
    handler, url, archive = flaky
    said = []
    handler.script[:] = ["truncated", "drop", "real"]
    root = fetch(url, progress=False, say=said.append)
    assert (root / "german_numbers" / "Arnold" / "2.wav").is_file()
    assert (isolated_home / "downloads" / "SpokeN-100.zip").read_bytes() == archive.read_bytes()
    kinds = [kind for kind, _ in handler.requests]
    assert kinds == ["truncated", "drop", "real"]
    resumed_at = int(handler.requests[2][1].removeprefix("bytes=").rstrip("-"))
    assert handler.requests[0][1] is None and 0 < resumed_at <= len(archive.read_bytes()) // 3
    assert sum("connection dropped" in line and "resuming" in line for line in said) == 2

    handler.requests.clear()
    said.clear()
    handler.script[:] = ["truncated", "norange"]
    download(url, folder=isolated_home / "again", progress=False, say=said.append)
    assert (isolated_home / "again" / "SpokeN-100.zip").read_bytes() == archive.read_bytes()
    assert any("does not resume downloads; starting again" in line for line in said)


def test_a_connection_that_keeps_dropping_ends_in_one_message_and_keeps_the_bytes(flaky, isolated_home):
    handler, url, archive = flaky
    handler.script[:] = ["truncated"] * 10
    result = _cli("fetch", "--url", url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    part = isolated_home / "downloads" / "SpokeN-100.zip.part"
    assert "connection dropped 5 times" in result.output and str(part) in result.output
    assert result.output.strip().splitlines()[-1].startswith("Download SpokeN-100.zip by hand")
    kept = part.stat().st_size
    assert 0 < kept < len(archive.read_bytes())
    handler.script[:] = []
    again = _cli("fetch", "--url", url)  # the next run resumes from the kept bytes
    assert again.exit_code == 0, again.output
    assert handler.requests[-1] == ("real", f"bytes={kept}-")


@pytest.mark.parametrize("suffix", [".flac", ".mp3"])
def test_an_archive_without_wav_clips_is_refused_with_what_it_holds(tmp_path, isolated_home, suffix):
    archive = _small_zip(tmp_path / "SpokeN-100.zip", suffix=suffix)
    result = _cli("fetch", "--zip", str(archive))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert str(archive) in result.output and f"found: 12 {suffix}" in result.output
    assert archive.is_file() and not (isolated_home / "real" / "SpokeN-100").exists()


def test_an_archive_inside_the_unpacked_folder_is_never_deleted(tmp_path, isolated_home):
    archive = _small_zip(tmp_path / "SpokeN-100.zip")
    assert _cli("fetch", "--zip", str(archive)).exit_code == 0
    final = isolated_home / "real" / "SpokeN-100"
    inside = final / "SpokeN-100.zip"
    shutil.copy(archive, inside)
    clips = sorted(p.relative_to(final) for p in final.rglob("*.wav"))
    result = _cli("fetch", "--zip", str(inside), "--force")
    assert result.exit_code == 1 and str(inside) in result.output and "move the archive elsewhere" in result.output
    assert inside.read_bytes() == archive.read_bytes()
    assert sorted(p.relative_to(final) for p in final.rglob("*.wav")) == clips


def test_unpacking_swaps_the_new_copy_in_and_leaves_no_staging(tmp_path, isolated_home):
    first = _small_zip(tmp_path / "a" / "SpokeN-100.zip") if (tmp_path / "a").mkdir() is None else None
    second = _small_zip(tmp_path / "b.zip", numbers=range(5))
    real = isolated_home / "real"
    fetch(archive=first, destination=real)
    fetch(archive=second, destination=real)
    assert len(list((real / "SpokeN-100").rglob("*.wav"))) == 20
    assert sorted(p.name for p in real.iterdir()) == ["SpokeN-100", "SpokeN-100.sha256"]
    assert first.is_file() and second.is_file()
