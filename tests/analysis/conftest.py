"""Fixtures of the analysis tests: a small population raster over the district, and running analyses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from gis_ioc.models import AdminUnit

DENSITY = 100.0  # people per km², everywhere: a commune's population is 100 × its area in km²


def write_raster(path: Path, data: np.ndarray, transform, crs: str = "EPSG:5899", nodata: float = -9999.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data.astype("float32"), 1)
    return path


def district_grid(pixel: float = 50.0, margin: float = 500.0):
    """Transform and shape of a TM-3 (EPSG:5899) grid covering the current communes."""
    ext = None
    for unit in AdminUnit.objects.current().communes():
        e = unit.geom.transform(5899, clone=True).extent
        ext = e if ext is None else (min(ext[0], e[0]), min(ext[1], e[1]), max(ext[2], e[2]), max(ext[3], e[3]))
    minx, miny, maxx, maxy = ext[0] - margin, ext[1] - margin, ext[2] + margin, ext[3] + margin
    width, height = int(np.ceil((maxx - minx) / pixel)), int(np.ceil((maxy - miny) / pixel))
    return from_origin(minx, maxy, pixel, pixel), (height, width)


@pytest.fixture
def population_raster(district, tmp_path, settings):
    """A constant-density population raster registered as the catalog's `population-density` layer."""
    from layers.models import Layer

    settings.MEDIA_ROOT = tmp_path
    transform, shape = district_grid()
    write_raster(tmp_path / "rasters" / "population-density.tif", np.full(shape, DENSITY), transform)
    Layer.objects.update_or_create(
        slug="population-density",
        defaults={
            "title_vi": "Mật độ dân số",
            "title_en": "Population density",
            "kind": "raster",
            "raster_path": "rasters/population-density.tif",
            "visibility": "staff",
            "style": {"colormap": "viridis", "rescale": [0, 500]},
        },
    )
    return tmp_path / "rasters" / "population-density.tif"


def run_now(user, kind: str, params: dict):
    """Start an analysis as a user and run its job in this process; returns the finished record."""
    from analysis import runner, service

    analysis = service.start(user, kind, params)
    return runner.execute(analysis.pk)
