"""The one layer source: how to read a catalog layer in SQL, for every channel.

For one version of a catalog row this module describes, once, the FROM clause (table + the commune join of
tabular records), the key, the geometry and its SRID, the typed whitelisted columns, the catalog's source
filter and the commune-scope clause. REST, OGC API – Features, exports, the dashboard, statistics,
analyses, notebooks (through `layers.query`) and vector tiles (`tiles.mvt`, which only wraps it in
ST_AsMVT) all consume it; none of them restates a join, an introspection or a scope rule.

Scope fails closed: a user limited to some communes sees the rows of a layer whose commune column holds
one of them — and nothing of a layer that has no commune column (an imported table without
`commune_code`, an analysis result), and nothing at all when his scope list is empty.

Identifiers come from model metadata or the database's own catalog, quoted here; values are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection

from gis_ioc import permissions

if TYPE_CHECKING:
    from layers.models import Layer

COMMUNE_TABLE = "gis_ioc_adminunit"
COMMUNE_TABLE_ALIAS = "ioc_commune"
POINT_TYPES = {"point", "multipoint"}

# Django field types and PostgreSQL column types -> the JSON-schema-like type of the feature APIs.
_MODEL_TYPES = {
    "CharField": "string",
    "TextField": "string",
    "SlugField": "string",
    "EmailField": "string",
    "URLField": "string",
    "IntegerField": "integer",
    "BigIntegerField": "integer",
    "SmallIntegerField": "integer",
    "PositiveIntegerField": "integer",
    "PositiveSmallIntegerField": "integer",
    "PositiveBigIntegerField": "integer",
    "AutoField": "integer",
    "BigAutoField": "integer",
    "ForeignKey": "integer",
    "FloatField": "number",
    "DecimalField": "number",
    "DateField": "date",
    "DateTimeField": "datetime",
    "BooleanField": "boolean",
}
PG_TYPES = {
    "integer": "integer",
    "bigint": "integer",
    "smallint": "integer",
    "double precision": "number",
    "real": "number",
    "numeric": "number",
    "date": "date",
    "timestamp with time zone": "datetime",
    "timestamp without time zone": "datetime",
    "boolean": "boolean",
}
_INTEGER_KEYS = {"AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "integer", "bigint", "smallint"}


class SourceUnavailable(LookupError):
    """The layer has no readable vector source (a raster, a missing table, no key column)."""


def quote(name: str) -> str:
    """Quote an identifier taken from model metadata or the catalog (never from a request)."""
    return connection.ops.quote_name(name)


def mvt_expression(expr: str, kind: str) -> str:
    """Cast a column so ST_AsMVT writes a value every MVT client understands (numbers, text)."""
    kind = kind.lower()
    if kind in {"decimalfield", "numeric"} or kind.startswith("numeric("):
        return f"{expr}::float8"
    if kind in {"datetimefield", "timestamp with time zone"}:
        return f"to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    if kind in {"datefield", "date", "timestamp without time zone", "jsonfield", "jsonb", "json", "uuidfield", "uuid"}:
        return f"{expr}::text"
    return expr


@dataclass
class Column:
    """A whitelisted attribute: public name, SQL expression, JSON type, and the expression tiles write."""

    name: str
    sql: str
    type: str
    mvt_sql: str = ""

    def __post_init__(self) -> None:
        if not self.mvt_sql:
            self.mvt_sql = self.sql


@dataclass
class LayerSource:
    """How to read one catalog layer in SQL (see the module docstring)."""

    layer: Layer
    table: str  # unquoted table name
    pk: str  # qualified key expression
    pk_type: str  # "integer" or "string"
    geom: str | None  # qualified geometry expression, None for a layer without geometry
    srid: int
    geom_column: str | None  # the stored geometry column of `table` (None when drawn through a join)
    join: str  # extra FROM clause (the commune of tabular records)
    columns: dict[str, Column]
    commune_column: str | None  # qualified GSO commune code of each row, the column scope filters on
    plan_column: str | None = None
    temporal_column: str | None = None
    temporal_is_datetime: bool = False
    # A validity period [temporal_column, valid_to_column) (NULL end: still valid): see validity_sql.
    valid_to_column: str | None = None
    is_point: bool = False
    base_where: str = "TRUE"
    base_params: list[Any] = field(default_factory=list)

    @property
    def from_sql(self) -> str:
        return f"{quote(self.table)}{self.join}"

    @property
    def pk_is_int(self) -> bool:
        return self.pk_type == "integer"

    def validity_sql(self, start: Any = None, end: Any = None) -> tuple[str, list[Any]]:
        """For a layer of versioned rows (a validity period): the rows valid on a day (start == end, or
        today when neither is given), or valid at some time in [start, end] (either end open). TRUE for
        other layers."""
        if self.valid_to_column is None or self.temporal_column is None:
            return "TRUE", []
        begin, until = self.temporal_column, self.valid_to_column
        if start is None and end is None:
            return f"{begin} <= CURRENT_DATE AND ({until} IS NULL OR {until} > CURRENT_DATE)", []
        clauses, params = [], []
        if end is not None:
            clauses.append(f"{begin} <= %s")
            params.append(end)
        if start is not None:
            clauses.append(f"({until} IS NULL OR {until} > %s)")
            params.append(start)
        return " AND ".join(clauses), params

    def scope(self, user: permissions.AnyUser) -> tuple[str, list[Any]]:
        """The commune-scope clause for this user: TRUE when unlimited, FALSE when the layer cannot be
        scoped (no commune column) or the scope is empty — a scoped user never gets unscoped rows."""
        communes = permissions.commune_scope(user)
        if communes is None:
            return "TRUE", []
        if not communes or self.commune_column is None:
            return "FALSE", []
        return f"{self.commune_column} = ANY(%s)", [sorted(communes)]

    def filter_sql(
        self, user: permissions.AnyUser, when: tuple[Any, Any] = (None, None)
    ) -> tuple[list[str], list[Any]]:
        """The catalog's source filter, the validity of versioned rows (today unless `when` = (start, end)
        asks for another day or range) and the user's scope: the clauses every channel starts from."""
        clauses, params = [], []
        if self.base_where != "TRUE":
            clauses.append(self.base_where)
            params += self.base_params
        valid_sql, valid_params = self.validity_sql(*when)
        if valid_sql != "TRUE":
            clauses.append(valid_sql)
            params += valid_params
        scope_sql, scope_params = self.scope(user)
        if scope_sql != "TRUE":
            clauses.append(scope_sql)
            params += scope_params
        return clauses, params


