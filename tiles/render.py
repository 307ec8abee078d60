"""Vector layers drawn as PNG tiles: what MapProxy (which cannot read vector tiles) reprojects and caches
for WMS/WMTS clients such as QGIS.

A PNG tile is drawn from the layer's vector tile for the same user and filters (`tiles.views.layer_tile_gz`),
so it inherits everything that tile already obeys — the one layer source, the policy (fields, commune scope),
validity by date (`datetime=`), and the tile cache with its purges by the one change signal — and only adds
the drawing, in the layer's catalog style (`tiles.styles.colour_for`, the same rules as the MapLibre style).

MapProxy's caches are shared by every user, so MapProxy asks for these tiles as nobody in particular: only
public vector layers are published there (tiles.mapproxy); private ones stay on the per-user channels.
"""

from __future__ import annotations

import io
from typing import Any

import mapbox_vector_tile
from PIL import Image, ImageColor, ImageDraw

from tiles.mvt import EXTENT, Tile, TileFilters
from tiles.styles import colour_for, outline_colour

SIZE = 256
# Drawn at twice the size, then reduced: smooth edges without a vector renderer.
SUPERSAMPLE = 2
POINT_RADIUS = 4.0
LINE_WIDTH = 2.0


def _rgba(colour: str, opacity: float = 1.0) -> tuple[int, int, int, int]:
    try:
        r, g, b = ImageColor.getrgb(colour)[:3]
    except ValueError:  # a colour the catalog spelled in a way PIL does not read: the default blue
        r, g, b = 0, 114, 178
    return r, g, b, round(255 * max(0.0, min(1.0, opacity)))


def _rings(geometry: dict[str, Any]) -> list[list[list[tuple[float, float]]]]:
    """Polygons as lists of rings, whatever the geometry type (points and lines give none)."""
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Polygon":
        return [[[tuple(p) for p in ring] for ring in coords]]
    if kind == "MultiPolygon":
        return [[[tuple(p) for p in ring] for ring in poly] for poly in coords]
    return []


def _lines(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "LineString":
        return [[tuple(p) for p in coords]]
    if kind == "MultiLineString":
        return [[tuple(p) for p in line] for line in coords]
    return [ring for poly in _rings(geometry) for ring in poly]  # a polygon's outline


def _points(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return [tuple(coords)]
    if kind == "MultiPoint":
        return [tuple(p) for p in coords]
    return []


def draw(mvt: bytes, layer: Any) -> bytes:
    """A transparent 256 px PNG of one layer's decoded vector tile, in the layer's catalog style."""
    scale = SIZE * SUPERSAMPLE / EXTENT
    big = SIZE * SUPERSAMPLE
    fill_layer = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    line_layer = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    fills, lines = ImageDraw.Draw(fill_layer), ImageDraw.Draw(line_layer)
    style = layer.style or {}
    opacity = float(style.get("fill_opacity", 0.6))
    decoded = mapbox_vector_tile.decode(mvt, default_options={"y_coord_down": True}) if mvt else {}
    for content in decoded.values():
        for feature in content.get("features", []):
            geometry = feature.get("geometry") or {}
            if not geometry:
                continue
            colour = colour_for(style, feature.get("properties") or {})

            def px(point: tuple[float, float]) -> tuple[float, float]:
                return point[0] * scale, point[1] * scale

            for polygon in _rings(geometry):
                # Holes: the outer ring filled, the inner rings cleared on a mask of this polygon alone.
                mask = Image.new("L", (big, big), 0)
                pen = ImageDraw.Draw(mask)
                pen.polygon([px(p) for p in polygon[0]], fill=255)
                for hole in polygon[1:]:
                    pen.polygon([px(p) for p in hole], fill=0)
                fill_layer.paste(Image.new("RGBA", (big, big), _rgba(colour, opacity)), (0, 0), mask)
            if _rings(geometry):
                edge = outline_colour(style)
                for ring in _lines(geometry):
                    lines.line([px(p) for p in ring], fill=_rgba(edge, 0.9), width=max(1, SUPERSAMPLE))
            else:
                for line in _lines(geometry):
                    lines.line([px(p) for p in line], fill=_rgba(colour), width=round(LINE_WIDTH * SUPERSAMPLE))
            r = POINT_RADIUS * SUPERSAMPLE
            for point in _points(geometry):
                x, y = px(point)
                fills.ellipse([x - r, y - r, x + r, y + r], fill=_rgba(colour), outline=(255, 255, 255, 255))
    image = Image.alpha_composite(fill_layer, line_layer).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def render_png(layer: Any, user: Any, tile: Tile, filters: TileFilters) -> tuple[bytes, str]:
    """The layer's tile for this user and filters as a PNG, and whether its vector tile came from the cache."""
    from tiles.views import gzip_decompress, layer_tile_gz

    data_gz, x_cache = layer_tile_gz(layer, user, tile, filters)
    return draw(gzip_decompress(data_gz) if data_gz else b"", layer), x_cache
