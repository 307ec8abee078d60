"""The leak matrix: every catalog layer × every persona × every channel shows exactly what the policy
allows — which layers exist, which rows, which fields, which communes.

Cell ids read `<layer>-<persona>-<channel>` (e.g. `land-parcels-scoped_officer-mvt`). The expected side
comes from tests/leak_matrix/oracle.py (gis_ioc.permissions applied to the layer's rows read without any
channel's code); the observed side reads each answer back the way a client would.

What extends the matrix by itself: a layer in layers.catalog_defaults (or any layer in the catalog: the
coverage test fails until this module's world knows its kind), a role in gis_ioc.roles, a channel class
in the registries of channels*.py, and a URL route (the route test fails until a channel covers it or it
is listed as carrying no layer data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from layers.catalog_defaults import DEFAULT_LAYERS
from tests.leak_matrix.channels import FEATURE_CHANNELS, Cell, Channel
from tests.leak_matrix.channels_alerts import ALERT_CHANNELS
from tests.leak_matrix.channels_apps import APP_CHANNELS
from tests.leak_matrix.channels_catalog import CATALOG_CHANNELS
from tests.leak_matrix.channels_live import LIVE_CHANNELS
from tests.leak_matrix.channels_maps import MAP_CHANNELS
from tests.leak_matrix.channels_sensors import SENSOR_CHANNELS
from tests.leak_matrix.observe import compare
from tests.leak_matrix.world import EXTRA_LAYERS, role_names

pytestmark = pytest.mark.django_db

CHANNELS: list[type[Channel]] = [
    *FEATURE_CHANNELS,
    *MAP_CHANNELS,
    *APP_CHANNELS,
    *CATALOG_CHANNELS,
    *LIVE_CHANNELS,
    *ALERT_CHANNELS,
    *SENSOR_CHANNELS,
]
LAYER_KINDS: dict[str, str] = {spec["slug"]: spec.get("kind", "vector") for spec in DEFAULT_LAYERS} | EXTRA_LAYERS


def _cells() -> list[Any]:
    out = []
    for slug, kind in LAYER_KINDS.items():
        for persona in role_names():
            for channel in CHANNELS:
                if kind in channel.kinds and channel.covers(slug):
                    out.append(pytest.param(slug, persona, channel, id=f"{slug}-{persona}-{channel.name}"))
    return out


@pytest.mark.parametrize(("slug", "persona", "channel"), _cells())
def test_cell(world: Any, slug: str, persona: str, channel: type[Channel]) -> None:
    from layers.models import Layer

    layer = world.memo.get(("layer", slug))
    if layer is None:
        layer = world.memo[("layer", slug)] = Layer.objects.get(slug=slug)
    cell = Cell(world, layer, world.persona(persona))
    door = channel()
    expected = door.expect(cell)
    seen = door.fetch(cell)
    problems = compare(expected, seen)
    assert not problems, f"{slug} / {persona} / {channel.name}: " + "; ".join(problems)


# --- the matrix is complete -------------------------------------------------------------------------------
def test_the_matrix_covers_every_catalog_layer(world: Any) -> None:
    from layers.models import Layer

    catalog = dict(Layer.objects.values_list("slug", "kind"))
    assert catalog == LAYER_KINDS, "a catalog layer the matrix does not enumerate (or of another kind)"


# Routes that carry no layer data (sign-in, static pages, schema documents, writes and jobs with their own
# tests), each with the reason. Everything else must be covered by a channel.
NOT_LAYER_DATA: dict[str, str] = {
    "healthz": "database status only",
    "i18n/setlang/": "language switch",
    "admin/": "Django admin: tested per role in tests/gis_ioc/test_admin.py",
    "login/": "sign-in page",
    "logout/": "sign-out",
    "api/schema/": "OpenAPI document (no data)",
    "api/docs/": "Swagger UI shell",
    "api/redoc/": "Redoc shell",
    "ogc": "OGC landing page (no data)",
    "ogc/": "OGC landing page (no data)",
    "ogc/conformance": "conformance classes",
    "ogc/api": "OpenAPI document of the OGC API",
    "tiles/raster/upload": "write (GIS staff upload)",
    "petitions/": "citizen form",
    "petitions/track/": "tracking form",
    "field/login/": "sign-in page",
    "field/logout/": "sign-out",
    "field/manifest.webmanifest": "PWA manifest",
    "field/sw.js": "service worker",
    "open311/v2/": "discovery pointer",
    "open311/v2/discovery.<str:fmt>": "endpoint description",
    "open311/v2/services.<str:fmt>": "petition categories",
    "open311/v2/services/<str:code>.<str:fmt>": "one category",
    "api/v1/petitions/<str:code>/transition/": "write (workflow)",
    "petitions/desk/<str:code>/act/": "write (workflow)",
    "petitions/desk/<str:code>/category/": "write (an officer confirms or corrects a category)",
    "petitions/desk/triage/": "the triage model's scores and confusion matrix (counts per category, no rows)",
    "petitions/track/<str:code>/rate/": "write (rating)",
    "analyses/<int:pk>/rerun/": "write (job)",
    "api/v1/analyses/<int:pk>/rerun/": "write (job)",
    "api/v1/analyses/types/": "parameters of analysis types",
    "api/v1/imports/": "upload door of imports (write)",
    "field/": "field app shell (its data comes from field/api/…)",
    "account/tokens/": "a person's own API tokens (names, last use)",
    "account/tokens/<int:token_id>/revoke": "write (revoke one's own token)",
    "field/api/reports/": "write (field reports sync)",
    "api/v1/imports/<int:pk>/": "an import job's own record (GIS staff); its layer is a catalog layer",
    "api/v1/imports/<int:pk>/rejects": "rows an import skipped, for the GIS staff who ran it",
    "imports/": "import page (GIS staff); the imported layer is a catalog layer",
    "imports/<int:pk>/": "an import job's page",
    "open311/v2/tokens/<str:token>.<str:fmt>": "token -> request id, no data",
    "alerts/<int:pk>/act/": "write (alert workflow, 404 unless visible: tests/alerts/test_alert_centre.py)",
    "alerts/rules/": "rule definitions (leaders, administrators): statistics, places, recipients, no layer rows",
    "alerts/rules/<int:pk>/": "one rule definition (leaders, administrators)",
    "api/v1/observations/csv": "write (observations from a CSV file; tests/sensors/test_sensorthings.py)",
}


# Routes that do carry layer data but whose policy is pinned by hand-written tests instead of a generated
# channel yet (pages rendering what a covered channel serves, and the Chromium-rendered PDFs of the report
# page). Each names its test; `test_every_route_named_as_covered_elsewhere_has_its_test` keeps the
# references true. Turning these into channels is open work (the matrix is the stronger check).
_A, _F, _D = "tests/analysis/test_analyses_pages_policy.py::", "tests/petitions/", "tests/dashboard/"
_U = "tests/gis_ioc/test_unit_sets_api.py::"
COVERED_BY_OWN_TESTS: dict[str, str] = {
    "analyses/": _A + "test_a_result_layer_the_user_may_not_see_is_not_named_on_the_pages",
    "analyses/<int:pk>/": _A + "test_a_scoped_user_sees_only_his_communes_rows_on_the_page",
    "field/api/assigned/": _F + "test_field_sync.py::test_assigned_petitions_come_nearest_first_and_only_in_scope",
    "field/api/my-reports/": _F + "test_field_my_reports.py::test_an_officer_lists_only_his_own_reports",
    "petitions/track/<str:code>/": _F + "test_citizen_pages.py::test_strangers_see_the_public_status_only",
    "planning/api/compare": _D + "test_commune_scope.py::test_the_plan_comparison_covers_only_the_two_communes",
    "planning/compare/": _D + "test_planning.py::test_visitors_see_the_plans_but_not_the_parcels",
    "planning/lookup/": _D + "test_lookup.py::test_a_citizen_looks_up_a_parcel_by_its_key",
    "planning/api/lookup": _D + "test_lookup.py::test_a_scoped_officer_sees_only_his_communes_parcels",
    "planning/lookup/print": _D + "test_lookup.py::test_the_printed_sheet_has_the_decision_an_extract_and_a_qr_code",
    "planning/lookup/pdf": _D + "test_lookup.py::test_the_pdf_is_an_a4_page_with_the_decision",
    "dashboard/api/forecast": _D + "test_forecast.py::test_a_scoped_officer_forecasts_only_his_communes",
    "reports/district/": _D + "test_commune_scope.py::test_the_district_report_covers_only_the_two_communes",
    "reports/district/pdf": _D + "test_report_pdf_cache.py (the report page rendered by Chromium)",
    "reports/communes/<str:code>/pdf": _D + "test_report_pdf_cache.py (the commune report page, as a PDF)",
    # Boundaries (the communes layer's reference data): readable exactly when that layer is visible.
    **dict.fromkeys(
        [
            "api/v1/unit-sets/",
            "api/v1/unit-sets/<slug:slug>/",
            "api/v1/unit-sets/<slug:slug>/features/",
            "api/v1/crosswalks/",
            "api/v1/crosswalks/<int:pk>/",
            "api/v1/admin-units/<str:code>/history/",
        ],
        _U + "test_when_the_boundaries_are_not_published_nothing_about_sets_is",
    ),
}


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    from django.urls import URLPattern, URLResolver

    out = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            if route == "admin/":
                out.append(route)
                continue
            out += _routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            out.append(route)
    return out


def test_every_url_route_is_in_the_matrix(world: Any) -> None:
    from django.urls import get_resolver

    covered = {route for channel in CHANNELS for route in channel.routes}
    routes = set(_routes(get_resolver().url_patterns))
    missing = sorted(routes - covered - set(NOT_LAYER_DATA) - set(COVERED_BY_OWN_TESTS))
    assert not missing, "routes no channel of the leak matrix covers:\n  " + "\n  ".join(missing)


def test_every_route_named_as_covered_elsewhere_has_its_test() -> None:
    """A reference in COVERED_BY_OWN_TESTS names a test that exists (file, and function when given)."""
    root = Path(__file__).resolve().parents[2]
    for route, ref in COVERED_BY_OWN_TESTS.items():
        path, _sep, rest = ref.partition("::")
        path = path.split(" ")[0]
        source = (root / path).read_text(encoding="utf-8")
        if rest:
            assert f"def {rest}(" in source, f"{route}: {ref} does not exist"
