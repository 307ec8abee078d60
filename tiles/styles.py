"""TileJSON 3.0 documents and the MapLibre style of the visible catalog, built from each layer's `style`.

Colours: categories without explicit colours and graduated ramps use colour-blind-safe palettes
(Okabe–Ito for categories, viridis/cividis for ramps). Land use follows the colours of Vietnamese
land-use maps (Circular 27/2018/TT-BTNMT conventions), which planners read by habit; they are paired with
outlines so adjacent classes stay distinguishable.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.urls import reverse

from gis_ioc import permissions
from gis_ioc.permissions import AnyUser
from tiles.mvt import TileFilters

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#999999"]
VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]
CIVIDIS = ["#00224e", "#414d6b", "#7c7b78", "#bcaf6f", "#fee838"]

# Land-use map colours (Circular 27/2018/TT-BTNMT legend, approximated in RGB).
LANDUSE_COLORS: dict[str, str] = {
    "LUC": "#ffff64", "LUK": "#ffff96", "LUN": "#ffffb4", "BHK": "#fff0b4", "NHK": "#fff0b4",
    "CLN": "#ffd2a0", "RSX": "#b4ffb4", "RPH": "#6ee66e", "RDD": "#6eb46e", "NTS": "#aaffff",
    "LMU": "#ffffff", "NKH": "#f5f0c8", "ONT": "#ffd0ff", "ODT": "#ffa0ff", "TSC": "#ff6464",
    "DTS": "#ff6464", "CQP": "#ff5046", "CAN": "#ff5046", "DVH": "#ffaaa0", "DYT": "#ffaaa0",
    "DGD": "#ffaaa0", "DTT": "#ffaaa0", "DGT": "#ffaa32", "DTL": "#aaffff", "DNL": "#ffaaa0",
    "DCH": "#ffaaa0", "SKK": "#faaaa0", "SKC": "#faaaa0", "TMD": "#faaaa0", "SKS": "#cdaacd",
    "TON": "#ffaaa0", "TIN": "#ffaaa0", "NTD": "#d2d2d2", "SON": "#a0ffff", "MNC": "#b4ffff",
    "DKV": "#ffaaa0", "PNK": "#ffaaa0", "BCS": "#ffffff", "DCS": "#ffffff", "NCS": "#e6e6c8",
}  # fmt: skip
PALETTES = {"landuse": LANDUSE_COLORS}
DEFAULT_COLOR = "#0072b2"


@functools.lru_cache(maxsize=4)
def _district_bounds(code: str) -> tuple[float, float, float, float] | None:
    from gis_ioc.models import AdminUnit

    units = AdminUnit.objects.current().filter(code=code, level="district")
    if not units.exists():
        units = AdminUnit.objects.current().communes()
    extent = units.aggregate(e=Extent("geom"))["e"]
    return tuple(round(v, 5) for v in extent) if extent else None


def district_bounds() -> list[float]:
    """[west, south, east, north] of the district (the whole world before the district is loaded)."""
    bounds = _district_bounds(settings.IOC_DISTRICT_CODE)
    if bounds is None:
        _district_bounds.cache_clear()  # not loaded yet: ask again next time
        return [-180.0, -85.0511, 180.0, 85.0511]
    return list(bounds)


def _qs(filters: TileFilters | None) -> str:
    text = filters.query_string() if filters else ""
    return f"?{text}" if text else ""


def vector_tiles_url(request: Any, slug: str, filters: TileFilters | None = None) -> str:
    base = request.build_absolute_uri(reverse("tiles:vector-tile", args=[slug, 0, 0, 0]))
    return base.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt") + _qs(filters)


def raster_tiles_url(request: Any, slug: str) -> str:
    base = request.build_absolute_uri(reverse("tiles:raster-tile", args=[slug, 0, 0, 0]))
    return base.replace("/0/0/0.png", "/{z}/{x}/{y}.png")


def tilejson(request: Any, layer: Any, user: AnyUser, filters: TileFilters | None = None) -> dict[str, Any]:
    """The TileJSON 3.0.0 document of one layer, as this user may see it."""
    bounds = district_bounds()
    center = [round((bounds[0] + bounds[2]) / 2, 5), round((bounds[1] + bounds[3]) / 2, 5), max(layer.min_zoom, 11)]
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": layer.title,
        "description": layer.description,
        "version": f"1.0.{layer.version}",
        "attribution": layer.attribution,
        "scheme": "xyz",
        "minzoom": layer.min_zoom,
        "maxzoom": layer.max_zoom,
        "bounds": bounds,
        "center": center,
    }
    if layer.kind == "raster":
        doc["tiles"] = [raster_tiles_url(request, layer.slug)]
        doc["format"] = "png"
        return doc
    fields = permissions.visible_fields(user, layer, "tiles")
    doc["tiles"] = [vector_tiles_url(request, layer.slug, filters)]
    doc["format"] = "pbf"
    doc["vector_layers"] = [
        {
            "id": layer.slug,
            "description": layer.title,
            "minzoom": layer.min_zoom,
            "maxzoom": layer.max_zoom,
            "fields": {name: layer.attribute_title(name) for name in fields},
        }
    ]
    return doc


# --- MapLibre style -----------------------------------------------------------------------------------
def _color_expression(style: dict[str, Any]) -> Any:
    kind = style.get("kind", "single")
    if kind == "categories" and style.get("field"):
        colors = dict(style.get("colors") or PALETTES.get(style.get("palette", ""), {}))
        if not colors:
            return style.get("color", DEFAULT_COLOR)
        expr: list[Any] = ["match", ["to-string", ["get", style["field"]]]]
        for value, color in colors.items():
            expr += [value, color]
        return expr + [style.get("default_color", "#999999")]
    if kind == "graduated" and style.get("field") and style.get("breaks"):
        breaks = list(style["breaks"])
        ramp = style.get("colors") or (CIVIDIS if style.get("ramp") == "cividis" else VIRIDIS)
        expr = ["step", ["to-number", ["get", style["field"]]], ramp[0]]
        for i, brk in enumerate(breaks):
            expr += [brk, ramp[min(i + 1, len(ramp) - 1)]]
        return expr
    return style.get("color", DEFAULT_COLOR)


def colour_for(style: dict[str, Any], properties: dict[str, Any]) -> str:
    """The colour `_color_expression` gives one feature, computed here (for tiles drawn on the server)."""
    kind = style.get("kind", "single")
    if kind == "categories" and style.get("field"):
        colors = dict(style.get("colors") or PALETTES.get(style.get("palette", ""), {}))
        if not colors:
            return str(style.get("color", DEFAULT_COLOR))
        value = properties.get(style["field"])
        return str(colors.get(str(value), style.get("default_color", "#999999")))
    if kind == "graduated" and style.get("field") and style.get("breaks"):
        ramp = style.get("colors") or (CIVIDIS if style.get("ramp") == "cividis" else VIRIDIS)
        try:
            value = float(properties.get(style["field"]))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(ramp[0])
        step = sum(1 for brk in style["breaks"] if value >= float(brk))
        return str(ramp[min(step, len(ramp) - 1)])
    return str(style.get("color", DEFAULT_COLOR))


def outline_colour(style: dict[str, Any]) -> str:
    """A polygon layer's outline colour (as in `style_layers`)."""
    default = "#333333" if style.get("kind") == "categories" else style.get("color", DEFAULT_COLOR)
    return str(style.get("outline_color", default))


