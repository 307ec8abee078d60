"""The import pipeline: open (safety checks, format detection) → preview → commit.

Commit streams the file's Arrow batches into a temporary staging table with COPY, then does everything
else in SQL inside one transaction: reprojection (ST_Transform with the VN-2000 datum shift), axis swap,
repair (ST_MakeValid), single→multi, commune assignment, validation of every mapped value, and one
INSERT … SELECT (plus UPDATE … FROM for upserts) into the target. Either every row lands or none does,
unless the caller explicitly asked to skip bad rows.

SQL here is assembled from identifiers (quoted with `q`, taken from the target's metadata or generated as
f0, f1, …) and fixed fragments; every value from a file or a user travels as a parameter or through COPY.
Hence the `noqa: S608` marks.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from gis_ioc import distributed
from gis_ioc.lib import tabular
from layers.importers import crs as crs_mod
from layers.importers import encodings, geometry, staging
from layers.importers.base import GEOM, Importer, ImportOptions, SourceInfo, importer_for
from layers.importers.formats import ShapefileImporter
from layers.importers.safety import ImportRefused, check_upload, safe_extract
from layers.importers.staging import pg_type as _pg_type
from layers.importers.targets import Check, Column, NewLayerTarget, SectorTarget, Target, q
from layers.models import Layer, LayerChange
from layers.models.base import SectorFeature, refile_by_date

Progress = Callable[[int, str], None]
MAX_ISSUES = 1000
TEMP_TABLES = ("_imp_stage", "_imp_geo", "_imp_bad", "_imp_src", "_imp_hit", "_imp_communes")


class ImportRejected(ImportRefused):
    """Rows failed validation in atomic mode: nothing was written; `report` names row, field and reason."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def open_source(path: Path, name: str, options: ImportOptions, workdir: Path) -> Importer:
    """Check the upload and pick the importer for it (unzipping archives safely)."""
    kind = check_upload(path, name)
    ext = Path(name).suffix.lower()
    if kind == "zip" and ext == ".zip":
        out = workdir / "zip"
        out.mkdir(parents=True, exist_ok=True)
        files = safe_extract(path, out)
        if any(p.suffix.lower() in (".shp", ".shx", ".dbf") for p in files):
            return ShapefileImporter(out, options, workdir)
        inner = [
            p for p in files if p.suffix.lower() in (".geojson", ".json", ".gpkg", ".kml", ".csv", ".tif", ".tiff")
        ]
        if len(inner) != 1:
            raise ImportRefused(_("Tệp nén phải chứa một shapefile hoặc đúng một tệp dữ liệu GIS."))
        return open_source(inner[0], inner[0].name, options, workdir)
    if path.suffix.lower() != ext:  # importers look at the extension the user gave
        named = workdir / ("source" + ext)
        if not named.exists():
            named.symlink_to(path.resolve())
        path = named
    return importer_for(path, kind)(path, options, workdir)


def resolve_crs(info: SourceInfo, options: ImportOptions) -> crs_mod.CrsGuess:
    """The CRS to use: the user's choice, else the declared one (checked against the numbers), else a guess."""
    if info.declared_srid and info.declared_srid != crs_mod.WGS84 and not options.srid:
        declared = crs_mod.CrsGuess(info.declared_srid, "declared")
        if options.swap_xy is not None:
            declared.swapped = options.swap_xy
        return declared
    guess = crs_mod.guess_from_bounds(info.bounds)
    if options.srid:
        swapped = guess.swapped if options.swap_xy is None else options.swap_xy
        return crs_mod.CrsGuess(options.srid, "chosen", swapped, guess.candidates, guess.note)
    if info.declared_srid:
        declared = crs_mod.CrsGuess(info.declared_srid, "declared")
        # GeoJSON is WGS84 by definition, yet files arrive with VN-2000 metres or lat/lon swapped in it.
        if info.declared_srid == crs_mod.WGS84 and guess.srid and (guess.srid != crs_mod.WGS84 or guess.swapped):
            guess.note = (guess.note + "; " if guess.note else "") + "declared WGS84 contradicts the coordinates"
            return guess
        if options.swap_xy is not None:
            declared.swapped = options.swap_xy
        return declared
    if options.swap_xy is not None:
        guess.swapped = options.swap_xy
    return guess


