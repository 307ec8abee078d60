"""The bad-input corpus, files part (tests/corpus/files.yaml, one file per case in tests/corpus/files/): each is
refused with the reason a person needs, on the channel that takes it, and no table gains or loses a row."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile

from layers.importers.base import ImportOptions
from layers.importers.pipeline import run_import
from layers.importers.safety import ImportRefused
from petitions.models import Category
from tests.corpus.channels import client_address, is_human, message_of, table_counts
from tests.petitions.conftest import inside

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "files.yaml").read_text(encoding="utf-8"))
pytestmark = pytest.mark.django_db


def test_every_corpus_file_is_a_case_and_every_case_has_its_file():
    on_disk = {p.name for p in (HERE / "files").iterdir()}
    assert {c["file"] for c in CASES} == on_disk


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def _post_photo(client, url: str, fields: dict, field: str, path: Path, name: str):
    return client.post(url, {**fields, field: _upload(path)}, REMOTE_ADDR=client_address(name))


@pytest.mark.parametrize("case", CASES, ids=[f"{c['channel']}-{c['file']}" for c in CASES])
def test_a_bad_file_is_refused_with_a_message_and_writes_nothing(
    client, district, gis_staff, request, case, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    for cache in caches.all():
        cache.clear()
    path = HERE / "files" / case["file"]
    officer = request.getfixturevalue("field_officer") if case["channel"] == "photo" else None
    before = table_counts()
    messages: list[str] = []
    if case["channel"] == "commit":
        with pytest.raises(ImportRefused) as refused:
            run_import(path, path.name, ImportOptions(target="new:corpus-file"))
        messages.append(str(refused.value))
    elif case["channel"] == "crosswalk":
        client.force_login(gis_staff)
        response = client.post("/api/v1/crosswalks/", {"file": _upload(path)})
        assert response.status_code == 400, response.content[:300]
        messages.append(message_of(response))
    elif case["channel"] in ("upload", "page", "raster"):
        client.force_login(gis_staff)
        if case["channel"] == "upload":
            response = client.post("/api/v1/imports/", {"file": _upload(path), "preview_only": "1"})
        elif case["channel"] == "page":
            response = client.post("/imports/", {"file": _upload(path)})
        else:
            response = client.post("/tiles/raster/upload", {"file": _upload(path), "slug": "corpus-raster"})
        assert response.status_code in (400, 413), response.content[:300]
        messages.append(message_of(response))
        assert not list((tmp_path / "media").rglob("*.*")), "the refused upload was kept"
    else:  # a photo, on the three channels that take one
        here = inside()
        category = Category.values[0]
        citizen = {"category": category, "description": "Đèn đường hỏng", "lat": here.y, "lon": here.x}
        open311 = {"service_code": category, "description": "Đèn đường hỏng", "lat": here.y, "long": here.x}
        responses = [
            _post_photo(client, "/petitions/", citizen, "photos", path, case["file"] + "-form"),
            _post_photo(client, "/open311/v2/requests.json", open311, "media", path, case["file"] + "-311"),
        ]
        client.force_login(officer)
        sync = {
            "uuid": "00000000-0000-4000-8000-0000000000aa",
            "lat": here.y,
            "lon": here.x,
            "accuracy": "5",
            "note": "x",
        }
        responses.append(_post_photo(client, "/field/api/reports/", sync, "photos", path, case["file"] + "-field"))
        for response in responses:
            assert response.status_code == 400, response.content[:300]
            messages.append(message_of(response))
    for message in messages:
        assert is_human(message), message[:300]
        if case.get("says"):
            assert case["says"].lower() in message.lower(), message[:300]
    assert table_counts() == before
