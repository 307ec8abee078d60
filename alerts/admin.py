from django.contrib import admin

from alerts.forms import RuleForm
from alerts.models import Alert, AlertEvent, Delivery, Rule, WebhookEndpoint


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ("name", "kind", "severity", "active")
    list_filter = ("kind", "severity", "active")
    fields = (*RuleForm.Meta.fields[:9], "longitude", "latitude", *RuleForm.Meta.fields[9:])

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    readonly_fields = ("action", "actor", "assignee", "note", "at")
    can_delete = False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("message_vi", "severity", "status", "commune_code", "raised_at")
    list_filter = ("severity", "status")
    readonly_fields = ("rule", "key", "layer_slugs", "raised_at")
    inlines = [AlertEventInline]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "active")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("channel", "address", "status", "attempts", "created_at", "sent_at")
    list_filter = ("channel", "status")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # written by the alerts, sent by jobs: the log is read, never typed in
