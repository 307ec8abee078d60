"""Coordinate systems of files without a declaration: WGS84, swapped axes, VN-2000 zones by range."""

from __future__ import annotations

import pytest
from django.db import connection

from layers.importers import crs


def test_don_duong_cadastral_metres_are_vn2000_lam_dong_first() -> None:
    guess = crs.guess_from_bounds((570_000, 1_287_000, 604_000, 1_324_000))
    assert (guess.srid, guess.source, guess.swapped) == (5899, "guessed", False)
    assert {5896, 5897, 5898, 3405, 3406, 9205, 9218} <= set(guess.candidates)


def test_northing_first_surveyor_order_is_seen_as_swapped() -> None:
    guess = crs.guess_from_bounds((1_287_000, 570_000, 1_324_000, 604_000))
    assert (guess.srid, guess.swapped) == (5899, True)


def test_degrees_in_vietnam_are_wgs84_and_swapped_degrees_are_noticed() -> None:
    assert crs.guess_from_bounds((108.39, 11.63, 108.70, 11.97)).srid == 4326
    swapped = crs.guess_from_bounds((11.63, 108.39, 11.97, 108.70))
    assert (swapped.srid, swapped.swapped) == (4326, True)


def test_numbers_that_fit_no_vietnamese_system_are_unknown() -> None:
    assert crs.guess_from_bounds((5_000_000, 5_000_000, 5_100_000, 5_100_000)).srid is None


def test_an_esri_prj_of_the_lam_dong_zone_is_recognised() -> None:
    from pyproj import CRS

    assert crs.epsg_of(CRS.from_epsg(5899).to_wkt("WKT1_ESRI")) == 5899
    assert crs.epsg_of("EPSG:4326") == 4326 and crs.epsg_of("nonsense") is None


@pytest.mark.django_db
def test_a_tm3_zone_missing_from_postgis_is_added_with_the_datum_shift() -> None:
    crs.ensure_srid(9210)
    with connection.cursor() as cur:
        cur.execute("SELECT proj4text FROM spatial_ref_sys WHERE srid = 9210")
        proj4 = cur.fetchone()[0]
        cur.execute("SELECT ST_X(ST_Transform(ST_SetSRID(ST_MakePoint(500000, 1300000), 9210), 4326))")
        lon = cur.fetchone()[0]
    assert "towgs84=-191.90441429" in proj4 and lon == pytest.approx(105.75, abs=0.01)
