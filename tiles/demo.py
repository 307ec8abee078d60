"""Demo rasters over the district, deterministic (seeded): elevation, slope, population density.

- Elevation: smooth terrain from seeded Gaussian hills and smoothed noise, scaled to 800–1,800 m over the
  district (Đơn Dương's plateau and ridges lie roughly in that band).
- Slope: derived from the elevation with the pixel size in metres (the grid is VN-2000 / TM-3 107-45,
  EPSG:5899, 50 m pixels), in degrees.
- Hillshade: the elevation shaded by `gdaldem hillshade` (light from several directions), the relief of the
  offline base map (tiles/styles.py `base_style_document`); drawn translucent over coloured layers.
- Population density (people per km²): each current commune's population spread over its pixels with a
  preference for low, gentle ground; the density summed over a commune's pixels times the pixel area
  equals the commune's population.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import rasterio
from django.conf import settings
from django.db import connection
from rasterio.features import rasterize
from rasterio.transform import from_origin
from scipy.ndimage import gaussian_filter

from tiles import rasters

SEED = 677
CRS = "EPSG:5899"
PIXEL = 50.0  # metres
MARGIN = 1_000.0  # metres around the district
NODATA = -9999.0
SLUGS = ("elevation", "slope", "population-density", "hillshade")
_COMMON = {"is_demo": True, "attribution": "Dữ liệu mẫu / demo data"}
# Catalog entries of the demo rasters (colour maps: sequential, readable with colour-vision deficiencies).
LAYERS: dict[str, dict[str, Any]] = {
    "elevation": {"title_vi": "Độ cao địa hình (mẫu)", "title_en": "Elevation (demo)", "colormap": "ylorbr",
                  "rescale": (800, 1800), "unit": "m"} | _COMMON,
    "slope": {"title_vi": "Độ dốc (mẫu)", "title_en": "Slope (demo)", "colormap": "magma", "rescale": (0, 30),
              "unit": "°"} | _COMMON,
    "population-density": {"title_vi": "Mật độ dân số (mẫu)", "title_en": "Population density (demo)",
                           "colormap": "viridis", "rescale": (0, 600), "unit": "người/km²"} | _COMMON,
    "hillshade": {"title_vi": "Địa hình bóng đổ (mẫu)", "title_en": "Hillshade (demo)", "colormap": "hillshade",
                  "rescale": (0, 255), "max_zoom": 16} | _COMMON,
}  # fmt: skip


def _grid(communes: list[Any]) -> tuple[Any, int, int, list[tuple[dict[str, Any], str]]]:
    """The 50 m grid over the communes (+1 km) in EPSG:5899, and the communes as GeoJSON in that CRS."""
    # PostGIS transforms all nine boundaries in one query (GDAL would build a PROJ pipeline per geometry).
    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, ST_AsGeoJSON(ST_Transform(geom, 5899)), ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT code, geom, ST_Transform(geom, 5899)::box2d AS e FROM gis_ioc_adminunit"
            " WHERE id = ANY(%s)) u",
            [[unit.pk for unit in communes]],
        )
        rows = {row[0]: row for row in cur.fetchall()}
    shapes = [(json.loads(rows[unit.code][1]), unit.code) for unit in communes]
    minx = min(r[2] for r in rows.values()) - MARGIN
    miny = min(r[3] for r in rows.values()) - MARGIN
    maxx = max(r[4] for r in rows.values()) + MARGIN
    maxy = max(r[5] for r in rows.values()) + MARGIN
    width, height = int(np.ceil((maxx - minx) / PIXEL)), int(np.ceil((maxy - miny) / PIXEL))
    return from_origin(minx, maxy, PIXEL, PIXEL), width, height, shapes


def elevation_surface(height: int, width: int, inside: np.ndarray) -> np.ndarray:
    """Seeded smooth terrain scaled to 800–1,800 m over the `inside` pixels."""
    rng = np.random.default_rng(SEED)
    yy, xx = np.mgrid[0:height, 0:width].astype("float64")
    field = 0.6 * (yy / height) + 0.3 * (1 - xx / width)  # higher to the south-west ridges
    for _ in range(45):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        sigma = rng.uniform(8, 60)  # pixels: 0.4–3 km hills
        amp = rng.uniform(-0.35, 0.8)
        # Only within 4 sigma: beyond it the hill adds less than 0.04 % of its height.
        r = int(4 * sigma)
        y0, y1, x0, x1 = max(0, int(cy) - r), min(height, int(cy) + r), max(0, int(cx) - r), min(width, int(cx) + r)
        dy, dx = yy[y0:y1, x0:x1] - cy, xx[y0:y1, x0:x1] - cx
        field[y0:y1, x0:x1] += amp * np.exp(-(dy * dy + dx * dx) / (2 * sigma**2))
    field += 1.5 * gaussian_filter(rng.standard_normal((height, width)), sigma=12)
    field = gaussian_filter(field, sigma=2)
    lo, hi = field[inside].min(), field[inside].max()
    return 800.0 + (field - lo) / (hi - lo) * 1000.0


def slope_degrees(elevation: np.ndarray, pixel_m: float = PIXEL) -> np.ndarray:
    """Slope in degrees from an elevation grid with square pixels of `pixel_m` metres."""
    dzdy, dzdx = np.gradient(elevation, pixel_m)
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


def density_surface(
    labels: np.ndarray, populations: dict[int, int], elevation: np.ndarray, slope: np.ndarray, pixel_km2: float
) -> np.ndarray:
    """People per km² such that, per commune label, sum(density) × pixel area = its population."""
    rng = np.random.default_rng(SEED + 1)
    weight = np.exp(-slope / 6.0) * np.exp(-(elevation - 800.0) / 350.0)
    weight *= 0.3 + gaussian_filter(rng.random(labels.shape), sigma=4) * 2  # hamlets
    density = np.zeros(labels.shape, dtype="float64")
    for label, population in populations.items():
        cells = labels == label
        total = weight[cells].sum()
        if total > 0:
            density[cells] = population * weight[cells] / total / pixel_km2
    return density


def _write(path: Path, data: np.ndarray, transform: Any, mask: np.ndarray) -> None:
    out = np.where(mask, data, NODATA).astype("float32")
    profile = {
        "driver": "GTiff",
        "height": out.shape[0],
        "width": out.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": CRS,
        "transform": transform,
        "nodata": NODATA,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(out, 1)


def hillshade(elevation: Path, out: Path) -> Path:
    """Shade an elevation GeoTIFF with GDAL's gdaldem (bytes 1–255, 0 = nodata), for the base map's relief."""
    # -multidirectional: light from four directions, so no valley vanishes in a single shadow; -z 2 lifts the
    # plateau's gentle slopes (50 m pixels, a few hundred metres of relief) enough to read at district zoom.
    subprocess.run(
        ["gdaldem", "hillshade", "-q", "-multidirectional", "-z", "2", "-compute_edges", str(elevation), str(out)],
        check=True,
    )
    return out


def build(out_dir: Path) -> dict[str, Path]:
    """Write the four plain GeoTIFFs into out_dir; returns slug -> path."""
    from gis_ioc.models import AdminUnit

    communes = list(AdminUnit.objects.current().communes().order_by("code"))
    if not communes:
        raise RuntimeError("load the demo communes first (manage.py load_demo --communes-only)")
    transform, width, height, shapes = _grid(communes)
    labels = rasterize(
        [(shape, i + 1) for i, (shape, _code) in enumerate(shapes)],
        out_shape=(height, width),
        transform=transform,
        fill=0,
        dtype="int32",
    )
    inside = labels > 0
    elevation = elevation_surface(height, width, inside)
    slope = slope_degrees(elevation)
    populations = {i + 1: unit.population() or 0 for i, unit in enumerate(communes)}
    density = density_surface(labels, populations, elevation, slope, PIXEL * PIXEL / 1e6)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {slug: out_dir / f"{slug}.src.tif" for slug in SLUGS}
    _write(paths["elevation"], elevation, transform, inside)
    _write(paths["slope"], slope, transform, inside)
    _write(paths["population-density"], density, transform, inside)
    hillshade(paths["elevation"], paths["hillshade"])
    return paths


def load(stdout: TextIO, reset: bool = False) -> None:
    """Build the demo rasters, convert them to COGs under MEDIA_ROOT/rasters/ and register the layers."""
    from layers.models import Layer

    if not reset and all(
        Layer.objects.filter(slug=s, kind="raster").exists()
        and (Path(settings.MEDIA_ROOT) / "rasters" / f"{s}.tif").exists()
        for s in SLUGS
    ):
        stdout.write("Raster mẫu đã có / demo rasters already loaded\n")
        return
    tmp = Path(settings.MEDIA_ROOT) / "rasters" / "src"
    paths = build(tmp)
    for slug, spec in LAYERS.items():
        rasters.register_cog(paths[slug], slug, **spec)
    for path in paths.values():
        path.unlink(missing_ok=True)
    tmp.rmdir()
    stdout.write("Đã tạo 4 raster mẫu (độ cao, độ dốc, mật độ dân số, bóng đổ) / 4 demo rasters\n")


def clear() -> None:
    """Remove the demo raster layers and their files."""
    from layers.models import Layer

    Layer.objects.filter(slug__in=SLUGS, is_demo=True).delete()
    for slug in SLUGS:
        (Path(settings.MEDIA_ROOT) / "rasters" / f"{slug}.tif").unlink(missing_ok=True)
