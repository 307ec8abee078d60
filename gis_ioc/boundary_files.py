"""Reading administrative boundary files (GeoJSON, GeoPackage, zipped Shapefile, anything GDAL opens)
into `UnitInput`s, with errors that name the file, the row and the field.

GDAL is reached through pyogrio (vectorised reads, one call per file) rather than django.contrib.gis.gdal
(feature-by-feature Python loops): the files are small, but the error reporting is simpler on a table.
Geometries are reprojected to EPSG:4326 here, once, so the loader only ever sees lon/lat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyogrio
from django.contrib.gis.geos import GEOSGeometry
from pyogrio.errors import DataLayerError, DataSourceError

from gis_ioc.admin_units import AdminUnitLoadError, UnitInput, unit_type_from_text
from gis_ioc.lib.text import nfc


def _open_info(path: Path, layer: str | int | None) -> dict[str, Any]:
    """Layer metadata, or an AdminUnitLoadError saying why the file cannot be used."""
    if not path.exists():
        raise AdminUnitLoadError(f"{path}: file not found")
    if path.is_file() and path.stat().st_size == 0:
        raise AdminUnitLoadError(f"{path}: the file is empty (0 bytes)")
    try:
        layers = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError) as exc:
        raise AdminUnitLoadError(f"{path}: not a spatial file GDAL can read ({exc})") from exc
    names = [str(name) for name, _ in layers]
    if layer is None and len(layers) > 1:
        spatial = [str(name) for name, gtype in layers if gtype]
        if len(spatial) != 1:
            raise AdminUnitLoadError(f"{path}: several layers, choose one with --layer: {', '.join(names)}")
        layer = spatial[0]
    if layer is not None and str(layer) not in names:
        raise AdminUnitLoadError(f"{path}: layer {layer!r} does not exist; layers: {', '.join(names)}")
    try:
        info = pyogrio.read_info(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        raise AdminUnitLoadError(f"{path}: cannot read layer {layer!r} ({exc})") from exc
    if not info.get("geometry_type"):
        raise AdminUnitLoadError(
            f"{path}: layer {info.get('layer_name')!r} has no geometry (a table, not a map layer); "
            "give a GeoJSON, GeoPackage or zipped Shapefile of polygons"
        )
    info["layer"] = layer
    return info


def _check_fields(path: Path, available: Iterable[str], wanted: dict[str, str | None]) -> None:
    fields = list(available)
    for option, name in wanted.items():
        if name and name not in fields:
            raise AdminUnitLoadError(
                f"{path}: field {name!r} ({option}) does not exist; available fields: {', '.join(fields)}"
            )


def _text(value: Any) -> str:
    """A code or name cell as text: integers stay integers ("24928", not "24928.0"), nulls become ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value))


def _population(path: Path, row: int, field: str, value: Any) -> int | None:
    text = _text(value).replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError as exc:
        raise AdminUnitLoadError(f"{path}: row {row}: field {field!r} is not a number ({value!r})") from exc
    if number < 0 or not number.is_integer():
        raise AdminUnitLoadError(f"{path}: row {row}: field {field!r} is not a head count ({value!r})")
    return int(number)


def _reprojected(path: Path, info: dict[str, Any], frame: Any) -> Any:
    if info.get("crs"):
        return frame.to_crs(4326)
    # No .prj / CRS: lon/lat is the only guess that cannot silently misplace the data; anything else
    # (VN-2000 metres, say) must be declared by the file.
    minx, miny, maxx, maxy = frame.total_bounds
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
        return frame.set_crs(4326)
    raise AdminUnitLoadError(
        f"{path}: the file has no coordinate reference system and its coordinates are not longitude/latitude; "
        "add a .prj (e.g. EPSG:5899 for Lâm Đồng's VN-2000 TM-3 zone) or reproject it to EPSG:4326"
    )


def read_units(
    path: str | Path,
    *,
    code_field: str,
    name_field: str,
    type_field: str | None = None,
    ascii_field: str | None = None,
    population_fields: dict[int, str] | None = None,
    codes: set[str] | None = None,
    layer: str | int | None = None,
    extra_fields: Iterable[str] = (),
    skip_empty_codes: bool = False,
    skipped: list[str] | None = None,
) -> list[UnitInput]:
    """Read one layer of a boundary file into UnitInputs in EPSG:4326 (codes as text, names NFC).

    `codes` keeps only those codes. A row without a code is an error naming the row, unless
    `skip_empty_codes`: then it is left out and described in `skipped` (if a list is given).
    """
    path = Path(path)
    info = _open_info(path, layer)
    population_fields = population_fields or {}
    extra_fields = list(extra_fields)
    wanted = {"--code-field": code_field, "--name-field": name_field, "--type-field": type_field}
    wanted["--ascii-field"] = ascii_field
    wanted.update({f"--population-field {year}": name for year, name in population_fields.items()})
    wanted.update({f"field {name}": name for name in extra_fields})
    _check_fields(path, info["fields"], wanted)
    columns = sorted({name for name in wanted.values() if name})
    try:
        frame = pyogrio.read_dataframe(path, layer=info["layer"], columns=columns)
    except (DataSourceError, DataLayerError) as exc:
        raise AdminUnitLoadError(f"{path}: cannot read the features ({exc})") from exc
    if len(frame) == 0:
        raise AdminUnitLoadError(f"{path}: the layer {info.get('layer_name')!r} has no features")
    frame = _reprojected(path, info, frame)
    units: list[UnitInput] = []
    # Records as dicts, not itertuples: field names such as "pop 2009" are not Python identifiers.
    for row, values in enumerate(frame.to_dict("records"), start=1):
        code, name = _text(values[code_field]), _text(values[name_field])
        if not code and codes is not None:
            continue  # only some codes are wanted: a row without one cannot be among them
        if not code:
            if not skip_empty_codes:
                raise AdminUnitLoadError(
                    f"{path}: row {row} ({name or 'no name'}): field {code_field!r} is empty; "
                    "fill it, choose another --code-field, or pass --skip-empty-codes"
                )
            if skipped is not None:
                skipped.append(f"row {row} ({name or 'no name'})")
            continue
        if codes is not None and code not in codes:
            continue
        if not name:
            raise AdminUnitLoadError(f"{path}: row {row} (code {code}): field {name_field!r} is empty")
        shape = values["geometry"]
        if shape is None or shape.is_empty:
            raise AdminUnitLoadError(f"{path}: row {row} (code {code}): no geometry")
        populations = {}
        for year, field in population_fields.items():
            count = _population(path, row, field, values[field])
            if count is not None:
                populations[year] = count
        units.append(
            UnitInput(
                code=code,
                name=name,
                geom=GEOSGeometry(memoryview(shape.wkb), srid=4326),
                unit_type=unit_type_from_text(_text(values[type_field]) if type_field else name),
                name_ascii=_text(values[ascii_field]) if ascii_field else "",
                populations=populations,
                row=row,
                extra={field: values[field] for field in extra_fields},
            )
        )
    if not units:
        raise AdminUnitLoadError(f"{path}: none of the features has one of the requested codes")
    return units
