"""URLs of the analysis app (full paths; included at the root)."""

from django.urls import URLPattern, URLResolver, path

from analysis import api, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("analyses/", views.analysis_list, name="analysis-list"),
    path("analyses/<int:pk>/", views.analysis_page, name="analysis-page"),
    path("analyses/<int:pk>/rerun/", views.analysis_rerun, name="analysis-rerun"),
    path("api/v1/analyses/", api.AnalysisListView.as_view(), name="analysis-api-list"),
    path("api/v1/analyses/types/", api.AnalysisTypesView.as_view(), name="analysis-api-types"),
    path("api/v1/analyses/<int:pk>/", api.AnalysisDetailView.as_view(), name="analysis-api-detail"),
    path("api/v1/analyses/<int:pk>/rerun/", api.AnalysisRerunView.as_view(), name="analysis-api-rerun"),
]
