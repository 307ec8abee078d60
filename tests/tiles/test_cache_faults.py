"""A tile cache that cannot be written (disk full, read-only, its path broken) slows tiles down but never
fails them: the tile is served from the database, uncached, and the fault is logged."""

from __future__ import annotations

import logging
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.factories import SchoolFactory
from tests.tiles.conftest import decode, tile_of
from tiles import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_fault_log(monkeypatch):
    """The warning is rate-limited per process; each test starts with none logged yet."""
    monkeypatch.setattr(cache, "_last_fault_log", -1e9, raising=False)


def _school_tile(client) -> tuple[str, str]:
    school = SchoolFactory(name="Trường Tiểu học Thạnh Mỹ", in_commune="24931")
    z, x, y = tile_of(school.geom.x, school.geom.y, 14)
    return f"/tiles/schools/{z}/{x}/{y}.mvt", school.name


def _assert_served_uncached(client, url: str, name: str, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="tiles.cache"):
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200
            assert response["X-Cache"] == "MISS"  # never a HIT: nothing could be stored
            assert [f["properties"]["name"] for f in decode(response)["schools"]["features"]] == [name]
    faults = [r.getMessage() for r in caplog.records if r.name == "tiles.cache"]
    assert len(faults) == 1 and "serving tiles uncached" in faults[0]


def test_a_cache_path_that_is_not_a_directory_still_serves_tiles(client, district, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("IOC_TILE_CACHE_DIR", str(blocker / "tilecache"))
    url, name = _school_tile(client)
    _assert_served_uncached(client, url, name, caplog)


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 64 KiB tmpfs mounted for the test (root in CI and the dev container); skipped where mount is denied."""
    where = tmp_path / f"mnt-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + mounted.stderr.decode(errors="replace").strip())
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_cache_disk_still_serves_tiles(client, district, tiny_tmpfs: Path, monkeypatch, caplog):
    (tiny_tmpfs / "tilecache").mkdir()
    # Fill the disk first: the writes below fail with ENOSPC, as on a full production volume.
    with open(tiny_tmpfs / "filler", "wb", buffering=0) as fh, pytest.raises(OSError, match="No space left"):
        while True:
            fh.write(b"\0" * 4096)
    monkeypatch.setenv("IOC_TILE_CACHE_DIR", str(tiny_tmpfs / "tilecache"))
    url, name = _school_tile(client)
    _assert_served_uncached(client, url, name, caplog)
    assert not any(p.name.startswith(".tmp-") for p in (tiny_tmpfs / "tilecache").rglob("*"))  # no debris


def test_a_read_only_cache_disk_still_serves_tiles(client, district, tiny_tmpfs: Path, monkeypatch, caplog):
    # Read-only mount: even root cannot write (file permissions would not stop root).
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_tmpfs)], check=True)
    monkeypatch.setenv("IOC_TILE_CACHE_DIR", str(tiny_tmpfs / "tilecache"))
    url, name = _school_tile(client)
    _assert_served_uncached(client, url, name, caplog)
