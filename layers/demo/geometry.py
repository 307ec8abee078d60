"""Demo geometry, generated with numpy + shapely in the cadastral CRS (VN-2000 / TM-3 107°45', EPSG:5899).

Land parcels are tiled along 1 km map sheets: each sheet is cut into strips (a road along its southern
edge, then rows of fields), each strip into plots whose side boundaries slant a little, so neighbours
share edges and the pattern looks like a real cadastral map. Only plots lying wholly inside a commune
are kept, so the commune of every parcel is unambiguous. Sheets near a settlement are residential,
further out farmland (coffee, vegetables, flowers, rice), and far out forest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

CADASTRAL_SRID = 5899  # Lâm Đồng's VN-2000 TM-3 zone
SHEET_M = 1000.0
_TO_M = Transformer.from_crs(4326, CADASTRAL_SRID, always_xy=True)
_TO_DEG = Transformer.from_crs(CADASTRAL_SRID, 4326, always_xy=True)


@dataclass(frozen=True)
class SheetKind:
    """Parcel depth and width ranges (m) of one kind of map sheet, and its land-use mix (code -> weight)."""

    depth: tuple[float, float]
    width: tuple[float, float]
    mix: dict[str, int]


KINDS: dict[str, SheetKind] = {
    "village": SheetKind(
        depth=(25, 60),
        width=(12, 30),
        mix={"ONT": 55, "CLN": 14, "BHK": 14, "TMD": 5, "SKC": 2, "DGD": 1, "DYT": 1, "TSC": 1, "NTD": 1, "DGT": 6},
    ),
    "farm": SheetKind(
        depth=(50, 140),
        width=(25, 70),
        mix={"CLN": 34, "BHK": 32, "LUC": 10, "LUK": 4, "NTS": 2, "ONT": 5, "DTL": 3, "BCS": 2, "RSX": 6, "NKH": 2},
    ),
    "forest": SheetKind(
        depth=(150, 320),
        width=(150, 320),
        mix={"RSX": 66, "RPH": 18, "DCS": 6, "CLN": 7, "BHK": 3},
    ),
}


@overload
def to_metres(geoms: np.ndarray) -> np.ndarray: ...
@overload
def to_metres(geoms: BaseGeometry) -> BaseGeometry: ...
def to_metres(geoms: np.ndarray | BaseGeometry) -> np.ndarray | BaseGeometry:
    """Lon/lat -> EPSG:5899 metres (a geometry gives a geometry, an array of geometries an array)."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_M.transform(xy[:, 0], xy[:, 1])))


