"""Petition hotspots: Getis-Ord Gi* over a hexagon grid (ST_HexagonGrid in metres) with significance levels,
and DBSCAN clusters (ST_ClusterDBSCAN), for a time range and an optional category."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from django import forms
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from scipy import sparse
from scipy.stats import norm

from analysis.registry import METRIC_SRID, AnalysisError, AnalysisType, Outcome, register, table
from analysis.results import Column, FeatureSet

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Two-sided critical z values of the usual confidence levels.
LEVELS = ((99, 2.576), (95, 1.960), (90, 1.645))


def _categories() -> list[tuple[str, StrOrPromise]]:
    from petitions.models import Category

    return [("", _("Tất cả lĩnh vực")), *Category.choices]


class HotspotForm(forms.Form):
    start = forms.DateField(label=_("Từ ngày"))
    end = forms.DateField(label=_("Đến ngày"))
    category = forms.ChoiceField(label=_("Lĩnh vực"), choices=_categories, required=False)
    cell_m = forms.FloatField(
        label=_("Cạnh ô lục giác (m)"),
        initial=500,
        min_value=50,
        max_value=10_000,
        error_messages={"min_value": _("Cạnh ô lục giác tối thiểu 50 m."), "max_value": _("Cạnh ô tối đa 10 km.")},
    )
    eps_m = forms.FloatField(label=_("Bán kính cụm DBSCAN (m)"), initial=300, min_value=1, max_value=20_000)
    min_points = forms.IntegerField(label=_("Số phản ánh tối thiểu mỗi cụm"), initial=3, min_value=2, max_value=1000)
    communes = forms.JSONField(label=_("Giới hạn xã"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("Khoảng thời gian rỗng: ngày kết thúc phải sau ngày bắt đầu."))
        return data


def getis_ord_gi_star(x: np.ndarray, w: sparse.csr_matrix) -> np.ndarray:
    """Gi* z-scores of values x under binary weights w (w must include each cell itself)."""
    n = len(x)
    xbar = x.mean()
    s = math.sqrt(max((x**2).mean() - xbar**2, 0.0))
    if n < 3 or s == 0:
        return np.zeros(n)
    wx = w @ x
    wsum = np.asarray(w.sum(axis=1)).ravel()
    w2sum = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    denom = s * np.sqrt((n * w2sum - wsum**2) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (wx - xbar * wsum) / denom
    return np.nan_to_num(z)


def significance(z: float) -> int:
    """Signed confidence level: 99/95/90 for hot spots, -99/-95/-90 for cold spots, 0 if not significant."""
    for level, crit in LEVELS:
        if abs(z) >= crit:
            return level if z > 0 else -level
    return 0


_GRID_SQL = """
WITH area AS (
    SELECT ST_Transform(ST_Union(geom), {m}) AS g FROM gis_ioc_adminunit
    WHERE level = 'commune' AND valid_from <= CURRENT_DATE AND (valid_to IS NULL OR valid_to > CURRENT_DATE)
      AND {communes}
),
hex AS MATERIALIZED (
    SELECT h.i, h.j, h.geom FROM area, ST_HexagonGrid(%s, area.g) h WHERE ST_Intersects(h.geom, area.g)
)
SELECT ST_AsBinary(ST_Transform(hex.geom, 4326)), ST_X(ST_Centroid(hex.geom)), ST_Y(ST_Centroid(hex.geom)),
       (SELECT u.code FROM gis_ioc_adminunit u WHERE u.level = 'commune' AND u.valid_to IS NULL
          AND ST_Intersects(u.geom, ST_Transform(ST_Centroid(hex.geom), 4326)) LIMIT 1)
