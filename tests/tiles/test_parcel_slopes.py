"""Landslide exposure (issue 19, item 2): each parcel's slope is read from the slope raster at the parcel, and
the statistics count the parcels on steep ground from it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import rasterio
from django.core.management import CommandError, call_command
from pyproj import Transformer

from analysis.zonal import raster_path
from layers import landslide, statistics
from layers.models import LandParcel
from tests.factories import LandParcelFactory

pytestmark = pytest.mark.django_db


def test_each_parcel_gets_the_slope_under_it_and_the_statistics_count_the_steep_ones(demo_rasters):
    parcels = [LandParcelFactory(in_commune=code) for code in ("24931", "24934", "24949", "24934")]
    assert landslide.compute() == len(parcels)
    with rasterio.open(raster_path("slope")) as src:
        to_raster = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        for parcel in LandParcel.objects.filter(pk__in=[p.pk for p in parcels]):
            point = parcel.geom.point_on_surface
            x, y = to_raster.transform(point.x, point.y)
            row, col = src.index(x, y)
            window = src.read(1, window=((row - 1, row + 2), (col - 1, col + 2)))
            # Bilinear between neighbouring pixels: within the 3×3 pixels around the point.
            assert window.min() - 0.01 <= parcel.slope_deg <= window.max() + 0.01
    steep = LandParcel.objects.filter(slope_deg__gte=15).count()
    day = dt.date.today()
    assert statistics.district_value("parcels_slope_15", day, day) == steep
    share = statistics.district_value("parcel_area_slope_15_share", day, day)
    assert share == pytest.approx(100.0 * steep / len(parcels))  # equal areas in the factory
    assert not np.isnan(share)


def test_without_the_slope_raster_the_command_says_which_layer_is_missing(district):
    LandParcelFactory()
    with pytest.raises(CommandError, match="no-such-slope"):
        call_command("parcel_slopes", "--raster", "no-such-slope")
    assert LandParcel.objects.filter(slope_deg__isnull=False).count() == 0
