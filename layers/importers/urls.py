"""URLs of the import pipeline: the GIS staff page (/imports/) and the REST door (/api/v1/imports/)."""

from django.urls import path

from layers.importers import api, views

urlpatterns = [
    path("imports/", views.imports_home, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("api/v1/imports/", api.ImportCollection.as_view(), name="api-imports"),
    path("api/v1/imports/<int:pk>/", api.ImportDetail.as_view(), name="api-import"),
    path("api/v1/imports/<int:pk>/rejects", api.ImportRejects.as_view(), name="api-import-rejects"),
]