FROM hex ORDER BY hex.i, hex.j
"""

_POINTS_SQL = """
SELECT ST_X(g), ST_Y(g) FROM (
    SELECT ST_Transform(p.geom, {m}) AS g FROM petitions_petition p
    WHERE p.received_at >= %s AND p.received_at < %s AND {category} AND {pcommunes}
) s
"""


def count_in_hexagons(centres: np.ndarray, points: np.ndarray, size: float) -> np.ndarray:
    """Points per hexagon of a regular grid: a point lies in the hexagon of the nearest centre (the
    hexagons are the Voronoi cells of their centres); points farther than the circumradius are outside."""
    from scipy.spatial import cKDTree

    counts = np.zeros(len(centres))
    if not len(points):
        return counts
    dist, idx = cKDTree(centres).query(points)
    inside = dist <= size * (1 + 1e-9)
    return np.bincount(idx[inside], minlength=len(centres)).astype(float)


_DBSCAN_SQL = """
WITH pts AS (
    SELECT p.id, p.category, p.commune_code, p.geom,
           ST_ClusterDBSCAN(ST_Transform(p.geom, {m}), eps => %s, minpoints => %s) OVER () AS cid
    FROM petitions_petition p
    WHERE p.received_at >= %s AND p.received_at < %s AND {category} AND {pcommunes}
)
SELECT cid, count(*), ST_X(ST_Centroid(ST_Collect(geom))), ST_Y(ST_Centroid(ST_Collect(geom))),
       mode() WITHIN GROUP (ORDER BY category), mode() WITHIN GROUP (ORDER BY commune_code),
       ST_MaxDistance(ST_Transform(ST_Centroid(ST_Collect(geom)), {m}), ST_Transform(ST_Collect(geom), {m}))
