"""URLs of the layers app: REST API (/api/v1/, /api/schema/, /api/docs/) and OGC API – Features (/ogc/).

Each feature of the app adds its own URL module below."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("layers.api.urls")),
    path("", include("layers.ogc.urls")),
    path("", include("layers.importers.urls")),  # imports (issue 6)
    path("", include("layers.exporters.urls")),  # exports (issue 6)
]
