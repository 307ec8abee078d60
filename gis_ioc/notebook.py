"""Helpers for GIS staff working in Jupyter: layers as GeoDataFrames with the permissions of a user, a
GeoDataFrame published back as a catalog layer, statistics as DataFrames, analyses run in the kernel.

    import django; django.setup()
    from gis_ioc import notebook as nb
    schools = nb.load_layer("schools", user="gis_staff")
    nb.publish_layer(gdf, "my-layer", "Lớp của tôi", user="gis_staff")

Every read goes through layers.query (the module behind the REST and OGC APIs), so a notebook sees exactly
what its user would see through the API: layers, fields (channel "export") and communes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing pandas/geopandas or Django models before django.setup() would fail or be slow
    import geopandas as gpd
    import pandas as pd
    from django.contrib.auth.models import User

    from analysis.models import Analysis
    from layers.models import Layer

CHANNEL = "export"
PAGE = 5_000
PUBLISHED_PREFIX = "published_"


class LayerNotFound(LookupError):
    """The layer does not exist for this user (missing, private, or not a vector layer): like a 404."""


def _user(user: Any) -> User:
    from django.contrib.auth.models import User

    if isinstance(user, User):
        return user
    if isinstance(user, str):
        try:
            return User.objects.get(username=user)
        except User.DoesNotExist:
            raise LookupError(f"no user named {user!r}") from None
    raise TypeError("user must be a User or a username (notebooks act on behalf of a person)")


def load_layer(
    slug: str,
    user: Any,
    bbox: tuple[float, float, float, float] | None = None,
    commune: str | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """The features of a layer as a GeoDataFrame (EPSG:4326) with the fields and communes `user` may see.

    bbox is (min lon, min lat, max lon, max lat); commune one GSO code or several. Raises LayerNotFound
    for a layer the user may not see (as the API answers 404).
    """
    import geopandas as gpd

    from layers import query

    person = _user(user)
    try:
        layer = query.get_layer(slug, person)
    except query.LayerNotFound:
        raise LayerNotFound(f"Không có lớp '{slug}' (hoặc bạn không có quyền xem).") from None
    communes = [commune] if isinstance(commune, str) else list(commune or [])
    features: list[dict[str, Any]] = []
    offset = 0
    while True:
        q = query.FeatureQuery(bbox=bbox, communes=communes, limit=PAGE, offset=offset, sortby=[("id", False)])
        page = query.features_page(layer, person, q, channel=CHANNEL)
        batch = json.loads(page.features_json)
        for f in batch:
            f["properties"] = {"id": f.get("id"), **(f.get("properties") or {})}
        features.extend(batch)
        if len(batch) < PAGE:
            break
        offset += PAGE
    columns = ["id", *query.visible_columns(query.layer_source(layer), person, CHANNEL)]
    if not features:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    gdf = gpd.GeoDataFrame.from_features(features, crs=4326)
    return gdf[[*[c for c in columns if c in gdf.columns], "geometry"]]


# --- publishing -----------------------------------------------------------------------------------
_GEOMETRY = {
    "Point": "Point",
    "MultiPoint": "MultiPoint",
    "LineString": "MultiLineString",
    "MultiLineString": "MultiLineString",
    "Polygon": "MultiPolygon",
    "MultiPolygon": "MultiPolygon",
}


def _column_name(name: Any) -> str:
    from gis_ioc.lib.text import ascii_name

    # "Tên khu" -> "ten_khu": Vietnamese diacritics folded so column names stay readable in SQL and QGIS.
    text = re.sub(r"[^a-z0-9_]", "_", ascii_name(str(name)).strip().lower())
    text = re.sub(r"_+", "_", text).strip("_") or "col"
    text = ("c_" + text) if text[0].isdigit() else text
    return {"id": "src_id", "geom": "src_geom"}.get(text, text)[:60]


def _kind(series: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "string"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    return "string"


def _value(value: Any, kind: str) -> Any:
    import pandas as pd

    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "date":
        return value.date() if hasattr(value, "date") else value
    return str(value)


def publish_layer(
    gdf: gpd.GeoDataFrame,
    slug: str,
    title_vi: str,
    title_en: str | None = None,
    user: Any = None,
    visibility: str = "staff",
) -> Layer:
    """Write a GeoDataFrame to a new table and register it in the catalog (REST, OGC, tiles serve it).

    Needs the GIS staff role. Re-publishing the same slug replaces that layer's data; a slug used by a
    layer that was not published from a notebook is refused. Geometries are reprojected to EPSG:4326
    and made Multi*; each feature gets the commune under it (commune_code) unless the frame has one.
    All in one transaction: an error leaves neither table nor catalog entry.
    """
    from django.db import connection, transaction
    from django.utils.text import slugify

    from analysis.results import Column, FeatureSet, register_layer, write_features
    from gis_ioc import permissions, roles
    from layers.models import Layer

    person = _user(user)
    if not permissions.has_role(person, roles.GIS_STAFF):
        raise PermissionError("Chỉ cán bộ GIS được công bố lớp bản đồ.")
    if visibility not in ("public", "staff"):
        raise ValueError("visibility must be 'public' or 'staff'")
    clean_slug = slugify(slug)[:60]
    if not clean_slug or clean_slug != slug:
        raise ValueError(f"slug must be lowercase letters, digits and hyphens (e.g. {clean_slug!r})")
    table = PUBLISHED_PREFIX + clean_slug.replace("-", "_")
    existing = Layer.objects.filter(slug=clean_slug).first()
    if existing is not None and existing.source_table != table:
        raise ValueError(f"slug {slug!r} belongs to another catalog layer; choose another slug")
    if gdf.crs is None:
        raise ValueError("the GeoDataFrame has no CRS: set it (gdf.set_crs(...)) before publishing")
    if gdf.empty:
        raise ValueError("the GeoDataFrame is empty: nothing to publish")
    frame = gdf.to_crs(4326)
    kinds = {_GEOMETRY.get(t) for t in frame.geometry.geom_type.dropna().unique()}
    if len(kinds) != 1 or None in kinds:
        raise ValueError(f"one geometry kind per layer, got {sorted(map(str, frame.geometry.geom_type.unique()))}")
    gtype = kinds.pop()
    assert gtype is not None  # refused just above
    data_cols = [c for c in frame.columns if c != frame.geometry.name]
    names = [_column_name(c) for c in data_cols]
    if len(set(names)) != len(names):
        raise ValueError(f"column names clash once made SQL-safe: {names}")
    columns = [Column(n, str(c), str(c), _kind(frame[c])) for n, c in zip(names, data_cols, strict=True)]
    has_commune = "commune_code" in names
    if not has_commune:
        columns.insert(0, Column("commune_code", "Mã xã", "Commune code"))
    rows = []
    for rec, geom in zip(frame[data_cols].itertuples(index=False, name=None), frame.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        row = {col.name: _value(v, col.type) for col, v in zip(columns[0 if has_commune else 1 :], rec, strict=True)}
        rows.append({**row, "geom": geom.wkb})
    features = FeatureSet(gtype, columns, rows, style={"kind": "single", "color": "#6a3d9a", "fill_opacity": 0.4})
    with transaction.atomic():
        write_features(table, features)
        if not has_commune:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} t SET commune_code = u.code FROM gis_ioc_adminunit u "  # noqa: S608
                    "WHERE u.level = 'commune' AND u.valid_to IS NULL AND ST_Covers(u.geom, ST_PointOnSurface(t.geom))"
                )
        layer = register_layer(
            clean_slug,
            table,
            features,
            title_vi=title_vi,
            title_en=title_en or title_vi,
            visibility=visibility,
            description_vi=f"Công bố từ notebook bởi {person.get_username()} ngày {dt.date.today():%d/%m/%Y}.",
        )
    return layer


# --- statistics and analyses ------------------------------------------------------------------------
def stats(
    code: str,
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None = None,
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """One statistic of layers.statistics per unit as a DataFrame (commune_code, name, value, unit, method)
    on a unit set (`units` slug, or the set in force on `as_of`, today by default)."""
    import pandas as pd

    from gis_ioc.unit_sets import resolve
    from layers.statistics import STATISTICS, commune_values, methods

    if code not in STATISTICS:
        raise KeyError(f"unknown statistic {code!r}; known: {', '.join(sorted(STATISTICS))}")
    stat = STATISTICS[code]
    chosen = list(communes) if communes is not None else None
    values = commune_values(code, start, end, chosen, units=units, as_of=as_of)
    how = methods(code, chosen, units=units, as_of=as_of)
    names = dict(resolve(units, as_of).members.values_list("code", "name"))
    rows = [
        {"commune_code": c, "name": names.get(c, c), "value": v, "unit": stat.unit, "method": how.get(c, "exact")}
        for c, v in values.items()
    ]
    frame = pd.DataFrame(rows, columns=["commune_code", "name", "value", "unit", "method"])
    frame.attrs.update(code=code, title_vi=stat.title_vi, title_en=stat.title_en)
    return frame.sort_values("commune_code").reset_index(drop=True)


def run_analysis(kind: str, user: Any, **parameters: Any) -> Analysis:
    """Start an analysis as `user` and run it in this kernel (the same code the worker runs).

    Raises ValueError with the reason if it fails; the record stays in /analyses/ either way.
    """
    from analysis import runner, service

    analysis = service.start(_user(user), kind, parameters)
    done = runner.execute(analysis.pk)
    if done.status != done.Status.SUCCEEDED:
        raise ValueError(done.error)
    return done


def analysis_table(analysis: Analysis, key: str | None = None) -> pd.DataFrame:
    """A statistics table of an analysis as a DataFrame (the first one when key is None)."""
    import pandas as pd

    tables = analysis.statistics or []
    table = next((t for t in tables if key is None or t.get("key") == key), None)
    if table is None:
        raise KeyError(f"analysis {analysis.pk} has no table {key!r}")
    return pd.DataFrame(table["rows"], columns=[c["name"] for c in table["columns"]])
