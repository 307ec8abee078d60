"""REST API /api/v1/ and its OpenAPI schema and documentation (Swagger UI, Redoc; local assets)."""

from csp.constants import UNSAFE_EVAL
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from layers.api import views

urlpatterns = [
    path("api/v1/layers/", views.LayerList.as_view(), name="api-layers"),
    path("api/v1/layers/<slug:slug>/", views.LayerDetail.as_view(), name="api-layer"),
    path("api/v1/layers/<slug:slug>/features/", views.FeatureList.as_view(), name="api-features"),
    path("api/v1/layers/<slug:slug>/features/<str:fid>/", views.FeatureDetail.as_view(), name="api-feature"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        # Redoc's bundle compiles its schema validators with eval; the page loads nothing but this host.
        csp_update({"script-src": [UNSAFE_EVAL]})(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
]
