"""An import's error message names the user's file, never where the server keeps it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = pytest.mark.django_db

# Any absolute POSIX path (GDAL and pyogrio quote the path they could not open).
ABSOLUTE_PATH = re.compile(r"(?<![\w.:])/(?:[\w.\-]+/)+")


def assert_no_server_path(message: str, tmp_path) -> None:
    assert "/tmp" not in message
    assert str(settings.MEDIA_ROOT) not in message and str(tmp_path) not in message
    assert str(settings.BASE_DIR) not in message
    assert not ABSOLUTE_PATH.search(message), message


@pytest.fixture
def data_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "data"
    return settings.MEDIA_ROOT


def test_a_bad_kml_upload_is_refused_naming_the_file_not_the_server_path(client, gis_staff, data_root, tmp_path):
    client.force_login(gis_staff)
    kml = SimpleUploadedFile("ranh giới xã.kml", b'<?xml version="1.0"?><kml><Document><Placemark>', "application/xml")
    response = client.post("/api/v1/imports/", {"file": kml, "preview_only": "1"})
    assert response.status_code == 400
    message = response.json()["detail"]
    assert "ranh giới xã.kml" in message  # the name the user gave, not the server's copy's
    assert_no_server_path(message, tmp_path)


def test_a_bad_kml_on_the_imports_page_is_refused_without_a_server_path(client, gis_staff, data_root, tmp_path):
    client.force_login(gis_staff)
    kml = SimpleUploadedFile("hỏng.kml", b"<kml><Document><Placemark><Point><coordinates>1,2", "application/xml")
    response = client.post("/imports/", {"file": kml})
    assert response.status_code == 400
    page = response.content.decode()
    assert "hỏng.kml" in page
    assert_no_server_path(re.sub(r"<[^>]+>", " ", page.split("<main", 1)[-1]), tmp_path)


def test_a_raster_upload_that_is_not_a_geotiff_names_the_users_file(client, gis_staff, data_root, tmp_path):
    client.force_login(gis_staff)
    fake = SimpleUploadedFile("độ cao 2024.tif", b"not a tiff at all", content_type="image/tiff")
    response = client.post("/tiles/raster/upload", {"file": fake, "slug": "do-cao"})
    assert response.status_code == 400
    message = response.json()["detail"]
    assert "độ cao 2024.tif" in message and "upload.tif" not in message
    assert_no_server_path(message, tmp_path)
