"""Where imported rows go: a sector model through a field mapping, or a new layer with its own table.

Both work on two temporary tables filled by the pipeline: `_imp_stage` (the file's columns as COPY wrote
them, one `_row` per feature) and `_imp_geo` (`_row`, final WGS84 geometry, commune). A target turns
mapped columns into SQL expressions with validity checks, then writes with one INSERT … SELECT (and an
UPDATE … FROM for upserts) — never one statement per feature.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.db import models as gis_models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ForeignObjectRel
from django.utils.text import slugify
from django.utils.translation import gettext as _
from psycopg import sql

from layers.importers.safety import ImportRefused
from layers.models import Layer
from layers.models.base import geometry_field

# Fields an import never sets from the file: computed or bookkeeping.
RESERVED = {"id", "commune", "commune_code", "is_demo", "created_at", "updated_at"}
INT_RE = r"^\s*[+-]?\d+(\.0*)?\s*$"
FLOAT_RE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
COMMA_RE = r"^\s*[+-]?\d+,\d+\s*$"
PG_NUMERIC = {"bigint", "double precision", "integer", "smallint", "numeric", "real"}


@dataclass
class Check:
    """A per-row validity check: rows where `invalid` holds are rejected with `reason`."""

    field: str
    invalid: str  # SQL boolean over _imp_stage s / _imp_geo g
    reason: str
    value: str = "NULL"  # SQL giving the offending value for the report


@dataclass
class Column:
    """One column to write: its target name, the SQL computing it, its SQL type (new tables)."""

    name: str
    expr: str
    pg_type: str = "text"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def db_column(field: models.Field | ForeignObjectRel) -> str:
    """The table column of a concrete field (reverse relations and virtual fields have none)."""
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{field.name} has no table column")
    return field.column


def geom_dim(geom_type: str) -> int:
    t = geom_type.lower()
    return 0 if "point" in t else 1 if "line" in t else 2


def cast_sql(src: str, src_type: str, field: models.Field) -> tuple[str, list[tuple[str, str]]]:
    """SQL converting a staging column to the field's type, and (invalid-condition, reason) checks."""
    text = f"NULLIF(btrim({src}::text), '')"
    checks: list[tuple[str, str]] = []
    internal = field.get_internal_type()
    if internal in (
        "IntegerField",
        "PositiveIntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
    ):
        if src_type in PG_NUMERIC:
            checks.append((f"{src} IS NOT NULL AND {src}::numeric <> trunc({src}::numeric)", _("không phải số nguyên")))
            expr = f"{src}::bigint"
        else:
            checks.append((f"{text} IS NOT NULL AND {text} !~ '{INT_RE}'", _("không phải số nguyên")))
            expr = f"(CASE WHEN {text} ~ '{INT_RE}' THEN {text}::numeric::bigint END)"
    elif internal in ("FloatField", "DecimalField"):
        if src_type in PG_NUMERIC:
            expr = f"{src}::double precision"
        else:
            checks.append(
                (f"{text} IS NOT NULL AND {text} !~ '{FLOAT_RE}' AND {text} !~ '{COMMA_RE}'", _("không phải số"))
            )
            expr = (
                f"(CASE WHEN {text} ~ '{FLOAT_RE}' THEN {text}::double precision "
                f"WHEN {text} ~ '{COMMA_RE}' THEN replace({text}, ',', '.')::double precision END)"
            )
    elif internal == "BooleanField":
        truthy, falsy = "('1','t','true','y','yes','x','có','co')", "('0','f','false','n','no','không','khong')"
        checks.append(
            (f"{text} IS NOT NULL AND lower({text}) NOT IN {truthy[:-1]},{falsy[1:]}", _("không phải giá trị đúng/sai"))
        )
        expr = f"(CASE WHEN lower({text}) IN {truthy} THEN true WHEN lower({text}) IN {falsy} THEN false END)"
    elif internal == "DateField":
        iso, vn = r"^\d{4}-\d{1,2}-\d{1,2}$", r"^\d{1,2}/\d{1,2}/\d{4}$"
        checks.append((f"{text} IS NOT NULL AND {text} !~ '{iso}' AND {text} !~ '{vn}'", _("không phải ngày")))
        expr = (
            f"(CASE WHEN {text} ~ '{iso}' THEN to_date({text}, 'YYYY-MM-DD') "
            f"WHEN {text} ~ '{vn}' THEN to_date({text}, 'DD/MM/YYYY') END)"
        )
    else:
        expr = text
        if field.choices:
            codes = [str(c[0]) for c in field.flatchoices]
            arr = "ARRAY[" + ",".join("'" + c.replace("'", "''") + "'" for c in codes) + "]"
            checks.append(
                (
                    f"{text} IS NOT NULL AND NOT ({text} = ANY({arr}) OR upper({text}) = ANY({arr}))",
                    _("giá trị không có trong danh mục"),
                )
            )
            expr = f"(CASE WHEN {text} = ANY({arr}) THEN {text} WHEN upper({text}) = ANY({arr}) THEN upper({text}) END)"
        elif field.max_length:
            checks.append(
                (f"length({text}) > {int(field.max_length)}", _("dài quá %(n)d ký tự") % {"n": field.max_length})
            )
    for v in field.validators:
        if isinstance(v, MinValueValidator) and isinstance(v.limit_value, int | float):
            checks.append((f"{expr} < {v.limit_value}", _("nhỏ hơn %(v)s") % {"v": v.limit_value}))
        if isinstance(v, MaxValueValidator) and isinstance(v.limit_value, int | float):
            checks.append((f"{expr} > {v.limit_value}", _("lớn hơn %(v)s") % {"v": v.limit_value}))
    return expr, checks