def _source_filter_sql(layer: Layer, pk: str) -> tuple[str, list[Any]]:
    """The catalog's `source_filter` (Django lookups) as SQL, compiled by the ORM itself."""
    if not layer.source_filter:
        return "TRUE", []
    qs = layer.base_queryset()
    query = qs.query
    if len(query.alias_map) <= 1:
        sql, params = query.get_compiler(using=qs.db).compile(query.where)
        return (sql or "TRUE"), list(params)
    # Lookups across relations need joins: keep them in a sub-select on the key.
    sub_sql, sub_params = qs.values("pk").query.sql_with_params()
    return f"{pk} IN ({sub_sql})", list(sub_params)


def _model_source(layer: Layer) -> LayerSource:
    model = layer.model_class()
    assert model is not None
    meta = model._meta
    table = meta.db_table
    t = quote(table)
    by_name: dict[str, Any] = {f.name: f for f in meta.concrete_fields} | {f.attname: f for f in meta.concrete_fields}
    pk_field: Any = by_name.get(layer.id_field) or meta.pk
    columns: dict[str, Column] = {}
    for attr in layer.attributes or []:
        f = by_name.get(attr.get("name"))
        if f is None:
            continue  # a catalog entry naming a missing column exposes nothing rather than failing
        internal = f.get_internal_type()
        expr = f"{t}.{quote(f.column)}"
        kind = _MODEL_TYPES.get(internal, attr.get("type") or "string")
        columns[attr["name"]] = Column(attr["name"], expr, kind, mvt_expression(expr, internal))
    join, geom, srid, geom_column = "", None, 4326, None
    if layer.geometry_field == "commune__geom" and "commune" in by_name:
        # Tabular records (dossiers, revenue, indicators) are drawn as their commune.
        join = (
            f" LEFT JOIN {quote(COMMUNE_TABLE)} {COMMUNE_TABLE_ALIAS}"
            f" ON {COMMUNE_TABLE_ALIAS}.id = {t}.{quote(by_name['commune'].column)}"
        )
        geom = f"{COMMUNE_TABLE_ALIAS}.geom"
    elif layer.geometry_field and layer.geometry_field in by_name:
        gfield = by_name[layer.geometry_field]
        geom, geom_column = f"{t}.{quote(gfield.column)}", gfield.column
        srid = getattr(gfield, "srid", 4326)
    commune = "commune_code" if "commune_code" in by_name else ("code" if table == COMMUNE_TABLE else None)
    temporal = by_name.get(layer.temporal_field) if layer.temporal_field else None
    valid_to = by_name.get(layer.valid_to_field) if layer.valid_to_field else None
    pk = f"{t}.{quote(pk_field.column)}"
    base_where, base_params = _source_filter_sql(layer, pk)
    return LayerSource(
        layer=layer,
        table=table,
        pk=pk,
        pk_type="integer" if pk_field.get_internal_type() in _INTEGER_KEYS else "string",
        geom=geom,
        srid=srid,
        geom_column=geom_column,
        join=join,
        columns=columns,
        commune_column=f"{t}.{quote(by_name[commune].column)}" if commune else None,
        plan_column=f"{t}.{quote(by_name['plan'].column)}" if "plan" in by_name else None,
        temporal_column=f"{t}.{quote(temporal.column)}" if temporal else None,
        temporal_is_datetime=bool(temporal and temporal.get_internal_type() == "DateTimeField"),
        valid_to_column=f"{t}.{quote(valid_to.column)}" if temporal and valid_to else None,
        is_point=(layer.geometry_type or "").lower() in POINT_TYPES,
        base_where=base_where,
        base_params=base_params,
    )


