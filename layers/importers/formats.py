"""The importers, one class per format: GDAL-read vector files (GeoJSON, Shapefile, GeoPackage, KML/KMZ),
tables with coordinates (CSV, XLSX) and GeoTIFF rasters."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio
import shapely
from django.utils.translation import gettext as _
from pyogrio.errors import DataLayerError, DataSourceError
from pyogrio.raw import open_arrow

from gis_ioc.lib.errors import without_paths
from layers.importers import dbf, encodings
from layers.importers.base import GEOM, Importer, SourceInfo, normalise_table, register
from layers.importers.crs import epsg_of
from layers.importers.safety import ImportRefused, safe_extract

# What GDAL raises on a damaged file; UnicodeDecodeError: a field name that is not UTF-8 (a damaged DBF header).
OGR_ERRORS = (DataSourceError, DataLayerError, RuntimeError, UnicodeDecodeError)


def _ogr_error(path: Path, exc: Exception) -> ImportRefused:
    return ImportRefused(
        _("Không đọc được %(name)s: tệp hỏng hoặc không đúng định dạng (%(err)s).")
        % {"name": path.name, "err": without_paths(str(exc).splitlines()[0])[:200]}
    )


class OgrImporter(Importer):
    """Anything GDAL reads: the dataset path, a layer name, and an encoding for legacy text."""

    driver_label = ""

    def dataset(self) -> Path:
        return self.path

    def ogr_encoding(self) -> str | None:
        return None

    def list_layers(self) -> list[str]:
        try:
            return [str(row[0]) for row in pyogrio.list_layers(self.dataset())]
        except OGR_ERRORS as exc:
            raise _ogr_error(self.path, exc) from exc

    def chosen_layer(self) -> str | None:
        layers = self.list_layers()
        if not layers:
            raise ImportRefused(_("Tệp %(name)s không có lớp dữ liệu nào.") % {"name": self.path.name})
        if self.options.layer:
            if self.options.layer not in layers:
                raise ImportRefused(
                    _("Không có lớp %(layer)s trong tệp; các lớp: %(list)s.")
                    % {"layer": self.options.layer, "list": ", ".join(layers)}
                )
            return self.options.layer
        return layers[0]

    def encoding_guess(self) -> encodings.EncodingGuess | None:
        return None

    def info(self) -> SourceInfo:
        layer = self.chosen_layer()
        try:
            meta = pyogrio.read_info(
                self.dataset(),
                layer=layer,
                encoding=self.ogr_encoding(),
                force_feature_count=True,
                force_total_bounds=True,
            )
        except OGR_ERRORS as exc:
            raise _ogr_error(self.path, exc) from exc
        with self._open(layer, 1) as (_meta, reader):
            schema = reader.schema
        geom_name = self._geom_name(schema)
        fields = [(f.name, f.type) for f in schema if f.name != geom_name]
        bounds = meta.get("total_bounds")
        bounds = tuple(float(v) for v in bounds) if bounds is not None and all(v == v for v in bounds) else None
        return SourceInfo(
            format=self.format,
            layers=self.list_layers(),
            layer=layer,
            fields=fields,
            count=int(meta.get("features") or 0),
            declared_srid=epsg_of(meta.get("crs")),
            bounds=bounds,
            geometry_type=str(meta.get("geometry_type") or ""),
            encoding=self.encoding_guess(),
        )

    def _open(self, layer: str | None, batch_size: int) -> AbstractContextManager[tuple[dict[str, Any], Any]]:
        """pyogrio's reader: (metadata, RecordBatchReader) while open."""
        try:
            return open_arrow(
                self.dataset(), layer=layer, batch_size=batch_size, use_pyarrow=True, encoding=self.ogr_encoding()
            )
        except OGR_ERRORS as exc:
            raise _ogr_error(self.path, exc) from exc

    @staticmethod
    def _geom_name(schema: pa.Schema) -> str | None:
        for f in schema:
            if f.metadata and f.metadata.get(b"ARROW:extension:name", b"").startswith(b"geoarrow"):
                return f.name
        return "wkb_geometry" if "wkb_geometry" in schema.names else None

    def batches(self, batch_size: int = 50_000) -> Iterator[pa.Table]:
        layer = self.chosen_layer()
        try:
            with self._open(layer, batch_size) as (_meta, reader):
                geom_name = self._geom_name(reader.schema)
                for batch in reader:
                    yield normalise_table(pa.Table.from_batches([batch]), geom_name)
        except (*OGR_ERRORS, OSError) as exc:
            raise _ogr_error(self.path, exc) from exc


