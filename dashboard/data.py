"""What the dashboard shows, assembled for one user: commune shapes, feature lists, the catalog.

Everything here asks gis_ioc.permissions: the layers a user may see, the attributes of those layers the
"dashboard" channel may show, and the communes the user is limited to.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection, models
from django.utils import translation
from django.utils.translation import gettext as _

from gis_ioc import permissions
from gis_ioc.models import UnitSet
from layers.models import Layer

# Lists of a commune profile: catalog slug -> how many rows to show (the CSV/XLSX has them all).
PROFILE_LISTS = ("petitions", "schools", "health-facilities", "dossiers")
LIST_LIMIT = 50


def communes_geojson(codes: list[str], unit_set: UnitSet | None = None) -> dict[str, Any]:
    """Boundaries of the given units of a set (today's communes by default) with a label point and a bbox
    (one SQL statement)."""
    set_id = unit_set.id if unit_set else None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
                'type', 'Feature', 'id', code::int,
                'properties', json_build_object(
                    'code', code, 'name', name, 'area_km2', round(area_km2::numeric, 2),
                    'label', ARRAY[round(ST_X(p)::numeric, 5), round(ST_Y(p)::numeric, 5)],
                    'bbox', ARRAY[ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)]),
                -- 5 decimals = about 1 m: plenty for a district overview, a third of the bytes.
                'geometry', ST_AsGeoJSON(geom, 5)::json) ORDER BY code), '[]'::json))
            -- Labels at the centre of the largest inscribed circle (the pole of inaccessibility):
            -- ST_PointOnSurface can fall on a thin arm of an irregular commune, near its border.
            FROM (SELECT code, name, area_km2, geom, (ST_MaximumInscribedCircle(geom)).center AS p
                  FROM gis_ioc_adminunit
                  -- the units of the set (its id twice), or today's communes when it is NULL
                  WHERE ((%s::int IS NULL AND level = 'commune' AND valid_from <= CURRENT_DATE
                          AND (valid_to IS NULL OR valid_to > CURRENT_DATE))
                         OR id IN (SELECT adminunit_id FROM gis_ioc_unitset_members WHERE unitset_id = %s))
                    AND code = ANY(%s)) u
            """,
            [set_id, set_id, codes],
        )
        return cursor.fetchone()[0]


def communes_svg(codes: list[str], highlight: str | None = None, unit_set: UnitSet | None = None) -> dict[str, Any]:
    """The units as SVG paths (for the printed report, which must not depend on WebGL)."""
    set_id = unit_set.id if unit_set else None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH u AS (SELECT code, name, geom FROM gis_ioc_adminunit
                       WHERE ((%s::int IS NULL AND level = 'commune' AND valid_from <= CURRENT_DATE
                               AND (valid_to IS NULL OR valid_to > CURRENT_DATE))
                              OR id IN (SELECT adminunit_id FROM gis_ioc_unitset_members WHERE unitset_id = %s))
                         AND code = ANY(%s)),
                 e AS (SELECT ST_Extent(geom) AS b FROM u)
            SELECT u.code, u.name, ST_AsSVG(u.geom, 0, 5), ST_X(l.p), -ST_Y(l.p),
                   ST_XMin(e.b), -ST_YMax(e.b), ST_XMax(e.b) - ST_XMin(e.b), ST_YMax(e.b) - ST_YMin(e.b)
            FROM u CROSS JOIN e
            CROSS JOIN LATERAL (SELECT (ST_MaximumInscribedCircle(u.geom)).center AS p) l  -- as communes_geojson
            ORDER BY u.code
            """,
            [set_id, set_id, codes],
        )
        rows = cursor.fetchall()
    if not rows:
        return {"paths": [], "viewbox": "0 0 1 1"}
    x, y, w, h = rows[0][5:9]
    pad = max(w, h) * 0.02
    return {
        "paths": [
            {"code": r[0], "name": r[1], "d": r[2], "lx": r[3], "ly": r[4], "highlight": r[0] == highlight}
            for r in rows
        ],
        "viewbox": f"{x - pad} {y - pad} {w + 2 * pad} {h + 2 * pad}",
        "stroke": max(w, h) / 400,
        "font": max(w, h) / 32,
    }


# Land-use classes coloured by family (Okabe–Ito hues, told apart with colour-vision deficiency too).
_LANDUSE_FAMILIES = [
    (("LUC", "LUK", "LUN"), "#f0e442"),
    (("BHK", "NHK", "NKH", "LMU"), "#e69f00"),
    (("CLN",), "#009e73"),
    (("RSX", "RPH", "RDD"), "#1b5e20"),
    (("NTS", "SON", "MNC"), "#56b4e9"),
    (("ONT", "ODT"), "#d55e00"),
    (("TSC", "DTS", "DVH", "DYT", "DGD", "DTT", "DCH", "CQP", "CAN"), "#cc79a7"),
    (("SKK", "SKC", "TMD", "SKS"), "#0072b2"),
    (("DGT", "DTL", "DNL"), "#7f7f7f"),
    (("BCS", "DCS", "NCS"), "#d9d9d9"),
]


def landuse_colors() -> dict[str, str]:
    """Land-use code -> colour, every official code included (unknown families in light grey)."""
    from layers.landuse import LAND_USE_CODES

    colours = {code: colour for codes, colour in _LANDUSE_FAMILIES for code in codes}
    return {code: colours.get(code, "#bdbdbd") for code in LAND_USE_CODES}


def _style(layer: Layer) -> dict[str, Any]:
    style = dict(layer.style or {})
    if style.get("palette") == "landuse" and not style.get("colors"):
        style["colors"] = landuse_colors()
    return style


def catalog_for(user: Any) -> list[dict[str, Any]]:
    """The layer switcher: every layer the user may see, with its tile URL, style and legend."""
    lang = translation.get_language() or "vi"
    out = []
    for layer in Layer.objects.visible_to(user).order_by("sort_order", "slug"):
        if layer.kind == Layer.Kind.VECTOR and not layer.geometry_type:
            continue  # a table without geometry (plans) is not a map layer
        fields = permissions.visible_fields(user, layer, "dashboard")
        out.append(
            {
                "slug": layer.slug,
                "title": layer.title,
                "kind": layer.kind,
                "geometry_type": layer.geometry_type,
                "tiles": (
                    f"/tiles/raster/{layer.slug}/{{z}}/{{x}}/{{y}}.png"
                    if layer.kind == Layer.Kind.RASTER
                    else f"/tiles/{layer.slug}/{{z}}/{{x}}/{{y}}.mvt"
                ),
                "min_zoom": layer.min_zoom,
                "max_zoom": layer.max_zoom,
                "style": _style(layer),
                "legend": _legend(layer, lang),
                "fields": [{"name": f, "title": layer.attribute_title(f)} for f in fields],
                "version": layer.version,
            }
        )
    return out


def _choice_labels(model: type[models.Model], name: str) -> dict[str, str]:
    """Display label of each stored value of a choice field ({} for a field without choices)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):  # a reverse relation has no choices
        return {}
    return {str(k): str(v) for k, v in field.flatchoices}


