"""The zoning engine (analysis/zoning.py) as analysis jobs: a layer of land changing class between two
plans, and a layer of parcels conflicting with a plan."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import connection
from django.utils.translation import gettext_lazy as _

from analysis import zoning
from analysis.registry import AnalysisError, AnalysisType, Outcome, register, table
from analysis.results import Column, FeatureSet


def _plan_exists(plan_id: int) -> bool:
    from layers.models import PlanningPlan

    return PlanningPlan.objects.filter(pk=plan_id).exists()


class CompareForm(forms.Form):
    plan_a = forms.IntegerField(label=_("Quy hoạch hiện hành (mã)"), min_value=1)
    plan_b = forms.IntegerField(label=_("Quy hoạch mới (mã)"), min_value=1)
    communes = forms.JSONField(label=_("Giới hạn xã"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key in ("plan_a", "plan_b"):
            if data.get(key) and not _plan_exists(data[key]):
                self.add_error(key, f"Không có đồ án quy hoạch mã {data[key]}.")
        if data.get("plan_a") and data.get("plan_a") == data.get("plan_b"):
            self.add_error("plan_b", _("Chọn hai đồ án quy hoạch khác nhau."))
        return data


class ConflictForm(forms.Form):
    plan = forms.IntegerField(label=_("Đồ án quy hoạch (mã)"), min_value=1)
    rule = forms.ChoiceField(
        label=_("Quy tắc xung đột"),
        choices=[
            ("code", _("Khác mã loại đất")),
            ("group", _("Khác nhóm đất (nông nghiệp / phi nông nghiệp / chưa sử dụng)")),
        ],
        initial="code",
    )
    min_share = forms.FloatField(
        label=_("Tỷ lệ diện tích thửa nằm trong khu tối thiểu (0–1)"),
        initial=zoning.MIN_OVERLAP_SHARE,
        min_value=0,
        max_value=1,
    )
    communes = forms.JSONField(label=_("Giới hạn xã"), required=False)

    def clean_plan(self) -> int:
        plan = self.cleaned_data["plan"]
        if not _plan_exists(plan):
            raise forms.ValidationError(f"Không có đồ án quy hoạch mã {plan}.")
        return plan


_CHANGE_SQL = """
SELECT c.code, a.land_use, b.land_use,
       ST_AsBinary(ST_Intersection(ST_Intersection(a.geom, b.geom), c.geom)) AS g
FROM layers_planningzone a
JOIN layers_planningzone b ON b.plan_id = %s AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
JOIN gis_ioc_adminunit c ON c.level = 'commune' AND c.valid_to IS NULL AND c.geom && a.geom
     AND ST_Intersects(c.geom, ST_Intersection(a.geom, b.geom))
