"""URLs of the tiles app (full paths; included at the root by gis_ioc/urls.py)."""

from django.urls import URLPattern, URLResolver, path, re_path

from tiles import mapproxy_views, raster_views, views

app_name = "tiles"

urlpatterns: list[URLPattern | URLResolver] = [
    path("tiles/style.json", views.style, name="style"),
    path("tiles/basemap/style.json", views.base_style, name="base-style"),
    path("tiles/composite/<str:z>/<str:x>/<str:y>.mvt", views.composite_tile, name="composite-tile"),
    path("tiles/raster/upload", raster_views.upload, name="raster-upload"),
    path("tiles/raster/<slug:slug>/point", raster_views.point, name="raster-point"),
    path("tiles/raster/<slug:slug>/<str:z>/<str:x>/<str:y>.png", raster_views.raster_tile, name="raster-tile"),
    path("tiles/<slug:slug>.json", views.tilejson, name="tilejson"),
    path("tiles/<slug:slug>/<str:z>/<str:x>/<str:y>.mvt", views.vector_tile, name="vector-tile"),
    path("tiles/<slug:slug>/<str:z>/<str:x>/<str:y>.png", views.vector_png, name="vector-png"),
    re_path(r"^mapproxy/(?P<path>.*)$", mapproxy_views.mapproxy, name="mapproxy"),
]
