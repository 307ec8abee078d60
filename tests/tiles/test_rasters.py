"""Raster layers: demo rasters over the district, PNG tiles, point values, GeoTIFF uploads."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import rasterio
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rasterio.mask import mask as rio_mask

from layers.models import Layer
from tests.tiles.conftest import tile_of
from tiles import demo, rasters

pytestmark = pytest.mark.django_db


def png(response) -> Image.Image:
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGBA")


def test_the_demo_step_builds_cogs_and_registers_them_in_the_catalog(district):
    demo.load(io.StringIO(), reset=True)
    for slug in demo.SLUGS:
        layer = Layer.objects.get(slug=slug)
        assert layer.kind == "raster" and layer.raster_path == f"rasters/{slug}.tif"
        valid, errors, _warnings = __import__("rio_cogeo").cogeo.cog_validate(str(rasters.cog_path(layer)))
        assert valid, errors
    assert Layer.objects.get(slug="elevation").style == {"colormap": "ylorbr", "rescale": [800.0, 1800.0], "unit": "m"}


def test_an_elevation_tile_is_a_coloured_png_over_the_district(client, demo_rasters):
    z, x, y = tile_of(108.53, 11.78, 11)
    image = png(client.get(f"/tiles/raster/elevation/{z}/{x}/{y}.png"))
    assert image.size == (256, 256)
    alpha = np.asarray(image)[:, :, 3]
    assert (alpha > 0).mean() > 0.2  # painted where the district is
    assert len(set(image.getdata())) > 20  # a colour ramp, not a flat fill


def test_a_tile_outside_the_raster_is_transparent(client, demo_rasters):
    image = png(client.get("/tiles/raster/elevation/11/0/0.png"))
    assert np.asarray(image)[:, :, 3].max() == 0


def test_the_point_value_is_the_elevation_under_the_point(client, demo_rasters):
    response = client.get("/tiles/raster/elevation/point?lon=108.53&lat=11.78")
    body = response.json()
    assert response.status_code == 200 and body["unit"] == "m"
    assert 800 <= body["value"] <= 1800


def test_a_point_outside_the_raster_is_404_and_a_bad_coordinate_400(client, demo_rasters):
    assert client.get("/tiles/raster/elevation/point?lon=100&lat=20").status_code == 404
    bad = client.get("/tiles/raster/elevation/point?lon=abc&lat=11.7")
    assert bad.status_code == 400 and "lon" in bad.json()["detail"]
    assert client.get("/tiles/raster/elevation/point?lon=200&lat=11.7").status_code == 400


def test_population_density_sums_to_each_communes_population(demo_rasters, district):
    path = rasters.cog_path(demo_rasters["population-density"])
    with rasterio.open(path) as src:
        pixel_km2 = abs(src.transform.a * src.transform.e) / 1e6
        for commune in district:
            shape = json.loads(commune.geom.transform(5899, clone=True).json)
            data, _t = rio_mask(src, [shape], crop=True, filled=False)
            people = float(data.sum()) * pixel_km2
            assert people == pytest.approx(commune.population(), rel=0.01), commune.code


def test_slope_is_derived_from_the_elevation_in_metres(demo_rasters):
    with rasterio.open(rasters.cog_path(demo_rasters["elevation"])) as src:
        elevation = src.read(1, masked=True)
        pixel = src.transform.a
    with rasterio.open(rasters.cog_path(demo_rasters["slope"])) as src:
        slope = src.read(1, masked=True)
    expected = demo.slope_degrees(elevation.filled(np.nan), pixel)
    interior = ~np.isnan(expected) & ~np.ma.getmaskarray(slope)
    assert interior.sum() > 10_000
    assert np.nanmax(np.abs(expected[interior] - slope[interior])) < 0.01
    assert 1 < float(np.median(slope[interior])) < 30


def test_a_raster_upload_that_is_not_a_geotiff_is_400(client, gis_staff):
    client.force_login(gis_staff)
    fake = SimpleUploadedFile("ranh_gioi.tif", b"this is not a tiff", content_type="image/tiff")
    response = client.post("/tiles/raster/upload", {"file": fake, "slug": "ranh-gioi", "title_vi": "Ranh giới"})
    assert response.status_code == 400
    assert "ranh_gioi.tif" in response.json()["detail"] and "GeoTIFF" in response.json()["detail"]
    assert not Layer.objects.filter(slug="ranh-gioi").exists()


def test_a_png_upload_is_refused_as_not_a_geotiff(client, gis_staff):
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    client.force_login(gis_staff)
    response = client.post(
        "/tiles/raster/upload", {"file": SimpleUploadedFile("anh.png", buf.getvalue()), "slug": "anh"}
    )
    assert response.status_code == 400


def test_a_geotiff_upload_becomes_a_served_raster_layer(client, gis_staff, tmp_path, district):
    src = tmp_path / "ndvi.tif"
    profile = {"driver": "GTiff", "height": 64, "width": 64, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
               "transform": rasterio.transform.from_bounds(108.4, 11.65, 108.65, 11.9, 64, 64)}  # fmt: skip
    with rasterio.open(src, "w", **profile) as dst:
        dst.write(np.linspace(0, 1, 64 * 64, dtype="float32").reshape(64, 64), 1)
    client.force_login(gis_staff)
    response = client.post(
        "/tiles/raster/upload",
        {"file": SimpleUploadedFile("ndvi.tif", src.read_bytes()), "slug": "ndvi", "title_vi": "NDVI"},
    )
    assert response.status_code == 201, response.content
    z, x, y = tile_of(108.5, 11.8, 10)
    assert png(client.get(f"/tiles/raster/ndvi/{z}/{x}/{y}.png")).size == (256, 256)
    assert client.get("/tiles/ndvi.json").json()["tiles"][0].endswith("/tiles/raster/ndvi/{z}/{x}/{y}.png")


def test_only_gis_staff_may_upload_rasters(client, field_officer):
    client.force_login(field_officer)
    fake = SimpleUploadedFile("x.tif", b"x")
    assert client.post("/tiles/raster/upload", {"file": fake, "slug": "x1"}).status_code == 403


def test_a_private_raster_is_404_for_an_anonymous_user(client, demo_rasters):
    Layer.objects.filter(slug="slope").update(visibility="staff")
    z, x, y = tile_of(108.53, 11.78, 11)
    assert client.get(f"/tiles/raster/slope/{z}/{x}/{y}.png").status_code == 404
    assert client.get("/tiles/slope.json").status_code == 404
