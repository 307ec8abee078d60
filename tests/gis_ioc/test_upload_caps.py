"""Every door that takes an upload refuses an oversized one with a 413 that says the limit, before
reading it, and writes nothing."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from layers.models import ImportJob
from petitions.models import Petition
from tests.petitions.conftest import inside, jpeg

MB = 1024 * 1024


def _big(name: str, size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\0" * size)


def _says_the_limit(response) -> str:
    text = response.content.decode()
    if response["Content-Type"].startswith("application/json"):
        text = json.loads(text)["detail"]
    assert "MB" in text
    return text


@pytest.mark.django_db
def test_an_import_over_the_cap_is_refused_before_the_body_is_read(district, gis_staff, settings) -> None:
    settings.IOC_IMPORT_MAX_BYTES = 1024
    client = Client(enforce_csrf_checks=True)  # 413, not 403: refused before CSRF parses the upload
    client.force_login(gis_staff)
    response = client.post("/imports/", {"file": _big("thua.geojson", 2 * MB)})
    assert response.status_code == 413
    assert "vượt giới hạn" in _says_the_limit(response)
    api = client.post("/api/v1/imports/", {"file": _big("thua.geojson", 2 * MB)})
    assert api.status_code == 413 and "vượt giới hạn" in _says_the_limit(api)
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_raster_upload_has_its_own_cap(client, gis_staff, settings) -> None:
    settings.IOC_RASTER_UPLOAD_MAX_BYTES = MB
    client.force_login(gis_staff)
    too_big_request = client.post("/tiles/raster/upload", {"file": _big("dem.tif", 4 * MB), "slug": "dem"})
    assert too_big_request.status_code == 413
    _says_the_limit(too_big_request)
    # Within the request's envelope but over the file cap: the door's own check of the file.
    too_big_file = client.post("/tiles/raster/upload", {"file": _big("dem.tif", MB + MB // 2), "slug": "dem"})
    assert too_big_file.status_code == 413
    assert "vượt giới hạn 1 MB" in too_big_file.json()["detail"]
    from layers.models import Layer

    assert not Layer.objects.filter(slug="dem").exists()


@pytest.mark.django_db
def test_petition_photos_over_the_request_cap_are_refused(client, district, field_officer, settings) -> None:
    settings.PETITIONS = {"max_request_bytes": MB}
    here = inside()
    photo = SimpleUploadedFile("anh.jpg", jpeg() + b"\0" * (2 * MB), content_type="image/jpeg")
    form = {"category": "khac", "description": "Đèn hỏng", "lat": here.y, "lon": here.x, "photos": photo}
    response = client.post("/petitions/", form, REMOTE_ADDR="198.51.100.70")
    assert response.status_code == 413
    _says_the_limit(response)
    photo.seek(0)
    open311 = client.post(
        "/open311/v2/requests.json",
        {"service_code": "khac", "lat": here.y, "long": here.x, "description": "Đèn hỏng", "media": photo},
        REMOTE_ADDR="198.51.100.71",
    )
    assert open311.status_code == 413 and "MB" in open311.json()[0]["description"]  # Open311's error format
    client.force_login(field_officer)
    photo.seek(0)
    sync = client.post("/field/api/reports/", {"photos": photo}, HTTP_ACCEPT="application/json")
    assert sync.status_code == 413
    assert not Petition.objects.exists()


@pytest.mark.django_db
def test_a_json_body_over_the_form_cap_is_a_413(client, gis_staff, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(gis_staff)
    body = json.dumps({"type": "Feature", "properties": {"name": "x" * 5000}, "geometry": None})
    response = client.post("/api/v1/layers/schools/features/", body, content_type="application/json")
    assert response.status_code == 413
    assert "vượt giới hạn" in response.json()["detail"]


@pytest.mark.django_db
def test_a_body_within_every_cap_goes_through(client, district) -> None:
    here = inside()
    form = {"category": "khac", "description": "Đèn đường hỏng", "lat": here.y, "lon": here.x}
    assert client.post("/petitions/", form, REMOTE_ADDR="198.51.100.72").status_code == 302
