"""Raster layers: GeoTIFF → Cloud-Optimized GeoTIFF (rio-cogeo), catalog registration, PNG tiles with a
colour map and rescaling, and point values (rio-tiler).

A COG is tiled and carries overviews, so a web-map tile at any zoom reads only the few internal blocks
it needs: no pre-rendered pyramid is kept for the web map (MapProxy keeps one for WMS/WMTS clients).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from rasterio.errors import RasterioIOError
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles
from rio_tiler.colormap import cmap
from rio_tiler.errors import PointOutsideBounds, TileOutsideBounds
from rio_tiler.io import Reader

TILE_SIZE = 256
# 256×256 fully transparent PNG: what an out-of-coverage tile is (MapProxy treats 204 as an error).
_EMPTY_PNG: bytes | None = None


def _hillshade_colormap() -> dict[int, tuple[int, int, int, int]]:
    """Shading drawn over coloured maps: slopes facing away from the light darken (black, more opaque the
    darker), slopes facing it lighten (white), flat ground (gdaldem's ~180) stays clear; 0 is nodata."""
    flat = 180
    ramp: dict[int, tuple[int, int, int, int]] = {0: (0, 0, 0, 0)}
    for value in range(1, 256):
        if value < flat:
            ramp[value] = (0, 0, 0, round(170 * (flat - value) / flat))
        else:
            ramp[value] = (255, 255, 255, round(110 * (value - flat) / (255 - flat)))
    return ramp


# Colour maps of the project, beside rio-tiler's named ones (a layer's style names either).
LOCAL_COLORMAPS: dict[str, dict[int, tuple[int, int, int, int]]] = {"hillshade": _hillshade_colormap()}


def colormap(name: str) -> Any:
    """The colour map a layer's style names: the project's own, else rio-tiler's."""
    return LOCAL_COLORMAPS.get(name) or cmap.get(name)


def colormap_names() -> list[str]:
    """Every colour map a raster layer may use."""
    return [*LOCAL_COLORMAPS, *cmap.list()]


class RasterError(ValueError):
    """A raster file that cannot be used (not a GeoTIFF, no CRS, unreadable): the message says why."""


def check_geotiff(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Open a file and make sure it is a georeferenced GeoTIFF; returns its profile. RasterError if not."""
    name = Path(path).name
    try:
        with rasterio.open(path) as src:
            if src.driver != "GTiff":
                raise RasterError(
                    _("Tệp %(name)s là %(driver)s, không phải GeoTIFF.") % {"name": name, "driver": src.driver}
                )
            if src.crs is None:
                raise RasterError(
                    _("Tệp %(name)s không có hệ toạ độ (CRS); hãy gán CRS trước khi tải lên.") % {"name": name}
                )
            return dict(src.profile)
    except RasterioIOError as exc:
        raise RasterError(_("Tệp %(name)s không phải ảnh GeoTIFF đọc được.") % {"name": name}) from exc


def make_cog(src_path: str | os.PathLike[str], dst_path: str | os.PathLike[str]) -> Path:
    """Convert a GeoTIFF to a Cloud-Optimized GeoTIFF (deflate, internal tiles, overviews), atomically."""
    check_geotiff(src_path)
    dst = Path(dst_path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, suffix=".tif", prefix=".cog-")
    os.close(fd)
    try:
        profile = cog_profiles.get("deflate")
        cog_translate(str(src_path), tmp, profile, in_memory=False, quiet=True, overview_resampling="average")
        valid, errors, _warnings = cog_validate(tmp)
        if not valid:
            raise RasterError("; ".join(errors))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; web servers and the MapProxy container read it
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dst


def band_range(path: str | os.PathLike[str]) -> tuple[float, float]:
    """(min, max) of band 1, nodata excluded (the default rescale of a new layer)."""
    with rasterio.open(path) as src:
        data = src.read(1, masked=True, out_shape=(min(src.height, 1024), min(src.width, 1024)))
    if data.count() == 0:
        return 0.0, 1.0
    return float(data.min()), float(data.max())


def register_cog(src_path: str | os.PathLike[str], slug: str, title_vi: str, title_en: str, **options: Any) -> Any:
    """Store a GeoTIFF as MEDIA_ROOT/rasters/<slug>.tif (COG) and create or update its catalog layer.

    Options are those of `register_layer` (colormap, rescale, unit, visibility, allowed_roles, …).
    RasterError for a file that is not a georeferenced GeoTIFF or an unknown colour map.
    """
    if options.get("colormap", "viridis") not in colormap_names():
        raise RasterError(_("Không có bảng màu “%(name)s”.") % {"name": options["colormap"]})
    relative = Path("rasters") / f"{slug}.tif"
    make_cog(src_path, Path(settings.MEDIA_ROOT) / relative)
    return register_layer(slug, relative, title_vi, title_en, **options)


def register_layer(
    slug: str,
    relative_path: str | os.PathLike[str],
    title_vi: str,
    title_en: str,
    *,
    colormap: str = "viridis",
    rescale: tuple[float, float] | list[float] | None = None,
    unit: str = "",
    visibility: str = "public",
    allowed_roles: list[str] | None = None,
    description_vi: str = "",
    description_en: str = "",
    attribution: str = "",
    is_demo: bool = False,
    max_zoom: int = 18,
) -> Any:
    """Create or update the catalog entry of a COG already under MEDIA_ROOT (path relative to it)."""
    from layers.models import Layer

    path = Path(settings.MEDIA_ROOT) / relative_path
    lo, hi = (float(rescale[0]), float(rescale[1])) if rescale else band_range(path)
    with transaction.atomic():
        layer, _created = Layer.objects.update_or_create(
            slug=slug,
            defaults={
                "title_vi": title_vi,
                "title_en": title_en,
                "description_vi": description_vi,
                "description_en": description_en,
                "kind": Layer.Kind.RASTER,
                "raster_path": str(relative_path),
                "geometry_field": "",
                "geometry_type": "",
                "visibility": visibility,
                "allowed_roles": allowed_roles or [],
                "attribution": attribution,
                "style": {"colormap": colormap, "rescale": [lo, hi], "unit": unit},
                "legend": [{"colormap": colormap, "min": lo, "max": hi, "unit": unit}],
                "is_demo": is_demo,
                "max_zoom": max_zoom,
            },
        )
        layer.record_change()
    # MapProxy's pre-rendered tiles of the old file are stale now (on disk or on S3).
    from tiles.mapproxy import clear_cache

    clear_cache(slug)
    return layer


# --- serving --------------------------------------------------------------------------------------------
def cog_path(layer: Any) -> Path:
    """Absolute path of a raster layer's COG (catalog paths are relative to MEDIA_ROOT)."""
    path = Path(layer.raster_path)
    return path if path.is_absolute() else Path(settings.MEDIA_ROOT) / path


def empty_png() -> bytes:
    """A transparent 256×256 PNG."""
    global _EMPTY_PNG
    if _EMPTY_PNG is None:
        from rio_tiler.models import ImageData

        img = ImageData(np.zeros((1, TILE_SIZE, TILE_SIZE), dtype="uint8"))
        img.array.mask = True
        _EMPTY_PNG = img.render(img_format="PNG", add_mask=True)
    return _EMPTY_PNG


def render_png(layer: Any, z: int, x: int, y: int) -> bytes:
    """The PNG of one XYZ tile: band 1 rescaled to the layer's range, coloured with its colour map."""
    style = layer.style or {}
    lo, hi = style.get("rescale") or (0, 255)
    colours = colormap(style.get("colormap", "viridis"))
    try:
        with Reader(str(cog_path(layer))) as src:
            img = src.tile(x, y, z, tilesize=TILE_SIZE, indexes=1, resampling_method="bilinear")
    except TileOutsideBounds:
        return empty_png()
    img.rescale(in_range=((float(lo), float(hi)),), out_range=((0, 255),))
    return img.render(img_format="PNG", colormap=colours, add_mask=True)


@dataclass
class PointValue:
    value: float | None
    unit: str


def point_value(layer: Any, lon: float, lat: float) -> PointValue | None:
    """The raster value at a WGS84 point (value None on nodata), or None outside the raster."""
    try:
        with Reader(str(cog_path(layer))) as src:
            pt = src.point(lon, lat, indexes=1)
    except PointOutsideBounds:
        return None
    masked = bool(np.ma.getmaskarray(pt.array)[0])
    value = None if masked else round(float(pt.array.data[0]), 4)
    return PointValue(value, (layer.style or {}).get("unit", ""))