def _legend(layer: Layer, lang: str) -> list[dict[str, str]]:
    """Legend entries: the catalog's own legend, else one per category colour, else the single colour."""
    if layer.legend:
        return [
            {"label": str(e.get(f"label_{lang}") or e.get("label_vi") or e.get("label", "")), "color": e.get("color")}
            for e in layer.legend
        ]
    style = _style(layer)
    if style.get("palette") == "landuse":
        # One entry per family of codes (forty codes would not fit a legend).
        return [{"label": ", ".join(codes), "color": colour} for codes, colour in _LANDUSE_FAMILIES]
    if style.get("kind") == "categories" and style.get("colors"):
        model = layer.model_class()
        labels: dict[str, str] = {}
        if model is not None and style.get("field"):
            try:
                labels = _choice_labels(model, style["field"])
            except Exception:  # noqa: BLE001 - a field renamed in the catalog only loses its labels
                labels = {}
        return [{"label": labels.get(k, k), "color": c} for k, c in style["colors"].items()]
    if style.get("color"):
        return [{"label": layer.title, "color": style["color"]}]
    return []


def _display(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone().date().isoformat() if value.tzinfo else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)


def layer_rows(
    user: Any,
    slug: str,
    codes: list[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = LIST_LIMIT,
) -> dict[str, Any] | None:
    """Rows of one catalog layer in the given communes (and time range, for temporal layers).

    Only the attributes the dashboard channel may show this user; None when the user may not see the
    layer at all. Choice fields come back as their display labels.
    """
    layer = Layer.objects.filter(slug=slug).first()
    if layer is None or not permissions.can_view_layer(user, layer):
        return None
    model = layer.model_class()
    if model is None:
        return None
    visible = permissions.visible_fields(user, layer, "dashboard")
    fields = [f for f in visible if f != "commune_code"]
    show_commune = "commune_code" in visible  # the commune column follows the field's own visibility
    qs = permissions.scope_queryset(user, layer.base_queryset()).filter(commune_code__in=codes)
    if layer.temporal_field and start and end:
        field = model._meta.get_field(layer.temporal_field)
        lookup = "date__range" if field.get_internal_type() == "DateTimeField" else "range"
        qs = qs.filter(**{f"{layer.temporal_field}__{lookup}": (start, end)})
    total = qs.count()
    if limit is not None:
        qs = qs[:limit]
    choices = {}
    for name in fields:
        try:
            labels = _choice_labels(model, name)
        except Exception:  # noqa: BLE001 - an attribute that is not a model field (imported tables)
            continue
        if labels:
            choices[name] = labels
    rows = []
    for obj in qs.values("pk", "commune_code", *fields):
        row = {"id": obj["pk"], **({"commune_code": obj["commune_code"]} if show_commune else {})}
        for name in fields:
            value = obj[name]
            row[name] = choices[name].get(str(value), value) if name in choices else _display(value)
        rows.append(row)
    return {
        "slug": slug,
        "title": layer.title,
        "columns": ([{"name": "commune_code", "title": layer.attribute_title("commune_code")}] if show_commune else [])
        + [{"name": f, "title": layer.attribute_title(f)} for f in fields],
        "rows": rows,
        "total": total,
    }


def as_json(value: Any) -> str:
    """JSON for a <script type="application/json"> island (the template escapes it with json_script)."""
    return json.dumps(value, ensure_ascii=False, default=str)


# Charts "by category": slug -> (field counted by, optional value expression).
CATEGORY_CHARTS = (
    ("petitions", "category"),
    ("dossiers", "status"),
    ("schools", "level"),
    ("health-facilities", "facility_type"),
    ("farms", "kind"),
    ("tourism-sites", "kind"),
)


def by_category(user: Any, codes: list[str], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Counts per category of the layers the user may see (one GROUP BY each), plus revenue by source."""
    from django.db.models import Count, Sum

    charts: list[dict[str, Any]] = []
    slugs = [slug for slug, _field in CATEGORY_CHARTS] + ["budget-revenue", "crop-areas"]
    layers = {layer.slug: layer for layer in Layer.objects.filter(slug__in=slugs)}  # one query for all charts
    for slug, field in CATEGORY_CHARTS:
        layer = layers.get(slug)
        if layer is None or not permissions.can_view_layer(user, layer):
            continue
        if field not in permissions.visible_fields(user, layer, "dashboard"):
            continue  # a distribution over a field the user may not see would reveal it
        model = layer.model_class()
        if model is None:
            continue  # a catalog row whose model is gone: nothing to count
        qs = permissions.scope_queryset(user, layer.base_queryset()).filter(commune_code__in=codes)
        if layer.temporal_field:
            kind = model._meta.get_field(layer.temporal_field).get_internal_type()
            lookup = "date__range" if kind == "DateTimeField" else "range"
            qs = qs.filter(**{f"{layer.temporal_field}__{lookup}": (start, end)})
        labels = _choice_labels(model, field)
        rows = qs.order_by().values(field).annotate(n=Count("pk")).order_by("-n")
        charts.append(
            {
                "slug": slug,
                "title": layer.title,
                "labels": [labels.get(r[field], r[field]) for r in rows],
                "series": [{"label": layer.title, "data": [r["n"] for r in rows]}],
            }
        )
    layer = layers.get("budget-revenue")
    if (
        layer is not None
        and permissions.can_view_layer(user, layer)
        and {"source", "planned", "actual"} <= set(permissions.visible_fields(user, layer, "dashboard"))
        and (model := layer.model_class()) is not None
    ):
        qs = permissions.scope_queryset(user, layer.base_queryset()).filter(
            commune_code__in=codes, month__range=(start.replace(day=1), end)
        )
        labels = _choice_labels(model, "source")
        rows = list(qs.order_by().values("source").annotate(p=Sum("planned"), a=Sum("actual")).order_by("source"))
        charts.append(
            {
                "slug": "budget-revenue",
                "title": layer.title,
                "money": True,
                "labels": [labels.get(r["source"], r["source"]) for r in rows],
                "series": [
                    {"label": layer.attribute_title("planned"), "data": [float(r["p"] or 0) for r in rows]},
                    {"label": layer.attribute_title("actual"), "data": [float(r["a"] or 0) for r in rows]},
                ],
            }
        )
    crop_mix = _crop_mix(user, layers.get("crop-areas"), codes, start, end)
    if crop_mix is not None:
        charts.append(crop_mix)
    return charts


def _crop_mix(user: Any, layer: Layer | None, codes: list[str], start: dt.date, end: dt.date) -> dict[str, Any] | None:
    """Planted hectares by crop, one series per season, over the years the range touches (issue 19)."""
    from django.db.models import Sum

    if layer is None or not permissions.can_view_layer(user, layer):
        return None
    if not {"crop", "season", "area_m2"} <= set(permissions.visible_fields(user, layer, "dashboard")):
        return None
    model = layer.model_class()
    if model is None:
        return None
    qs = permissions.scope_queryset(user, layer.base_queryset()).filter(
        commune_code__in=codes, year__range=(start.year, end.year)
    )
    rows = list(qs.order_by().values("crop", "season").annotate(m2=Sum("area_m2")))
    if not rows:
        return None
    crops = _choice_labels(model, "crop")
    seasons = _choice_labels(model, "season")
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["crop"]] = totals.get(r["crop"], 0.0) + r["m2"]
    order = sorted(totals, key=lambda crop: -totals[crop])
    series = []
    for season in seasons:
        hectares = {r["crop"]: r["m2"] / 10000.0 for r in rows if r["season"] == season}
        if hectares:
            series.append({"label": str(seasons[season]), "data": [round(hectares.get(c, 0.0), 1) for c in order]})
    return {
        "slug": "crop-areas",
        "title": _("Cơ cấu cây trồng theo mùa vụ (ha)"),
        "labels": [str(crops.get(c, c)) for c in order],
        "series": series,
        "stacked": True,
    }
