"""Vector tiles, composite tiles, TileJSON and the MapLibre style.

Order of checks in every tile view: coordinates (no database), then the layer and the user's right to
see it (a private layer is 404, as if absent), then the filters, then the cache, then the tile SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from django.db import ProgrammingError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from isal import igzip

from gis_ioc import permissions, replica
from layers import catalog_cache
from tiles import cache, conf, mvt, styles
from tiles.models import TileCacheState
from tiles.mvt import Tile, TileError, TileFilters

MVT_TYPE = "application/vnd.mapbox-vector-tile"
# gzip through ISA-L (python-isal: a gzip-compatible deflate in SIMD assembly, wheels for every platform
# we ship on). Its level 3 on the benchmark's parcel tiles (197 KB raw on average): 0.9 ms per tile and
# 81.6 KB, against 6.0 ms and 80.3 KB for zlib level 1 (11.2 ms at zlib level 6) — the same bytes on the
# wire within 2 %, at a sixth of the CPU. Any gzip decoder reads it (RFC 1952).
GZIP_LEVEL = 3


def gzip_compress(data: bytes) -> bytes:
    """gzip bytes of a tile (RFC 1952, ISA-L)."""
    return igzip.compress(data, GZIP_LEVEL)


def gzip_decompress(data: bytes) -> bytes:
    """The bytes of a gzip member (ISA-L's inflate, faster than zlib's)."""
    return igzip.decompress(data)


def error(exc: TileError) -> JsonResponse:
    """A 4xx with a message a person can act on."""
    return JsonResponse({"detail": exc.message}, status=exc.status)


def _layer(slug: str, user: Any, kind: str | None = "vector") -> Any:
    """The catalog layer this user may see, with its cache state, or TileError(404)."""
    layer = catalog_cache.current(slug)
    if layer is None or (kind and layer.kind != kind) or not permissions.can_view_layer(user, layer):
        # Same answer for "absent" and "not yours": the catalog does not leak private layer names.
        raise TileError(404, _("Không có lớp bản đồ “%(slug)s”.") % {"slug": slug})
    return layer


def _check_zoom(layer: Any, tile: Tile) -> None:
    if not layer.min_zoom <= tile.z <= layer.max_zoom:
        raise TileError(
            404,
            _("Lớp %(slug)s chỉ có ô ở mức thu phóng %(min)s–%(max)s.")
            % {"slug": layer.slug, "min": layer.min_zoom, "max": layer.max_zoom},
        )


def layer_tile_gz(layer: Any, user: Any, tile: Tile, filters: TileFilters) -> tuple[bytes, str]:
    """One layer's tile as gzip bytes (b"" when empty), from the cache or the database; and HIT/MISS."""
    fields = permissions.visible_fields(user, layer, "tiles")
    if not conf.cache_enabled():
        raw = mvt.render_tile(layer, user, tile, filters, fields)
        return (gzip_compress(raw) if raw else b""), "BYPASS"
    state = cache.state_for(layer)
    path = cache.tile_path(layer, state, cache.visibility_class(user, fields), filters, tile)
    cached = cache.read(path)
    if cached is not None:
        return cached, "HIT"
    purges_seen = state.purges
    cacheable = replica.may_cache()  # never cache a tile read from a replica behind an edit
    raw = mvt.render_tile(layer, user, tile, filters, fields)
    data = gzip_compress(raw) if raw else b""
    if cacheable:
        cache.write(path, data, layer, purges_seen)
    return data, "MISS"


def tile_response(request: HttpRequest, data_gz: bytes, x_cache: str, public: bool) -> HttpResponse:
    """204 for an empty tile; else the tile, gzip-encoded if the client accepts it, with ETag."""
    if not data_gz:
        response = HttpResponse(status=204)
        response["X-Cache"] = x_cache
        return response
    etag = '"' + hashlib.blake2b(data_gz, digest_size=12).hexdigest() + '"'
    cache_control = f"{'public' if public else 'private'}, " + (
        f"max-age={conf.max_age()}" if conf.max_age() else "no-cache"
    )
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(data_gz, content_type=MVT_TYPE)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip_decompress(data_gz), content_type=MVT_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["Vary"] = "Accept-Encoding, Cookie, Authorization"
    response["X-Cache"] = x_cache
    if public:
        response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def vector_tile(request: HttpRequest, slug: str, z: str, x: str, y: str) -> HttpResponse:
    """/tiles/{slug}/{z}/{x}/{y}.mvt"""
    try:
        tile = mvt.parse_tile(z, x, y)
        served = _tile_from_known_layer(request, slug, tile)
        if served is None:
            layer = _layer(slug, request.user)
            _check_zoom(layer, tile)
            filters = mvt.parse_filters(request.GET, layer)
            data, x_cache = layer_tile_gz(layer, request.user, tile, filters)
        else:
            layer, data, x_cache = served
    except TileError as exc:
        return error(exc)
    return tile_response(request, data, x_cache, public=layer.visibility == "public")


