"""Exporters, one class per format. Text formats (GeoJSON, CSV) stream straight to the client; the others
are written batch by batch to a temporary file (GDAL, or gis_ioc.lib.tabular for XLSX), which is then
streamed from disk. CSV and XLSX go through gis_ioc.lib.tabular, which neutralises formula-like text."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import zipfile
from abc import ABC
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyogrio
import shapely

from gis_ioc.lib import tabular
from layers.exporters.rows import ExportError, ExportRows

REGISTRY: dict[str, type[Exporter]] = {}


def register(cls: type[Exporter]) -> type[Exporter]:
    REGISTRY[cls.format] = cls
    return cls


def exporter_for(fmt: str) -> Exporter:
    """The exporter of a format name (geojson, gpkg, shp, csv, kml, xlsx)."""
    cls = REGISTRY.get((fmt or "").lower())
    if cls is None:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(REGISTRY)}")
    return cls()


def _json_default(v: Any) -> Any:
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return str(v)


class Exporter(ABC):
    format: ClassVar[str]
    label: ClassVar[str]
    extension: ClassVar[str]
    content_type: ClassVar[str]
    streams: ClassVar[bool] = False  # True: chunks() yields the body; False: write() makes a file
    wgs84_only: ClassVar[bool] = False

    def check(self, rows: ExportRows) -> None:
        if self.wgs84_only and rows.srid != 4326:
            raise ExportError(f"{self.label} is always WGS84 (EPSG:4326)")

    def chunks(self, rows: ExportRows) -> Iterator[bytes]:
        raise NotImplementedError

    def write(self, rows: ExportRows, folder: Path) -> Path:
        raise NotImplementedError


@register
class GeoJSONExporter(Exporter):
    format = "geojson"
    label = "GeoJSON"
    extension = "geojson"
    content_type = "application/geo+json"
    streams = True

    def chunks(self, rows: ExportRows) -> Iterator[bytes]:
        head: dict[str, Any] = {"type": "FeatureCollection", "name": rows.layer.slug}
        if rows.srid != 4326:  # RFC 7946 is WGS84; a named CRS tells QGIS/GDAL what VN-2000 metres are
            head["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{rows.srid}"}}
        yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n').encode()
        names = [n for n, _t in rows.fields]
        first = True
        for batch in rows.batches():
            parts = []
            for row in batch:
                props = dict(zip(names, row[1:-2], strict=True))
                feature = {"type": "Feature", "id": row[0], "properties": props}
                text = json.dumps(feature, ensure_ascii=False, default=_json_default)
                text = text[:-1] + ', "geometry": ' + (row[-1] or "null") + "}"
                parts.append(("" if first else ",\n") + text)
                first = False
            yield "".join(parts).encode()
        yield b"\n]}\n"


@register
class CSVExporter(Exporter):
    format = "csv"
    label = "CSV"
    extension = "csv"
    content_type = "text/csv; charset=utf-8"
    streams = True

    def chunks(self, rows: ExportRows) -> Iterator[bytes]:
        writer = tabular.CSVWriter([n for n, _t in rows.fields] + ["wkt"])
        yield writer.drain()
        for batch in rows.batches():
            wkts = shapely.to_wkt(shapely.from_wkb([r[-2] for r in batch]), rounding_precision=-1)
            writer.extend([*row[1:-2], wkt] for row, wkt in zip(batch, wkts, strict=True))
            yield writer.drain()


INT64 = pa.int64()
ARROW = {"integer": INT64, "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32()}


def _arrow_batch(rows: ExportRows, batch: list[tuple[Any, ...]], int_type: pa.DataType = INT64) -> pa.Table:
    cols, names = [], []
    for i, (name, kind) in enumerate(rows.fields, start=1):
        values = [r[i] for r in batch]
        typ = int_type if kind == "integer" else ARROW.get(kind, pa.string())
        if typ == pa.string():
            values = [None if v is None else str(v) for v in values]
        elif kind == "integer":
            values = [None if v is None else int(v) for v in values]
        elif kind == "number":
            values = [None if v is None else float(v) for v in values]
        cols.append(pa.array(values, typ))
        names.append(name)
    geom = pa.array([bytes(r[-2]) if r[-2] is not None else None for r in batch], pa.binary())
    field = pa.field("geometry", pa.binary(), metadata={b"ARROW:extension:name": b"geoarrow.wkb"})
    schema = pa.schema([*(pa.field(n, c.type) for n, c in zip(names, cols, strict=True)), field])
    return pa.Table.from_arrays([*cols, geom], schema=schema)


class OgrExporter(Exporter):
    driver: ClassVar[str]
    int_type: ClassVar[pa.DataType] = pa.int64()
    ogr_extension: ClassVar[str | None] = None  # the file OGR writes, when the download wraps it (shp in zip)

    def write(self, rows: ExportRows, folder: Path) -> Path:
        out = folder / f"{rows.layer.slug}.{self.ogr_extension or self.extension}"
        first = True
        for batch in rows.batches():
            pyogrio.write_arrow(
                _arrow_batch(rows, batch, self.int_type),
                out,
                layer=rows.layer.slug.replace("-", "_"),
                driver=self.driver,
                geometry_name="geometry",
                geometry_type=self.geometry_type(rows),
                crs=f"EPSG:{rows.srid}",
                encoding=self.encoding(),
                append=not first,
                **self.options(),
            )
            first = False
        if first:  # no rows: still a valid, empty file with the layer's fields
            pyogrio.write_arrow(
                _arrow_batch(rows, [], self.int_type),
                out,
                layer=rows.layer.slug.replace("-", "_"),
                driver=self.driver,
                geometry_name="geometry",
                geometry_type=self.geometry_type(rows),
                crs=f"EPSG:{rows.srid}",
                encoding=self.encoding(),
                **self.options(),
            )
        return out

    def geometry_type(self, rows: ExportRows) -> str:
        return rows.geometry_type or "Unknown"

    def encoding(self) -> str | None:
        return None

    def options(self) -> dict[str, Any]:
        return {}


@register
class GeoPackageExporter(OgrExporter):
    format = "gpkg"
    label = "GeoPackage"
    extension = "gpkg"
    content_type = "application/geopackage+sqlite3"
    driver = "GPKG"


@register
class KMLExporter(OgrExporter):
    format = "kml"
    label = "KML"
    extension = "kml"
    content_type = "application/vnd.google-earth.kml+xml"
    driver = "KML"
    wgs84_only = True
    int_type = pa.int32()  # KML's schema knows "int" (32-bit); 64-bit integers would be written as text

    def geometry_type(self, rows: ExportRows) -> str:
        return "Unknown"


@register
class ShapefileExporter(OgrExporter):
    """A zip of .shp/.shx/.dbf with a UTF-8 .cpg and a .prj (field names cut to 10 characters by the format)."""

    format = "shp"
    label = "Shapefile (.zip)"
    extension = "zip"
    ogr_extension = "shp"
    content_type = "application/zip"
    driver = "ESRI Shapefile"

    def encoding(self) -> str | None:
        return "UTF-8"

    def geometry_type(self, rows: ExportRows) -> str:
        if rows.geometry_type in ("Unknown", "GeometryCollection", ""):
            raise ExportError("a shapefile holds one geometry type; this selection mixes several")
        return rows.geometry_type

    def write(self, rows: ExportRows, folder: Path) -> Path:
        shp_dir = folder / "shp"
        shp_dir.mkdir()
        super().write(rows, shp_dir)
        cpg = shp_dir / f"{rows.layer.slug}.cpg"
        if not cpg.exists():
            cpg.write_text("UTF-8")
        out = folder / f"{rows.layer.slug}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(shp_dir.iterdir()):
                zf.write(p, p.name)
        return out


@register
class XLSXExporter(Exporter):
    format = "xlsx"
    label = "Excel (XLSX)"
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def write(self, rows: ExportRows, folder: Path) -> Path:
        writer = tabular.XLSXWriter([n for n, _t in rows.fields] + ["wkt"], title=rows.layer.slug)
        for batch in rows.batches():
            wkts = shapely.to_wkt(shapely.from_wkb([r[-2] for r in batch]), rounding_precision=-1)
            writer.extend([*row[1:-2], wkt] for row, wkt in zip(batch, wkts, strict=True))
        out = folder / f"{rows.layer.slug}.xlsx"
        writer.save(out)
        return out


def temp_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="ioc-export-")
