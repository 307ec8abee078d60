"""Landslide exposure of land parcels (issue 19, item 2): each parcel's mean slope from the slope raster
(a catalog raster layer, `slope` by default; the demo derives it from the elevation), stored on the parcel,
so the statistics `parcels_slope_15` / `parcels_slope_25` (and their area shares) count the parcels on steep
(15–25°) and very steep (25° or more) ground, the slope classes of Vietnamese land evaluation, where
cultivation and building need protection works against erosion and landslides.

The raster is read once; each parcel's slope is read at its point on surface (parcels are about one 50 m pixel:
see `compute`), written with one UPDATE per batch, and the change signal sent.
`manage.py parcel_slopes` runs it; `load_demo` runs it after the demo rasters.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from django.db import connection, transaction

STEEP_DEGREES = 15.0
BATCH = 20_000


def compute(slug: str = "slope", stdout: Any = None) -> int:
    """Every parcel's slope from the raster layer `slug` (degrees); returns the parcels written.

    Parcels are about the size of a 50 m pixel, so a zonal mean would give most of them no pixel of their own
    (a pixel belongs to one parcel when rasterised): the slope is read at the parcel's point on surface,
    bilinear between the four nearest pixels, in the raster's own CRS."""
    import numpy as np
    import rasterio
    from pyproj import Transformer

    from analysis.zonal import raster_path
    from layers.models import LandParcel, Layer

    path = raster_path(slug)
    written = 0
    started = time.monotonic()
    last_id = 0
    with rasterio.open(path) as src:
        band = src.read(1, masked=True).astype("float64").filled(np.nan)
        to_raster = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        inverse = ~src.transform
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) AS p FROM layers_landparcel "
                    "WHERE id > %s ORDER BY id LIMIT %s) q",
                    [last_id, BATCH],
                )
                rows = cursor.fetchall()
            if not rows:
                break
            ids = [r[0] for r in rows]
            x, y = to_raster.transform(np.array([r[1] for r in rows]), np.array([r[2] for r in rows]))
            col, row = inverse * (np.asarray(x), np.asarray(y))
            slopes = _bilinear(band, np.asarray(col) - 0.5, np.asarray(row) - 0.5)
            values = [None if np.isnan(v) else round(float(v), 2) for v in slopes]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE layers_landparcel p SET slope_deg = v.s FROM unnest(%s::int[], %s::float[]) AS v(id, s) "
                    "WHERE p.id = v.id",
                    [ids, values],
                )
            written += len(rows)
            last_id = ids[-1]
            if stdout is not None:
                stdout.write(f"    độ dốc thửa đất / parcel slopes: {written:,} ({time.monotonic() - started:.0f} s)")
    if written:
        Layer.objects.record_change(LandParcel)
    return written


def _bilinear(band: Any, col: Any, row: Any) -> Any:
    """Values at fractional pixel positions (pixel centres at integers); NaN outside or next to nodata."""
    import numpy as np

    height, width = band.shape
    c0, r0 = np.floor(col).astype(int), np.floor(row).astype(int)
    inside = (c0 >= 0) & (r0 >= 0) & (c0 + 1 < width) & (r0 + 1 < height)
    c0, r0 = np.where(inside, c0, 0), np.where(inside, r0, 0)
    fc, fr = col - c0, row - r0
    value = (
        band[r0, c0] * (1 - fc) * (1 - fr)
        + band[r0, c0 + 1] * fc * (1 - fr)
        + band[r0 + 1, c0] * (1 - fc) * fr
        + band[r0 + 1, c0 + 1] * fc * fr
    )
    return np.where(inside, value, np.nan)


def load(stdout: TextIO, reset: bool = False) -> None:
    """Demo step: the parcels' slopes, once the demo slope raster exists (skipped when already computed)."""
    from layers.models import LandParcel

    if not LandParcel.objects.exists() or (
        not reset and not LandParcel.objects.filter(slope_deg__isnull=True).exists()
    ):
        return
    from analysis.registry import AnalysisError

    try:
        count = compute(stdout=None)
    except AnalysisError as exc:  # a demo without the slope raster still loads; it says why
        stdout.write(f"  parcel-slopes          bỏ qua / skipped: {exc}")
        return
    steep = LandParcel.objects.filter(slope_deg__gte=STEEP_DEGREES).count()
    stdout.write(f"  parcel-slopes          {count:>8,} thửa / parcels, {steep:,} ≥ {STEEP_DEGREES:g}°")
