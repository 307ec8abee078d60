"""GeoTIFF uploads become Cloud-Optimised GeoTIFFs under MEDIA_ROOT/rasters/ and raster catalog layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _

from layers.importers.base import Importer, ImportOptions
from layers.importers.safety import ImportRefused
from layers.models import Layer


def commit_raster(importer: Importer, options: ImportOptions, user: Any = None) -> dict[str, Any]:
    """Translate to a COG (web-mercator-friendly overviews, deflate) and register a raster layer."""
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    if not options.target.startswith("new:"):
        raise ImportRefused(_("Ảnh GeoTIFF chỉ nhập thành lớp mới (new:<mã lớp>)."))
    slug = options.target[4:]
    if slugify(slug) != slug or not slug:
        raise ImportRefused(_("Mã lớp %(slug)s không hợp lệ.") % {"slug": slug})
    if Layer.objects.filter(slug=slug).exists():
        raise ImportRefused(_("Mã lớp %(slug)s đã được dùng.") % {"slug": slug})
    info = importer.info()
    if not info.declared_srid and not options.srid:
        raise ImportRefused(_("Ảnh GeoTIFF không có hệ toạ độ; hãy chọn mã EPSG."))
    rel = Path("rasters") / f"{slug}.tif"
    out = Path(settings.MEDIA_ROOT) / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    config = {"GDAL_NUM_THREADS": "ALL_CPUS"}
    cog_translate(importer.path, out, cog_profiles.get("deflate"), config=config, quiet=True, in_memory=False)
    rescale = _range(out)
    style = {"colormap": "viridis", "rescale": rescale}
    title = options.title or slug
    try:
        from tiles.rasters import register_cog  # the tiles app owns raster layers when it provides this
    except ImportError:
        register_cog = None
    if register_cog is not None:
        layer = register_cog(slug=slug, path=str(rel), title_vi=title, title_en=title, style=style)
    else:
        layer = Layer.objects.create(
            slug=slug,
            title_vi=title,
            title_en=title,
            kind=Layer.Kind.RASTER,
            raster_path=str(rel),
            style=style,
            visibility="staff",
            geometry_type="Raster",
            description_vi=_("Ảnh raster nhập từ tệp."),
        )
    return {
        "rows": info.count,
        "inserted": 1,
        "updated": 0,
        "rejected": 0,
        "issues": [],
        "repaired": [],
        "outside_district": [],
        "target": layer.slug,
        "raster_path": str(rel),
        "format": "geotiff",
        "srid": info.declared_srid or options.srid,
        "rejects_file": None,
    }


def _range(path: Path) -> list[float]:
    """2nd–98th percentile of band 1 (from an overview), a sensible default stretch."""
    import numpy as np
    import rasterio

    with rasterio.open(path) as src:
        ovr = src.overviews(1)
        factor = ovr[-1] if ovr else 1
        data = src.read(1, out_shape=(max(1, src.height // factor), max(1, src.width // factor)), masked=True)
    values = data.compressed() if hasattr(data, "compressed") else data.ravel()
    if values.size == 0:
        return [0.0, 1.0]
    lo, hi = np.percentile(values, [2, 98])
    return [float(lo), float(hi if hi > lo else lo + 1)]
