"""GeoTIFF uploads become Cloud-Optimised GeoTIFF raster layers, through the tiles app's `register_cog`
(which owns raster storage under MEDIA_ROOT/rasters/ and the raster catalog entries)."""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from layers.importers.base import Importer, ImportOptions
from layers.importers.safety import ImportRefused
from layers.models import Layer


def commit_raster(importer: Importer, options: ImportOptions, user: Any = None) -> dict[str, Any]:
    """Translate the GeoTIFF to a COG and register a (staff-only) raster layer for it."""
    from tiles.rasters import RasterError, register_cog

    if not options.target.startswith("new:"):
        raise ImportRefused(_("Ảnh GeoTIFF chỉ nhập thành lớp mới (new:<mã lớp>)."))
    slug = options.target[4:]
    if not slug or slugify(slug) != slug:
        raise ImportRefused(_("Mã lớp %(slug)s không hợp lệ.") % {"slug": slug})
    if Layer.objects.filter(slug=slug).exists():
        raise ImportRefused(_("Mã lớp %(slug)s đã được dùng.") % {"slug": slug})
    info = importer.info()
    if not info.declared_srid:
        raise ImportRefused(_("Ảnh GeoTIFF không có hệ toạ độ (thiếu thông tin georeference)."))
    title = options.title or slug
    try:
        layer = register_cog(
            importer.path,
            slug,
            title,
            title,
            visibility="staff",
            description_vi=_("Ảnh raster nhập từ tệp %(name)s.") % {"name": importer.path.name},
        )
    except RasterError as exc:
        raise ImportRefused(str(exc)) from exc
    return {
        "rows": info.count,
        "inserted": 1,
        "updated": 0,
        "rejected": 0,
        "issues": [],
        "repaired": [],
        "outside_district": [],
        "target": layer.slug,
        "raster_path": layer.raster_path,
        "format": "geotiff",
        "srid": info.declared_srid,
        "rejects_file": None,
    }
