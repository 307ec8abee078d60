"""Deterministic, plausible commune boundaries around the communes' interior points.

The district is one contiguous territory, divided among its communes without gaps or overlaps, each
commune's area within 1 % of its official figure — a map that looks like a real district,
without shipping any real boundary file:

1. On a ~100 m grid, every pixel's distance (km) to every commune's interior point is warped by a
   smooth, seeded noise field of its own, so that borders wander like real ones instead of running
   along straight bisectors.
2. The territory is the set of pixels within s × (radius of a disc of the commune's area) of some
   commune point, its outline warped the same way; s is found by bisection so that the territory's
   area equals the communes' total, and holes are filled.
3. Each pixel goes to the commune with the smallest additively weighted distance (d_i − w_i), which
   keeps cells in one piece; the weights are iterated until every area matches. A piece the noise cuts
   off from its commune goes to the neighbour that borders it most. Communes known to be neighbours
   (`NEIGHBOURS`: Pró and Quảng Lập, merged in 2025) are pulled together along the segment between their
   points, so that the merged commune is one piece.
4. The label raster is traced to polygons and simplified as one coverage (`shapely.coverage_simplify`),
   so neighbours still share exactly the same edges after simplification.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import unary_union

from gis_ioc.demo.facts import COMMUNES, CommuneFact

# Grid over the district's real extent, with a margin.
WEST, EAST, SOUTH, NORTH = 108.33, 108.77, 11.57, 12.03
CELL_DEG = 0.0009  # ≈ 100 m at 11.8° N
KM_PER_DEG = 111.2
SEED = 677  # the district's GSO code: same map on every machine
BORDER_NOISE_KM = 0.9  # how far a border wanders from the weighted bisector (less for small communes)
OUTLINE_NOISE = 0.12  # the same for the district outline, relative to the disc radii
AREA_TOLERANCE = 0.003
CLOSING_PX = 20  # ≈ 2 km
# Communes that must share a border: Pró merged into Quảng Lập on 2025-01-01, and only neighbours merge.
NEIGHBOURS = [("24946", "24955")]
CORRIDOR_KM = 0.8  # half-width of the strip along which such a pair is pulled together
CORRIDOR_PULL_KM = 3.5


def _cell_area_km2(lat: np.ndarray) -> np.ndarray:
    """Area of a grid cell on the WGS84 ellipsoid (meridian × prime-vertical radius of curvature): the
    sphere would overstate it by ~0.45 % at this latitude, and the areas are checked geodesically."""
    a, e2 = 6378.137, 0.00669437999014
    s2 = np.sin(np.radians(lat)) ** 2
    meridian = a * (1 - e2) / (1 - e2 * s2) ** 1.5
    prime_vertical = a / np.sqrt(1 - e2 * s2)
    return math.radians(CELL_DEG) ** 2 * meridian * prime_vertical * np.cos(np.radians(lat))


def _noise(rng: np.random.Generator, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
    """A smooth field of mean 0 and amplitude ~1: a few plane waves 3–12 km long in random directions."""
    field = np.zeros_like(x_km)
    waves = 6
    for _ in range(waves):
        length = rng.uniform(3.0, 12.0)
        angle = rng.uniform(0, math.pi)
        phase = rng.uniform(0, 2 * math.pi)
        k = 2 * math.pi / length
        field += np.sin(k * (x_km * math.cos(angle) + y_km * math.sin(angle)) + phase)
    return field / math.sqrt(waves / 2)


def _territory(scaled: np.ndarray, outline_noise: np.ndarray, cell_km2: np.ndarray, total: float) -> np.ndarray:
    """The district: pixels whose nearest scaled distance is under s, s set so the area equals `total`."""
    reach = scaled.min(axis=0) + OUTLINE_NOISE * outline_noise
    low, high = 0.5, 4.0
    mask = reach <= high
    for _ in range(40):
        s = (low + high) / 2
        mask = ndimage.binary_fill_holes(_closed(reach <= s, CLOSING_PX))
        components, count = ndimage.label(mask)
        if count > 1:  # keep the main body: a district is one piece
            sizes = ndimage.sum(mask, components, index=range(1, count + 1))
            mask = components == 1 + int(np.argmax(sizes))
        area = cell_km2[mask].sum()
        if abs(area - total) / total < 1e-4:
            break
        low, high = (s, high) if area < total else (low, s)
    return mask


def _segment_km(a: CommuneFact, b: CommuneFact, glon: np.ndarray, glat: np.ndarray) -> np.ndarray:
    """Distance (km) of every grid point to the segment between two communes' points."""
    kx = math.cos(math.radians(11.8)) * KM_PER_DEG
    px, py = (glon - a.lon) * kx, (glat - a.lat) * KM_PER_DEG
    sx, sy = (b.lon - a.lon) * kx, (b.lat - a.lat) * KM_PER_DEG
    t = np.clip((px * sx + py * sy) / (sx * sx + sy * sy), 0.0, 1.0)
    return np.hypot(px - t * sx, py - t * sy)


def _closed(mask: np.ndarray, radius: float) -> np.ndarray:
    """Morphological closing with a disc, by distance transforms (a 41-pixel structuring element is slow):
    fills the bays between the communes' discs that a hole filling alone leaves open to the outside."""
    pad = int(radius) + 2
    padded = np.pad(mask, pad)
    grown = ndimage.distance_transform_edt(~padded) <= radius
    closed = ndimage.distance_transform_edt(grown) > radius
    return closed[pad:-pad, pad:-pad]


