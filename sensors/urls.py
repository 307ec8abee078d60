"""SensorThings API 1.1 (/sta/v1.1/…) and the observations' CSV door (full paths, included at the root)."""

from django.urls import URLPattern, path, re_path

from sensors import views

urlpatterns: list[URLPattern] = [
    path("sta/v1.1", views.service, name="sta-root"),
    re_path(r"^sta/v1\.1/(?P<path>.*)$", views.service, name="sta"),
    path("api/v1/observations/csv", views.upload_csv, name="observations-csv"),
]
