"""Real clients against a real server: GDAL's OAPIF driver (ogrinfo, ogr2ogr) and geopandas."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.factories import HouseholdBusinessFactory, SchoolFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served(live_server, district):
    """Seven schools (four with more than 400 pupils) and one staff-only business, on a live server."""
    for i, pupils in enumerate([120, 450, 800, 390, 610, 405, 90]):
        SchoolFactory(name=f"Trường số {i + 1}", pupils=pupils, in_commune=("24931", "24937")[i % 2])
    HouseholdBusinessFactory(name="Tạp hóa Bí Mật", in_commune="24931")
    return live_server.url


def gdal(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CPL_DEBUG": "ON", "GDAL_HTTP_TIMEOUT": "60"}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_ogrinfo_lists_every_public_collection_and_no_private_one(served):
    result = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{served}/ogc")
    assert result.returncode == 0, result.stderr
    for slug in ("communes", "schools", "health-facilities", "planning-zones", "petitions", "indicators"):
        assert f": {slug} (" in result.stdout
    assert "household-businesses" not in result.stdout and "budget-revenue" not in result.stdout


def test_ogrinfo_reads_a_collection_summary(served):
    result = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{served}/ogc", "schools")
    assert result.returncode == 0, result.stderr
    assert "Feature Count: 7" in result.stdout and "pupils: Integer" in result.stdout


def test_ogr2ogr_downloads_with_a_server_side_cql_filter(served, tmp_path: Path):
    out = tmp_path / "big_schools.geojson"
    result = gdal(
        "ogr2ogr",
        "-f",
        "GeoJSON",
        str(out),
        f"OAPIF:{served}/ogc",
        "schools",
        "-where",
        "pupils > 100 AND commune_code = '24931'",
        "-oo",
        "PAGE_SIZE=2",
    )
    assert result.returncode == 0, result.stderr
    # GDAL translated the WHERE clause to CQL and the server did the filtering (and paged with next links).
    assert "filter=" in result.stderr and "filter-lang=cql-text" in result.stderr
    assert "offset=2" in result.stderr  # the second page, through the next link
    features = json.loads(out.read_text())["features"]
    assert sorted(f["properties"]["pupils"] for f in features) == [120, 610, 800]


def test_geopandas_reads_an_items_url(served):
    import geopandas

    frame = geopandas.read_file(f"{served}/ogc/collections/schools/items?limit=100&sortby=-pupils")
    assert len(frame) == 7 and frame.iloc[0]["pupils"] == 800
    assert frame.geometry.geom_type.unique().tolist() == ["Point"]
    assert frame.total_bounds[0] > 108 and frame.total_bounds[3] < 12.5


def test_anonymous_gdal_cannot_open_a_private_collection(served):
    result = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{served}/ogc", "household-businesses")
    assert result.returncode != 0 or "Tạp hóa" not in result.stdout
