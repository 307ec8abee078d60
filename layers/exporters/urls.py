from django.urls import path

from layers.exporters import views

urlpatterns = [
    path("api/v1/layers/<slug:slug>/export", views.export_layer, name="api-layer-export"),
    path("exports/", views.exports_page, name="exports"),
]