def _one_piece_each(labels: np.ndarray, n: int) -> np.ndarray:
    """Give every piece cut off from its commune's main body to the neighbour bordering it most."""
    for index in range(1, n + 1):
        pieces, count = ndimage.label(labels == index)
        if count <= 1:
            continue
        sizes = ndimage.sum(labels == index, pieces, index=range(1, count + 1))
        main = 1 + int(np.argmax(sizes))
        for piece, box in enumerate(ndimage.find_objects(pieces), start=1):
            if piece == main or box is None:
                continue
            # Work in the piece's bounding box grown by one pixel: whole-grid dilations were the cost.
            rows = slice(max(box[0].start - 1, 0), box[0].stop + 1)
            cols = slice(max(box[1].start - 1, 0), box[1].stop + 1)
            window = labels[rows, cols]
            cut = pieces[rows, cols] == piece
            ring = ndimage.binary_dilation(cut) & ~cut
            neighbours = window[ring]
            neighbours = neighbours[(neighbours != index) & (neighbours != 0)]
            if neighbours.size:
                window[cut] = np.bincount(neighbours).argmax()
    return labels


def _label(communes: list[CommuneFact], iterations: int) -> tuple[np.ndarray, Affine]:
    width = round((EAST - WEST) / CELL_DEG)
    height = round((NORTH - SOUTH) / CELL_DEG)
    lons = WEST + (np.arange(width) + 0.5) * CELL_DEG
    lats = NORTH - (np.arange(height) + 0.5) * CELL_DEG
    glon, glat = np.meshgrid(lons, lats)
    kx = math.cos(math.radians(11.8))  # degrees of longitude are shorter here
    x_km, y_km = (glon - WEST) * kx * KM_PER_DEG, (glat - SOUTH) * KM_PER_DEG
    dist = np.stack([np.hypot((glon - c.lon) * kx, glat - c.lat) * KM_PER_DEG for c in communes])
    rng = np.random.default_rng(SEED)
    target = np.array([c.area_km2 for c in communes])
    radius = np.sqrt(target / math.pi)
    wander = np.minimum(BORDER_NOISE_KM, 0.3 * radius)
    warped = dist + np.stack([w * _noise(rng, x_km, y_km) for w in wander])
    index = {c.code: i for i, c in enumerate(communes)}
    for a, b in NEIGHBOURS:
        if a in index and b in index:
            # Pixels near the segment between the two points count as closer to both, so the pair meets along it.
            pull = CORRIDOR_PULL_KM * np.exp(
                -((_segment_km(communes[index[a]], communes[index[b]], glon, glat) / CORRIDOR_KM) ** 2)
            )
            warped[index[a]] -= pull
            warped[index[b]] -= pull
    cell_km2 = _cell_area_km2(glat)
    inside = _territory(dist / radius[:, None, None], _noise(rng, x_km, y_km), cell_km2, target.sum())
    weights = np.zeros(len(communes))
    labels = np.zeros((height, width), dtype=np.int16)
    error = np.inf
    for _ in range(iterations):
        nearest = (warped - weights[:, None, None]).argmin(axis=0) + 1
        labels = np.where(inside, nearest, 0).astype(np.int16)
        if error < 0.02:  # cut-off pieces are small: tidy them only once the areas are nearly right
            labels = _one_piece_each(labels, len(communes))
        areas = np.bincount(labels.ravel(), weights=cell_km2.ravel(), minlength=len(communes) + 1)[1:]
        error = np.abs(areas / target - 1).max()
        if error < AREA_TOLERANCE:
            labels = _one_piece_each(labels, len(communes))
            areas = np.bincount(labels.ravel(), weights=cell_km2.ravel(), minlength=len(communes) + 1)[1:]
            if np.abs(areas / target - 1).max() < AREA_TOLERANCE:
                break
        # Grow a commune that is too small by the difference of the radii of discs of the two areas.
        weights += 0.8 * (radius - np.sqrt(areas / math.pi))
    labels = _one_piece_each(labels, len(communes))  # also when the iterations ran out
    for label, commune in enumerate(communes, start=1):
        row, col = int((NORTH - commune.lat) / CELL_DEG), int((commune.lon - WEST) / CELL_DEG)
        if labels[row, col] != label:
            raise ValueError(f"demo boundaries: {commune.name}'s own point fell outside it")
    return labels, Affine(CELL_DEG, 0, WEST, 0, -CELL_DEG, NORTH)


def generate(communes: list[CommuneFact] = COMMUNES, iterations: int = 300) -> dict[str, MultiPolygon]:
    """Return {GSO code: MultiPolygon (lon/lat)}: one contiguous coverage, areas close to the official ones."""
    # Deterministic and ~2 s of CPU: computed once per process (tests load the district again and again).
    return dict(_generate(tuple(communes), iterations))


@functools.lru_cache(maxsize=4)
def _generate(communes: tuple[CommuneFact, ...], iterations: int) -> dict[str, MultiPolygon]:
    labels, transform = _label(list(communes), iterations)
    pieces: dict[int, list[Polygon]] = {}
    for geom, value in features.shapes(labels, mask=labels > 0, transform=transform):
        pieces.setdefault(int(value), []).append(shape(geom))
    traced = [unary_union(pieces[index]) for index in range(1, len(communes) + 1)]
    # Simplified together: a shared border is simplified once, so no gap or overlap opens along it.
    simplified = shapely.coverage_simplify(np.array(traced, dtype=object), CELL_DEG * 1.5)
    result: dict[str, MultiPolygon] = {}
    for commune, geom in zip(communes, simplified, strict=True):
        polygons = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
        result[commune.code] = MultiPolygon(polygons)
    return result