def _xy(bounds: tuple[float, float, float, float] | None, swapped: bool) -> tuple[float, float, float, float] | None:
    """The file's bounds in x/y order once a lat/lon swap is undone."""
    if bounds is None or not swapped:
        return bounds
    return (bounds[1], bounds[0], bounds[3], bounds[2])


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)  # PostgreSQL's JSON has no NaN or Infinity
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)


def preview(importer: Importer, sample_size: int = 20) -> dict[str, Any]:
    """What a person needs before committing: format, layers, fields with decoded sample values, CRS and
    encoding guesses, geometry types and problems seen in the sample."""
    importer.sample_limit = sample_size
    info = importer.info()
    guess = resolve_crs(info, importer.options)
    out: dict[str, Any] = {
        "format": info.format,
        "format_label": importer.label,
        "layers": info.layers,
        "layer": info.layer,
        "count": info.count,
        "fields": [{"name": n, "type": _kind(t)} for n, t in info.fields],
        "crs": guess.as_dict(),
        "declared_srid": info.declared_srid,
        "bounds": info.bounds,
        "geometry_type": info.geometry_type,
        "notes": info.notes,
        "encoding": None,
        "raster": importer.raster,
    }
    if info.encoding:
        out["encoding"] = {
            "encoding": info.encoding.encoding,
            "label": info.encoding.label,
            "confidence": round(info.encoding.confidence, 2),
            "from_cpg": info.encoding.from_cpg,
            "scores": {k: round(v, 3) for k, v in info.encoding.scores.items()},
        }
        if isinstance(importer, ShapefileImporter):
            out["encoding_samples"] = _encoding_samples(importer)
    if importer.raster:
        return out
    if reason := geometry.out_of_range(_xy(info.bounds, guess.swapped), guess.srid):
        out["notes"] = [*out["notes"], reason]  # the person can still choose another CRS below
    sample = next(iter(importer.batches(sample_size)), None)
    rows: list[list[Any]] = []
    types: dict[str, int] = {}  # geometry type -> rows of the sample
    issues: list[dict[str, Any]] = []
    if sample is not None:
        sample = sample.slice(0, sample_size)
        geoms, problems = geometry.decode(sample[GEOM].to_pylist())
        names = [n for n, _t in info.fields]
        data = sample.drop_columns([GEOM]).to_pylist()
        for i, (row, g) in enumerate(zip(data, geoms, strict=True)):
            # Lists in field order: a JSON object stored in jsonb would lose the file's column order.
            rows.append([_json_value(row.get(n)) for n in names])
            gtype = "—" if g is None else g.geom_type
            types[gtype] = types.get(gtype, 0) + 1
            if i in problems:
                issues.append({"row": i + 1, "reason": problems[i]})
            elif g is None or g.is_empty:
                issues.append({"row": i + 1, "reason": _("hình học rỗng")})
            elif not g.is_valid:
                issues.append({"row": i + 1, "reason": _("hình học không hợp lệ, sẽ được sửa (ST_MakeValid)")})
    out.update(sample=rows, geometry_types=types, issues=issues)
    return out


def _encoding_samples(importer: ShapefileImporter) -> dict[str, list[str]]:
    """The first legacy text values decoded with every candidate, so a person can see which one reads right."""
    from layers.importers import dbf

    layer = importer.chosen_layer() or ""
    path = importer._part(layer, ".dbf")
    raw = dbf.text_samples(path, 200)[:5] if path else []
    return {enc: [encodings.decode(v, enc) for v in raw] for enc in encodings.ENCODINGS}


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "date"
    return "string"


# --- commit -------------------------------------------------------------------------------------
@dataclass
class Plan:
    importer: Importer
    info: SourceInfo
    target: Target
    srid: int
    swapped: bool
    stage: dict[str, tuple[str, str]]  # source field -> (staging column, pg type)