FROM pts WHERE cid IS NOT NULL GROUP BY cid ORDER BY count(*) DESC
"""


def _filters(params: dict[str, Any], communes: list[str] | None) -> tuple[dict[str, str], list[Any], list[Any]]:
    # Dates are local days (Asia/Ho_Chi_Minh), the end day included.
    start = timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(params["start"]), dt.time.min))
    end = timezone.make_aware(
        dt.datetime.combine(dt.date.fromisoformat(params["end"]) + dt.timedelta(days=1), dt.time.min)
    )
    clauses = {
        "m": str(METRIC_SRID),
        "communes": "code = ANY(%s)" if communes else "TRUE",
        "category": "p.category = %s" if params.get("category") else "TRUE",
        "pcommunes": "p.commune_code = ANY(%s)" if communes else "TRUE",
    }
    tail = [start, end, *([params["category"]] if params.get("category") else []), *([communes] if communes else [])]
    head = [communes] if communes else []
    return clauses, head, tail


def _neighbours(xy: np.ndarray, cell_m: float) -> sparse.csr_matrix:
    """Binary weights: a hexagon and its (up to six) neighbours, whose centres are √3·size apart."""
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    pairs = tree.query_pairs(r=math.sqrt(3) * cell_m * 1.01, output_type="ndarray")
    n = len(xy)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


@register
class PetitionHotspots(AnalysisType):
    code = "hotspots"
    title_vi = "Điểm nóng phản ánh"
    title_en = "Petition hotspots"
    form_class = HotspotForm

    def run(self, params: dict[str, Any], progress: Any, communes: list[str] | None) -> Outcome:
        clauses, head, tail = _filters(params, communes)
        progress(10, "Đang tạo lưới lục giác và đếm phản ánh")
        with connection.cursor() as cursor:
            cursor.execute(_GRID_SQL.format(**clauses), [*head, params["cell_m"]])
            cells = cursor.fetchall()
            if not cells:
                raise AnalysisError(_("Không có xã nào trong phạm vi phân tích."))
            cursor.execute(_POINTS_SQL.format(**clauses), tail)
            points = np.array(cursor.fetchall(), dtype=float).reshape(-1, 2)
            xy = np.array([(c[1], c[2]) for c in cells])
            counts = count_in_hexagons(xy, points, params["cell_m"])
            if counts.sum() == 0:
                raise AnalysisError(_("Không có phản ánh nào trong khoảng thời gian và lĩnh vực đã chọn."))
            progress(50, "Đang tính Getis-Ord Gi*")
            z = getis_ord_gi_star(counts, _neighbours(xy, params["cell_m"]))
            progress(70, "Đang tìm cụm DBSCAN")
            cursor.execute(_DBSCAN_SQL.format(**clauses), [params["eps_m"], params["min_points"], *tail])
            clusters = cursor.fetchall()
        rows: list[dict[str, Any]] = []
        for (geom, _x, _y, code), count, zi in zip(cells, counts, z, strict=True):
            level = significance(float(zi))
            rows.append(
                {
                    "commune_code": code or "",
                    "petitions": int(count),
                    "gi_z": round(float(zi), 4),
                    "p_value": round(float(2 * norm.sf(abs(zi))), 5),
                    "confidence": level,
                    "hotspot": "nóng" if level > 0 else ("lạnh" if level < 0 else ""),
                    "geom": bytes(geom),
                }
            )
        columns = [
            Column("commune_code", "Mã xã", "Commune code"),
            Column("petitions", "Số phản ánh", "Petitions", "integer"),
            Column("gi_z", "Điểm z Gi*", "Gi* z-score", "number"),
            Column("p_value", "Giá trị p", "p-value", "number"),
            Column("confidence", "Mức tin cậy (%)", "Confidence (%)", "integer"),
            Column("hotspot", "Loại điểm", "Spot type"),
        ]
        style = {
            "kind": "categories",
            "field": "confidence",
            "colors": {
                "99": "#d7191c",
                "95": "#fc8d59",
                "90": "#fee090",
                "0": "#f7f7f7",
                "-90": "#e0f3f8",
                "-95": "#91bfdb",
                "-99": "#4575b4",
            },
            "fill_opacity": 0.6,
        }
        cluster_rows = [
            {
                "cluster": i + 1,
                "petitions": n,
                "lon": round(x, 6),
                "lat": round(y, 6),
                "category": cat,
                "commune_code": code,
                "radius_m": round(r or 0, 1),
            }
            for i, (_cid, n, x, y, cat, code, r) in enumerate(clusters)
        ]
        hot = [r for r in rows if r["confidence"] > 0]
        summary: dict[str, dict[str, Any]] = {}
        for r in hot:
            summary.setdefault(r["commune_code"], {"commune_code": r["commune_code"], "hot_cells": 0, "petitions": 0})
            summary[r["commune_code"]]["hot_cells"] += 1
            summary[r["commune_code"]]["petitions"] += r["petitions"]
        return Outcome(
            FeatureSet("MultiPolygon", columns, rows, style=style),
            f"Điểm nóng phản ánh {params['start']} – {params['end']}",
            f"Petition hotspots {params['start']} – {params['end']}",
            [
                table(
                    "hot_communes",
                    "Ô điểm nóng theo xã",
                    "Hot spots by commune",
                    [
                        ("commune_code", "Mã xã", "Commune"),
                        ("hot_cells", "Số ô nóng", "Hot cells"),
                        ("petitions", "Số phản ánh trong ô nóng", "Petitions in hot cells"),
                    ],
                    sorted(summary.values(), key=lambda r: -r["petitions"]),
                ),
                table(
                    "clusters",
                    "Cụm DBSCAN",
                    "DBSCAN clusters",
                    [
                        ("cluster", "Cụm", "Cluster"),
                        ("petitions", "Số phản ánh", "Petitions"),
                        ("lon", "Kinh độ", "Longitude"),
                        ("lat", "Vĩ độ", "Latitude"),
                        ("category", "Lĩnh vực chính", "Main category"),
                        ("commune_code", "Mã xã", "Commune"),
                        ("radius_m", "Bán kính (m)", "Radius (m)"),
                    ],
                    cluster_rows,
                ),
            ],
        )