def style_layers(layer: Any) -> list[dict[str, Any]]:
    """The MapLibre layers drawing one catalog layer (fill+outline, line, or circle)."""
    style = layer.style or {}
    color = _color_expression(style)
    common = {
        "source": layer.slug,
        "source-layer": layer.slug,
        "minzoom": layer.min_zoom,
        "metadata": {"title": layer.title},
    }
    gtype = (layer.geometry_type or "").lower()
    if "point" in gtype:
        return [
            common
            | {
                "id": layer.slug,
                "type": "circle",
                "paint": {
                    "circle-color": color,
                    "circle-radius": ["interpolate", ["linear"], ["zoom"], 8, 2.5, 16, 7],
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 1,
                },
            }
        ]
    if "line" in gtype:
        return [common | {"id": layer.slug, "type": "line", "paint": {"line-color": color, "line-width": 2}}]
    outline = outline_colour(style)
    return [
        common
        | {
            "id": layer.slug + "-fill",
            "type": "fill",
            "paint": {"fill-color": color, "fill-opacity": style.get("fill_opacity", 0.6)},
        },
        common
        | {
            "id": layer.slug + "-outline",
            "type": "line",
            "paint": {"line-color": outline, "line-width": style.get("line_width", 1), "line-opacity": 0.8},
        },
    ]


