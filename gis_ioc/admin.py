"""Django admin for administrative units, user scopes, roles and API tokens.

The map widget loads OpenLayers from our static files (district networks are often closed), and the
search ignores Vietnamese accents: "thanh my" finds "Thị trấn Thạnh Mỹ" through the stored ASCII name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, User
from django.contrib.gis import admin as gis_admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gis_ioc.admin_units import update_areas
from gis_ioc.admin_widgets import LocalMapWidget
from gis_ioc.lib.text import fold
from gis_ioc.models import AdminUnit, AdminUnitPopulation, ApiToken, Crosswalk, CrosswalkRow, UnitSet, UserScope
from gis_ioc.roles import ADD, CHANGE, DELETE, EVERY_MODEL, ROLE_PERMISSIONS, ROLES, VIEW

admin.site.site_header = _("gis_ioc — Quản trị Trung tâm điều hành")
admin.site.site_title = _("Quản trị gis_ioc")
admin.site.index_title = _("Dữ liệu và người dùng")


class ValidityFilter(admin.SimpleListFilter):
    """Units valid today, closed (a past boundary version) or not yet in force."""

    title = _("hiệu lực")
    parameter_name = "validity"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("current", _("đang hiệu lực")), ("past", _("đã hết hiệu lực")), ("future", _("chưa có hiệu lực"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AdminUnit]) -> QuerySet[AdminUnit]:
        today = dt.date.today()
        if self.value() == "current":
            return queryset.current(today)  # type: ignore[attr-defined]
        if self.value() == "past":
            return queryset.filter(valid_to__lte=today)
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        return queryset


class PopulationInline(admin.TabularInline):
    model = AdminUnitPopulation
    extra = 0


@admin.register(AdminUnit)
class AdminUnitAdmin(gis_admin.GISModelAdmin):
    gis_widget = LocalMapWidget  # type: ignore[assignment]  # an OpenLayersWidget, not OSM: no online tiles
    list_display = ["code", "name", "unit_type", "area", "parent", "valid_from", "valid_to", "is_demo"]
    list_filter = ["level", "unit_type", ValidityFilter, "is_demo"]
    list_select_related = ["parent"]
    search_fields = ["code", "name_ascii"]
    search_help_text = _('Tìm theo mã hoặc tên, có dấu hay không dấu ("thanh my" tìm được "Thạnh Mỹ")')
    readonly_fields = ["area_km2", "name_ascii", "sets", "reforms"]
    inlines = [PopulationInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_ascii", "level", "unit_type", "parent"]}),
        (_("hiệu lực"), {"fields": ["valid_from", "valid_to", "sets", "reforms"]}),
        (_("ranh giới"), {"fields": ["geom", "area_km2", "source", "is_demo"]}),
    ]

    @admin.display(description=_("thuộc bộ đơn vị"))
    def sets(self, obj: AdminUnit) -> str:
        return ", ".join(str(s) for s in obj.unit_sets.all()) or "—"

    @admin.display(description=_("lịch sử sắp xếp"))
    def reforms(self, obj: AdminUnit) -> str:
        """What this version was made of and what it became, by which decision (the crosswalks)."""
        lines = []
        for row in (
            CrosswalkRow.objects.filter(new_unit=obj).exclude(old_unit=obj).select_related("old_unit", "crosswalk")
        ):
            lines.append(
                _("từ %(unit)s (%(share)s%% diện tích) ngày %(day)s, %(basis)s")
                % {"unit": row.old_unit, "share": round(100 * row.area_share), "day": row.crosswalk.effective_date,
                   "basis": row.legal_basis or row.crosswalk.legal_basis or "—"}
            )  # fmt: skip
        for row in (
            CrosswalkRow.objects.filter(old_unit=obj).exclude(new_unit=obj).select_related("new_unit", "crosswalk")
        ):
            lines.append(
                _("thành %(unit)s (%(share)s%% diện tích) ngày %(day)s, %(basis)s")
                % {"unit": row.new_unit, "share": round(100 * row.area_share), "day": row.crosswalk.effective_date,
                   "basis": row.legal_basis or row.crosswalk.legal_basis or "—"}
            )  # fmt: skip
        return "; ".join(lines) or "—"

    @admin.display(description=_("diện tích (km²)"), ordering="area_km2")
    def area(self, obj: AdminUnit) -> str:
        return f"{obj.area_km2:.2f}"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AdminUnit], search_term: str
    ) -> tuple[QuerySet[AdminUnit], bool]:
        # Fold the term the way name_ascii was folded when the unit was saved, so accents typed or not,
        # and any Unicode normalisation of the browser, give the same hits.
        term = fold(search_term)
        if not term:
            return queryset, False
        match = Q()
        for word in term.split():
            match &= Q(name_ascii__icontains=word) | Q(code__startswith=word)
        return queryset.filter(match), False

    def save_model(self, request: HttpRequest, obj: AdminUnit, form: Any, change: bool) -> None:
        if obj.area_km2 is None:
            obj.area_km2 = 0
        super().save_model(request, obj, form, change)
        update_areas([obj.id])  # a redrawn boundary gets its geodesic area again


@admin.register(UnitSet)
class UnitSetAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "level", "kind", "valid_from", "valid_to", "member_count", "legal_basis"]
    list_filter = ["level", "kind"]
    search_fields = ["name", "slug", "legal_basis"]
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[UnitSet]:
        return super().get_queryset(request).annotate(n=Count("members"))

    @admin.display(description=_("số đơn vị"), ordering="n")
    def member_count(self, obj: Any) -> int:
        return int(obj.n)


class CrosswalkRowInline(admin.TabularInline):
    model = CrosswalkRow
    extra = 0
    can_delete = False
    fields = ["row", "old_unit", "new_unit", "area_share", "population_share", "legal_basis"]
    readonly_fields = ["row", "old_unit", "new_unit", "area_share", "population_share", "legal_basis"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Crosswalk)
class CrosswalkAdmin(admin.ModelAdmin):
    """Crosswalks are imported (the add page is an upload form), then read: a wrong one is replaced."""

    list_display = ["__str__", "effective_date", "legal_basis", "refile_status", "refile_percent", "imported_at"]
    readonly_fields = [
        "from_set", "to_set", "effective_date", "legal_basis", "source", "imported_at", "imported_by",
        "refile_status", "refile_percent", "refile_report",
    ]  # fmt: skip
    inlines = [CrosswalkRowInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        """Upload a crosswalk file (and the boundaries of split units): a summary, or every problem."""
        from django.shortcuts import redirect, render
        from rest_framework.exceptions import ValidationError as ApiValidationError

        from gis_ioc.unit_set_api import import_uploaded

        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Nhập bảng chuyển đổi đơn vị"),
        }
        if request.method == "POST" and request.FILES.get("file"):
            try:
                results = import_uploaded(
                    request.FILES["file"],
                    request.FILES.get("boundaries"),
                    request.POST.get("from") or None,
                    request.user,
                )
            except ApiValidationError as exc:
                detail = exc.detail if isinstance(exc.detail, dict) else {"problems": exc.detail}
                context["problems"] = [str(p) for p in detail.get("problems", [])]
            else:
                from django.contrib import messages

                for result in results:
                    for line in result.lines():
                        messages.success(request, line)
                return redirect("admin:gis_ioc_crosswalk_changelist")
        elif request.method == "POST":
            context["problems"] = [_("Hãy chọn tệp bảng chuyển đổi (CSV hoặc XLSX).")]
        return render(request, "admin/gis_ioc/crosswalk_upload.html", context)


@admin.register(UserScope)
class UserScopeAdmin(admin.ModelAdmin):
    list_display = ["user", "communes"]
    search_fields = ["user__username"]

    @admin.display(description=_("xã, thị trấn"))
    def communes(self, obj: UserScope) -> str:
        names = dict(
            AdminUnit.objects.current().communes().filter(code__in=obj.commune_codes).values_list("code", "name")
        )
        return ", ".join(f"{names.get(code, '?')} ({code})" for code in obj.commune_codes)


class UserScopeInline(admin.StackedInline):
    model = UserScope
    can_delete = True
    extra = 0
    max_num = 1
    verbose_name_plural = _("phạm vi địa bàn (để trống: toàn huyện)")


_VERB_LABELS = {VIEW: _("xem"), ADD: _("thêm"), CHANGE: _("sửa"), DELETE: _("xoá")}


def _role_labels(names: list[str]) -> str:
    return ", ".join(str(ROLES.get(name, name)) for name in names) or "—"


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users get roles (groups) and a commune scope. What a role may do is declared in gis_ioc/roles.py, so
    there are no per-user permissions here, and admin access (is_staff) is shown, never set: it follows the
    roles (gis_ioc.roles.staff_status)."""

    list_display = ["username", "first_name", "last_name", "roles", "scope_codes", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_superuser", "is_active"]
    inlines = [UserScopeInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Thông tin cá nhân"), {"fields": ("first_name", "last_name", "email")}),
        (_("Quyền"), {"fields": ("is_active", "groups", "is_superuser", "is_staff")}),
        (_("Ngày quan trọng"), {"fields": ("last_login", "date_joined")}),
    )
    filter_horizontal = ("groups",)
    readonly_fields = ["is_staff"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups").select_related("scope")

    @admin.display(description=_("vai trò"))
    def roles(self, obj: User) -> str:
        names = [g.name for g in obj.groups.all()]
        if obj.is_superuser and "administrator" not in names:
            names.append("administrator")
        return _role_labels(sorted(names))

    @admin.display(description=_("phạm vi địa bàn"))
    def scope_codes(self, obj: User) -> str:
        scope = getattr(obj, "scope", None)
        try:
            return ", ".join(scope.commune_codes) if scope and scope.commune_codes else str(_("toàn huyện"))
        except UserScope.DoesNotExist:
            return str(_("toàn huyện"))


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """The role groups' permissions are derived from gis_ioc/roles.py after every migrate: shown read-only
    (an edit here would be undone by the next migrate)."""

    list_display = ["name", "role", "members"]

    def get_fields(self, request: HttpRequest, obj: Group | None = None) -> Any:
        if obj is not None and obj.name in ROLES:
            return ["name", "declared"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> Any:
        if obj is not None and obj.name in ROLES:
            return ["name", "declared"]
        return super().get_readonly_fields(request, obj)

    @admin.display(description=_("quyền (theo vai trò)"))
    def declared(self, obj: Group) -> str:
        nouns = ROLE_PERMISSIONS.get(obj.name, {})
        if not nouns:
            return str(_("không có quyền trong trang quản trị"))
        lines = []
        for label, verbs in nouns.items():
            name = _("mọi dữ liệu") if label == EVERY_MODEL else apps.get_model(label)._meta.verbose_name_plural
            lines.append(f"{name}: {', '.join(str(_VERB_LABELS[v]) for v in verbs)}")
        return "; ".join(lines)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).annotate(member_count=Count("user"))

    @admin.display(description=_("vai trò"))
    def role(self, obj: Group) -> str:
        return str(ROLES.get(obj.name, "—"))

    @admin.display(description=_("số người dùng"), ordering="member_count")
    def members(self, obj: Group) -> int:
        return obj.member_count  # type: ignore[attr-defined]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Everyone's API tokens, for an administrator to see who uses what and revoke (someone leaves, a
    laptop is lost). Tokens are issued by their owner (/account/tokens/) or `manage.py create_api_token`:
    no key is ever shown here."""

    list_display = ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name"]
    readonly_fields = ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Thu hồi các khóa đã chọn"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoke()
