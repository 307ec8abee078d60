"""Adding a layer to the catalog: one catalog row, no view code.

Every channel (REST, OGC API Features, vector tiles, MapProxy, exports, dashboard) reads the catalog,
so a new layer is published by registering it:

    from layers.registry import register_model_layer, register_table_layer

    # a sector model (or a filtered view of one)
    register_model_layer("layers.PlanningZone", "approved-zones", "Khu quy hoạch đã duyệt", "Approved zones",
                         source_filter={"plan__status": "approved"}, visibility="public")

    # a table imported by ogr2ogr / the import pipeline (geometry column "geom", key "id")
    register_table_layer("import_wells", "wells", "Giếng khoan", "Wells")

The attribute whitelist defaults to every plain column, visible to **staff only** (a new layer never
leaks a field to the public by accident); open fields up in the admin (Danh mục lớp bản đồ) or by
passing `attributes`. Registering again updates the row and bumps its version (tile caches refresh).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.gis.db import models as gis_models
from django.db import connection, models
from django.utils import translation

from layers.models import Layer
from layers.source import PG_TYPES

# Columns no layer publishes by default: bookkeeping, not data.
_HIDDEN = {"id", "is_demo", "created_at", "updated_at", "commune", "version", "token"}
_GEOMETRY_TYPES = {
    "POINT": "Point",
    "MULTIPOINT": "MultiPoint",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
}


def _field_type(field: models.Field[Any, Any]) -> str:
    if isinstance(field, models.IntegerField | models.AutoField):
        return "integer"
    if isinstance(field, models.FloatField | models.DecimalField):
        return "number"
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.BooleanField):
        return "boolean"
    return "string"


def attributes_of_model(model: type[models.Model], visibility: str = "staff") -> list[dict[str, Any]]:
    """A whitelist of the model's plain fields, titled from their verbose names in both languages."""
    result = []
    for field in model._meta.concrete_fields:
        if isinstance(field, gis_models.GeometryField) or field.primary_key or field.name in _HIDDEN:
            continue
        name = field.attname if field.is_relation else field.name
        with translation.override("vi"):
            title_vi = str(field.verbose_name)
        with translation.override("en"):
            title_en = str(field.verbose_name)
        result.append(
            {"name": name, "title_vi": title_vi, "title_en": title_en, "type": _field_type(field),
             "visibility": visibility, "roles": []}
        )  # fmt: skip
    return result


def attributes_of_table(table: str, geometry_field: str = "geom", visibility: str = "staff") -> list[dict[str, Any]]:
    """A whitelist of an imported table's columns (titles are the column names until edited)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        rows = cursor.fetchall()
    if not rows:
        raise LookupError(f"no table {table!r} in the database")
    return [
        {"name": name, "title_vi": name, "title_en": name, "type": PG_TYPES.get(kind, "string"),
         "visibility": visibility, "roles": []}
        for name, kind in rows
        if name != geometry_field and name not in _HIDDEN
    ]  # fmt: skip


def _save(slug: str, fields: dict[str, Any]) -> Layer:
    layer = Layer.objects.filter(slug=slug).first() or Layer(slug=slug)
    for key, value in fields.items():
        setattr(layer, key, value)
    layer.full_clean()
    existed = layer.pk is not None
    layer.save()
    if existed:
        layer.record_change()
    return layer


def register_model_layer(
    model: type[models.Model] | str,
    slug: str,
    title_vi: str,
    title_en: str,
    *,
    attributes: list[dict[str, Any]] | None = None,
    visibility: str = "staff",
    **options: Any,
) -> Layer:
    """Publish a Django model (any with a geometry field, or a tabular one mapped via commune__geom)."""
    model_class = apps.get_model(model) if isinstance(model, str) else model
    geometry_field = options.pop("geometry_field", None)
    geoms = [f for f in model_class._meta.concrete_fields if isinstance(f, gis_models.GeometryField)]
    if geometry_field is None:
        geometry_field = geoms[0].name if geoms else "commune__geom"
    geometry_type = options.pop("geometry_type", None) or (
        _GEOMETRY_TYPES.get(geoms[0].geom_type, "") if geoms else "MultiPolygon"
    )
    return _save(
        slug,
        {
            "title_vi": title_vi,
            "title_en": title_en,
            "kind": Layer.Kind.VECTOR,
            "source_model": model_class._meta.label,
            "source_table": "",
            "geometry_field": geometry_field,
            "geometry_type": geometry_type,
            "visibility": visibility,
            "attributes": attributes if attributes is not None else attributes_of_model(model_class),
            **options,
        },
    )


def register_table_layer(
    table: str,
    slug: str,
    title_vi: str,
    title_en: str,
    *,
    geometry_field: str = "geom",
    id_field: str = "id",
    attributes: list[dict[str, Any]] | None = None,
    visibility: str = "staff",
    **options: Any,
) -> Layer:
    """Publish a table that is not a Django model (an import); its geometry type comes from PostGIS."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type FROM geometry_columns WHERE f_table_schema = current_schema() "
            "AND f_table_name = %s AND f_geometry_column = %s",
            [table, geometry_field],
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"table {table!r} has no geometry column {geometry_field!r}")
    return _save(
        slug,
        {
            "title_vi": title_vi,
            "title_en": title_en,
            "kind": Layer.Kind.VECTOR,
            "source_model": "",
            "source_table": table,
            "geometry_field": geometry_field,
            "geometry_type": _GEOMETRY_TYPES.get(row[0].upper(), row[0]),
            "id_field": id_field,
            "visibility": visibility,
            "attributes": attributes if attributes is not None else attributes_of_table(table, geometry_field),
            **options,
        },
    )
