"""Zonal statistics of a raster over communes or zones."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box
from shapely.ops import transform as shp_transform

from analysis.zonal import NoOverlap, zonal_stats
from gis_ioc.models import AdminUnit
from layers.models import Layer
from tests.analysis.conftest import run_now, write_raster

pytestmark = pytest.mark.django_db

TO_4326 = Transformer.from_crs(5899, 4326, always_xy=True)


def _zone(x0, y0, x1, y1):
    """A TM-3 rectangle (metres) as a 4326 polygon, shrunk by 1 cm so it holds exactly the pixels inside."""
    return shp_transform(TO_4326.transform, box(x0 + 0.01, y0 + 0.01, x1 - 0.01, y1 - 0.01))


def test_it_computes_every_statistic_over_pixel_aligned_zones(tmp_path):
    # A 100 × 100 grid of 10 m pixels whose value is its row number.
    data = np.repeat(np.arange(100, dtype=float)[:, None], 100, axis=1)
    data[5, 5] = -9999  # nodata is skipped
    west, north = 580_000.0, 1_300_000.0
    path = write_raster(tmp_path / "rows.tif", data, from_origin(west, north, 10, 10))
    # Zone A: rows 0–9, cols 0–9 (99 valid pixels); zone B: rows 50–69, cols 20–29.
    a = _zone(west, north - 100, west + 100, north)
    b = _zone(west + 200, north - 700, west + 300, north - 500)
    ra, rb = zonal_stats(path, [a, b], percentiles=(50, 90), categorical=True)
    assert ra["count"] == 99 and rb["count"] == 200
    assert (ra["min"], ra["max"]) == (0, 9) and (rb["min"], rb["max"]) == (50, 69)
    assert rb["mean"] == pytest.approx(59.5) and rb["sum"] == pytest.approx(59.5 * 200)
    assert rb["p50"] == pytest.approx(np.percentile(np.repeat(np.arange(50, 70), 10), 50))
    assert rb["p90"] == pytest.approx(np.percentile(np.repeat(np.arange(50, 70), 10), 90))
    assert rb["area_m2"] == pytest.approx(200 * 100)
    assert rb["area_by_class"]["50"] == pytest.approx(10 * 100)
    assert sum(ra["area_by_class"].values()) == pytest.approx(99 * 100)


def test_a_geographic_raster_gives_areas_in_square_metres(district, tmp_path):
    unit = AdminUnit.objects.current().communes().get(code="24931")
    xmin, ymin, xmax, ymax = unit.geom.extent
    res = 0.0005
    shape = (int((ymax - ymin) / res) + 4, int((xmax - xmin) / res) + 4)
    path = write_raster(tmp_path / "g.tif", np.ones(shape), from_origin(xmin - res, ymax + res, res, res), "EPSG:4326")
    from shapely import wkb

    (r,) = zonal_stats(path, [wkb.loads(bytes(unit.geom.wkb))])
    assert r["area_m2"] / 1e6 == pytest.approx(unit.area_km2, rel=0.02)


def test_the_zonal_analysis_over_communes_makes_a_layer(gis_staff, population_raster):
    done = run_now(gis_staff, "zonal", {"raster": "population-density", "zones": "communes", "percentiles": "50"})
    assert done.status == "succeeded", done.error
    rows = {r["commune_code"]: r for r in done.table("zones")["rows"]}
    assert len(rows) == 9
    for code, r in rows.items():
        unit = AdminUnit.objects.current().communes().get(code=code)
        assert r["mean"] == pytest.approx(100) and r["p50"] == pytest.approx(100)
        assert r["area_km2"] == pytest.approx(unit.area_km2, rel=0.03)
    assert Layer.objects.get(slug=f"analysis-{done.pk}").attribute("mean")["type"] == "number"


def test_a_raster_that_misses_the_communes_fails_with_a_reason(gis_staff, district, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    # A raster over Hà Nội (TM-3 105°): nowhere near Lâm Đồng.
    write_raster(tmp_path / "hanoi.tif", np.ones((50, 50)), from_origin(500_000, 2_330_000, 100, 100), "EPSG:9210")
    Layer.objects.create(slug="hanoi", title_vi="Hà Nội", title_en="Hanoi", kind="raster", raster_path="hanoi.tif")
    done = run_now(gis_staff, "zonal", {"raster": "hanoi", "zones": "communes"})
    assert done.status == "failed"
    assert "không giao" in done.error
    assert done.result_layer is None
    with pytest.raises(NoOverlap):
        zonal_stats(tmp_path / "hanoi.tif", [_zone(580_000, 1_290_000, 581_000, 1_291_000)])


def test_zones_of_a_plan_need_a_plan(gis_staff, district, client):
    client.force_login(gis_staff)
    response = client.post(
        "/api/v1/analyses/",
        {"type": "zonal", "parameters": {"raster": "x", "zones": "plan"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "plan" in response.json()["errors"]