def style_document(request: Any, user: AnyUser) -> dict[str, Any]:
    """A MapLibre style (version 8) drawing every layer this user may see: rasters under vectors."""
    from layers.models import Layer

    bounds = district_bounds()
    sources: dict[str, Any] = {}
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f4f4f0"}}
    ]
    visible = list(Layer.objects.visible_to(user))
    for layer in [lyr for lyr in visible if lyr.kind == "raster" and lyr.raster_path]:
        sources[layer.slug] = {
            "type": "raster",
            "tiles": [raster_tiles_url(request, layer.slug)],
            "tileSize": 256,
            "bounds": bounds,
            "attribution": layer.attribution,
        }
        layers.append(
            {
                "id": layer.slug,
                "type": "raster",
                "source": layer.slug,
                "layout": {"visibility": "none"},
                "paint": {"raster-opacity": 0.75},
                "metadata": {"title": layer.title},
            }
        )
    for layer in [lyr for lyr in visible if lyr.kind == "vector" and lyr.geometry_field]:
        sources[layer.slug] = {
            "type": "vector",
            "tiles": [vector_tiles_url(request, layer.slug)],
            "minzoom": layer.min_zoom,
            "maxzoom": min(layer.max_zoom, 16),  # overzoomed beyond: the tiles hold full detail by then
            "bounds": bounds,
            "attribution": layer.attribution,
        }
        layers += style_layers(layer)
    return {
        "version": 8,
        "name": "gis_ioc",
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2],
        "zoom": 11,
        "sources": sources,
        "layers": layers,
    }


# --- the offline base map --------------------------------------------------------------------------------
# Built from the platform's own data (no tile server on the Internet): relief from the hillshade raster,
# commune boundaries from the `communes` vector tiles and their names as labels, with glyphs served from
# static/vendor/glyphs (scripts/build-glyphs). Every map page draws its own layers between these
# (gis_ioc/static/gis_ioc/basemap.js reads `metadata["ioc:place"]`): "under" below everything, "relief"
# above the page's fills (so shading shows through a choropleth), "top" above everything.
BASE_BACKGROUND = "#eef1f4"
HILLSHADE_SLUG = "hillshade"
BASE_FONT = ["DejaVu Sans Bold"]
# MapProxy's TMS address of its cache of the online basemap (IOC_MAPPROXY_BASEMAP_URL, off by default):
# browsers still fetch only from this server.
MAPPROXY_ONLINE_BASEMAP = "/mapproxy/tms/1.0.0/basemap/webmercator/{z}/{x}/{y}.png"


# Water and roads of the base, by catalog slug (tiles/mapproxy.py BASE_PARTS draws the same for QGIS).
BASE_LINES: dict[str, dict[str, Any]] = {
    "water": {"id": "base-water", "type": "fill", "paint": {"fill-color": "#9ecae1", "fill-opacity": 0.8}},
    "roads": {
        "id": "base-roads",
        "type": "line",
        "paint": {
            "line-color": "#8a6d4b",
            "line-width": ["interpolate", ["linear"], ["zoom"], 9, 0.6, 14, 2.4],
            "line-opacity": 0.85,
        },
    },
}


def commune_labels() -> dict[str, Any]:
    """Today's communes as label points (GeoJSON): one per commune at the centre of its largest inscribed
    circle (polygon labels from vector tiles would repeat in every tile a commune crosses)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT name, ST_X(p), ST_Y(p) FROM (
                SELECT name, (ST_MaximumInscribedCircle(geom)).center AS p FROM gis_ioc_adminunit
                WHERE level = 'commune' AND valid_from <= CURRENT_DATE
                  AND (valid_to IS NULL OR valid_to > CURRENT_DATE)) u
            ORDER BY name
            """
        )
        rows = cursor.fetchall()
    features = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]},
        }
        for name, x, y in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def _base_relief(request: Any, layer: Any, bounds: list[float]) -> tuple[dict[str, Any], dict[str, Any]]:
    source = {
        "type": "raster",
        "tiles": [raster_tiles_url(request, layer.slug)],
        "tileSize": 256,
        "bounds": bounds,
        "maxzoom": min(layer.max_zoom, 16),
        "attribution": layer.attribution,
    }
    paint = {"raster-opacity": 1, "raster-fade-duration": 0}
    style_layer = {"id": "base-hillshade", "type": "raster", "source": "base-hillshade", "paint": paint}
    return source, style_layer | {"metadata": {"ioc:place": "relief"}}


