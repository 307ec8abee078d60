"""Raster tiles (PNG XYZ), point values, and GeoTIFF upload into the catalog."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gis_ioc import permissions, roles
from gis_ioc.lib.errors import without_paths
from tiles import mapproxy, mvt, rasters
from tiles.mvt import TileError
from tiles.views import _check_zoom, _layer, error


def _raster_layer(request: HttpRequest, slug: str) -> Any:
    """A raster layer the caller may see. MapProxy fetching tiles for Django's own /mapproxy/ mount
    presents the service token; /mapproxy/ itself enforces the user's rights."""
    from layers.models import Layer

    token = request.headers.get("X-IOC-Service-Token", "")
    if token and hmac.compare_digest(token, mapproxy.service_token()):
        layer = Layer.objects.filter(slug=slug, kind="raster").first()
        if layer is None:
            raise TileError(404, _("Không có lớp bản đồ “%(slug)s”.") % {"slug": slug})
    else:
        layer = _layer(slug, request.user, kind="raster")
    if not layer.raster_path or not rasters.cog_path(layer).exists():
        raise TileError(404, _("Lớp %(slug)s chưa có tệp raster.") % {"slug": slug})
    return layer


@require_GET
def raster_tile(request: HttpRequest, slug: str, z: str, x: str, y: str) -> HttpResponse:
    """/tiles/raster/{slug}/{z}/{x}/{y}.png"""
    try:
        tile = mvt.parse_tile(z, x, y)
        layer = _raster_layer(request, slug)
        _check_zoom(layer, tile)
    except TileError as exc:
        return error(exc)
    png = rasters.render_png(layer, tile.z, tile.x, tile.y)
    etag = '"' + hashlib.blake2b(png, digest_size=12).hexdigest() + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(png, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = ("public" if layer.visibility == "public" else "private") + ", max-age=300"
    return response


def _coordinate(params: Any, name: str, limit: float) -> float:
    raw = params.get(name, "")
    try:
        value = float(raw)
    except ValueError:
        raise TileError(400, _("Thiếu hoặc sai tham số %(name)s (số thập phân, độ).") % {"name": name}) from None
    if not math.isfinite(value) or abs(value) > limit:
        raise TileError(
            400, _("%(name)s=%(value)s nằm ngoài ±%(limit)s°.") % {"name": name, "value": raw, "limit": limit}
        )
    return value


@require_GET
def point(request: HttpRequest, slug: str) -> HttpResponse:
    """/tiles/raster/{slug}/point?lon=&lat= — the value under a WGS84 point."""
    try:
        lon = _coordinate(request.GET, "lon", 180)
        lat = _coordinate(request.GET, "lat", 90)
        layer = _raster_layer(request, slug)
    except TileError as exc:
        return error(exc)
    found = rasters.point_value(layer, lon, lat)
    if found is None:
        return JsonResponse(
            {
                "detail": _("Điểm (%(lon)s, %(lat)s) nằm ngoài vùng phủ của lớp %(slug)s.")
                % {"lon": lon, "lat": lat, "slug": slug}
            },
            status=404,
        )
    return JsonResponse({"layer": slug, "lon": lon, "lat": lat, "value": found.value, "unit": found.unit})


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """POST /tiles/raster/upload (multipart: file, slug, title_vi, title_en[, colormap, rescale_min, rescale_max])
    — GIS staff add a GeoTIFF to the catalog as a COG. Anything but a georeferenced GeoTIFF is a 400."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Cần đăng nhập.")}, status=401)
    if not permissions.has_role(request.user, roles.GIS_STAFF):
        return JsonResponse({"detail": _("Chỉ cán bộ GIS được thêm lớp raster.")}, status=403)
    upload_file = request.FILES.get("file")
    slug = request.POST.get("slug", "")
    if upload_file is None:
        return JsonResponse({"detail": _("Thiếu tệp (trường file).")}, status=400)
    cap = settings.IOC_RASTER_UPLOAD_MAX_BYTES  # the request was already capped (gis_ioc.uploads); this is the file
    assert upload_file.size is not None  # Django's upload handlers set it once the file is read
    if upload_file.size > cap:
        return JsonResponse(
            {"detail": _("Tệp raster vượt giới hạn %(limit)d MB.") % {"limit": cap // 2**20}}, status=413
        )
    if not SLUG.match(slug):
        return JsonResponse({"detail": _("Mã lớp (slug) chỉ gồm chữ thường, số và dấu gạch ngang.")}, status=400)
    visibility = request.POST.get("visibility") or "staff"
    if visibility not in {"public", "staff"}:
        return JsonResponse({"detail": _("visibility phải là public hoặc staff.")}, status=400)
    rescale = None
    if request.POST.get("rescale_min") and request.POST.get("rescale_max"):
        try:
            rescale = (float(request.POST["rescale_min"]), float(request.POST["rescale_max"]))
        except ValueError:
            return JsonResponse({"detail": _("rescale_min/rescale_max phải là số.")}, status=400)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.tif"
        with path.open("wb") as fh:
            for chunk in upload_file.chunks():
                fh.write(chunk)
        try:
            layer = rasters.register_cog(
                path,
                slug,
                request.POST.get("title_vi") or slug,
                request.POST.get("title_en") or slug,
                colormap=request.POST.get("colormap") or "viridis",
                rescale=rescale,
                visibility=visibility,
            )
        except rasters.RasterError as exc:
            shown = without_paths(str(exc), {path.name: upload_file.name or path.name})
            return JsonResponse({"detail": f"{upload_file.name}: {shown}"}, status=400)
    return JsonResponse(
        {"slug": layer.slug, "tilejson": request.build_absolute_uri(f"/tiles/{layer.slug}.json")}, status=201
    )