@register
class GeoJSONImporter(OgrImporter):
    format = "geojson"
    label = "GeoJSON"

    @classmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        return kind == "geojson"

    def info(self) -> SourceInfo:
        self._check_complete()
        return super().info()

    def _check_complete(self) -> None:
        """A download cut short: GeoJSON must end with its closing brace (GDAL would stop with a cryptic error)."""
        with open(self.path, "rb") as fh:
            fh.seek(max(0, self.path.stat().st_size - 64))
            tail = fh.read().rstrip()
        if not tail.endswith(b"}"):
            raise ImportRefused(
                _("Tệp GeoJSON %(name)s không hoàn chỉnh (thiếu dấu đóng ở cuối tệp); có thể tải xuống bị gián đoạn.")
                % {"name": self.path.name}
            )


@register
class GeoPackageImporter(OgrImporter):
    format = "gpkg"
    label = "GeoPackage"

    @classmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        return kind == "gpkg"


@register
class KMLImporter(OgrImporter):
    format = "kml"
    label = "KML/KMZ"

    @classmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        return kind in ("kml", "xml") or path.suffix.lower() == ".kmz"

    def dataset(self) -> Path:
        if self.path.suffix.lower() != ".kmz":
            return self.path
        out = self.workdir / "kmz"
        if not out.exists():
            out.mkdir(parents=True)
            safe_extract(self.path, out)
        kmls = sorted(out.rglob("*.kml"))
        if not kmls:
            raise ImportRefused(_("Tệp KMZ không chứa tệp .kml nào."))
        return kmls[0]


@register
class ShapefileImporter(OgrImporter):
    """A zipped shapefile: .shp + .shx + .dbf (+ .prj, .cpg). Legacy DBF text is transcoded to UTF-8 first."""

    format = "shapefile"
    label = "Shapefile (.zip)"

    @classmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        return kind == "shapefile"

    def list_layers(self) -> list[str]:
        return sorted(p.stem for p in self.path.rglob("*") if p.suffix.lower() == ".shp")

    def _part(self, stem: str, ext: str) -> Path | None:
        for p in self.path.rglob("*"):
            if p.stem == stem and p.suffix.lower() == ext:
                return p
        return None

    def dataset(self) -> Path:
        layer = self.chosen_layer() or ""
        shp = self._part(layer, ".shp")
        missing = [ext for ext in (".shx", ".dbf") if self._part(layer, ext) is None]
        if shp is None or missing:
            raise ImportRefused(
                _("Shapefile %(layer)s thiếu tệp %(missing)s; hãy nén đủ .shp, .shx, .dbf vào tệp .zip.")
                % {"layer": layer, "missing": ", ".join(missing) or ".shp"}
            )
        guess = self.encoding_guess()
        if guess is None or guess.encoding == encodings.UTF8:
            return shp
        return self._transcoded(shp, guess.encoding)

    def _transcoded(self, shp: Path, encoding: str) -> Path:
        """A copy of the shapefile whose DBF is UTF-8 (made once per import; a preview decodes only the
        records it shows, see `sample_limit`)."""
        out = self.workdir / "utf8" / shp.stem
        target = out / shp.name
        if target.exists():
            return target
        out.mkdir(parents=True, exist_ok=True)
        for p in shp.parent.iterdir():
            if p.stem == shp.stem and p.suffix.lower() in (".shp", ".shx", ".prj", ".qix"):
                shutil.copy(p, out / (shp.stem + p.suffix.lower()))
        dbf_src = self._part(shp.stem, ".dbf")
        assert dbf_src is not None  # noqa: S101 - dataset() checked it
        dbf.transcode_to_utf8(dbf_src, out / (shp.stem + ".dbf"), encoding, limit=self.sample_limit)
        (out / (shp.stem + ".cpg")).write_text("UTF-8")
        return out / (shp.stem + ".shp")

    def ogr_encoding(self) -> str | None:
        return "UTF-8"

    def encoding_guess(self) -> encodings.EncodingGuess | None:
        if getattr(self, "_guess", None) is not None:
            return self._guess
        layer = self.chosen_layer() or ""
        dbf_path = self._part(layer, ".dbf")
        if dbf_path is None:
            return None
        cpg = self._part(layer, ".cpg")
        declared = cpg.read_text(errors="replace") if cpg else None
        # A .cpg that names a known encoding wins outright: no need to read and score sample records.
        samples = [] if declared and encodings.normalise_cpg(declared) else dbf.text_samples(dbf_path)
        detected = encodings.detect(samples, cpg=declared)
        if self.options.encoding:
            detected = encodings.EncodingGuess(self.options.encoding, 1.0, detected.scores)
        self._guess: encodings.EncodingGuess | None = detected
        return detected