def base_style_document(request: Any, user: AnyUser) -> dict[str, Any]:
    """The offline base map (MapLibre style version 8) as this user may see it: hillshade, commune
    boundaries and names; the online basemap through MapProxy only when IOC_MAPPROXY_BASEMAP_URL is set."""
    from django.templatetags.static import static

    from layers.models import Layer
    from tiles import conf, rasters

    bounds = district_bounds()
    visible = {layer.slug: layer for layer in Layer.objects.visible_to(user)}
    sources: dict[str, Any] = {}
    layers: list[dict[str, Any]] = [
        {
            "id": "base-background",
            "type": "background",
            "paint": {"background-color": BASE_BACKGROUND},
            "metadata": {"ioc:place": "under"},
        }
    ]
    if conf.mapproxy_basemap_url():
        sources["basemap"] = {
            "type": "raster",
            "tiles": [request.build_absolute_uri(MAPPROXY_ONLINE_BASEMAP).replace("%7B", "{").replace("%7D", "}")],
            "tileSize": 256,
        }
        layers.append({"id": "basemap", "type": "raster", "source": "basemap", "metadata": {"ioc:place": "under"}})
    relief = visible.get(HILLSHADE_SLUG)
    if relief is not None and relief.kind == "raster" and relief.raster_path and rasters.cog_path(relief).exists():
        sources["base-hillshade"], hillshade = _base_relief(request, relief, bounds)
        layers.append(hillshade)
    # Water and roads from the catalog when present (a district without a water layer simply has none):
    # drawn above the page's fills like the relief, so a choropleth does not hide where the roads run.
    for slug, style_layer in BASE_LINES.items():
        layer = visible.get(slug)
        if layer is None or not layer.geometry_type:
            continue
        sources[f"base-{slug}"] = {
            "type": "vector",
            "tiles": [vector_tiles_url(request, slug)],
            "minzoom": layer.min_zoom,
            "maxzoom": 14,
            "bounds": bounds,
        }
        layers.append(
            style_layer | {"source": f"base-{slug}", "source-layer": slug, "metadata": {"ioc:place": "relief"}}
        )
    communes = visible.get("communes")
    if communes is not None:
        sources["base-communes"] = {
            "type": "vector",
            "tiles": [vector_tiles_url(request, "communes")],
            "minzoom": communes.min_zoom,
            "maxzoom": 14,
            "bounds": bounds,
        }
        sources["base-labels"] = {"type": "geojson", "data": commune_labels()}
        layers += [
            {
                "id": "base-boundaries",
                "type": "line",
                "source": "base-communes",
                "source-layer": "communes",
                "paint": {"line-color": "#5b5b5b", "line-width": 0.8, "line-opacity": 0.7},
                "metadata": {"ioc:place": "relief"},
            },
            {
                "id": "base-labels",
                "type": "symbol",
                "source": "base-labels",
                "layout": {
                    "text-field": ["get", "name"],
                    "text-font": BASE_FONT,
                    "text-size": ["interpolate", ["linear"], ["zoom"], 9, 11, 14, 15],
                    "text-max-width": 8,
                },
                "paint": {"text-color": "#1f2933", "text-halo-color": "#ffffff", "text-halo-width": 1.6},
                "metadata": {"ioc:place": "top"},
            },
        ]
    glyphs = request.build_absolute_uri(static("vendor/glyphs/")) + "{fontstack}/{range}.pbf"
    return {
        "version": 8,
        "name": "gis_ioc base",
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2],
        "zoom": 11,
        "glyphs": glyphs,
        "sources": sources,
        "layers": layers,
    }
