"""A failed analysis says why without showing where the server keeps its files."""

from __future__ import annotations

import pytest

from layers.models import Layer
from tests.analysis.conftest import run_now
from tests.layers.test_import_errors_hide_paths import assert_no_server_path

pytestmark = pytest.mark.django_db


def test_a_damaged_raster_fails_without_showing_the_server_path(gis_staff, district, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "rasters").mkdir()
    (tmp_path / "rasters" / "gone-2024.tif").write_bytes(b"overwritten: no longer a GeoTIFF")
    Layer.objects.create(
        slug="gone", title_vi="Hỏng", title_en="Damaged", kind="raster", raster_path="rasters/gone-2024.tif"
    )
    done = run_now(gis_staff, "zonal", {"raster": "gone", "zones": "communes"})
    assert done.status == "failed"
    assert "gone-2024.tif" in done.error  # still says which file
    assert_no_server_path(done.error, tmp_path)
