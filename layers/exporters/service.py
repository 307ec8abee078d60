"""One export entry point for the three doors (web form, API, management command)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from layers import query as lq
from layers.exporters.formats import Exporter, exporter_for, temp_folder
from layers.exporters.rows import ExportError, ExportRows, export_rows
from layers.models import Layer

RESERVED_PARAMS = {"format", "srid", "crs", "commune", "bbox", "filename", "layer"}


def parse_request(
    layer: Layer, params: Mapping[str, Any], getlist: Any = None
) -> tuple[Exporter, lq.FeatureQuery, int]:
    """Format, filters (commune, bbox, attribute=value) and CRS from request parameters."""
    exporter = exporter_for(str(params.get("format") or "geojson"))
    srid_text = str(params.get("srid") or params.get("crs") or "4326").upper().removeprefix("EPSG:")
    if not srid_text.isdigit():
        raise ExportError(f"srid must be 4326 or 5899, not {srid_text!r}")
    communes: list[str] = []
    for value in (getlist("commune") if getlist else [params.get("commune")]) or []:
        communes += [c.strip() for c in str(value or "").split(",") if c.strip()]
    filters = [(k, "eq", v) for k, v in params.items() if k not in RESERVED_PARAMS and v not in (None, "")]
    query = lq.FeatureQuery(bbox=lq.parse_bbox(params.get("bbox")), communes=communes, filters=filters)
    return exporter, query, int(srid_text)


def prepare_export(layer: Layer, user: Any, exporter: Exporter, query: lq.FeatureQuery, srid: int) -> ExportRows:
    rows = export_rows(layer, user, query, srid)
    exporter.check(rows)
    return rows


def export_to_file(
    layer: Layer, user: Any, fmt: str, out: Path, query: lq.FeatureQuery | None = None, srid: int = 4326
) -> Path:
    """Write an export to `out` (the management command, tests)."""
    exporter = exporter_for(fmt)
    rows = prepare_export(layer, user, exporter, query or lq.FeatureQuery(), srid)
    if exporter.streams:
        with open(out, "wb") as fh:
            for chunk in exporter.chunks(rows):
                fh.write(chunk)
        return out
    with temp_folder() as tmp:
        made = exporter.write(rows, Path(tmp))
        made.replace(out)
    return out


def filename(layer: Layer, exporter: Exporter, srid: int) -> str:
    suffix = "" if srid == 4326 else f"-vn2000-{srid}"
    return f"{layer.slug}{suffix}.{exporter.extension}"
