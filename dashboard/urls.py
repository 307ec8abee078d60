"""Dashboard, commune profiles, reports, tables and the planners' comparison (full paths, prefix "")."""

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path

from dashboard import api, lookup_views, planning, reports, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="dashboard-home"),
    # Leaders and officers are not Django staff, so the admin's login page refuses them: this one does not.
    path("login/", auth_views.LoginView.as_view(template_name="dashboard/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("communes/", views.commune_index, name="dashboard-communes"),
    path("communes/<str:code>/", views.commune_profile, name="dashboard-commune"),
    path("dashboard/api/stats", api.stats_view, name="dashboard-api-stats"),
    path("dashboard/api/view", api.view_data, name="dashboard-api-view"),
    path("dashboard/api/forecast", api.forecast_view, name="dashboard-api-forecast"),
    path("dashboard/api/communes", api.communes_view, name="dashboard-api-communes"),
    path("dashboard/api/communes/<str:code>/lists", api.commune_lists, name="dashboard-api-commune-lists"),
    path("dashboard/api/search", api.search_view, name="dashboard-api-search"),
    path("dashboard/tables/<slug:table>.<str:fmt>", reports.table_download, name="dashboard-table"),
    path("reports/district/", reports.report_page, name="dashboard-report-district"),
    path("reports/district/pdf", reports.report_pdf, name="dashboard-report-district-pdf"),
    path("reports/communes/<str:code>/", reports.report_page, name="dashboard-report-commune"),
    path("reports/communes/<str:code>/pdf", reports.report_pdf, name="dashboard-report-commune-pdf"),
    path("planning/compare/", planning.compare_page, name="planning-compare"),
    # The citizens' planning lookup (public): page, JSON, printable A4 sheet and its PDF.
    path("planning/lookup/", lookup_views.lookup_page, name="planning-lookup"),
    path("planning/lookup/print", lookup_views.lookup_print, name="planning-lookup-print"),
    path("planning/lookup/pdf", lookup_views.lookup_pdf, name="planning-lookup-pdf"),
    path("planning/api/lookup", lookup_views.lookup_api, name="planning-api-lookup"),
    path("planning/api/compare", planning.compare_api, name="planning-api-compare"),
    path("planning/api/plans/<int:plan_id>/zones", planning.plan_zones, name="planning-api-zones"),
    path("planning/api/plans/<int:plan_id>/conflicts", planning.conflicts_geojson, name="planning-api-conflicts"),
]