# --- tables with coordinates --------------------------------------------------------------------
_X_NAMES = ("lon", "lng", "long", "longitude", "kinh_do", "kinhdo", "kinh do", "x", "toa_do_x", "toado_x", "easting")
_Y_NAMES = ("lat", "latitude", "vi_do", "vido", "vĩ độ", "y", "toa_do_y", "toado_y", "northing")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "hinh_hoc", "shape")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class TabularImporter(Importer):
    """Rows and a header; the geometry comes from x/y columns or a WKT column."""

    infer_types = True  # CSV cells are all text; spreadsheet cells carry their own types
    _table: pa.Table | None = None  # read once by _load, then reused
    _geom_kind = ""

    def rows(self) -> tuple[list[str], list[list[object]]]:
        raise NotImplementedError

    def _load(self) -> tuple[pa.Table, str]:
        if self._table is not None:
            return self._table, self._geom_kind
        header, rows = self.rows()
        if not header:
            raise ImportRefused(_("Tệp %(name)s không có dòng tiêu đề.") % {"name": self.path.name})
        columns = {h: [r[i] if i < len(r) else None for r in rows] for i, h in enumerate(header)}
        typed = {name: _typed_column(name, values, self.infer_types) for name, values in columns.items()}
        wkt, x, y = self._geometry_columns(header)
        if wkt:
            geoms = _parse_wkt(columns[wkt])
            kind = "wkt"
        elif x and y:
            xs, ys = typed[x].to_pylist(), typed[y].to_pylist()
            bad = [i + 1 for i, (a, b) in enumerate(zip(xs, ys, strict=True)) if not _is_number(a) or not _is_number(b)]
            geoms = [
                None if (i + 1) in set(bad) else shapely.Point(a, b)
                for i, (a, b) in enumerate(zip(xs, ys, strict=True))
            ]
            kind = "xy"
        else:
            raise ImportRefused(
                _("Không tìm thấy cột toạ độ (lon/lat, x/y) hoặc cột WKT trong %(name)s; các cột: %(cols)s.")
                % {"name": self.path.name, "cols": ", ".join(header)}
            )
        wkb = [None if g is None else shapely.to_wkb(g) for g in geoms]
        drop = {c for c in (wkt,) if c}
        cols = [typed[n] for n in header if n not in drop]
        names = [n for n in header if n not in drop]
        table = pa.table([*cols, pa.array(wkb, pa.binary())], names=[*names, GEOM])
        self._table, self._geom_kind = table, kind
        return table, kind

    def _geometry_columns(self, header: list[str]) -> tuple[str | None, str | None, str | None]:
        lower = {h.strip().lower(): h for h in header}
        if self.options.wkt_field:
            return self._need(header, self.options.wkt_field), None, None
        if self.options.x_field or self.options.y_field:
            return None, self._need(header, self.options.x_field), self._need(header, self.options.y_field)
        wkt = next((lower[n] for n in _WKT_NAMES if n in lower), None)
        if wkt:
            return wkt, None, None
        x = next((lower[n] for n in _X_NAMES if n in lower), None)
        y = next((lower[n] for n in _Y_NAMES if n in lower), None)
        return None, x, y

    def _need(self, header: list[str], name: str | None) -> str:
        if not name or name not in header:
            raise ImportRefused(
                _("Không có cột %(col)s trong tệp; các cột: %(cols)s.") % {"col": name, "cols": ", ".join(header)}
            )
        return name

    def info(self) -> SourceInfo:
        table, kind = self._load()
        geoms = shapely.from_wkb(table[GEOM].to_numpy(zero_copy_only=False))
        valid = geoms[~shapely.is_missing(geoms)]
        bounds = tuple(float(v) for v in shapely.total_bounds(valid)) if len(valid) else None
        fields = [(f.name, f.type) for f in table.schema if f.name != GEOM]
        return SourceInfo(
            format=self.format,
            layers=[self.path.stem],
            layer=self.path.stem,
            fields=fields,
            count=table.num_rows,
            declared_srid=None,
            bounds=bounds,  # type: ignore[arg-type]
            geometry_type="Point" if kind == "xy" else "",
            encoding=getattr(self, "_guess", None),
        )

    def batches(self, batch_size: int = 50_000) -> Iterator[pa.Table]:
        table, _kind = self._load()
        for batch in table.to_batches(max_chunksize=batch_size):
            yield pa.Table.from_batches([batch])


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and v == v