WHERE a.plan_id = %s AND a.land_use <> b.land_use AND {communes}
"""


@register
class ZoningComparison(AnalysisType):
    code = "zoning_compare"
    title_vi = "So sánh hai quy hoạch"
    title_en = "Zoning plan comparison"
    form_class = CompareForm

    def run(self, params: dict[str, Any], progress: Any, communes: list[str] | None) -> Outcome:
        a, b = params["plan_a"], params["plan_b"]
        progress(10, "Đang tính diện tích chuyển đổi")
        flows = zoning.compare_plans(a, b, communes)
        if not flows:
            raise AnalysisError(_("Hai đồ án không có khu quy hoạch nào trong phạm vi đã chọn (lớp rỗng)."))
        progress(50, "Đang tạo lớp vùng thay đổi")
        clause, cparams = ("c.code = ANY(%s)", [communes]) if communes else ("TRUE", [])
        with connection.cursor() as cursor:
            cursor.execute(_CHANGE_SQL.format(communes=clause), [b, a, *cparams])
            rows = [
                {
                    "commune_code": code,
                    "from_class": f,
                    "to_class": t,
                    "from_name": zoning.class_name(f),
                    "to_name": zoning.class_name(t),
                    "geom": bytes(g),
                }
                for code, f, t, g in cursor.fetchall()
            ]
        columns = [
            Column("commune_code", "Mã xã", "Commune code"),
            Column("from_class", "Loại đất quy hoạch cũ", "Former planned class"),
            Column("to_class", "Loại đất quy hoạch mới", "New planned class"),
            Column("from_name", "Tên loại cũ", "Former class name"),
            Column("to_name", "Tên loại mới", "New class name"),
        ]
        stat_cols = [
            ("commune_code", "Mã xã", "Commune"),
            ("from_class", "Từ loại", "From"),
            ("to_class", "Sang loại", "To"),
            ("hectares", "Diện tích (ha)", "Hectares"),
        ]
        return Outcome(
            FeatureSet(
                "MultiPolygon", columns, rows, style={"kind": "categories", "field": "to_class", "fill_opacity": 0.5}
            ),
            f"Thay đổi quy hoạch {a} → {b}",
            f"Zoning change {a} → {b}",
            [
                table(
                    "flows",
                    "Diện tích chuyển đổi theo xã",
                    "Hectares changing class by commune",
                    stat_cols,
                    [{k: r[k] for k in ("commune_code", "from_class", "to_class", "hectares")} for r in flows],
                )
            ],
        )


@register
class ParcelConflicts(AnalysisType):
    code = "parcel_conflicts"
    title_vi = "Thửa đất xung đột quy hoạch"
    title_en = "Parcel–plan conflicts"
    form_class = ConflictForm

    def run(self, params: dict[str, Any], progress: Any, communes: list[str] | None) -> Outcome:
        from layers.models import LandParcel

        progress(10, "Đang đối chiếu thửa đất với khu quy hoạch")
        found = zoning.parcel_conflicts(params["plan"], communes, rule=params["rule"], min_share=params["min_share"])
        geoms = dict(LandParcel.objects.filter(pk__in={r["id"] for r in found}).values_list("pk", "geom"))
        rows = [
            {**{k: v for k, v in r.items() if k != "id"}, "parcel_id": r["id"], "geom": geoms[r["id"]]} for r in found
        ]
        columns = [
            Column("parcel_id", "Mã thửa (hệ thống)", "Parcel id", "integer"),
            Column("commune_code", "Mã xã", "Commune code"),
            Column("sheet_number", "Tờ bản đồ", "Map sheet", "integer"),
            Column("parcel_number", "Thửa số", "Parcel number", "integer"),
            Column("land_use", "Mục đích sử dụng hiện tại", "Current land use"),
            Column("planned_land_use", "Chức năng quy hoạch", "Planned land use"),
            Column("zone_code", "Mã khu", "Zone code"),
            Column("overlap_m2", "Diện tích chồng lấn (m²)", "Overlap (m²)", "number"),
            Column("overlap_share", "Tỷ lệ chồng lấn", "Overlap share", "number"),
        ]
        per_commune: dict[str, dict[str, Any]] = {}
        for r in found:
            s = per_commune.setdefault(r["commune_code"], {"commune_code": r["commune_code"], "parcels": 0, "m2": 0.0})
            s["parcels"] += 1
            s["m2"] += r["overlap_m2"]
        return Outcome(
            FeatureSet(
                "MultiPolygon", columns, rows, style={"kind": "single", "color": "#e31a1c", "fill_opacity": 0.5}
            ),
            f"Thửa xung đột quy hoạch {params['plan']}",
            f"Parcels conflicting with plan {params['plan']}",
            [
                table(
                    "communes",
                    "Số thửa xung đột theo xã",
                    "Conflicting parcels by commune",
                    [
                        ("commune_code", "Mã xã", "Commune"),
                        ("parcels", "Số thửa", "Parcels"),
                        ("m2", "Diện tích chồng lấn (m²)", "Overlap (m²)"),
                    ],
                    sorted(per_commune.values(), key=lambda r: r["commune_code"]),
                ),
                table(
                    "parcels",
                    "Danh sách thửa xung đột",
                    "Conflicting parcels",
                    [(c.name, c.title_vi, c.title_en) for c in columns],
                    [{k: v for k, v in r.items() if k != "geom"} for r in rows],
                ),
            ],
        )
