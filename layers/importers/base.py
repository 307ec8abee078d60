"""The importer interface and registry: one class per format, chosen from the file's content.

An importer turns a file into a stream of Arrow tables: the file's attribute columns (text decoded to NFC
Unicode) plus `__wkb`, the geometry as WKB in the file's own coordinates. Everything after that —
reprojection, repair, validation, loading — is format-independent and lives in `pipeline.py`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from layers.importers.encodings import EncodingGuess
from layers.importers.safety import ImportRefused

GEOM = "__wkb"


@dataclass
class ImportOptions:
    """What the user chose (command options, preview form, API fields)."""

    target: str = ""  # "land-parcels" (a sector layer) or "new:<slug>"
    layer: str | None = None  # layer inside a GeoPackage/KML/zip
    srid: int | None = None  # overrides the declared or guessed CRS
    swap_xy: bool | None = None  # overrides the swapped-axes guess
    encoding: str | None = None  # overrides the detected encoding
    mapping: dict[str, str] = field(default_factory=dict)  # target field -> source column
    key: list[str] = field(default_factory=list)  # upsert key (target fields)
    skip_bad_rows: bool = False
    title: str = ""  # title of a new layer
    x_field: str | None = None  # CSV/XLSX: coordinate columns or a WKT column
    y_field: str | None = None
    wkt_field: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class SourceInfo:
    """What an importer found in the file, before any data is read in bulk."""

    format: str
    layers: list[str]
    layer: str | None
    fields: list[tuple[str, pa.DataType]]
    count: int | None
    declared_srid: int | None
    bounds: tuple[float, float, float, float] | None
    geometry_type: str = ""
    encoding: EncodingGuess | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # GDAL reports (inf, inf, -inf, -inf) for a layer whose only coordinates are NaN: no bounds at all.
        if self.bounds is not None and not all(isinstance(v, int | float) and math.isfinite(v) for v in self.bounds):
            self.bounds = None


class Importer(ABC):
    """One format. Subclasses say which files they accept and how to read them as Arrow batches."""

    format: ClassVar[str]
    label: ClassVar[str]
    raster: ClassVar[bool] = False

    def __init__(self, path: Path, options: ImportOptions, workdir: Path) -> None:
        self.path = path
        self.options = options
        self.workdir = workdir
        # Set by a preview: only this many features will be read, so costly per-file work may be cut short.
        self.sample_limit: int | None = None

    @classmethod
    @abstractmethod
    def accepts(cls, path: Path, kind: str) -> bool:
        """Does this importer read the file (kind is what safety.sniff saw)?"""

    @abstractmethod
    def info(self) -> SourceInfo:
        """Layers, fields, count, CRS and encoding of the file."""

    @abstractmethod
    def batches(self, batch_size: int = 50_000) -> Iterator[pa.Table]:
        """The features as Arrow tables: attribute columns + GEOM (WKB, file coordinates)."""


REGISTRY: list[type[Importer]] = []


def register(cls: type[Importer]) -> type[Importer]:
    """Class decorator adding an importer to the registry (first match wins)."""
    REGISTRY.append(cls)
    return cls


def importer_for(path: Path, kind: str) -> type[Importer]:
    for cls in REGISTRY:
        if cls.accepts(path, kind):
            return cls
    raise ImportRefused(f"Không có bộ nhập cho tệp {path.name}")


def normalise_table(table: pa.Table, geom_column: str | None) -> pa.Table:
    """NFC-normalise text columns, rename the geometry column to GEOM, drop extension types."""
    cols, names = [], []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name == geom_column:
            col = col.cast(pa.binary()) if not pa.types.is_binary(col.type) else col
            names.append(GEOM)
        else:
            if pa.types.is_large_string(col.type):
                col = col.cast(pa.string())
            if pa.types.is_string(col.type):
                col = pc.utf8_normalize(col, "NFC")
            names.append(name)
        cols.append(col)
    return pa.table(cols, names=names)
