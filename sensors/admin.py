"""Monitoring stations in the admin: stations like every sector record (commune scope applies through
layers.admin.SectorAdmin); the reference data (sensors, observed properties) and datastreams beside them."""

from django.contrib import admin

from layers.admin import SectorAdmin
from sensors.models import Datastream, Location, ObservedProperty, Sensor, Thing


@admin.register(Thing)
class ThingAdmin(SectorAdmin):
    list_display = ["name", "kind", "commune_code", "is_demo"]
    filter_fields = ("kind",)
    search_fields = ["name"]


@admin.register(Datastream)
class DatastreamAdmin(admin.ModelAdmin):
    list_display = ["name", "thing", "observed_property", "unit_symbol"]
    list_select_related = ["thing", "observed_property"]
    search_fields = ["name"]


@admin.register(ObservedProperty)
class ObservedPropertyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "min_value", "max_value"]


admin.site.register(Sensor)
admin.site.register(Location)
