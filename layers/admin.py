"""Django admin for the sector layers and the layer catalog.

Maps use the local OpenLayers widget (no CDN). Every list filters by commune (current communes, by GSO
code) and status, and searches accent-insensitively: the term is folded ("thanh my") and compared with
PostgreSQL's unaccent() of the stored Vietnamese text. Land parcels are found by their cadastral key:
"24931/12/345" (commune / sheet / parcel), "12/345" (sheet / parcel) or "tờ 12 thửa 345".
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.gis import admin as gis_admin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import CharField, F, Func, Q, QuerySet, TextField
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gis_ioc import permissions
from gis_ioc.admin_widgets import LocalMapWidget
from gis_ioc.lib.text import fold
from gis_ioc.models import AdminUnit
from layers.models import (
    BudgetRevenue,
    CropArea,
    Dossier,
    Farm,
    HealthFacility,
    HouseholdBusiness,
    Indicator,
    LandParcel,
    Layer,
    LayerChange,
    PlanningPlan,
    PlanningZone,
    School,
    TourismSite,
    VisitorCount,
)
from layers.models.catalog import Visibility
from layers.models.imports import ImportJob, ImportMapping

_CHANNELS = {"rest", "ogc", "tiles", "export", "dashboard"}
_PARCEL_KEY = re.compile(r"^\s*(?:(\d{5})\s*[/ ]\s*)?(?:to\s*)?(\d+)\s*[/ ]\s*(?:thua\s*)?(\d+)\s*$")


class Unaccent(Func):
    function = "unaccent"
    output_field = TextField()


class CommuneFilter(admin.SimpleListFilter):
    """The current communes, by GSO code (stable across boundary versions)."""

    title = _("xã/thị trấn")
    parameter_name = "commune"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        communes = AdminUnit.objects.current().communes().order_by("name")
        return [(u.code, u.name) for u in permissions.scope_queryset(request.user, communes, "code")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(commune_code=self.value()) if self.value() else queryset


class SectorForm(forms.ModelForm):
    """Runs the constraints Django skips because the commune is assigned by the model, not the form, and
    refuses a record that would land outside the editing user's communes."""

    user: Any = None  # set by SectorAdmin.get_form: the user whose commune scope the record must stay in

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # Django's private hook, absent from the stubs
        # commune/commune_code are read-only here (set spatially in clean()), so Django's form validation
        # excludes them — and with them the parcel-key constraint, which would then fail as a 500 on save.
        exclude = set(self._get_validation_exclusions()) - {"commune", "commune_code"}  # type: ignore[attr-defined]
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as exc:
            self._update_errors(exc)  # type: ignore[attr-defined]
        self._check_scope()

    def _check_scope(self) -> None:
        # The commune is known only after the model's clean() (spatially, or from the chosen commune), so
        # the scope is checked here: a scoped officer may not create or move a record into another commune.
        if self.errors or permissions.commune_scope(self.user) is None:
            return
        code = self.instance.commune_code
        if not permissions.can_view_commune(self.user, code):
            commune = getattr(self.instance, "commune", None)
            field = self.instance.locate_by or "commune"
            self.add_error(
                field if field in self.fields else None,
                _("Bản ghi này thuộc %(commune)s, ngoài phạm vi địa bàn của bạn.")
                % {"commune": commune.name if commune is not None else code or "?"},
            )


