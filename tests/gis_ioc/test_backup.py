"""manage.py backup / restore: a round trip gives back every table's rows (counts and checksums of the
sector tables), every data file and the MapProxy configuration; a damaged backup is refused before
anything is touched."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gis_ioc import backup
from layers.models import School
from tests.factories import SchoolFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def installation(tmp_path: Path, settings, monkeypatch) -> dict[str, Path]:
    """The demo district, a few schools, and data folders with files (plus a cache that is not backed up)."""
    from gis_ioc.demo.district import load_district

    load_district()
    for i in range(3):
        SchoolFactory(name=f"Trường số {i}", in_commune="24931")
    media, private, mapproxy = tmp_path / "media", tmp_path / "private", tmp_path / "mapproxy"
    settings.MEDIA_ROOT = str(media)
    settings.IOC_PRIVATE_ROOT = str(private)  # a private data root: any IOC_…_ROOT setting is backed up
    monkeypatch.delenv("IOC_TILE_CACHE_DIR", raising=False)  # the default: MEDIA_ROOT/tilecache
    monkeypatch.setenv("IOC_MAPPROXY_DIR", str(mapproxy))
    files = {
        media / "rasters" / "population.tif": b"II*\x00 not really a tiff",
        private / "imports" / "uploads" / "abc" / "thửa đất.zip": "PK tệp tải lên".encode(),
        private / "attachments" / "7" / "photo.jpg": b"\xff\xd8\xff photo",
        mapproxy / "mapproxy.yaml": b"services: {demo: {}}\n",
        mapproxy / "seed.yaml": b"seeds: {}\n",
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (media / "tilecache" / "schools" / "g1").mkdir(parents=True)
    (media / "tilecache" / "schools" / "g1" / "tile.mvt.gz").write_bytes(b"cached")
    return {"media": media, "private": private, "mapproxy": mapproxy, **{str(k): k for k in files}}


def _snapshot(dirs: list[Path]) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for d in dirs for p in sorted(d.rglob("*")) if p.is_file()}


def test_a_backup_round_trip_gives_back_every_row_and_file(installation, tmp_path: Path) -> None:
    roots = [installation["media"], installation["private"], installation["mapproxy"]]
    counts, sums = backup.table_counts(), backup.table_checksums()
    files = {k: v for k, v in _snapshot(roots).items() if "/tilecache/" not in k}
    assert "layers_school" in sums and "gis_ioc_adminunit" in sums

    made = Path(call_command("backup", output=str(tmp_path / "backups")))
    manifest = json.loads((made / "manifest.json").read_text())
    assert manifest["tables"] == counts and manifest["checksums"] == sums
    assert set(manifest["roots"]) == {"media", "private", "mapproxy"}
    assert "thửa đất.zip" in "".join(manifest["roots"]["private"]["files"])
    assert not any("tilecache" in f for f in manifest["roots"]["media"]["files"])  # a cache, regenerable
    assert {"database.dump", "media.tar", "private.tar", "mapproxy.tar"} <= set(manifest["artefacts"])

    # Everything changes after the backup.
    School.objects.filter(name="Trường số 0").delete()
    SchoolFactory(name="Trường mới sau sao lưu", in_commune="24931")
    School.objects.filter(name="Trường số 1").update(name="Trường đổi tên")
    (installation["private"] / "attachments" / "7" / "photo.jpg").write_bytes(b"overwritten")
    (installation["mapproxy"] / "seed.yaml").unlink()
    (installation["private"] / "stray.txt").write_text("made after the backup")
    assert len(backup.verify(manifest)) >= 3

    call_command("restore", str(made), interactive=False)

    assert backup.table_counts() == counts
    assert backup.table_checksums() == sums
    assert sorted(School.objects.values_list("name", flat=True)) == ["Trường số 0", "Trường số 1", "Trường số 2"]
    assert _snapshot(roots) == files  # same files, same bytes, nothing extra
    assert not (installation["media"] / "tilecache" / "schools").exists()  # tiles of the newer data are gone
    assert backup.verify(manifest) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_a_damaged_archive_is_refused_before_anything_is_restored(installation, tmp_path: Path) -> None:
    made = Path(call_command("backup", output=str(tmp_path / "backups"), archive=True))
    assert made.suffix == ".tar" and made.is_file()
    with tarfile.open(made) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/database.dump"))
        offset = member.offset_data + member.size // 2
    with made.open("r+b") as fh:  # one flipped byte in the middle of the dump, as a bad disk would
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    School.objects.all().delete()
    (installation["mapproxy"] / "mapproxy.yaml").write_bytes(b"changed after the backup\n")

    with pytest.raises(CommandError, match="database.dump does not match its checksum"):
        call_command("restore", str(made), interactive=False)
    assert School.objects.count() == 0  # nothing was restored
    assert [p.name for p in made.parent.iterdir()] == [made.name]  # and nothing left behind
    assert (installation["mapproxy"] / "mapproxy.yaml").read_bytes() == b"changed after the backup\n"


def test_an_old_backup_is_pruned_by_keep(installation, tmp_path: Path) -> None:
    out = tmp_path / "backups"
    out.mkdir()
    (out / "gis_ioc-20200101-000000").mkdir()
    (out / "gis_ioc-20200102-000000.tar").write_bytes(b"")
    made = Path(call_command("backup", output=str(out), keep=2))
    assert sorted(p.name for p in out.iterdir()) == ["gis_ioc-20200102-000000.tar", made.name]