def table_columns(table: str) -> dict[str, tuple[str, int | None]]:
    """name -> (PostgreSQL type, SRID of a geometry column) of a table in the current schema; {} if absent.

    One catalog query (`to_regclass` answers NULL for a missing table instead of failing the transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
            " CASE WHEN t.typname = 'geometry' THEN postgis_typmod_srid(a.atttypmod) END"
            " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
            " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [quote(table)],
        )
        return {name: (kind, srid) for name, kind, srid in cursor.fetchall()}


def _table_source(layer: Layer) -> LayerSource:
    """An imported or generated table: the catalog whitelist checked against the table's real columns."""
    table = layer.source_table
    real = table_columns(table)
    if not real:
        raise SourceUnavailable(layer.slug)
    t = quote(table)
    columns: dict[str, Column] = {}
    for attr in layer.attributes or []:
        name = attr.get("name")
        if name not in real:
            continue
        pg_type = real[name][0]
        expr = f"{t}.{quote(name)}"
        kind = attr.get("type") or PG_TYPES.get(pg_type.split("(")[0], "string")
        columns[name] = Column(name, expr, kind, mvt_expression(expr, pg_type))
    key = layer.id_field if layer.id_field in real else ("id" if "id" in real else None)
    if key is None:
        raise SourceUnavailable(layer.slug)
    has_geom = bool(layer.geometry_field) and layer.geometry_field in real
    temporal = layer.temporal_field if layer.temporal_field in real else None
    valid_to = layer.valid_to_field if temporal and layer.valid_to_field in real else None
    return LayerSource(
        layer=layer,
        table=table,
        pk=f"{t}.{quote(key)}",
        pk_type="integer" if real[key][0] in _INTEGER_KEYS else "string",
        geom=f"{t}.{quote(layer.geometry_field)}" if has_geom else None,
        srid=(real[layer.geometry_field][1] or 4326) if has_geom else 4326,
        geom_column=layer.geometry_field if has_geom else None,
        join="",
        columns=columns,
        commune_column=f"{t}.commune_code" if "commune_code" in real else None,
        plan_column=f"{t}.plan_id" if "plan_id" in real else None,
        temporal_column=f"{t}.{quote(temporal)}" if temporal else None,
        temporal_is_datetime=bool(temporal and real[temporal][0].startswith("timestamp")),
        valid_to_column=f"{t}.{quote(valid_to)}" if valid_to else None,
        is_point=(layer.geometry_type or "").lower() in POINT_TYPES,
    )


def layer_source(layer: Layer) -> LayerSource:
    """The SQL description of a vector layer (sector model or table); SourceUnavailable when it has none.

    Memoised on the Layer instance, keyed by the fields it is built from and the layer's version (an
    import that re-creates a table bumps it), so the catalog cache's shared copy describes each row
    version once and an edited instance is described afresh. Callers must not mutate the result."""
    if layer.kind != "vector":
        raise SourceUnavailable(layer.slug)
    key = (
        layer.source_model,
        layer.source_table,
        layer.geometry_field,
        layer.geometry_type,
        layer.id_field,
        layer.temporal_field,
        layer.valid_to_field,
        repr(layer.attributes),
        repr(layer.source_filter),
        layer.version,
    )
    cached = layer.__dict__.get("_ioc_source")
    if cached is not None and cached[0] == key:
        return cached[1]
    if layer.source_model:
        source = _model_source(layer)
    elif layer.source_table:
        source = _table_source(layer)
    else:
        raise SourceUnavailable(layer.slug)
    layer.__dict__["_ioc_source"] = (key, source)
    return source
