"""Service coverage: the share of each commune's population (from the population raster) that lives within
a distance of schools or health facilities — straight-line buffers in metres, or travel time over a roads
layer with pgRouting when one exists — and the underserved areas as a layer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import connection
from django.utils.translation import gettext_lazy as _
from shapely import wkb as shapely_wkb

from analysis.registry import METRIC_SRID, AnalysisError, AnalysisType, Outcome, register, table
from analysis.results import Column, FeatureSet
from analysis.zonal import population_sum, raster_path

FACILITIES = {
    "schools": ("layers_school", "trường học", "schools"),
    "health-facilities": ("layers_healthfacility", "cơ sở y tế", "health facilities"),
}
POPULATION_SLUG = "population-density"


class CoverageForm(forms.Form):
    facility = forms.ChoiceField(
        label=_("Loại cơ sở"), choices=[("schools", _("Trường học")), ("health-facilities", _("Cơ sở y tế"))]
    )
    mode = forms.ChoiceField(
        label=_("Cách đo"),
        choices=[("distance", _("Khoảng cách đường chim bay")), ("travel_time", _("Thời gian đi trên đường"))],
        initial="distance",
    )
    distance_m = forms.FloatField(
        label=_("Khoảng cách (m)"),
        required=False,
        initial=2000,
        min_value=1,
        max_value=50_000,
        error_messages={"min_value": _("Khoảng cách phải lớn hơn 0 m."), "max_value": _("Khoảng cách tối đa 50 km.")},
    )
    minutes = forms.FloatField(label=_("Thời gian (phút)"), required=False, min_value=1, max_value=180, initial=15)
    speed_kmh = forms.FloatField(
        label=_("Tốc độ mặc định (km/h)"), required=False, min_value=1, max_value=120, initial=30
    )
    access_m = forms.FloatField(
        label=_("Khoảng cách từ đường đến nhà (m)"), required=False, min_value=0, max_value=5000, initial=300
    )
    roads = forms.SlugField(label=_("Lớp đường giao thông"), required=False, initial="roads")
    communes = forms.JSONField(label=_("Giới hạn xã"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == "distance" and not data.get("distance_m") and "distance_m" not in self.errors:
            self.add_error("distance_m", _("Nhập khoảng cách (m)."))
        if data.get("mode") == "travel_time" and not data.get("minutes") and "minutes" not in self.errors:
            self.add_error("minutes", _("Nhập thời gian đi (phút)."))
        return data


def _served_by_distance(table_name: str, distance_m: float) -> bytes | None:
    sql = f"""SELECT ST_AsBinary(ST_Transform(ST_Union(ST_Buffer(ST_Transform(geom, {METRIC_SRID}), %s)), 4326))
              FROM {table_name}"""  # noqa: S608 - table from the FACILITIES whitelist
    with connection.cursor() as cursor:
        cursor.execute(sql, [distance_m])
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] else None


def _per_commune(served: bytes | None, communes: list[str] | None) -> list[dict[str, Any]]:
    """Each current commune with its served part and its underserved part (4326 WKB)."""
    where = "AND code = ANY(%s)" if communes else ""
    sql = f"""
        WITH s AS (SELECT ST_SetSRID(ST_GeomFromWKB(%s), 4326) AS g)
        SELECT u.code, u.name, ST_AsBinary(u.geom),
               ST_AsBinary(CASE WHEN s.g IS NULL THEN ST_GeomFromText('POLYGON EMPTY', 4326)
                                ELSE ST_Intersection(u.geom, s.g) END),
               ST_AsBinary(CASE WHEN s.g IS NULL THEN u.geom ELSE ST_Difference(u.geom, s.g) END)
        FROM gis_ioc_adminunit u, s
        WHERE u.level = 'commune' AND u.valid_from <= CURRENT_DATE
          AND (u.valid_to IS NULL OR u.valid_to > CURRENT_DATE) {where}
        ORDER BY u.code
    """  # noqa: S608 - only a fixed clause is interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [served, *([sorted(communes)] if communes else [])])
        rows = cursor.fetchall()
    return [
        {
            "code": code,
            "name": name,
            "geom": shapely_wkb.loads(bytes(g)),
            "served": shapely_wkb.loads(bytes(s)),
            "unserved": shapely_wkb.loads(bytes(u)),
        }
        for code, name, g, s, u in rows
    ]


@register
class ServiceCoverage(AnalysisType):
    code = "coverage"
    title_vi = "Độ phủ dịch vụ"
    title_en = "Service coverage"
    form_class = CoverageForm

    def run(self, params: dict[str, Any], progress: Any, communes: list[str] | None) -> Outcome:
        from layers.models import Layer

        table_name, name_vi, name_en = FACILITIES[params["facility"]]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table_name}")  # noqa: S608 - whitelisted table
            if not cursor.fetchone()[0]:
                raise AnalysisError(f"Lớp {name_vi} đang rỗng: không có cơ sở nào để tính độ phủ.")
        pop_layer = Layer.objects.filter(slug=POPULATION_SLUG).first()
        value_kind = ((pop_layer.style or {}).get("value_kind") if pop_layer else None) or "density_km2"
        pop_path = raster_path(POPULATION_SLUG)
        progress(10, "Đang tính vùng phục vụ")
        if params["mode"] == "travel_time":
            from analysis.routing import served_by_travel_time

            access_m = params.get("access_m")  # 0 is a valid distance: only a missing one means 300 m
            served = served_by_travel_time(
                table_name,
                params.get("roads") or "roads",
                minutes=params["minutes"],
                speed_kmh=params.get("speed_kmh") or 30,
                access_m=300 if access_m is None else access_m,
            )
            reach_vi = f"{params['minutes']:g} phút"
            reach_en = f"{params['minutes']:g} min"
        else:
            served = _served_by_distance(table_name, params["distance_m"])
            reach_vi = reach_en = f"{params['distance_m']:g} m"
        progress(40, "Đang cắt theo ranh xã")
        units = _per_commune(served, communes)
        if not units:
            raise AnalysisError(_("Không có xã nào trong phạm vi phân tích."))
        progress(60, "Đang tính dân số từ ảnh mật độ")
        totals = population_sum(pop_path, [u["geom"] for u in units], value_kind)
        covered = population_sum(pop_path, [u["served"] for u in units], value_kind)
        rows, stat_rows = [], []
        for u, total, cov in zip(units, totals, covered, strict=True):
            cov = min(cov, total)
            share = round(100 * cov / total, 2) if total > 0 else None
            stat = {
                "commune_code": u["code"],
                "name": u["name"],
                "population": round(total),
                "population_served": round(cov),
                "population_unserved": round(total - cov),
                "share_served": share,
            }
            stat_rows.append(stat)
            if not u["unserved"].is_empty:
                rows.append({**stat, "geom": u["unserved"].wkb})
        progress(85, "Đang tạo lớp vùng chưa được phục vụ")
        columns = [
            Column("commune_code", "Mã xã", "Commune code"),
            Column("name", "Tên xã", "Commune"),
            Column("population", "Dân số", "Population", "integer"),
            Column("population_served", "Dân số được phục vụ", "Population served", "integer"),
            Column("population_unserved", "Dân số chưa được phục vụ", "Population not served", "integer"),
            Column("share_served", "Tỷ lệ được phục vụ (%)", "Share served (%)", "number"),
        ]
        features = FeatureSet(
            "MultiPolygon", columns, rows, style={"kind": "single", "color": "#d7301f", "fill_opacity": 0.35}
        )
        return Outcome(
            features,
            f"Vùng ngoài {reach_vi} tới {name_vi}",
            f"Areas beyond {reach_en} of {name_en}",
            [
                table(
                    "communes",
                    f"Tỷ lệ dân số trong phạm vi {reach_vi} tới {name_vi}",
                    f"Share of population within {reach_en} of {name_en}",
                    [(c.name, c.title_vi, c.title_en) for c in columns],
                    stat_rows,
                )
            ],
            description_vi=f"Phần diện tích mỗi xã nằm ngoài phạm vi {reach_vi} tới {name_vi} gần nhất.",
        )