class Target:
    """Interface of an import destination."""

    layer: Layer
    table: str
    geom_type: str  # e.g. MultiPolygon, Point
    outside_is_error: bool

    def columns(self, stage: dict[str, tuple[str, str]]) -> tuple[list[Column], list[Check]]:
        """Columns to write and the checks guarding them; stage maps source name -> (staging col, pg type)."""
        raise NotImplementedError

    def key_columns(self) -> list[str]:
        return []

    def prepare(self, cursor: Any, columns: list[Column]) -> None:
        """Create what must exist before writing (a new table, its catalog entry)."""

    def finish(self, cursor: Any) -> None:
        """Work after the rows are written (indexes of a new table: faster built once than kept up)."""


class SectorTarget(Target):
    """A sector model's table, filled through a mapping {model field: file column}."""

    outside_is_error = True

    def __init__(self, layer: Layer, mapping: dict[str, str], key: list[str], source_fields: list[str]) -> None:
        model = layer.model_class()
        if model is None or not hasattr(model, "locate_by"):
            raise ImportRefused(_("Lớp %(slug)s không nhận dữ liệu nhập theo ánh xạ.") % {"slug": layer.slug})
        self.layer, self.model = layer, model
        self.table = model._meta.db_table
        gfield = geometry_field(model, model.locate_by or "geom")
        self.geom_column = db_column(gfield)
        self.geom_type = {
            "MULTIPOLYGON": "MultiPolygon",
            "POINT": "Point",
            "MULTILINESTRING": "MultiLineString",
            "POLYGON": "Polygon",
            "LINESTRING": "LineString",
        }.get(gfield.geom_type, gfield.geom_type)
        self.fields = {
            f.name: f
            for f in model._meta.concrete_fields
            if f.name not in RESERVED and not isinstance(f, gis_models.GeometryField) and not f.primary_key
        }
        self.mapping = self._check_mapping(mapping, source_fields)
        self.key = list(key)
        for k in self.key:
            if k not in self.mapping:
                raise ImportRefused(_("Trường khoá %(k)s chưa được ánh xạ tới cột nào trong tệp.") % {"k": k})

    def _check_mapping(self, mapping: dict[str, str], source_fields: list[str]) -> dict[str, str]:
        if not mapping:
            raise ImportRefused(_("Cần ánh xạ trường: trường đích = cột trong tệp."))
        for target, source in mapping.items():
            if target not in self.fields:
                raise ImportRefused(
                    _("Trường đích %(f)s không tồn tại trong lớp %(slug)s; các trường: %(list)s.")
                    % {"f": target, "slug": self.layer.slug, "list": ", ".join(self.fields)}
                )
            if source not in source_fields:
                raise ImportRefused(
                    _("Cột %(c)s (ánh xạ tới %(f)s) không có trong tệp; các cột: %(list)s.")
                    % {"c": source, "f": target, "list": ", ".join(source_fields)}
                )
        for name, f in self.fields.items():
            if name not in mapping and not f.null and not f.has_default() and not f.blank and not f.is_relation:
                raise ImportRefused(_("Trường bắt buộc %(f)s chưa được ánh xạ.") % {"f": name})
        return mapping

    def key_columns(self) -> list[str]:
        cols = [db_column(self.fields[k]) for k in self.key]
        # Parcels are unique per commune: a key "sheet, parcel" means "sheet, parcel within the commune".
        for c in self.model._meta.constraints:
            if isinstance(c, models.UniqueConstraint) and "commune_code" in c.fields:
                if set(c.fields) - {"commune_code"} == set(self.key):
                    cols.append("commune_code")
        return cols

    def columns(self, stage: dict[str, tuple[str, str]]) -> tuple[list[Column], list[Check]]:
        cols: list[Column] = []
        checks: list[Check] = []
        for name, f in self.fields.items():
            if name in self.mapping:
                src_col, src_type = stage[self.mapping[name]]
                expr, field_checks = cast_sql(f"s.{q(src_col)}", src_type, f)
                for cond, reason in field_checks:
                    checks.append(Check(name, cond, reason, f"s.{q(src_col)}::text"))
                text_optional = f.blank and not f.null and isinstance(f, (models.CharField, models.TextField))
                if not f.null and not text_optional:
                    empty = f"NULLIF(btrim(s.{q(src_col)}::text), '') IS NULL"
                    checks.append(Check(name, empty, _("thiếu giá trị bắt buộc"), f"s.{q(src_col)}::text"))
                # An optional text left empty is stored as "" (Django's convention), never NULL.
                cols.append(Column(db_column(f), f"COALESCE({expr}, '')" if text_optional else expr))
            elif f.has_default():
                default = f.get_default()
                lit = "'" + str(default).replace("'", "''") + "'" if default is not None else "NULL"
                cols.append(Column(db_column(f), lit))
            elif f.blank and not f.null and isinstance(f, (models.CharField, models.TextField)):
                cols.append(Column(db_column(f), "''"))  # an optional text the file does not have
        cols += [
            Column("commune_id", "g.commune_id"),
            Column("commune_code", "COALESCE(g.commune_code, '')"),
            Column("is_demo", "false"),
            Column("created_at", "now()"),
            Column("updated_at", "now()"),
        ]
        cols.append(Column(self.geom_column, "g.geom"))
        return cols, checks

    def unique_sets(self) -> list[list[str]]:
        """Column sets the table holds unique: duplicates within the file or against the table are errors."""
        out = []
        for c in self.model._meta.constraints:
            if isinstance(c, models.UniqueConstraint) and not c.condition and c.fields:
                fields = list(c.fields)
                if all(f == "commune_code" or f in self.mapping for f in fields):
                    out.append([db_column(self.model._meta.get_field(f)) for f in fields])
        return out


