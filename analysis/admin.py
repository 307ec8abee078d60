"""Admin view of analyses (read-mostly: they are started from /analyses/ or the API)."""

from django.contrib import admin

from analysis.models import Analysis


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "title", "status", "percent", "created_by", "started_at", "finished_at", "runs")
    list_filter = ("status", "type")
    search_fields = ("title", "error")
    readonly_fields = ("job_id", "worker", "started_at", "finished_at", "runs", "result_layer", "statistics")