@require_GET
def vector_png(request: HttpRequest, slug: str, z: str, x: str, y: str) -> HttpResponse:
    """/tiles/{slug}/{z}/{x}/{y}.png : the vector tile drawn in the layer's style (tiles/render.py), with the
    same policy, filters (`datetime=`, communes, plan) and errors as the .mvt beside it."""
    from tiles.render import render_png

    try:
        tile = mvt.parse_tile(z, x, y)
        layer = _layer(slug, request.user)
        _check_zoom(layer, tile)
        filters = mvt.parse_filters(request.GET, layer)
        png, x_cache = render_png(layer, request.user, tile, filters)
    except TileError as exc:
        return error(exc)
    etag = '"' + hashlib.blake2b(png, digest_size=12).hexdigest() + '"'
    response = HttpResponse(status=304) if etag in request.headers.get("If-None-Match", "") else None
    response = response or HttpResponse(png, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = f"{'public' if layer.visibility == 'public' else 'private'}, no-cache"
    response["Vary"] = "Cookie, Authorization"
    response["X-Cache"] = x_cache
    return response


def _tile_from_known_layer(request: HttpRequest, slug: str, tile: Tile) -> tuple[Any, bytes, str] | None:
    """The tile in one round trip, from this process's copy of the layer (layers.catalog_cache); None when the
    copy cannot decide alone, and the caller takes the checked path.

    Same checks in the same order as the checked path, on the copy; then the database confirms the copy
    in the statement that does the work: the tile query itself (guarded by the row hash) for a tile not
    in the cache, the hash query for a cached one. None for: no copy yet, a refusal or a 4xx (decided on
    the current row), a cache state needing a new generation, a changed row, SQL the current catalog no
    longer fits (an imported table re-created with other columns).
    """
    known = catalog_cache.known(slug)
    if known is None:
        return None
    stamp, layer = known
    user = request.user
    if layer.kind != "vector" or not permissions.can_view_layer(user, layer):
        return None
    if not layer.min_zoom <= tile.z <= layer.max_zoom:
        return None
    try:
        filters = mvt.parse_filters(request.GET, layer)
    except TileError:
        return None
    fields = permissions.visible_fields(user, layer, "tiles")
    path, purges_seen = None, 0
    if conf.cache_enabled():
        try:
            state = layer.tile_cache_state
        except TileCacheState.DoesNotExist:
            return None
        if state.synced_version != layer.version:
            return None
        path = cache.tile_path(layer, state, cache.visibility_class(user, fields), filters, tile)
        cached = cache.read(path)
        if cached is not None:
            return (layer, cached, "HIT") if catalog_cache.is_current(slug, stamp) else None
        purges_seen = state.purges
    cacheable = path is not None and replica.may_cache()  # as in layer_tile_gz
    try:
        # In a caller's transaction (tests) a failed statement must not break it: a savepoint then.
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            raw = mvt.render_tile_if(catalog_cache.guard(slug, stamp), layer, user, tile, filters, fields)
    except ProgrammingError:
        return None
    if raw is None:
        return None
    data = gzip_compress(raw) if raw else b""
    if path is None:
        return layer, data, "BYPASS"
    if cacheable:
        cache.write(path, data, layer, purges_seen)
    return layer, data, "MISS"


@require_GET
def composite_tile(request: HttpRequest, z: str, x: str, y: str) -> HttpResponse:
    """/tiles/composite/{z}/{x}/{y}.mvt?layers=a,b — several layers in one tile.

    An MVT tile is a sequence of layer messages, so the composite is the concatenation of each layer's
    own (cached) tile. Layers outside their zoom range are left out rather than failing the whole tile.
    """
    try:
        tile = mvt.parse_tile(z, x, y)
        slugs = [s.strip() for s in request.GET.get("layers", "").split(",") if s.strip()]
        if not slugs:
            raise TileError(400, _("Thiếu tham số layers (danh sách mã lớp, cách nhau bởi dấu phẩy)."))
        if len(slugs) > 20:
            raise TileError(400, _("Tối đa 20 lớp trong một ô ghép."))
        layers = [_layer(slug, request.user) for slug in dict.fromkeys(slugs)]
        filters = mvt.parse_filters(request.GET)
        parts, states = [], set()
        for layer in layers:
            if not layer.min_zoom <= tile.z <= layer.max_zoom:
                continue
            data, x_cache = layer_tile_gz(layer, request.user, tile, _applicable(filters, layer))
            states.add(x_cache)
            if data:
                parts.append(gzip_decompress(data))
    except TileError as exc:
        return error(exc)
    joined = b"".join(parts)
    x_cache = "HIT" if states == {"HIT"} else ("MISS" if states else "NONE")
    public = all(layer.visibility == "public" for layer in layers)
    return tile_response(request, gzip_compress(joined) if joined else b"", x_cache, public)


def _applicable(filters: TileFilters, layer: Any) -> TileFilters:
    """The composite's filters narrowed to what a layer has (a date range does not apply to schools)."""
    source = mvt.layer_source(layer)
    return TileFilters(
        communes=filters.communes if source.commune_column else (),
        plan=filters.plan if source.plan_column else None,
        start=filters.start if source.temporal_column else None,
        end=filters.end if source.temporal_column else None,
    )


@require_GET
def tilejson(request: HttpRequest, slug: str) -> HttpResponse:
    """/tiles/{slug}.json — TileJSON 3.0.0 (vector or raster)."""
    try:
        layer = _layer(slug, request.user, kind=None)
        if layer.kind == "vector":
            mvt.layer_source(layer)  # 404 for a layer without geometry
        filters = mvt.parse_filters(request.GET, layer) if layer.kind == "vector" else None
    except TileError as exc:
        return error(exc)
    response = JsonResponse(
        styles.tilejson(request, layer, request.user, filters), json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def style(request: HttpRequest) -> HttpResponse:
    """/tiles/style.json — the MapLibre style of every layer the user may see."""
    response = JsonResponse(styles.style_document(request, request.user), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def base_style(request: HttpRequest) -> HttpResponse:
    """/tiles/basemap/style.json — the offline base map every map page draws its layers on."""
    response = JsonResponse(
        styles.base_style_document(request, request.user), json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "private, no-cache"
    return response