def make_target(options: ImportOptions, info: SourceInfo, user: Any = None) -> Target:
    """The target named by options.target: "new:<slug>" or the slug of a sector layer."""
    fields = [n for n, _t in info.fields]
    if options.target.startswith("new:"):
        return NewLayerTarget(options.target[4:], options.title, fields, options.key, user)
    layer = Layer.objects.filter(slug=options.target).first()
    if layer is None:
        raise ImportRefused(_("Không có lớp đích %(t)s.") % {"t": options.target or "—"})
    if layer.source_table:
        return NewLayerTarget(layer.slug, layer.title_vi, fields, options.key, user)
    return SectorTarget(layer, options.mapping, options.key, fields)


def run_import(
    path: Path,
    name: str,
    options: ImportOptions,
    *,
    user: Any = None,
    progress: Progress | None = None,
    on_success: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Import a file in one transaction and return the report; raises ImportRefused/ImportRejected.

    `on_success` runs inside the transaction after the data is written (the job status commits with it).
    """
    progress = progress or (lambda p, m: None)
    workdir = Path(settings.MEDIA_ROOT) / "imports" / "work" / uuid.uuid4().hex
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        importer = open_source(path, name, options, workdir)
        if importer.raster:
            from layers.importers.rasters import commit_raster

            with transaction.atomic():
                report = commit_raster(importer, options, user)
                if on_success:
                    on_success(report)
            return report
        info = importer.info()
        guess = resolve_crs(info, options)
        if not guess.srid:
            raise ImportRefused(
                _("Không xác định được hệ toạ độ của %(name)s; hãy chọn mã EPSG (vd. 5899 cho VN-2000 Lâm Đồng).")
                % {"name": name}
            )
        crs_mod.ensure_srid(guess.srid)
        geometry.check_range(_xy(info.bounds, guess.swapped), guess.srid)
        target = make_target(options, info, user)
        with transaction.atomic():
            plan = Plan(importer, info, target, guess.srid, guess.swapped, {})
            with connection.cursor() as cur:
                # JIT compilation costs ~0.3 s per big statement and buys nothing for PostGIS-bound work.
                cur.execute("SET LOCAL jit = off")
                # Memoize in front of the per-feature commune probe hashes every point and never hits (each
                # feature has its own point): ~0.2 s per 200k features of pure overhead.
                cur.execute("SET LOCAL enable_memoize = off")
                try:
                    _stage(cur, plan, progress)
                    report = _check_and_write(cur, plan, options, progress)
                finally:
                    # ON COMMIT DROP is not enough when the caller's transaction outlives this import. A file
                    # that breaks mid-read fails the COPY, which aborts the transaction behind Django's back:
                    # then the rollback drops the tables, and a DROP would hide the reason with its own error.
                    if not connection.needs_rollback and not _aborted():
                        cur.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
            report.update(
                source=name,
                format=info.format,
                layer_in_file=info.layer,
                srid=guess.srid,
                crs_source=guess.source,
                swapped=guess.swapped,
                encoding=info.encoding.encoding if info.encoding else None,
                seconds=round(time.monotonic() - started, 2),
            )
            layer = target.layer
            model = target.model if isinstance(target, SectorTarget) else None
            if model is not None and issubclass(model, SectorFeature) and model.dated_by:
                # Features were found in today's communes; a dated record (a petition of 2024) belongs to
                # the commune valid on its date.
                report["refiled_by_date"] = refile_by_date(model)
            layer.record_change()
            LayerChange.objects.create(
                layer=layer,
                action=LayerChange.Action.IMPORT,
                user=user if getattr(user, "pk", None) else None,
                note=f"{name}: +{report['inserted']} ~{report['updated']} -{report['rejected']}",
                after={k: report[k] for k in ("inserted", "updated", "rejected", "rows")},
            )
            if on_success:
                on_success(report)
        progress(100, _("Hoàn tất"))
        return report
    finally:
        from layers.importers.safety import clean_dir

        clean_dir(workdir)


def _aborted() -> bool:
    """Is the transaction in error on the server (a failed COPY through the raw psycopg connection)?"""
    from psycopg import pq

    raw = connection.connection
    return raw is not None and raw.info.transaction_status == pq.TransactionStatus.INERROR


def _stage(cur: Any, plan: Plan, progress: Progress) -> None:
    """COPY every batch into _imp_stage (columns f0, f1, … as text/number/date), then build _imp_geo."""
    plan.stage = {name: (f"f{i}", _pg_type(t)) for i, (name, t) in enumerate(plan.info.fields)}
    cur.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
    defs = ", ".join(f"{q(col)} {pg}" for col, pg in plan.stage.values())
    cur.execute(
        f"CREATE TEMP TABLE _imp_stage (_row bigint, _geom geometry{', ' + defs if defs else ''}) ON COMMIT DROP"
    )
    columns = ["_row", "_geom", *[col for col, _pg in plan.stage.values()]]
    total = plan.info.count or 0
    row = 0
    raw = cur.cursor.connection if hasattr(cur, "cursor") else cur.connection
    batches = plan.importer.batches(staging.BATCH_ROWS)
    chunks = staging.csv_chunks(batches, [name for name, _t in plan.info.fields], columns)
    with raw.cursor() as pcur:
        with pcur.copy(
            f"COPY _imp_stage ({', '.join(q(c) for c in columns)}) FROM STDIN WITH (FORMAT csv, HEADER false)"
        ) as copy:
            try:
                for chunk, n in chunks:
                    copy.write(chunk)
                    row += n
                    if total:
                        progress(
                            min(60, int(60 * row / total)), _("Đã đọc %(n)d/%(t)d đối tượng") % {"n": row, "t": total}
                        )
            finally:
                chunks.close()  # a failed COPY stops the reader thread
    plan.info.count = row
    _build_geo(cur, plan)
    progress(65, _("Đã chuẩn hoá hình học"))


def _target_type(cur: Any, plan: Plan) -> str:
    """The geometry type to store: the sector model's, or for a new layer the file's dominant dimension."""
    if plan.target.geom_type:
        return plan.target.geom_type
    cur.execute(
        "SELECT ST_Dimension(_geom), bool_or(GeometryType(_geom) LIKE 'MULTI%%'), count(*) FROM _imp_stage "
        "WHERE _geom IS NOT NULL AND NOT ST_IsEmpty(_geom) GROUP BY 1 ORDER BY 3 DESC LIMIT 1"
    )
    row = cur.fetchone()
    dim, has_multi = (row[0], row[1]) if row else (2, True)
    plan.target.geom_type = {0: "MultiPoint" if has_multi else "Point", 1: "MultiLineString"}.get(dim, "MultiPolygon")
    return plan.target.geom_type


def _build_geo(cur: Any, plan: Plan) -> None:
    """Final geometries in one pass: 2D, axes fixed, reprojected to WGS84, repaired, promoted to multi,
    wrong types flagged, commune found. (OFFSET 0 keeps each LATERAL step from being inlined, which would
    recompute ST_Transform and ST_IsValid once per reference.)"""
    want = _target_type(cur, plan)
    dim = 0 if "Point" in want else 1 if "Line" in want else 2
    # Communes cut into small pieces with a GiST index: each feature probes the index and tests a piece of a
    # few dozen vertices instead of detoasting and scanning whole commune boundaries.
    cur.execute(
        "CREATE TEMP TABLE _imp_communes ON COMMIT DROP AS SELECT u.id, u.code, u.area_km2, "
        "ST_Subdivide(u.geom, 48) AS geom FROM gis_ioc_adminunit u WHERE u.level = 'commune' AND u.valid_to IS NULL;"
        "CREATE INDEX ON _imp_communes USING gist (geom); ANALYZE _imp_communes"
    )
    g = "ST_Force2D(s._geom)"
    if plan.swapped:
        g = f"ST_FlipCoordinates({g})"
    if plan.srid != crs_mod.WGS84:
        g = f"ST_Transform(ST_SetSRID({g}, {int(plan.srid)}), 4326)"
    else:
        g = f"ST_SetSRID({g}, 4326)"
    extracted = f"ST_CollectionExtract(m.v, {dim + 1})"
    fixed = (
        f"ST_Multi({extracted})"
        if want.startswith("Multi")
        else f"(CASE WHEN ST_NumGeometries({extracted}) = 1 THEN ST_GeometryN({extracted}, 1) END)"
    )
    cur.execute(
        f"""CREATE TEMP TABLE _imp_geo ON COMMIT DROP AS
        SELECT s._row, e.empty, r.repaired, w.wrong_type, f.geom, c.id AS commune_id, c.code AS commune_code
        FROM _imp_stage s
        CROSS JOIN LATERAL (SELECT {g} AS g OFFSET 0) a
        CROSS JOIN LATERAL (SELECT a.g IS NULL OR ST_IsEmpty(a.g) AS empty OFFSET 0) e
        CROSS JOIN LATERAL (SELECT CASE WHEN e.empty THEN false ELSE NOT ST_IsValid(a.g) END AS repaired OFFSET 0) r
        CROSS JOIN LATERAL (SELECT CASE WHEN e.empty THEN NULL WHEN r.repaired THEN ST_MakeValid(a.g)
                                        ELSE a.g END AS v OFFSET 0) m
        CROSS JOIN LATERAL (SELECT CASE WHEN m.v IS NOT NULL AND ST_Dimension(m.v) <> {dim}
                                        THEN GeometryType(m.v) END AS wrong_type OFFSET 0) w
        CROSS JOIN LATERAL (SELECT CASE WHEN m.v IS NULL OR w.wrong_type IS NOT NULL THEN NULL
                                        ELSE {fixed} END AS geom OFFSET 0) f
        LEFT JOIN LATERAL (SELECT u.id, u.code FROM _imp_communes u
                           WHERE f.geom IS NOT NULL AND ST_Covers(u.geom, ST_PointOnSurface(f.geom))
                           ORDER BY u.area_km2 LIMIT 1) c ON true"""  # noqa: S608
    )
    cur.execute("CREATE UNIQUE INDEX ON _imp_geo (_row); CREATE UNIQUE INDEX ON _imp_stage (_row)")
    # Statistics for the joins and filters that follow, not for the geometry columns: nothing filters on them
    # spatially, and their histograms cost more than the rest of ANALYZE together (~0.4 s per 200k rows).
    stage_cols = ", ".join(["_row", *[q(col) for col, _pg in plan.stage.values()]])
    cur.execute(
        "ANALYZE _imp_geo (_row, empty, repaired, wrong_type, commune_id, commune_code); "
        f"ANALYZE _imp_stage ({stage_cols})"
    )


def _check_and_write(cur: Any, plan: Plan, options: ImportOptions, progress: Progress) -> dict[str, Any]:
    target = plan.target
    columns, checks = target.columns(plan.stage)
    want = target.geom_type
    checks = [
        Check("geometry", "g.empty", _("hình học rỗng")),
        Check(
            "geometry",
            "g.wrong_type IS NOT NULL",
            _("kiểu hình học khác kiểu của lớp (%(t)s); tệp có nhiều kiểu hình học") % {"t": want},
            "g.wrong_type",
        ),
        *checks,
    ]
    cur.execute("SELECT EXISTS (SELECT 1 FROM gis_ioc_adminunit WHERE level = 'commune' AND valid_to IS NULL)")
    has_communes = cur.fetchone()[0]
    outside = Check(
        "geometry",
        "g.geom IS NOT NULL AND g.commune_id IS NULL AND NOT g.empty",
        _("nằm ngoài địa bàn huyện"),
        "ST_AsText(ST_PointOnSurface(g.geom))",
    )
    if target.outside_is_error and has_communes:
        checks.append(outside)
    cur.execute("CREATE TEMP TABLE _imp_bad (_row bigint, field text, reason text, value text) ON COMMIT DROP")
    # Every check in one scan: each row meets a VALUES list of (failed?, field, reason, value).
    values = ", ".join(f"(({c.invalid}), %s, %s, ({c.value})::text)" for c in checks)
    # _imp_geo has one row per staged row: when no check reads the file's columns (a new layer), skip the join.
    reads_stage = any(re.search(r"\bs\.", f"{c.invalid} {c.value}") for c in checks)
    cur.execute(
        f"INSERT INTO _imp_bad SELECT g._row, v.field, v.reason, left(v.value, 200) "  # noqa: S608
        f"FROM {'_imp_stage s JOIN _imp_geo g USING (_row)' if reads_stage else '_imp_geo g'} "
        f"CROSS JOIN LATERAL (VALUES {values}) v(bad, field, reason, value) WHERE v.bad",
        [p for c in checks for p in (c.field, c.reason)],
    )
    _check_duplicates(cur, target, columns)
    cur.execute("SELECT count(DISTINCT _row) FROM _imp_bad")
    rejected = cur.fetchone()[0]
    cur.execute(f"SELECT _row, field, reason, value FROM _imp_bad ORDER BY _row, field LIMIT {MAX_ISSUES}")  # noqa: S608
    issues = [{"row": r, "field": f, "reason": why, "value": v} for r, f, why, v in cur.fetchall()]
    cur.execute("SELECT _row FROM _imp_geo WHERE repaired ORDER BY _row LIMIT %s", [MAX_ISSUES])
    repaired = [r[0] for r in cur.fetchall()]
    flagged: list[int] = []
    if has_communes and not target.outside_is_error:
        cur.execute(f"SELECT _row FROM _imp_geo g WHERE {outside.invalid} ORDER BY _row LIMIT {MAX_ISSUES}")  # noqa: S608
        flagged = [r[0] for r in cur.fetchall()]
    report: dict[str, Any] = {
        "rows": plan.info.count,
        "rejected": rejected,
        "issues": issues,
        "repaired": repaired,
        "outside_district": flagged,
        "inserted": 0,
        "updated": 0,
        "rejects_file": None,
    }
    progress(75, _("Đã kiểm tra dữ liệu"))
    if rejected and not options.skip_bad_rows:
        first = issues[0]
        raise ImportRejected(
            _("%(n)d dòng có lỗi, không dòng nào được nhập. Ví dụ dòng %(row)s, trường %(field)s: %(reason)s.")
            % {"n": rejected, "row": first["row"], "field": first["field"], "reason": first["reason"]},
            report,
        )
    if rejected:
        report["rejects_file"] = _write_rejects(cur, plan)
    target.prepare(cur, columns)
    inserted, updated = _write(cur, target, columns, bool(rejected))
    target.finish(cur)
    report.update(inserted=inserted, updated=updated, target=target.layer.slug)
    progress(95, _("Đã ghi dữ liệu"))
    return report


def _check_duplicates(cur: Any, target: Target, columns: list[Column]) -> None:
    """Rows repeating a key (or a unique field set) within the file, or clashing with rows already stored."""
    exprs = {c.name: c.expr for c in columns}
    key = target.key_columns()
    sets = [key] if key else []
    sets += [u for u in getattr(target, "unique_sets", list)() if u != key]
    table_has_rows = False
    if sets and not key and target.layer is not None:
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {q(target.table)})")  # noqa: S608
        table_has_rows = cur.fetchone()[0]
    for cols in sets:
        tuple_sql = ", ".join(f"({exprs[c]})" for c in cols)
        label = ", ".join(cols)
        # Hash-aggregate the keys once, then pick the rows of the repeated ones (cheaper than a window sort).
        cur.execute(
            f"""INSERT INTO _imp_bad SELECT k._row, %s, %s, k.v FROM (
                  SELECT s._row, ROW({tuple_sql})::text AS v
                  FROM _imp_stage s JOIN _imp_geo g USING (_row)) k
                JOIN (SELECT ROW({tuple_sql})::text AS v FROM _imp_stage s JOIN _imp_geo g USING (_row)
                      GROUP BY 1 HAVING count(*) > 1) d USING (v)""",  # noqa: S608
            [label, _("trùng khoá trong tệp")],
        )
        if table_has_rows:
            match = " AND ".join(f"t.{q(c)} = ({exprs[c]})" for c in cols)
            cur.execute(
                f"""INSERT INTO _imp_bad SELECT s._row, %s, %s, ROW({tuple_sql})::text
                    FROM _imp_stage s JOIN _imp_geo g USING (_row)
                    WHERE EXISTS (SELECT 1 FROM {q(target.table)} t WHERE {match})""",  # noqa: S608
                [label, _("đã có trong cơ sở dữ liệu; nhập lại với khoá để cập nhật")],
            )


def _write(cur: Any, target: Target, columns: list[Column], any_rejected: bool) -> tuple[int, int]:
    """One INSERT … SELECT straight from staging; with a key, an UPDATE … FROM for the rows that exist."""
    select = ", ".join(f"{c.expr} AS {q(c.name)}" for c in columns)
    source = "FROM _imp_stage s JOIN _imp_geo g USING (_row)"
    if any_rejected:
        source += " WHERE NOT EXISTS (SELECT 1 FROM _imp_bad b WHERE b._row = s._row)"
    names = [c.name for c in columns]
    table = q(target.table)
    key = target.key_columns()
    if not key:
        cur.execute(f"INSERT INTO {table} ({', '.join(q(n) for n in names)}) SELECT {select} {source} ORDER BY s._row")  # noqa: S608
        return cur.rowcount, 0
    cur.execute(f"CREATE TEMP TABLE _imp_src ON COMMIT DROP AS SELECT {select} {source} ORDER BY s._row")  # noqa: S608
    # On Citus (gis_ioc/distributed.py) a row never changes its distribution column (commune_code): an
    # upsert matches within the row's commune and leaves that column alone. Plain PostgreSQL: nothing changes.
    shard_key = [c for c in [distributed.distribution_column(target.table, cur)] if c in names and c not in key]
    match = " AND ".join(f"t.{q(k)} IS NOT DISTINCT FROM src.{q(k)}" for k in [*key, *shard_key])
    skip = {"created_at", *key, *shard_key}
    sets = ", ".join(f"{q(n)} = src.{q(n)}" for n in names if n not in skip)
    # The sub-select lets Citus plan the temporary table as an intermediate result (it refuses a direct
    # join of a distributed table with a local one in an UPDATE); PostgreSQL flattens it away.
    cur.execute(f"UPDATE {table} t SET {sets} FROM (SELECT * FROM _imp_src) src WHERE {match}")  # noqa: S608
    updated = cur.rowcount
    # The keys already stored, then the other rows inserted: a NOT EXISTS over the target inside the INSERT
    # would be a correlated sub-query on a distributed table, which Citus cannot run.
    keys = [*key, *shard_key]
    cur.execute(
        f"CREATE TEMP TABLE _imp_hit ON COMMIT DROP AS SELECT {', '.join('src.' + q(k) for k in keys)} "  # noqa: S608
        f"FROM (SELECT * FROM _imp_src) src JOIN {table} t ON {match}"
    )
    seen = " AND ".join(f"h.{q(k)} IS NOT DISTINCT FROM src.{q(k)}" for k in keys)
    cur.execute(
        f"INSERT INTO {table} ({', '.join(q(n) for n in names)}) SELECT {', '.join('src.' + q(n) for n in names)} "  # noqa: S608
        f"FROM _imp_src src WHERE NOT EXISTS (SELECT 1 FROM _imp_hit h WHERE {seen})"
    )
    return cur.rowcount, updated


def _write_rejects(cur: Any, plan: Plan) -> str:
    """The rejected rows as a CSV (row, field, reason, the file's values, WKT) under MEDIA_ROOT."""
    cols = [col for col, _pg in plan.stage.values()]
    cur.execute(
        f"""SELECT b._row, b.fields, b.reasons,
                   {", ".join("s." + q(c) + "::text" for c in cols) + "," if cols else ""}
                   ST_AsText(s._geom)
            FROM (SELECT _row, string_agg(field, '; ' ORDER BY field) AS fields,
                         string_agg(reason, '; ' ORDER BY field) AS reasons FROM _imp_bad GROUP BY _row) b
            JOIN _imp_stage s USING (_row) ORDER BY b._row"""  # noqa: S608
    )
    rel = Path("imports") / "rejects" / f"{uuid.uuid4().hex}.csv"
    out = Path(settings.MEDIA_ROOT) / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    # The file's own values: text typed by whoever made the file, neutralised like every export.
    writer = tabular.CSVWriter(["row", "field", "reason", *plan.stage.keys(), "wkt"])
    writer.extend(cur.fetchall())
    writer.save(out)
    return str(rel)