class SectorAdmin(gis_admin.GISModelAdmin):
    """Shared behaviour: local map widget, commune and status filters, accent-insensitive search."""

    form = SectorForm
    gis_widget = LocalMapWidget  # type: ignore[assignment]  # an OpenLayersWidget, not OSM: no online tiles
    list_per_page = 50
    show_full_result_count = False  # counting 100,000 parcels on every page is wasted work
    search_help_text = _('Tìm có dấu hay không dấu ("thanh my" tìm được "Thạnh Mỹ")')

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        names = {f.name for f in self.model._meta.get_fields()}
        extra = [name for name in self.filter_fields if name in names]
        return [CommuneFilter, *extra, "is_demo"]

    filter_fields: tuple[str, ...] = ("status",)

    # --- commune scope: a scoped user lists, opens and edits only his communes' records (fail closed: a
    # record without a commune is outside every scope). Model permissions come from the role groups.
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return permissions.scope_queryset(request.user, super().get_queryset(request))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # Validating the form moves the instance to its new commune; the permission is about the stored one.
            obj._stored_commune_code = obj.commune_code
        return obj

    def _in_scope(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None:
            return True
        return permissions.can_view_commune(request.user, getattr(obj, "_stored_commune_code", obj.commune_code))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user  # type: ignore[attr-defined]  # SectorForm.user
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        located = getattr(self.model, "locate_by", None) is not None
        readonly = ["commune_code", "created_at", "updated_at"]
        return (["commune"] if located else []) + readonly

    # --- edits keep the catalog fresh: audit row, version bump, tiles purged where the feature was/is
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        old = None
        if change and obj.pk:
            old = _geometry_of(type(obj)._default_manager.filter(pk=obj.pk).first())
        super().save_model(request, obj, form, change)
        action = LayerChange.Action.UPDATE if change else LayerChange.Action.CREATE
        record_admin_change(request, obj, action, [old, _geometry_of(obj)])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        geom, pk = _geometry_of(obj), obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        record_admin_change(request, obj, LayerChange.Action.DELETE, [geom])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        Layer.objects.record_change(self.model)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = fold(search_term)
        if not term or not self.search_fields:
            return queryset, False
        match = Q()
        annotations = {}
        for i, name in enumerate(self.search_fields):
            alias = f"_folded_{i}"
            annotations[alias] = _folded(self.model, name)
        queryset = queryset.alias(**annotations)
        for word in term.split():
            match &= Q(
                *[Q(**{f"_folded_{i}__contains": word}) for i in range(len(self.search_fields))], _connector="OR"
            )
        return queryset.filter(match), False


def _geometry_of(obj: Any) -> Any:
    """The feature's own geometry, or its commune's for tabular records (what the map draws)."""
    return obj.drawn_geometry() if obj is not None and hasattr(obj, "drawn_geometry") else None


def record_admin_change(request: HttpRequest, obj: Any, action: str, geometries: list[Any]) -> None:
    """An admin edit, like an API edit: a LayerChange row per layer over the model, and the one change
    signal (versions bumped, tiles purged around the old and new places)."""
    user = request.user if request.user.is_authenticated else None  # always signed in: admin_view checks
    for layer in Layer.objects.over(type(obj)):
        LayerChange.objects.create(
            layer=layer, feature_id=str(obj.pk), action=action, user=user, note="admin"
        )  # fmt: skip
    named = [(obj.pk, getattr(obj, "commune_code", None) or None)]
    Layer.objects.record_change(type(obj), geometries, features=named)


def _folded(model: Any, name: str) -> Func:
    """unaccent(lower(field)): what the folded search term is compared with."""
    try:
        field = model._meta.get_field(name)
        value: Any = (
            F(name)
            if isinstance(field, CharField | TextField)
            else Func(F(name), function="CAST", template="%(expressions)s::text")
        )
    except FieldDoesNotExist:
        value = F(name)
    # đ/Đ: unaccent maps them to d/D, like gis_ioc.lib.text.fold.
    return Unaccent(Lower(value))


@admin.register(School)
class SchoolAdmin(SectorAdmin):
    list_display = ["name", "level", "ownership", "pupils", "teachers", "commune_code", "is_demo"]
    filter_fields = ("level", "ownership")
    search_fields = ["name"]


@admin.register(HealthFacility)
class HealthFacilityAdmin(SectorAdmin):
    list_display = ["name", "facility_type", "beds", "doctors", "staff", "commune_code", "is_demo"]
    filter_fields = ("facility_type",)
    search_fields = ["name"]


@admin.register(HouseholdBusiness)
class HouseholdBusinessAdmin(SectorAdmin):
    list_display = ["name", "business_line", "registration_number", "status", "commune_code", "is_demo"]
    filter_fields = ("status",)
    search_fields = ["name", "registration_number", "business_line", "owner_name", "address"]


@admin.register(LandParcel)
class LandParcelAdmin(SectorAdmin):
    list_display = ["__str__", "land_use", "area_m2", "certificate_status", "is_demo"]
    filter_fields = ("land_use", "certificate_status")
    search_fields = ["land_use"]
    search_help_text = _('Tìm thửa theo "mã xã/tờ/thửa" (ví dụ 24931/12/345), "tờ/thửa" (12/345) hoặc mã loại đất')

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        key = _PARCEL_KEY.match(fold(search_term))
        if key:
            commune, sheet, parcel = key.groups()
            queryset = queryset.filter(sheet_number=int(sheet), parcel_number=int(parcel))
            return (queryset.filter(commune_code=commune) if commune else queryset), False
        return queryset.filter(land_use__iexact=search_term.strip()), False


@admin.register(PlanningPlan)
class PlanningPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "period_start", "period_end", "status", "approval_decision", "is_demo"]
    list_filter = ["level", "status", "is_demo"]
    search_fields = ["name", "approval_decision"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return SectorAdmin.get_search_results(self, request, queryset, search_term)  # type: ignore[arg-type]


@admin.register(PlanningZone)
class PlanningZoneAdmin(SectorAdmin):
    list_display = ["zone_code", "plan", "land_use", "max_density", "max_height", "commune_code"]
    filter_fields = ("plan", "land_use")
    search_fields = ["zone_code"]
    list_select_related = ["plan"]


@admin.register(Dossier)
class DossierAdmin(SectorAdmin):
    list_display = ["procedure_code", "procedure_name", "commune_code", "received_date", "due_date", "resolved_date",
                    "status", "on_time_display"]  # fmt: skip
    filter_fields = ("status", "field")
    search_fields = ["procedure_code", "procedure_name", "field"]
    date_hierarchy = "received_date"

    @admin.display(description=_("đúng hạn"), boolean=True)
    def on_time_display(self, obj: Dossier) -> bool | None:
        return obj.on_time


@admin.register(BudgetRevenue)
class BudgetRevenueAdmin(SectorAdmin):
    list_display = ["commune_code", "month", "source", "planned", "actual"]
    filter_fields = ("source",)
    search_fields = ["commune_code"]
    date_hierarchy = "month"


@admin.register(Indicator)
class IndicatorAdmin(SectorAdmin):
    list_display = ["commune_code", "code", "year", "value", "unit"]
    filter_fields = ("code", "year")
    search_fields = ["code"]


@admin.register(CropArea)
class CropAreaAdmin(SectorAdmin):
    list_display = ["__str__", "crop", "season", "year", "greenhouse", "certification", "area_m2", "is_demo"]
    filter_fields = ("crop", "season", "year", "greenhouse", "certification")
    search_fields = ["grower"]


@admin.register(Farm)
class FarmAdmin(SectorAdmin):
    list_display = ["name", "kind", "product", "members", "area_ha", "certification", "commune_code", "is_demo"]
    filter_fields = ("kind", "product", "certification")
    search_fields = ["name"]


@admin.register(TourismSite)
class TourismSiteAdmin(SectorAdmin):
    list_display = ["name", "kind", "rooms", "beds", "commune_code", "is_demo"]
    filter_fields = ("kind",)
    search_fields = ["name"]


@admin.register(VisitorCount)
class VisitorCountAdmin(SectorAdmin):
    list_display = ["site", "month", "visitors", "overnight", "commune_code"]
    search_fields = ["site__name"]
    date_hierarchy = "month"
    list_select_related = ["site"]


# --- the catalog ---------------------------------------------------------------------------------


class LayerForm(forms.ModelForm):
    """Checks the source and the attribute whitelist, so a typo cannot publish a missing field."""

    class Meta:
        model = Layer
        fields = [f.name for f in Layer._meta.fields if f.editable and not f.primary_key]

    def clean_source_model(self) -> str:
        value = self.cleaned_data.get("source_model", "")
        if value:
            from django.apps import apps

            try:
                apps.get_model(value)
            except (LookupError, ValueError):
                raise ValidationError(_("Không có mô hình “%(m)s” (dạng app_label.Model).") % {"m": value}) from None
        return value

    def clean_attributes(self) -> list[dict[str, Any]]:
        attrs = self.cleaned_data.get("attributes") or []
        if not isinstance(attrs, list) or not all(isinstance(a, dict) for a in attrs):
            raise ValidationError(_('Danh sách thuộc tính phải là mảng JSON các đối tượng {"name": …}.'))
        names = [a.get("name") for a in attrs]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise ValidationError(_("Mỗi thuộc tính cần một “name” khác nhau."))
        for a in attrs:
            if a.get("visibility", "public") not in Visibility.values:
                raise ValidationError(
                    _("Thuộc tính %(n)s: quyền xem phải là public, staff hoặc roles.") % {"n": a["name"]}
                )
            unknown = set(a.get("channels") or []) - _CHANNELS
            if unknown:
                raise ValidationError(
                    _("Thuộc tính %(n)s: kênh không hợp lệ %(c)s.") % {"n": a["name"], "c": ", ".join(sorted(unknown))}
                )
        return attrs

    def clean_style(self) -> dict[str, Any]:
        style = self.cleaned_data.get("style") or {}
        if not isinstance(style, dict):
            raise ValidationError(
                _('Kiểu hiển thị phải là đối tượng JSON, ví dụ {"kind": "single", "color": "#1f78b4"}.')
            )
        kind = style.get("kind", Layer.StyleKind.SINGLE)
        if kind not in Layer.StyleKind.values:
            raise ValidationError(
                _("Kiểu hiển thị “%(k)s” không hợp lệ: single, categories hoặc graduated.") % {"k": kind}
            )
        if kind in (Layer.StyleKind.CATEGORIES, Layer.StyleKind.GRADUATED) and not style.get("field"):
            raise ValidationError(_("Kiểu theo nhóm hoặc phân cấp cần “field” (trường dùng để tô màu)."))
        if kind == Layer.StyleKind.GRADUATED:
            breaks = style.get("breaks")
            numeric = isinstance(breaks, list) and all(isinstance(b, int | float) for b in breaks)
            if not numeric or not breaks or breaks != sorted(breaks):
                raise ValidationError(_("Kiểu phân cấp cần “breaks”: dãy số tăng dần."))
        return style

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        model_name = data.get("source_model")
        if model_name and not self.errors:
            from django.apps import apps

            model = apps.get_model(model_name)
            fields = {f.name for f in model._meta.get_fields()} | {f.attname for f in model._meta.concrete_fields}
            missing = [a["name"] for a in data.get("attributes") or [] if a["name"] not in fields]
            if missing:
                self.add_error(
                    "attributes",
                    _("Các trường không có trong %(m)s: %(f)s") % {"m": model_name, "f": ", ".join(missing)},
                )
        if data.get("valid_to_field") and not data.get("temporal_field"):
            self.add_error(
                "valid_to_field",
                _("Trường hết hiệu lực đi cùng trường thời gian (ngày bắt đầu hiệu lực), vd. valid_from / valid_to."),
            )
        if data.get("kind") == Layer.Kind.RASTER and not data.get("raster_path"):
            self.add_error("raster_path", _("Lớp raster cần đường dẫn tệp COG."))
        if data.get("kind") == Layer.Kind.VECTOR and not (data.get("source_model") or data.get("source_table")):
            self.add_error("source_model", _("Lớp véc-tơ cần mô hình nguồn hoặc bảng nguồn."))
        return data


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    form = LayerForm
    list_display = ["slug", "title_vi", "title_en", "kind", "visibility", "version", "data_updated_at", "sort_order"]
    list_editable = ["visibility", "sort_order"]
    list_filter = ["kind", "visibility", "is_demo"]
    search_fields = ["slug", "title_vi", "title_en"]
    readonly_fields = ["version", "updated_at", "data_updated_at"]
    actions = ["bump_version"]
    fieldsets = [
        (None, {"fields": ["slug", "title_vi", "title_en", "description_vi", "description_en", "kind", "sort_order"]}),
        (
            _("nguồn dữ liệu"),
            {
                "fields": [
                    "source_model",
                    "source_table",
                    "source_filter",
                    "raster_path",
                    "geometry_field",
                    "geometry_type",
                    "id_field",
                    "temporal_field",
                    "valid_to_field",
                    "search_fields",
                    "attribution",
                ]
            },
        ),  # fmt: skip
        (_("quyền"), {"fields": ["visibility", "allowed_roles", "edit_roles", "attributes"]}),
        (_("hiển thị"), {"fields": ["style", "legend", "min_zoom", "max_zoom"]}),
        (_("phiên bản"), {"fields": ["version", "data_updated_at", "updated_at", "is_demo"]}),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return SectorAdmin.get_search_results(self, request, queryset, search_term)  # type: ignore[arg-type]

    @admin.action(description=_("Đánh dấu dữ liệu đã thay đổi (làm mới bộ đệm tile)"))
    def bump_version(self, request: HttpRequest, queryset: QuerySet[Layer]) -> None:
        for layer in queryset:
            layer.record_change()
        self.message_user(request, _("Đã tăng phiên bản %(n)d lớp.") % {"n": queryset.count()}, messages.SUCCESS)


@admin.register(LayerChange)
class LayerChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "layer", "action", "feature_id", "user"]
    list_filter = ["action", "layer"]
    list_select_related = ["layer", "user"]
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[LayerChange]:
        # The history of a layer the user may not see would show its rows' values.
        visible = permissions.visible_layers(request.user)
        return super().get_queryset(request).filter(layer__in=visible.values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an audit trail is written by the system only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- imports ---------------------------------------------------------------------------------------


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    """Saved field mappings (reused by name at /imports/ and by `import_layer --mapping`)."""

    list_display = ["name", "target", "encoding", "srid", "created_by", "created_at"]
    list_filter = ["target"]
    search_fields = ["name", "target"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: ImportMapping, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """The history of uploads, read-only: jobs are made and run by /imports/, the API and `import_layer`.
    The stored file paths are left out (server paths are not for the page)."""

    list_display = ["original_name", "status", "percent", "layer", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["layer", "created_by"]
    search_fields = ["original_name"]
    date_hierarchy = "created_at"
    fields = readonly_fields = ("original_name", "file_size", "status", "percent", "message", "counts", "layer",
                                "created_by", "created_at", "started_at", "finished_at")  # fmt: skip

    @admin.display(description=_("kết quả"))
    def counts(self, obj: ImportJob) -> str:
        report = obj.report or {}
        if "inserted" not in report:
            return "—"
        return str(_("thêm %(i)s, cập nhật %(u)s, loại %(r)s")) % {
            "i": report.get("inserted", 0),
            "u": report.get("updated", 0),
            "r": report.get("rejected", 0),
        }

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an import starts from an upload, not from a form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its state is the job's to write

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleting the row would orphan the stored upload and rejects files