@overload
def to_degrees(geoms: np.ndarray) -> np.ndarray: ...
@overload
def to_degrees(geoms: BaseGeometry) -> BaseGeometry: ...
def to_degrees(geoms: np.ndarray | BaseGeometry) -> np.ndarray | BaseGeometry:
    """EPSG:5899 metres -> lon/lat (the inverse of to_metres, same pipeline, so round trips agree)."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_DEG.transform(xy[:, 0], xy[:, 1])))


@dataclass
class Commune:
    """A current commune, in metres, with the settlement centres its villages grow around."""

    id: int
    code: str
    name: str
    shape: BaseGeometry  # EPSG:5899
    centres: list[tuple[float, float]] = field(default_factory=list)  # EPSG:5899

    def __post_init__(self) -> None:
        # Keep generated features a few metres inside the boundary: no feature straddles two communes.
        self.inner = shapely.buffer(self.shape, -5.0)
        shapely.prepare(self.inner)

    def distance_to_centre(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        cx = np.array([c[0] for c in self.centres])
        cy = np.array([c[1] for c in self.centres])
        return np.min(np.hypot(x[:, None] - cx[None, :], y[:, None] - cy[None, :]), axis=1)

    def points_near_centres(self, rng: np.random.Generator, n: int, sigma_m: float) -> np.ndarray:
        """n points (EPSG:5899, shape (n, 2)) scattered around the settlement centres, inside the commune."""
        out: list[np.ndarray] = []
        got = 0
        while got < n:
            pick = rng.integers(0, len(self.centres), size=n * 2)
            centre = np.array(self.centres)[pick]
            xy = centre + rng.normal(0, sigma_m, size=(n * 2, 2))
            keep = shapely.contains_xy(self.inner, xy[:, 0], xy[:, 1])
            out.append(xy[keep])
            got += int(keep.sum())
            sigma_m *= 0.8  # a small commune: tighten rather than loop for long
        return np.concatenate(out)[:n]


def _sheet_kind(rng: np.random.Generator, distance_m: float) -> str:
    if distance_m < 1200:
        return "village" if rng.random() < 0.8 else "farm"
    if distance_m < 4500:
        return "farm" if rng.random() < 0.85 else "forest"
    return "forest" if rng.random() < 0.8 else "farm"


def _sheet_quads(rng: np.random.Generator, x0: float, y0: float, kind: str) -> tuple[np.ndarray, list[str]]:
    """Quads (n, 5, 2) tiling one sheet, and their land uses; the first strip is a road."""
    spec = KINDS[kind]
    dmin, dmax = spec.depth
    wmin, wmax = spec.width
    mix = spec.mix
    codes = list(mix)
    weights = np.array(list(mix.values()), dtype=float)
    weights /= weights.sum()
    quads: list[np.ndarray] = []
    uses: list[str] = []
    road = rng.uniform(6, 10)
    quads.append(np.array([[x0, y0], [x0 + SHEET_M, y0], [x0 + SHEET_M, y0 + road], [x0, y0 + road], [x0, y0]]))
    uses.append("DGT")
    y = y0 + road
    while y < y0 + SHEET_M - 1:
        remaining = y0 + SHEET_M - y
        depth = rng.uniform(dmin, dmax)
        # No sliver strip along the sheet's top edge: a thin remainder joins the last row instead.
        depth = remaining if remaining - depth < dmin / 2 else min(depth, remaining)
        widths = rng.uniform(wmin, wmax, size=int(SHEET_M / wmin) + 2)
        xs = x0 + np.concatenate([[0.0], np.cumsum(widths)])
        xs = xs[xs < x0 + SHEET_M - wmin * 0.5]
        xs = np.append(xs, x0 + SHEET_M)
        # Inner boundaries slant: bottom and top ends move independently, shared by both neighbours.
        slant = rng.uniform(-0.15, 0.15, size=(2, len(xs))) * wmin
        slant[:, 0] = slant[:, -1] = 0
        bottom, top = xs + slant[0], xs + slant[1]
        n = len(xs) - 1
        q = np.empty((n, 5, 2))
        q[:, 0] = np.column_stack([bottom[:-1], np.full(n, y)])
        q[:, 1] = np.column_stack([bottom[1:], np.full(n, y)])
        q[:, 2] = np.column_stack([top[1:], np.full(n, y + depth)])
        q[:, 3] = np.column_stack([top[:-1], np.full(n, y + depth)])
        q[:, 4] = q[:, 0]
        quads.append(q)
        uses.extend(rng.choice(codes, size=n, p=weights).tolist())
        y += depth
    return np.concatenate([q.reshape(-1, 5, 2) for q in quads]), uses


def parcels(communes: list[Commune], seed: int, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """All demo parcels: commune_id, commune_code, sheet_number, parcel_number, land_use, area_m2, geom (4326).
    `progress(communes done, parcels so far)` is called after each commune."""
    rng = np.random.default_rng(seed)
    frames: list[pd.DataFrame] = []
    rows = 0
    for done, commune in enumerate(communes, start=1):
        minx, miny, maxx, maxy = commune.shape.bounds
        xs = np.arange(np.floor(minx / SHEET_M) * SHEET_M, maxx, SHEET_M)
        ys = np.arange(np.floor(miny / SHEET_M) * SHEET_M, maxy, SHEET_M)[::-1]  # sheets numbered from the north
        sheet_no = 0
        for y0 in ys:
            for x0 in xs:
                cell = shapely.box(x0, y0, x0 + SHEET_M, y0 + SHEET_M)
                if not commune.shape.intersects(cell):
                    continue
                centre_d = commune.distance_to_centre(np.array([x0 + 500]), np.array([y0 + 500]))[0]
                quads, uses = _sheet_quads(rng, x0, y0, _sheet_kind(rng, centre_d))
                polys = shapely.polygons(quads)
                keep = shapely.contains(commune.inner, polys)
                if not keep.any():
                    continue
                sheet_no += 1
                kept = polys[keep]
                frames.append(
                    pd.DataFrame(
                        {
                            "commune_id": commune.id,
                            "commune_code": commune.code,
                            "sheet_number": sheet_no,
                            "parcel_number": np.arange(1, len(kept) + 1),
                            "land_use": np.array(uses)[keep],
                            "area_m2": np.round(shapely.area(kept), 1),
                            "geom_m": kept,
                        }
                    )
                )
                rows += len(kept)
        if progress is not None:
            progress(done, rows)
    table = pd.concat(frames, ignore_index=True)
    table["geom"] = list(shapely.multipolygons(to_degrees(table["geom_m"].to_numpy())[:, None].tolist()))
    return table


# Density (%) and height (m) limits by planned class.
ZONE_LIMITS = {"ONT": (60, 12), "ODT": (80, 21), "TMD": (70, 25), "SKC": (60, 15), "SKK": (60, 18), "DGD": (40, 15),
               "DYT": (40, 15), "TSC": (40, 15), "DGT": (None, None), "DTL": (None, None), "NTD": (5, 4)}  # fmt: skip
ZONE_CELL_M = 1500.0


def zones(communes: list[Commune], table: pd.DataFrame, seed: int) -> tuple[list[dict], list[dict]]:
    """Zones of the approved 2015–2025 plan and of the 2025–2035 draft (same cells, ~20% reclassified).

    Each zone is a 1.5 km cell cut by a commune boundary; its planned class is the prevailing land use
    of the parcels in it (forest where there are none).
    """
    rng = np.random.default_rng(seed + 1)
    centroids = shapely.centroid(table["geom_m"].to_numpy())
    cx, cy = shapely.get_x(centroids), shapely.get_y(centroids)
    keyed = pd.DataFrame(
        {
            "code": table["commune_code"],
            "ix": np.floor(cx / ZONE_CELL_M).astype(int),
            "iy": np.floor(cy / ZONE_CELL_M).astype(int),
            "land_use": table["land_use"],
            "area": table["area_m2"],
        }
    )
    by_area = keyed.groupby(["code", "ix", "iy", "land_use"])["area"].sum().reset_index()
    top = by_area.sort_values("area").groupby(["code", "ix", "iy"]).tail(1)
    prevailing = {(r.code, r.ix, r.iy): r.land_use for r in top.itertuples()}
    approved: list[dict] = []
    draft: list[dict] = []
    for commune in communes:
        minx, miny, maxx, maxy = commune.shape.bounds
        number = 0
        for ix in range(int(np.floor(minx / ZONE_CELL_M)), int(np.ceil(maxx / ZONE_CELL_M))):
            for iy in range(int(np.floor(miny / ZONE_CELL_M)), int(np.ceil(maxy / ZONE_CELL_M))):
                cell = shapely.box(ix * ZONE_CELL_M, iy * ZONE_CELL_M, (ix + 1) * ZONE_CELL_M, (iy + 1) * ZONE_CELL_M)
                piece = shapely.make_valid(shapely.intersection(commune.shape, cell))
                parts = [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon" and p.area > 50_000]
                if not parts:
                    continue
                piece = shapely.MultiPolygon(parts)
                number += 1
                use = prevailing.get((commune.code, ix, iy), "RSX")
                centre_d = commune.distance_to_centre(np.array([piece.centroid.x]), np.array([piece.centroid.y]))[0]
                new_use = _draft_class(rng, use, centre_d, commune.code in {"24928", "24931"})
                geom = to_degrees(piece)
                base = {
                    "commune_id": commune.id,
                    "commune_code": commune.code,
                    "zone_code": f"{commune.code}-{number:03d}",
                }
                approved.append({**base, "land_use": use, "geom": geom})
                draft.append({**base, "land_use": new_use, "geom": geom})
    return approved, draft


def _draft_class(rng: np.random.Generator, use: str, centre_d: float, town: bool) -> str:
    """The 2025–2035 draft: settlements grow into farmland, some farmland becomes services, forest shifts."""
    roll = rng.random()
    if centre_d < 3000 and use in {"CLN", "BHK", "LUC", "LUK", "NKH"} and roll < 0.45:
        return rng.choice(["ODT", "TMD"]) if town else rng.choice(["ONT", "ONT", "TMD", "SKC"])
    if use == "RSX" and roll < 0.12:
        return "CLN"
    if use in {"BHK", "LUK"} and roll < 0.15:
        return "CLN"
    if use == "CLN" and 3000 <= centre_d < 6000 and roll < 0.06:
        return "SKK"
    return use