def _parse_wkt(values: list[object]) -> list[shapely.Geometry | None]:
    out = []
    for v in values:
        try:
            out.append(shapely.from_wkt(str(v)) if v not in (None, "") else None)
        except shapely.errors.GEOSException:
            out.append(None)
    return out


def _typed_column(name: str, values: list[object], infer: bool = True) -> pa.Array:
    """Integers, decimals (dot or Vietnamese comma: "1.234,5") or text, decided per column."""
    texts = [v for v in values if v not in (None, "")]
    if texts and all(isinstance(v, int | float) and not isinstance(v, bool) for v in texts):
        kind = pa.int64() if all(isinstance(v, int) for v in texts) else pa.float64()
        return pa.array([None if v in (None, "") else v for v in values], kind)
    if not infer:
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    strs = [str(v).strip() for v in texts]
    if strs and all(_INT.match(s) for s in strs):
        return pa.array([int(str(v).strip()) if v not in (None, "") else None for v in values], pa.int64())
    if strs and all(_FLOAT.match(s) for s in strs):
        return pa.array([float(str(v).strip()) if v not in (None, "") else None for v in values], pa.float64())
    if strs and any("," in s for s in strs) and all(_DECIMAL_COMMA.match(s) for s in strs):
        conv = [str(v).strip().replace(".", "").replace(",", ".") if v not in (None, "") else None for v in values]
        return pa.array([float(s) if s else None for s in conv], pa.float64())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


@register
class CSVImporter(TabularImporter):
    format = "csv"
    label = "CSV"

    @classmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        return kind == "text" or (kind == "geojson" and path.suffix.lower() in (".csv", ".txt"))

    def rows(self) -> tuple[list[str], list[list[object]]]:
        raw = self.path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        guess = encodings.detect([raw[:200_000]])
        if self.options.encoding:
            guess = encodings.EncodingGuess(self.options.encoding, 1.0, guess.scores)
        self._guess = guess
        text = encodings.decode(raw, guess.encoding)
        try:
            dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        try:
            rows = [r for r in reader if any(c.strip() for c in r)]
        except csv.Error as exc:  # a stray carriage return or NUL: not a table
            raise ImportRefused(
                _("Không đọc được %(name)s như một bảng CSV (dòng %(line)d: %(err)s).")
                % {"name": self.path.name, "line": reader.line_num, "err": exc}
            ) from None
        if not rows:
            raise ImportRefused(_("Tệp %(name)s không có dữ liệu.") % {"name": self.path.name})
        header = [h.strip() for h in rows[0]]
        return header, [[c if c != "" else None for c in r] for r in rows[1:]]


@register
class XLSXImporter(TabularImporter):
    format = "xlsx"
    label = "Excel (XLSX)"
    infer_types = False

    @classmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        return kind == "zip" and path.suffix.lower() == ".xlsx"

    def rows(self) -> tuple[list[str], list[list[object]]]:
        from openpyxl import load_workbook

        try:
            wb = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
            raise _ogr_error(self.path, exc) from exc
        ws = wb[self.options.layer] if self.options.layer and self.options.layer in wb.sheetnames else wb.active
        it = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else f"col{i + 1}" for i, h in enumerate(next(it, ()))]
        rows = [list(r) for r in it if any(c not in (None, "") for c in r)]
        wb.close()
        return header, rows


@register
class GeoTIFFImporter(Importer):
    """A GeoTIFF becomes a Cloud-Optimised GeoTIFF raster layer (see pipeline.commit_raster)."""

    format = "geotiff"
    label = "GeoTIFF"
    raster = True

    @classmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        return kind == "tiff"

    def info(self) -> SourceInfo:
        import rasterio

        try:
            with rasterio.open(self.path) as src:
                srid = epsg_of(src.crs.to_wkt()) if src.crs else None
                b = src.bounds
                return SourceInfo(
                    format=self.format,
                    layers=[self.path.stem],
                    layer=self.path.stem,
                    fields=[(f"band{i}", pa.float64()) for i in range(1, src.count + 1)],
                    count=src.width * src.height,
                    declared_srid=srid,
                    bounds=(b.left, b.bottom, b.right, b.top),
                    geometry_type="Raster",
                    notes=[f"{src.width}×{src.height}, {src.count} band(s), {src.dtypes[0]}"],
                )
        except rasterio.errors.RasterioIOError as exc:
            raise _ogr_error(self.path, exc) from exc

    def batches(self, batch_size: int = 50_000) -> Iterator[pa.Table]:
        raise ImportRefused(_("Ảnh raster không nhập theo từng đối tượng."))