def column_name(raw: str, taken: set[str]) -> str:
    """A safe lowercase ASCII column name for a file field ("Diện tích" -> "dien_tich")."""
    text = unicodedata.normalize("NFKD", raw.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:55] or "field"
    if name[0].isdigit():
        name = "f_" + name
    base, i = name, 2
    while name in taken or name in RESERVED | {"geom"}:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


ARROW_KIND = {"bigint": "integer", "double precision": "number", "boolean": "boolean", "date": "date"}


class NewLayerTarget(Target):
    """A new layer: its own table (created here, in the import's transaction) and a catalog entry."""

    outside_is_error = False

    def __init__(self, slug: str, title: str, source_fields: list[str], key: list[str], user: Any = None) -> None:
        clean = slugify(slug)
        if not clean or clean != slug:
            raise ImportRefused(
                _("Mã lớp %(slug)s không hợp lệ (chỉ chữ thường, số, dấu gạch ngang).") % {"slug": slug}
            )
        existing = Layer.objects.filter(slug=slug).first()
        if existing and not existing.source_table:
            raise ImportRefused(_("Mã lớp %(slug)s đã được dùng cho một lớp khác.") % {"slug": slug})
        self.slug, self.title, self.user = slug, title or slug, user
        self.existing = existing
        self.table = existing.source_table if existing else "imp_" + slug.replace("-", "_")[:50]
        taken: set[str] = set()
        self.names = {f: column_name(f, taken) for f in source_fields}
        self.key = [self.names.get(k, k) for k in key]
        for k in self.key:
            if k not in self.names.values():
                raise ImportRefused(_("Trường khoá %(k)s không có trong tệp.") % {"k": k})
        self.geom_type = existing.geometry_type if existing else ""
        self.layer = existing  # type: ignore[assignment]  # None until prepare() creates the layer

    def key_columns(self) -> list[str]:
        return self.key

    def columns(self, stage: dict[str, tuple[str, str]]) -> tuple[list[Column], list[Check]]:
        cols = [Column(self.names[src], f"s.{q(col)}", pg_type) for src, (col, pg_type) in stage.items()]
        cols += [
            Column("commune_id", "g.commune_id", "bigint"),
            Column("commune_code", "g.commune_code", "varchar(10)"),
        ]
        cols.append(Column("geom", "g.geom", f"geometry({self.geom_type}, 4326)"))
        return cols, []

    def prepare(self, cursor: Any, columns: list[Column]) -> None:
        if self.existing:
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [self.table])
            have = {r[0] for r in cursor.fetchall()}
            missing = [c.name for c in columns if c.name not in have]
            if missing:
                raise ImportRefused(
                    _("Lớp %(slug)s đã có nhưng thiếu các cột %(cols)s của tệp.")
                    % {"slug": self.slug, "cols": ", ".join(missing)}
                )
            return
        defs = ", ".join(f"{q(c.name)} {c.pg_type}" for c in columns)
        t = q(self.table)
        cursor.execute(f"CREATE TABLE {t} (id bigserial PRIMARY KEY, {defs}, imported_at timestamptz DEFAULT now())")
        self.created = True
        attrs = [
            {
                "name": "commune_code",
                "title_vi": "Mã xã",
                "title_en": "Commune code",
                "type": "string",
                "visibility": "public",
                "roles": [],
            }
        ]
        for c in columns:
            if c.name in ("geom", "commune_id", "commune_code"):
                continue
            original = next(src for src, n in self.names.items() if n == c.name)
            attrs.append(
                {
                    "name": c.name,
                    "title_vi": original,
                    "title_en": original,
                    "type": ARROW_KIND.get(c.pg_type, "string"),
                    "visibility": "public",
                    "roles": [],
                }
            )
        self.layer = Layer.objects.create(
            slug=self.slug,
            title_vi=self.title,
            title_en=self.title,
            source_table=self.table,
            geometry_type=self.geom_type,
            visibility="staff",
            attributes=attrs,
            id_field="id",
            geometry_field="geom",
            edit_roles=["gis_staff"],
            search_fields=[],
            sort_order=200,
            description_vi=_("Lớp nhập từ tệp."),
            min_zoom=6,
        )

    def finish(self, cursor: Any) -> None:
        if not getattr(self, "created", False):
            return
        t = q(self.table)
        cursor.execute(f"CREATE INDEX ON {t} USING gist (geom)")
        cursor.execute(f"CREATE INDEX ON {t} (commune_code)")
        if self.key:
            cursor.execute(f"CREATE INDEX ON {t} ({', '.join(q(k) for k in self.key)})")
        cursor.execute(f"ANALYZE {t}")

    def unique_sets(self) -> list[list[str]]:
        return []


__all__ = ["Check", "Column", "NewLayerTarget", "SectorTarget", "Target", "column_name", "geom_dim", "q", "sql"]
