"""fetch: safe extraction, checksums and download failures, tested on local files and a loopback server."""

import http.server
import threading
import zipfile
from functools import partial

import pytest

from spoken100.data.fetch import FetchError, download, extract_safely, fetch


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _layout_zip(tmp_path, tiny_layout):
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
    assert (folder / "SpokeN-100.zip.sha256").read_text().strip()
    path.unlink()  # a later download is checked against the record
    (served / "SpokeN-100.zip").write_bytes(b"tampered")
    with pytest.raises(FetchError, match="(?i)hash"):
        download(f"{url}/SpokeN-100.zip", folder=folder, progress=False)
    assert not (folder / "SpokeN-100.zip").exists()


def test_offline_fails_at_once_with_a_local_copy_hint(tmp_path):
    with pytest.raises(FetchError, match="local copy|by hand"):
        download("http://127.0.0.1:9/SpokeN-100.zip", folder=tmp_path, timeout=5, progress=False)
