"""Admin for the petitions' configuration (agencies, routing rules, deadlines) and read-mostly records.

Workflow changes go through the staff desk (petitions.workflow), never through admin edits, so every step
keeps its history: what the workflow owns (Petition.workflow_fields) and the history are read-only here,
and petitions are neither added nor deleted here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.gis import admin as gis_admin
from django.http import HttpRequest

from gis_ioc.admin_widgets import LocalMapWidget
from layers.admin import record_admin_change
from layers.models import LayerChange
from petitions.models import (
    Agency,
    CategoryDeadline,
    FieldReport,
    Petition,
    PetitionEvent,
    PetitionReporter,
    RoutingRule,
)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_demo"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "commune_code", "agency"]
    list_filter = ["category", "agency"]
    list_select_related = ["agency"]


@admin.register(CategoryDeadline)
class CategoryDeadlineAdmin(admin.ModelAdmin):
    list_display = ["category", "days"]


# The history is shown, never edited (a tuple: one constant typed for both admin attributes).
EVENT_FIELDS = ("at", "action", "from_status", "to_status", "actor_label", "agency", "note")


class EventInline(admin.TabularInline):
    model = PetitionEvent
    extra = 0
    can_delete = False
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReporterInline(admin.TabularInline):
    model = PetitionReporter
    fk_name = "petition"
    extra = 0
    fields = ["name", "phone", "email", "original_petition", "reported_at"]
    readonly_fields = ["original_petition", "reported_at"]


@admin.register(Petition)
class PetitionAdmin(gis_admin.GISModelAdmin):
    gis_widget = LocalMapWidget  # type: ignore[assignment]  # an OpenLayersWidget, not OSM: no online tiles
    list_display = ["tracking_code", "category", "status", "commune_code", "received_at", "due_at", "agency"]
    list_filter = ["status", "category", "source", "agency", "is_demo"]
    search_fields = ["tracking_code"]
    list_select_related = ["agency"]
    show_full_result_count = False
    # Whatever the workflow owns (Petition.workflow_fields) is read-only here as in the editing API, plus the
    # spatial context attached at intake.
    readonly_fields = sorted(Petition.workflow_fields) + [
        "land_parcel", "planning_zone", "nearest_school", "nearest_school_m", "nearest_health", "nearest_health_m",
        "commune", "commune_code",
    ]  # fmt: skip
    inlines = [ReporterInline, EventInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """A correction (text, place, reporter) is recorded and signalled like any admin edit of a layer."""
        old = Petition.objects.filter(pk=obj.pk).values_list("geom", flat=True).first()
        super().save_model(request, obj, form, change)
        record_admin_change(request, obj, LayerChange.Action.UPDATE, [old, obj.geom])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # petitions come in through intake (form, Open311, desk), which records the first event

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a petition leaves through the workflow (reject, mark duplicate, close), keeping its history


@admin.register(FieldReport)
class FieldReportAdmin(gis_admin.GISModelAdmin):
    gis_widget = LocalMapWidget  # type: ignore[assignment]  # an OpenLayersWidget, not OSM: no online tiles
    list_display = ["client_uuid", "officer", "petition", "accuracy_m", "captured_at", "received_at"]
    list_select_related = ["officer", "petition"]
    readonly_fields = ["client_uuid", "content_hash", "officer", "petition", "received_at"]
