"""Petition URLs: citizens (/petitions/…), staff desk (/petitions/desk/…), field app (/field/…),
Open311 GeoReport v2 (/open311/v2/…), JSON API (/api/v1/petitions/…)."""

from django.contrib.auth.views import LogoutView
from django.urls import URLPattern, URLResolver, path

from petitions import open311
from petitions.throttle import throttled
from petitions.views import citizen, desk, field_app

app_name = "petitions"

FMT = "<str:fmt>"

urlpatterns: list[URLPattern | URLResolver] = [
    # citizens
    path("petitions/", citizen.new_petition, name="new"),
    path("petitions/track/", citizen.track, name="track"),
    path("petitions/track/<str:code>/", citizen.status, name="status"),
    path("petitions/track/<str:code>/rate/", citizen.rate, name="rate"),
    path("petitions/photos/<uuid:key>/<str:kind>.jpg", citizen.attachment, name="attachment"),
    # staff desk
    path("petitions/desk/", desk.desk, name="desk"),
    path("petitions/desk/escalations/", desk.escalations, name="escalations"),
    path("petitions/desk/export.csv", desk.export_csv, name="desk-csv"),
    path("petitions/desk/triage/", desk.triage_page, name="desk-triage"),
    path("petitions/desk/<str:code>/", desk.detail, name="desk-detail"),
    path("petitions/desk/<str:code>/act/", desk.act, name="desk-act"),
    path("petitions/desk/<str:code>/category/", desk.recategorise, name="desk-category"),
    path("api/v1/petitions/escalations/", desk.api_escalations, name="api-escalations"),
    path("api/v1/petitions/<str:code>/transition/", desk.api_transition, name="api-transition"),
    # field app
    path("field/", field_app.shell, name="field"),
    # Password guessing is bounded by django-axes, like every sign-in page (settings AXES_*).
    path("field/login/", field_app.FieldLoginView.as_view(), name="field-login"),
    path("field/logout/", LogoutView.as_view(next_page="/field/login/"), name="field-logout"),
    path("field/manifest.webmanifest", field_app.manifest, name="field-manifest"),
    path("field/sw.js", field_app.service_worker, name="field-sw"),
    path("field/api/communes.geojson", field_app.communes_geojson, name="field-communes"),
    path("field/api/assigned/", field_app.assigned, name="field-assigned"),
    path("field/api/reports/", field_app.sync, name="field-sync"),
    path("field/api/my-reports/", field_app.my_reports, name="field-my-reports"),
    # Open311 GeoReport v2
    path("open311/v2/", throttled("open311")(open311.root), name="open311-root"),
    path(f"open311/v2/discovery.{FMT}", open311.discovery, name="open311-discovery"),
    path(f"open311/v2/services.{FMT}", open311.services, name="open311-services"),
    path(f"open311/v2/services/<str:code>.{FMT}", open311.service_definition, name="open311-service"),
    path(f"open311/v2/requests.{FMT}", open311.requests_collection, name="open311-requests"),
    path(f"open311/v2/requests/<str:request_id>.{FMT}", open311.request_detail, name="open311-request"),
    path(f"open311/v2/tokens/<str:token>.{FMT}", open311.token_detail, name="open311-token"),
]
