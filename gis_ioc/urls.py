"""Top-level URL map: each app owns its prefix (see docs/architecture.md)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from gis_ioc import token_views, unit_set_api, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/communes.geojson", views.communes_geojson, name="admin-communes-geojson"),
    path("admin/", admin.site.urls),
    path("account/tokens/", token_views.tokens, name="account-tokens"),
    path("account/tokens/<int:token_id>/revoke", token_views.revoke, name="account-token-revoke"),
    path("api/v1/unit-sets/", unit_set_api.UnitSetList.as_view(), name="unit-sets"),
    path("api/v1/unit-sets/<slug:slug>/", unit_set_api.UnitSetDetail.as_view(), name="unit-set"),
    path(
        "api/v1/unit-sets/<slug:slug>/features/",
        unit_set_api.UnitSetDetail.as_view(as_features=True),
        name="unit-set-features",
    ),
    path("api/v1/crosswalks/", unit_set_api.CrosswalkList.as_view(), name="crosswalks"),
    path("api/v1/crosswalks/<int:pk>/", unit_set_api.CrosswalkDetail.as_view(), name="crosswalk"),
    path("api/v1/admin-units/<str:code>/history/", unit_set_api.UnitHistory.as_view(), name="unit-history"),
    path("", include("layers.urls")),
    path("", include("tiles.urls")),
    path("", include("petitions.urls")),
    path("", include("analysis.urls")),
    path("", include("dashboard.urls")),
    path("", include("live.urls")),
    path("", include("alerts.urls")),
    path("", include("sensors.urls")),
]

if settings.IOC_SERVE_STATIC:
    # Only the collected static files. The private data root (MEDIA_ROOT: tile caches, imports, rasters,
    # photos) is never served raw: its files leave through views that check the policy.
    urlpatterns += [
        re_path(r"^static/(?P<path>.*)$", serve, {"document_root": settings.STATIC_ROOT}),
    ]

# Errors are drawn inside the shell, in the user's language, with a way back (gis_ioc.shell).
handler400 = "gis_ioc.shell.bad_request"
handler403 = "gis_ioc.shell.permission_denied"
handler404 = "gis_ioc.shell.page_not_found"
handler500 = "gis_ioc.shell.server_error"
